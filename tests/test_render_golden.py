"""Golden values of the renderer's pure parts: what a dataset's bytes follow from.

A dataset records its config's hash in its manifest and in every shard, and a resume
is valid only while that hash and the per-image draws are unchanged. These tests pin
both, for both object kinds (the procedural cube, and a runtime's mesh: profile
``original``), so a change of draw order or of the configs' serialised form fails here
rather than silently making every existing dataset stale or unresumable. A deliberate
change updates the goldens, and says so.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from orient_jax import profiles
from render import config as config_lib
from render import label_check, sampling

pytestmark = pytest.mark.unit

CUBE, ORIGINAL = profiles.get("cube"), profiles.get("original")
SAMPLERS = {
    "cube": lambda config, index: sampling.sample_image(config, index, CUBE.camera),
    "original": lambda config, index: sampling.sample_mesh_image(config, index, ORIGINAL),
}


# Drawn after all the others by ``sampling.sample_frame`` (``wide_groups``: from a fourth
# generator, and 0 where ``wide_prob`` is), and constant at the presets' defaults
# (tests/test_render_units.py): left out, so the digests below are the ones every dataset
# rendered before these params existed was made with.
FRAME_PARAMS = {"background_texture", "exposure", "jpeg_quality", "wide_groups"}


def draws_digest(kind: str, preset: str, count: int = 16) -> str:
    """sha256 over images [0, count): the label's bytes, every param's name and bytes (but
    ``FRAME_PARAMS``), and the first two draws of the noise generator."""
    config, sample, h = config_lib.get_preset(preset), SAMPLERS[kind], hashlib.sha256()
    for index in range(count):
        quat, params, noise_rng = sample(config, index)
        h.update(quat.tobytes())
        for name in sorted(set(params) - FRAME_PARAMS):
            h.update(name.encode())
            h.update(np.ascontiguousarray(params[name]).tobytes())
        h.update(noise_rng.standard_normal(2).tobytes())
    return h.hexdigest()


# The test presets have no camera jitter: the jittered presets pin the camera draws.
@pytest.mark.parametrize(
    "kind, preset, digest",
    [
        ("cube", "tiny", "fc58bbebb90c3f0c6cc0f1e710b4f5c0df4fa580a7806c1582a3d60b9e5d04af"),
        ("cube", "test", "754fea268e7d0e6e444de3ff6c7662bee0f8dffb935f078f00b93175ae70bfc8"),
        ("original", "original-tiny", "26f1958493aaf668cc9f94c6a2f14cf77847ae50683c1068a923c79e9ebb1848"),
        ("original", "original-test", "be25a6752e1f8bae7879847b1132f2f9bc6b273fa56fb7c92eda96e2a8390a95"),
    ],
)
def test_per_image_draws_are_pinned(kind, preset, digest):
    assert draws_digest(kind, preset) == digest, f"the {preset!r} draws changed: every dataset of it would too"


# Image 0 of seed 0: the label and the camera are drawn alike by both kinds, so they agree;
# the target's jitter is 0.012 m (cube) against 0.05 m (mesh) of the same unit draws.
QUAT_0 = [0.2602493166923523, -0.605919599533081, -0.09480743110179901, 0.7457501888275146]
FIRST_IMAGE = {
    "tiny": {
        "cam_target": [0.008365021940765684, -0.008947250520385114, 0.010648041857075357],
        "cycles_seed": 1686167180,
    },
    "original-tiny": {
        "cam_target": [0.03485425808652368, -0.03728021050160464, 0.04436684107114733],
        "cycles_seed": 209623783,
    },
}


@pytest.mark.parametrize("kind, preset", [("cube", "tiny"), ("original", "original-tiny")])
def test_first_image_literal_values(kind, preset):
    quat, params, _ = SAMPLERS[kind](config_lib.get_preset(preset), 0)
    assert quat.tolist() == QUAT_0
    assert float(params["cam_roll_deg"]) == -2.4733709991860167
    assert float(params["cam_fov_deg"]) == 49.868381071204126
    assert params["cam_target"].tolist() == FIRST_IMAGE[preset]["cam_target"]
    assert int(params["cycles_seed"]) == FIRST_IMAGE[preset]["cycles_seed"]


# config_hash of each preset's serialised config: the config's share of the dataset hash
# (render.plan.identity adds the profile, the asset and the software to it).
CONFIG_HASHES = {
    "tiny": "3c87f96f37ae9bac",
    "quick": "9f45bdde19c60054",
    "full": "a077eb825069b998",
    "test": "730eecdcd5ad74d3",
    "wide": "b7b02f56f0ed19a0",
    "wide-mix": "2479e0cd9bf4499f",
    "original": "805d55ded3825016",
    "original-quick": "bf30b27845ae4cb7",
    "original-test": "8ce01265ae794b14",
    "original-tiny": "bf74713c0f28fe58",
    "original-pipeline": "b233d1eeb1d2c295",
    "original-pipeline-test": "1eb36adee8316e97",
    "original-tiny-test": "2e5550aadadb958a",
}


def test_preset_config_hashes_are_pinned():
    assert set(config_lib.PRESETS) == set(CONFIG_HASHES), "a new preset: add its hash here"
    for name, config in config_lib.PRESETS.items():
        data = config_lib.to_dict(config)
        assert config_lib.config_hash(data) == CONFIG_HASHES[name], f"preset {name!r} serialises differently"
        assert config_lib.from_dict(type(config), data) == config


@pytest.mark.parametrize("cls", [config_lib.Randomization, config_lib.MeshRandomization])
@pytest.mark.parametrize(
    "field, value, message",
    [
        ("roughness", (0.9, 0.1), "must be a range"),
        ("blur_prob", 1.5, r"must be in \[0, 1\]"),
        ("background_min", -0.1, r"must be in \[0, 1\]"),
        ("blur_sigma", (-0.1, 1.0), "must be >= 0"),
        ("noise_sigma", (-1.0, 2.0), "must be >= 0"),
        ("blur_sigma", (0.3, 3.0), "at most 2.5 px"),
    ],
)
def test_both_kinds_check_their_randomization_alike(cls, field, value, message):
    assert issubclass(cls, config_lib.CommonRandomization)
    with pytest.raises(ValueError, match=message):
        cls(**{field: value})


def test_silhouette_check_measures_the_projected_bounding_box():
    """``check_silhouette``, shared by both kinds: a bbox at the projection passes, one
    pixel more than the tolerance off fails, and the error is recorded either way."""
    _, params, _ = SAMPLERS["original"](config_lib.get_preset("original-tiny"), 3)
    quat = np.array([0.0, 0.0, 0.0, 1.0])
    points = np.array([[-0.5, -0.2, -0.8], [0.5, 0.3, 1.2], [0.1, 0.9, 0.0]])
    cam = label_check.PinholeCamera.from_params(params, 224)
    xy, _ = cam.project(points)
    bbox = np.array([xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()])
    report = label_check.LabelReport()
    label_check.check_silhouette(0, cam, quat, points, {**params, "bbox": bbox}, report)
    assert report.ok and report.bbox_checks == 1 and report.max_bbox_error_px < 1e-9
    off = bbox + [0, 0, label_check.BBOX_TOLERANCE_PX + 1, 0]
    label_check.check_silhouette(7, cam, quat, points, {**params, "bbox": off}, report)
    assert report.bbox_checks == 2 and len(report.failures) == 1 and report.failures[0].startswith("image 7:")
    assert report.max_bbox_error_px == pytest.approx(label_check.BBOX_TOLERANCE_PX + 1)
