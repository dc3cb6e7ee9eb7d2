"""A task profile's object as a mesh: the runtime's own, or a stand-in for tests.

A profile whose object is the runtime's mesh (``runtime.mesh``, a path inside the
runtime's folder) reads it from the folder the user gives; nothing of it is copied into
this repository. ``page_mesh`` extracts it exactly as the original page builds its
physics trimesh (index.html:388-443): every primitive's raw vertex positions in scene
order, node transforms ignored, indices offset by the vertices before them.

``stand_in_mesh`` is a mesh this project generates: an elongated, lopsided body about the
size of the original's motor, so tests exercise the mesh path without the runtime.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

_COMPONENTS = {5126: np.float32, 5125: np.uint32, 5123: np.uint16, 5121: np.uint8}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
HOW_TO_GET = (
    "clone https://github.com/sagerkudrick/main-prediction-RL, check out 6957ebb, and pass its folder "
    "(env.runtime_dir=DIR, or --runtime-dir DIR)"
)


class MeshError(ValueError):
    """The mesh is missing or unreadable; the message names the path."""


def read_glb(path: str | Path) -> tuple[dict, bytes]:
    """The JSON and binary chunks of a GLB file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise MeshError(f"cannot read {path}: {e.strerror or e}; {HOW_TO_GET}") from None
    if len(data) < 20 or data[:4] != b"glTF":
        raise MeshError(f"{path} is not a binary glTF (GLB) file")
    offset, doc, binary = 12, None, None
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from("<II", data, offset)
        chunk = data[offset + 8 : offset + 8 + length]
        if kind == 0x4E4F534A:
            doc = json.loads(chunk)
        elif kind == 0x004E4942:
            binary = chunk
        offset += 8 + length
    if doc is None or binary is None:
        raise MeshError(f"{path} has no JSON or no binary chunk")
    return doc, binary


def _accessor(doc: dict, binary: bytes, index: int) -> np.ndarray:
    a = doc["accessors"][index]
    view = doc["bufferViews"][a["bufferView"]]
    dtype = np.dtype(_COMPONENTS[a["componentType"]])
    width = _WIDTH[a["type"]]
    if view.get("byteStride", width * dtype.itemsize) != width * dtype.itemsize:
        raise MeshError("interleaved glTF buffers are not supported")
    start = view.get("byteOffset", 0) + a.get("byteOffset", 0)
    out = np.frombuffer(binary, dtype, a["count"] * width, start)
    return out.reshape(-1, width) if width > 1 else out


def page_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(vertices [V, 3] float64, triangles [F, 3] int64), as the original page builds them."""
    doc, binary = read_glb(path)
    vertices, triangles = [], []
    count = 0

    def visit(node_index: int) -> None:
        nonlocal count
        node = doc["nodes"][node_index]
        for prim in doc["meshes"][node["mesh"]]["primitives"] if "mesh" in node else ():
            pos = _accessor(doc, binary, prim["attributes"]["POSITION"]).astype(np.float64)
            idx = _accessor(doc, binary, prim["indices"]) if "indices" in prim else np.arange(len(pos))
            vertices.append(pos)
            triangles.append(idx.astype(np.int64).reshape(-1, 3) + count)
            count += len(pos)
        for child in node.get("children", ()):
            visit(child)

    for n in doc["scenes"][doc.get("scene", 0)]["nodes"]:
        visit(n)
    if not vertices:
        raise MeshError(f"{path} holds no mesh")
    return np.concatenate(vertices), np.concatenate(triangles)


def stand_in_mesh(segments: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """A generated motor-like body: a capped cylinder 2 units long along z with a bump
    on top, off-centre like the original's (its origin is not its centroid)."""
    angles = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    ring = np.stack([0.55 * np.cos(angles), 0.5 * np.sin(angles)], axis=1)
    rings = [np.column_stack([ring, np.full(segments, z)]) for z in (-0.8, 1.2)]
    bump = np.array([[0.0, 0.95, 0.2], [0.2, 0.8, 0.6], [-0.2, 0.8, 0.6], [0.0, 0.8, -0.2]])
    vertices = np.concatenate([*rings, bump, [[0.0, 0.0, -0.8], [0.0, 0.0, 1.2]]])
    from scipy.spatial import ConvexHull

    hull = ConvexHull(vertices)
    return vertices.astype(np.float64), hull.simplices.astype(np.int64)


def runtime_mesh(mesh: str, runtime_dir: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The profile's mesh (``runtime.mesh``) from the runtime's folder; a clear error without it."""
    if not runtime_dir:
        raise MeshError(f"this task profile's object is the runtime's {mesh}: give its folder; {HOW_TO_GET}")
    path = Path(runtime_dir) / mesh
    if not path.is_file():
        raise MeshError(f"{path} is missing: is {runtime_dir} the original runtime's folder? {HOW_TO_GET}")
    return page_mesh(path)


def write_glb(path: str | Path, vertices: np.ndarray, triangles: np.ndarray) -> Path:
    """A minimal GLB (one mesh, positions and indices, no material) for the stand-in."""
    positions = np.ascontiguousarray(vertices, np.float32)
    indices = np.ascontiguousarray(triangles, np.uint32).ravel()
    blob = positions.tobytes() + indices.tobytes()
    doc = {
        "asset": {"version": "2.0", "generator": "orient-jax stand-in"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "stand-in"}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "buffers": [{"byteLength": len(blob)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": positions.nbytes, "target": 34962},
            {"buffer": 0, "byteOffset": positions.nbytes, "byteLength": indices.nbytes, "target": 34963},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": len(positions), "type": "VEC3",
             "min": positions.min(0).tolist(), "max": positions.max(0).tolist()},
            {"bufferView": 1, "componentType": 5125, "count": len(indices), "type": "SCALAR"},
        ],
    }  # fmt: skip
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    blob += b"\0" * (-len(blob) % 4)
    body = struct.pack("<II", len(text), 0x4E4F534A) + text + struct.pack("<II", len(blob), 0x004E4942) + blob
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<III", 0x46546C67, 2, 12 + len(body)) + body)
    return path


def stand_in_runtime(directory: str | Path, mesh: str) -> Path:
    """A folder laid out like the runtime's, holding only the stand-in mesh at ``mesh``."""
    write_glb(Path(directory) / mesh, *stand_in_mesh())
    return Path(directory)


def object_vertices(spec, runtime_dir: str | Path, mesh=None) -> np.ndarray | None:
    """The vertices of ``spec``'s object when it is a mesh (None for the profile's box):
    ``mesh`` (vertices, triangles) when given (tests), else read from ``runtime_dir``."""
    if not spec.runtime.mesh:
        return None
    vertices, _ = mesh if mesh is not None else runtime_mesh(spec.runtime.mesh, runtime_dir)
    return np.asarray(vertices, np.float64)
