"""The orientation CNN: the browser contract's image in, a unit quaternion out.

Input ``[N, 3, R, R]`` float32, RGB, NCHW, ImageNet-normalized (exactly a task
profile's pose input; R is its camera resolution, the model's ``image_size``); output
``[N, 4]`` unit quaternions (x, y, z, w), w >= 0, body -> world in the profile's frame.
Inside, the network regresses the 6D representation, turns it into a rotation matrix by
Gram-Schmidt, and the matrix into a quaternion (``quat.from_matrix``); training losses
use the matrix.

Built for speed, because the browser runs it every frame: the image is average-pooled
2x before the first convolution, every stage halves the resolution, and the head reads
the final map (7 x 7 for 224-pixel images) flattened (keeping *where* features are, which a global pool would
throw away; orientation is mostly about where edges and marks sit).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import nnx

from orient_jax import quat
from orient_jax.vision import rotation6d

Array = jax.Array


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    widths: tuple[int, ...] = (16, 32, 64, 128)  # channels per stage; each stage halves H and W
    blocks: tuple[int, ...] = (0, 0, 1, 1)  # residual blocks per stage, after its strided convolution
    hidden: int = 256  # width of the dense layer on the flattened final map
    input_pool: int = 2  # average-pool factor applied to the 224 x 224 input first

    def __post_init__(self):
        if not self.widths or any(int(w) <= 0 for w in self.widths):
            raise ValueError(f"widths must be positive channel counts, got {self.widths}")
        if len(self.blocks) != len(self.widths) or any(b < 0 for b in self.blocks):
            raise ValueError(f"blocks needs one count >= 0 per stage ({len(self.widths)}), got {self.blocks}")
        if self.hidden <= 0 or self.input_pool < 1:
            raise ValueError(f"bad model config {self}")

    def final_size(self, image_size: int) -> int:
        """Side of the last feature map for square ``image_size`` inputs."""
        size = image_size // self.input_pool
        for _ in self.widths:
            size = (size + 1) // 2
        return size


class ConvBN(nnx.Module):
    def __init__(self, cin: int, cout: int, stride: int, *, rngs: nnx.Rngs):
        self.conv = nnx.Conv(cin, cout, (3, 3), strides=stride, padding="SAME", use_bias=False, rngs=rngs)
        self.bn = nnx.BatchNorm(cout, momentum=0.9, rngs=rngs)

    def __call__(self, x: Array) -> Array:
        return self.bn(self.conv(x))


class Residual(nnx.Module):
    def __init__(self, width: int, *, rngs: nnx.Rngs):
        self.a = ConvBN(width, width, 1, rngs=rngs)
        self.b = ConvBN(width, width, 1, rngs=rngs)

    def __call__(self, x: Array) -> Array:
        return jax.nn.relu(x + self.b(jax.nn.relu(self.a(x))))


class PoseNet(nnx.Module):
    def __init__(self, config: ModelConfig, image_size: int, *, rngs: nnx.Rngs):
        if config.final_size(image_size) < 1:
            raise ValueError(f"{image_size}-pixel images pooled {config.input_pool}x leave no pixels")
        self.config = config
        self.image_size = image_size
        cin, stages = 3, []
        for width, blocks in zip(config.widths, config.blocks):
            down = ConvBN(cin, width, 2, rngs=rngs)
            stages.append((down, [Residual(width, rngs=rngs) for _ in range(blocks)]))
            cin = width
        self.downs = nnx.List([d for d, _ in stages])
        self.blocks = nnx.List([nnx.List(b) for _, b in stages])
        flat = config.final_size(image_size) ** 2 * config.widths[-1]
        self.hidden = nnx.Linear(flat, config.hidden, rngs=rngs)
        self.out = nnx.Linear(config.hidden, 6, rngs=rngs)

    def rotation(self, images: Array) -> Array:
        """Contract input ``[N, 3, H, W]`` -> rotation matrices ``[N, 3, 3]`` (body -> world)."""
        x = jnp.transpose(images, (0, 2, 3, 1))  # NHWC inside
        p = self.config.input_pool
        if p > 1:
            x = nnx.avg_pool(x, window_shape=(p, p), strides=(p, p))
        for down, blocks in zip(self.downs, self.blocks):
            x = jax.nn.relu(down(x))
            for block in blocks:
                x = block(x)
        x = x.reshape(x.shape[0], -1)
        x = jax.nn.relu(self.hidden(x))
        return rotation6d.to_matrix(self.out(x))

    def __call__(self, images: Array) -> Array:
        """Contract input ``[N, 3, R, R]`` -> unit quaternions ``[N, 4]`` (x, y, z, w), w >= 0."""
        return quat.from_matrix(self.rotation(images))


def macs(config: ModelConfig, image_size: int) -> int:
    """Multiply-accumulates of one forward pass (convolutions and dense layers)."""
    size, cin, total = image_size // config.input_pool, 3, 0
    for width, blocks in zip(config.widths, config.blocks):
        size = (size + 1) // 2
        total += size * size * 9 * cin * width
        total += blocks * 2 * size * size * 9 * width * width
        cin = width
    return total + size * size * cin * config.hidden + config.hidden * 6
