"""The training side's loader: a damaged dataset stops it with a message that names the
problem and the fix. The datasets here are synthetic (written with the renderer's own
shard writer, no Blender); ``test_render`` loads real renders."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from orient_jax import profiles
from orient_jax.vision import dataset

pytestmark = pytest.mark.unit

CUBE = profiles.get("cube")

ROOT = Path(__file__).resolve().parents[1]
COUNT, SHARD_SIZE = 32, 8


def make_plan() -> dict:
    res = CUBE.camera.resolution
    return {
        "format_version": dataset.FORMAT_VERSION,
        "preset": "tiny",
        "count": COUNT,
        "shard_size": SHARD_SIZE,
        "num_shards": COUNT // SHARD_SIZE,
        "image_size": res,
        "config_hash": "0123456789abcdef",
        "task": "cube",
        "spec": {"camera": json.loads(json.dumps(dataclasses.asdict(CUBE.camera))), "box_size": CUBE.physics.box_size},
        "params": {"bbox": {"shape": [4], "dtype": "int64"}, "noise_sigma": {"shape": [], "dtype": "float64"}},
    }


def make_dataset(root: Path) -> Path:
    """A complete synthetic dataset: image i is filled with the value i."""
    plan, res = make_plan(), CUBE.camera.resolution
    root.mkdir(parents=True)
    entries = []
    for k, (start, stop) in enumerate(dataset.shard_ranges(COUNT, SHARD_SIZE)):
        idx = np.arange(start, stop)
        q = np.random.default_rng(k).standard_normal((len(idx), 4))
        arrays = {
            dataset.IMAGES: np.broadcast_to(idx[:, None, None, None], (len(idx), res, res, 3)).astype(np.uint8),
            dataset.QUATS: (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32),
            dataset.INDEX: idx.astype(np.int64),
            dataset.CONFIG_HASH: np.array(plan["config_hash"]),
            dataset.PARAM_PREFIX + "bbox": np.tile([10, 10, 200, 200], (len(idx), 1)).astype(np.int64),
            dataset.PARAM_PREFIX + "noise_sigma": idx * 0.1,
        }
        name = dataset.shard_name(k)
        digest = dataset.write_shard(root / name, arrays)
        entries.append(
            {"name": name, "start": start, "stop": stop, "bytes": (root / name).stat().st_size, "sha256": digest}
        )
    (root / dataset.PLAN_FILE).write_text(json.dumps(plan))
    (root / dataset.MANIFEST_FILE).write_text(json.dumps({**plan, "shards": entries}))
    return root


@pytest.fixture
def copy(tmp_path) -> Path:
    return make_dataset(tmp_path / "tiny")


def test_loads_and_streams(copy):
    data = dataset.load(copy, CUBE, params=False)
    assert data.params == {} and data.images.shape[0] == 32 and (data.images[:, 0, 0, 0] == np.arange(32)).all()
    assert np.allclose(dataset.load(copy, CUBE).params["noise_sigma"], np.arange(32) * 0.1)
    shards = list(dataset.iter_shards(copy))
    assert len(shards) == 4 and np.array_equal(np.concatenate([s[dataset.IMAGES] for s in shards]), data.images)
    assert np.array_equal(np.concatenate([s[dataset.INDEX] for s in shards]), np.arange(32))
    assert dataset.verify(copy)["count"] == 32


def test_missing_shard_is_named(copy):
    (copy / "shard-00002.npz").unlink()
    with pytest.raises(
        dataset.DatasetError, match=r"shard shard-00002.npz \(images 16..23\) is missing .*re-render it with"
    ):
        dataset.load(copy, CUBE)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_corrupt_shard_is_named(copy, damage):
    path = copy / "shard-00001.npz"
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    else:
        data = data[: len(data) // 2]
    path.write_bytes(bytes(data))
    with pytest.raises(dataset.DatasetError, match=r"shard shard-00001.npz \(images 8..15\) is corrupt"):
        dataset.load(copy, CUBE)
    if damage == "flip":  # without checksums, the zip CRC still catches a flipped byte
        with pytest.raises(dataset.DatasetError, match="shard-00001.npz"):
            dataset.load(copy, CUBE, checksums=False)


def _replace_shard(root: Path, shard: int, arrays: dict) -> None:
    """Write a shard and update the manifest as if it were genuine."""
    name = dataset.shard_name(shard)
    digest = dataset.write_shard(root / name, arrays)
    manifest = json.loads((root / dataset.MANIFEST_FILE).read_text())
    manifest["shards"][shard].update(sha256=digest, bytes=(root / name).stat().st_size)
    (root / dataset.MANIFEST_FILE).write_text(json.dumps(manifest))


def _arrays(root: Path, shard: int) -> dict:
    with np.load(root / dataset.shard_name(shard)) as npz:
        return {k: npz[k] for k in npz.files}


def test_wrong_shapes_and_indices_are_named(copy):
    arrays = _arrays(copy, 0)
    arrays[dataset.IMAGES] = arrays[dataset.IMAGES][:, :, :, :2]
    _replace_shard(copy, 0, arrays)
    with pytest.raises(
        dataset.DatasetError,
        match=r"shard shard-00000.npz: images is uint8\[8, 224, 224, 2\], expected uint8\[8, 224, 224, 3\]",
    ):
        dataset.load(copy, CUBE)
    arrays = _arrays(copy, 1)
    _replace_shard(copy, 0, arrays)  # shard 1's contents under shard 0's name: duplicate indices
    with pytest.raises(dataset.DatasetError, match=r"shard shard-00000.npz holds indices \[8, 9, 10\]"):
        dataset.load(copy, CUBE)


def test_partial_dataset_says_how_to_resume(copy):
    (copy / dataset.MANIFEST_FILE).unlink()
    (copy / "shard-00003.npz").unlink()
    with pytest.raises(
        dataset.DatasetError,
        match=r"incomplete: 3 of 4 shards are rendered \(missing: shard-00003.npz\)\. "
        r"Resume with `.*render --preset tiny --task cube --out",
    ):
        dataset.load(copy, CUBE)


def test_not_a_dataset(tmp_path):
    with pytest.raises(dataset.DatasetError, match="no dataset at .*make data PRESET"):
        dataset.load(tmp_path / "nothing", CUBE)
    with pytest.raises(dataset.DatasetError, match="is not a dataset"):
        dataset.load(tmp_path, CUBE)


def test_spec_and_format_mismatches(copy):
    manifest = json.loads((copy / dataset.MANIFEST_FILE).read_text())
    manifest["spec"]["camera"]["fov_deg"] = 60.0
    (copy / dataset.MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(dataset.DatasetError, match="rendered for task profile 'cube' .*, not for 'cube'"):
        dataset.load(copy, CUBE)
    manifest["format_version"] = 0
    (copy / dataset.MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(dataset.DatasetError, match="format version 0"):
        dataset.load(copy, CUBE)


def test_fix_command_names_make_for_the_standard_location(tmp_path):
    assert dataset.fix_command(ROOT / "data" / "quick", {"preset": "quick"}) == "make data PRESET=quick"
    assert (
        dataset.fix_command(ROOT / "data" / "quick", {"preset": "quick", "task": "x"})
        == "make data PRESET=quick TASK=x"
    )
    assert (
        dataset.fix_command(tmp_path, {"preset": "tiny", "task": "test_box"})
        == f".render-venv/bin/python -m render render --preset tiny --task test_box --out {tmp_path}"
    )


def test_a_dataset_of_another_profile_is_refused(copy):
    test_box = profiles.get("test_box")
    with pytest.raises(
        dataset.DatasetError, match=r"rendered for task profile 'cube' .*not for 'test_box'.*--task test_box"
    ):
        dataset.load(copy, test_box)


def test_shard_writer_is_deterministic_and_atomic(tmp_path):
    arrays = {"a": np.arange(12, dtype=np.int64).reshape(3, 4), "b": np.array("abc"), "c": np.zeros((2, 2), np.float32)}
    d1 = dataset.write_shard(tmp_path / "x.npz", arrays)
    first = (tmp_path / "x.npz").read_bytes()
    d2 = dataset.write_shard(tmp_path / "x.npz", arrays)
    assert d1 == d2 == dataset.sha256_bytes(first) and (tmp_path / "x.npz").read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]
    with np.load(tmp_path / "x.npz") as npz:
        assert str(npz["b"]) == "abc" and npz["b"].shape == () and np.array_equal(npz["a"], arrays["a"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["shards"][2].pop("sha256"), r"shard entry 2 \(shard-00002.npz\) has no 'sha256'"),
        (lambda m: m["shards"][0].update(stop="8"), r"shard entry 0 \(shard-00000.npz\)'s 'stop' is '8', not int"),
        (lambda m: m.pop("count"), r"the manifest has no 'count'"),
        (lambda m: m["shards"].__setitem__(1, None), r"shard entry 1 is not an object"),
        # A shard is read only from the dataset's own folder, by the name the renderer gives it.
        (
            lambda m: m["shards"][1].update(name="../elsewhere/shard-00001.npz"),
            r"shard entry 1 names '../elsewhere/shard-00001.npz', not 'shard-00001.npz'",
        ),
        (
            lambda m: m["shards"][0].update(name="/etc/passwd"),
            r"shard entry 0 names '/etc/passwd', not 'shard-00000.npz'",
        ),
    ],
)
def test_a_damaged_manifest_is_named_not_a_key_error(copy, edit, message):
    manifest = json.loads((copy / dataset.MANIFEST_FILE).read_text())
    edit(manifest)
    (copy / dataset.MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(dataset.DatasetError, match=message):
        dataset.load(copy, CUBE)
