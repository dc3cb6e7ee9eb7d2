"""The renderer end to end, in its own venv: tiny datasets rendered by subprocess.

These tests need ``.render-venv`` (``make render-setup``) and fail, rather than skip,
without it: the dataset is part of the product.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from orient_jax import profiles
from orient_jax.vision import dataset
from render import label_check
from tests.render_helpers import DETERMINISTIC_FILES, render_tiny, run_render

pytestmark = pytest.mark.integration

CUBE = profiles.get("cube")

ROOT = Path(__file__).resolve().parents[1]


def assert_same_dataset(a: Path, b: Path) -> None:
    """Byte-identical shards, plan, manifest and sample grids."""
    names = sorted(p.name for p in a.glob("shard-*.npz"))
    assert names == sorted(p.name for p in b.glob("shard-*.npz")) and len(names) == 4
    for name in (*names, *DETERMINISTIC_FILES):
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs between {a} and {b}"
    assert not list(b.glob("*.tmp-*")), "temporary files were left behind"


def test_tiny_dataset_is_complete_and_valid(tiny_dataset):
    data = dataset.load(tiny_dataset, CUBE)
    m = data.manifest
    assert len(data) == m["count"] == 32 and m["preset"] == "tiny" and m["num_shards"] == 4
    assert (
        data.images.shape == (32, CUBE.camera.resolution, CUBE.camera.resolution, 3) and data.images.dtype == np.uint8
    )
    assert np.allclose(np.linalg.norm(data.quats, axis=1), 1, atol=1e-6) and (data.quats[:, 3] >= 0).all()
    assert m["spec"]["camera"]["fov_deg"] == CUBE.camera.fov_deg and m["spec"]["box_size"] == CUBE.physics.box_size
    assert set(data.params) == set(m["params"]) and data.params["face_rgb"].shape == (32, 6, 3)
    assert m["label_check"]["failures"] == 0 and m["label_check"]["images"] == 32
    # Every image shows the object whole, and the background is near white.
    bbox = data.params["bbox"]
    assert (bbox[:, :2] > 0).all() and (bbox[:, 2:] < CUBE.camera.resolution).all()
    assert (data.images[:, :4, :4].reshape(32, -1, 3).mean(axis=1) > 200).all()
    # Randomization varies per image and is recorded.
    assert len(np.unique(data.params["key_strength"])) == 32 and data.params["noise_sigma"].std() > 0
    from PIL import Image

    with Image.open(tiny_dataset / "samples.png") as grid:
        assert grid.size[0] > 6 * CUBE.camera.resolution
    log = (tiny_dataset / dataset.LOG_FILE).read_text().splitlines()
    assert '"images_rendered": 32' in log[-1]


def test_labels_pass_the_independent_projection_check(tiny_dataset):
    """Project box corners, face points and the discs through the spec's pinhole camera
    (rebuilt from the recorded camera jitter, without Blender) and compare with the pixels."""
    data = dataset.load(tiny_dataset, CUBE)
    asset = data.manifest["asset"]

    def failing_images(quats, images=data.images) -> int:
        bad = 0
        for i in range(len(images)):
            report = label_check.LabelReport()
            label_check.check_image(i, images[i], quats[i], {k: v[i] for k, v in data.params.items()}, asset, report)
            bad += bool(report.failures)
        return bad

    report = label_check.check_labels(data.images, data.quats, data.params, asset)
    assert report.ok, report.failures
    assert report.bbox_checks == 32 and report.face_checks >= 40 and report.dot_checks >= 25
    # The check has teeth: wrong conventions fail on (nearly) every image.
    q = data.quats.astype(np.float64)
    blender_swizzle = np.stack([q[:, 0], -q[:, 2], q[:, 1], q[:, 3]], axis=1)
    quarter_turn_about_up = np.array([0, np.sin(np.pi / 4), 0, np.cos(np.pi / 4)])
    turned = np.stack([_quat_mul(x, quarter_turn_about_up) for x in q])
    assert failing_images(blender_swizzle) == 32
    assert failing_images(q * [-1, -1, -1, 1]) >= 30  # conjugate (world -> body); equal near 180 deg
    assert failing_images(np.roll(q, 1, axis=1)) == 32  # (w, x, y, z) read as (x, y, z, w)
    assert failing_images(turned) == 32  # the silhouette is the same; the faces and discs are not
    assert failing_images(q, data.images[:, :, ::-1]) >= 28  # mirrored images
    # The shift suite's tolerance for colour checks (render.shifts) excuses none of these:
    # the quarter turn keeps every silhouette and fails far more than 1 % of the colour checks.
    turned_report = label_check.check_labels(data.images, turned, data.params, asset)
    assert turned_report.appearance_failures == len(turned_report.failures)
    assert not turned_report.passes(0.05)


def _quat_mul(a, b):
    av, aw, bv, bw = a[:3], a[3], b[:3], b[3]
    return np.concatenate([aw * bv + bw * av + np.cross(av, bv), [aw * bw - av @ bv]])


def test_resume_after_kill_is_byte_identical(tiny_dataset, render_python, tmp_path):
    """SIGKILL the renderer after its first shard, leave a half-written shard behind,
    re-run: the result equals the uninterrupted render, byte for byte."""
    out = tmp_path / "tiny"
    cmd = [str(render_python), "-m", "render", "render", "--preset", "tiny", "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not (out / dataset.shard_name(0)).exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the renderer ended before writing a shard"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    shards = sorted(out.glob("shard-*.npz"))
    assert 1 <= len(shards) < 4 and not (out / dataset.MANIFEST_FILE).exists()
    with pytest.raises(dataset.DatasetError, match=r"incomplete: \d of 4 shards are rendered.*Resume with"):
        dataset.load(out, CUBE)
    # What a kill during a write leaves: a partial temporary file of a dead process.
    partial = (tiny_dataset / dataset.shard_name(3)).read_bytes()[:1000]
    (out / (dataset.shard_name(3) + ".tmp-999999999")).write_bytes(partial)

    resumed = render_tiny(render_python, out, "--workers", "2")
    assert f"{len(shards)} already done, {4 - len(shards)} to render" in resumed.stdout
    assert_same_dataset(tiny_dataset, out)
    again = render_tiny(render_python, out)
    assert "complete and verified" in again.stdout


def test_corrupt_shard_is_named_and_the_suggested_command_repairs_it(tiny_dataset, render_python, tmp_path):
    out = tmp_path / "tiny"
    shutil.copytree(tiny_dataset, out)
    path = out / dataset.shard_name(2)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(
        dataset.DatasetError, match=r"shard shard-00002.npz \(images 16..23\) is corrupt.*re-render it with `(.*)`"
    ) as err:
        dataset.load(out, CUBE)
    command = err.value.args[0].split("`")[-2].split()
    assert command[:3] == [".render-venv/bin/python", "-m", "render"]
    repair = run_render(render_python, *command[3:], "--no-progress")
    assert "1 to render" in repair.stdout
    assert_same_dataset(tiny_dataset, out)


def test_disjoint_ranges_merge_into_the_same_dataset(tiny_dataset, render_python, tmp_path):
    """Two parts rendered separately (one worker each) merge into the reference bytes;
    the same parts rendered into one directory finalize to it as well."""
    part_a, part_b, merged = tmp_path / "a", tmp_path / "b", tmp_path / "merged"
    first = render_tiny(render_python, part_a, "--start", "0", "--stop", "16", "--workers", "1")
    assert "2 of 4 shards are not in" in first.stdout and not (part_a / dataset.MANIFEST_FILE).exists()
    render_tiny(render_python, part_b, "--start", "16", "--stop", "32", "--workers", "1")
    merge = run_render(render_python, "merge", "--out", str(merged), str(part_a), str(part_b))
    assert "label check passed" in merge.stdout
    assert_same_dataset(tiny_dataset, merged)
    # Several processes, one directory: the second range completes part_a in place.
    shutil.copy(part_b / dataset.shard_name(2), part_a)  # as if a second process had rendered it here
    render_tiny(render_python, part_a, "--start", "24", "--stop", "32", "--workers", "1")
    assert_same_dataset(tiny_dataset, part_a)


def test_bad_commands_stop_with_clear_messages(tiny_dataset, render_python, tmp_path):
    bad_range = render_tiny(render_python, tmp_path / "x", "--start", "3", check=False)
    assert bad_range.returncode == 2 and "--start 3 is not a shard boundary" in bad_range.stderr
    other_config = render_tiny(render_python, tiny_dataset, "seed=1", check=False)
    assert other_config.returncode == 2 and "holds a different dataset" in other_config.stderr
    assert "config.seed: 0 there, 1 now" in other_config.stderr
    bad_override = render_tiny(render_python, tmp_path / "y", "dr.nosie=1", check=False)
    assert bad_override.returncode == 2 and "unknown key" in bad_override.stderr
    verify = run_render(render_python, "verify", str(tiny_dataset))
    assert "'failures': 0" in verify.stdout


def test_shipped_glb_is_what_the_asset_code_exports(render_python, tmp_path):
    """web/public/models/object.glb is up to date with render/asset.py (`make glb` rewrites it)."""
    out = tmp_path / "object.glb"
    run_render(render_python, "export-glb", "--out", str(out))
    assert out.read_bytes() == (ROOT / "web/public/models/object.glb").read_bytes(), "run `make glb`"


def test_render_venv_is_separate_from_the_main_venv(render_python):
    """bpy needs numpy<2, jax needs numpy>=2: two venvs, and the versions stay pinned."""
    probe = "import importlib.metadata as m; print(m.version('bpy'), m.version('numpy'))"
    versions = subprocess.run([render_python, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    lines = (ROOT / "render/requirements.txt").read_text().splitlines()
    pinned = dict(line.split("==") for line in lines if "==" in line)
    assert versions == [pinned["bpy"], pinned["numpy"]] and versions[1].startswith("1.")
    assert int(np.__version__.split(".")[0]) >= 2 and sys.prefix != str(render_python.parent.parent)
