"""The renderer's pure parts (no Blender): frames, camera, sampling, asset, glb, post-processing."""

from __future__ import annotations

import dataclasses
import json
import math
import struct

import numpy as np
import pytest

from orient_jax import profiles
from render import asset, frames, label_check, postprocess, sampling
from render import config as config_lib

pytestmark = pytest.mark.unit

CUBE = profiles.get("cube")


def quat_mul(a, b):
    av, aw, bv, bw = np.asarray(a[:3]), a[3], np.asarray(b[:3]), b[3]
    return np.concatenate([aw * bv + bw * av + np.cross(av, bv), [aw * bw - av @ bv]])


def random_quats(n, seed=0):
    q = np.random.default_rng(seed).standard_normal((n, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


# --- frames -------------------------------------------------------------------------


def test_spec_to_blender_is_the_inverse_of_the_gltf_exporter():
    m = frames.SPEC_TO_BLENDER
    assert np.allclose(m @ m.T, np.eye(3)) and np.isclose(np.linalg.det(m), 1.0)  # a proper rotation
    assert np.allclose(frames.spec_to_blender([0, 1, 0]), [0, 0, 1])  # spec up -> Blender up
    assert np.allclose(frames.spec_to_blender([0, 0, 1]), [0, -1, 0])  # towards the spec camera
    # Blender's glTF exporter (export_yup) maps Blender (x, y, z) -> glTF (x, z, -y).
    v = np.random.default_rng(0).standard_normal((10, 3))
    b = frames.spec_to_blender(v)
    assert np.allclose(np.stack([b[:, 0], b[:, 2], -b[:, 1]], axis=1), v)


def test_quaternion_mapping_commutes_with_rotation():
    """Rotating in the spec frame then mapping == mapping then rotating in Blender."""
    rng = np.random.default_rng(1)
    for q in random_quats(20):
        v = rng.standard_normal(3)
        w, x, y, z = frames.quat_spec_to_blender(q)
        rotated_in_blender = label_check.rotate(np.array([x, y, z, w]), frames.spec_to_blender(v)[None])[0]
        assert np.allclose(frames.spec_to_blender(label_check.rotate(q, v[None])[0]), rotated_in_blender)


def test_look_at_agrees_with_the_label_checks_independent_camera():
    rng = np.random.default_rng(2)
    for _ in range(20):
        params = {
            "cam_position": rng.uniform(-1, 1, 3) + [0, 0.3, 0.6],
            "cam_target": rng.uniform(-0.05, 0.05, 3),
            "cam_roll_deg": rng.uniform(-20, 20),
            "cam_fov_deg": 50.0,
        }
        r = frames.look_at_matrix(params["cam_position"], params["cam_target"], params["cam_roll_deg"])
        cam = label_check.PinholeCamera.from_params(params, 224)
        # Rows of world_to_camera are right, up, forward; look_at's columns are right, up, back.
        assert np.allclose(cam.world_to_camera, np.stack([r[:, 0], r[:, 1], -r[:, 2]]))


def test_spec_camera_geometry():
    """Azimuth 0 puts the camera on +Z, looking at the origin, 30 deg above the horizon."""
    c = CUBE.camera
    params = {
        "cam_position": np.array(c.offset),
        "cam_target": np.zeros(3),
        "cam_roll_deg": 0.0,
        "cam_fov_deg": c.fov_deg,
    }
    cam = label_check.PinholeCamera.from_params(params, c.resolution)
    assert np.allclose(c.offset, [0, c.distance * 0.5, c.distance * math.cos(math.radians(30))])
    (centre, plus_x, plus_y), depth = cam.project(np.array([[0, 0, 0], [0.1, 0, 0], [0, 0.1, 0]]))
    assert np.allclose(centre, [112, 112]) and np.isclose(depth[0], c.distance)
    assert plus_x[0] > 112 and np.isclose(plus_x[1], 112)  # +X to the right
    assert plus_y[1] < 112  # +Y up in the image
    # The vertical field of view spans the image height.
    top = np.array([[0, 0, 0]]) + c.distance * math.tan(math.radians(25)) * cam.world_to_camera[1]
    assert np.isclose(cam.project(top)[0][0, 1], 0.0)


# --- sampling -----------------------------------------------------------------------


def test_quaternion_sampling_is_uniform_on_so3():
    rng = np.random.default_rng(0)
    q = np.stack([sampling.uniform_quaternion(rng) for _ in range(20000)])
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0) and (q[:, 3] >= 0).all()
    mats = np.stack([label_check.quat_to_matrix(x) for x in q[:4000]])
    assert np.abs(mats.mean(axis=0)).max() < 0.04  # Haar measure: E[R] = 0
    # The body up axis is uniform on the sphere, so its world y-component is U[-1, 1].
    up_y = 1 - 2 * (q[:, 0] ** 2 + q[:, 2] ** 2)
    counts, _ = np.histogram(up_y, bins=10, range=(-1, 1))
    assert ((counts - 2000) ** 2 / 2000).sum() < 30  # chi^2, 9 dof: p ~ 5e-4
    # Rotation angle theta has CDF (theta - sin theta) / pi.
    theta = 2 * np.arccos(np.clip(q[:, 3], 0, 1))
    edges = np.linspace(0, np.pi, 11)
    expected = np.diff((edges - np.sin(edges)) / np.pi) * len(q)
    counts, _ = np.histogram(theta, bins=edges)
    assert ((counts - expected) ** 2 / expected).sum() < 30


def test_per_image_draws_depend_only_on_seed_and_index():
    cfg = config_lib.get_preset("tiny")
    q5, p5, n5 = sampling.sample_image(cfg, 5, CUBE.camera)
    for i in (7, 3, 0):
        sampling.sample_image(cfg, i, CUBE.camera)
    q5b, p5b, n5b = sampling.sample_image(cfg, 5, CUBE.camera)
    assert np.array_equal(q5, q5b) and all(np.array_equal(p5[k], p5b[k]) for k in p5)
    assert np.array_equal(n5.standard_normal(4), n5b.standard_normal(4))
    q6, _, _ = sampling.sample_image(cfg, 6, CUBE.camera)
    q5_other_seed, _, _ = sampling.sample_image(config_lib.apply_overrides(cfg, ["seed=1"]), 5, CUBE.camera)
    assert not np.allclose(q5, q6) and not np.allclose(q5, q5_other_seed)
    assert q5.dtype == np.float32 and set(p5) == set(sampling.PARAMS) - {"bbox"}


def test_randomization_stays_in_its_ranges():
    cfg = config_lib.get_preset("quick")
    dr = cfg.dr
    for i in range(200):
        _, p, _ = sampling.sample_image(cfg, i, CUBE.camera)
        assert dr.key_strength[0] <= p["key_strength"] <= dr.key_strength[1]
        assert np.isclose(np.linalg.norm(p["key_direction"]), 1) and p["key_direction"][1] > 0  # from above
        assert (p["background_rgb"] >= dr.background_min).all() and (p["background_rgb"] <= 1).all()
        assert abs(p["cam_fov_deg"] - CUBE.camera.fov_deg) <= dr.fov_jitter_deg
        dist = np.linalg.norm(p["cam_position"] - p["cam_target"])
        assert abs(dist / CUBE.camera.distance - 1) <= dr.camera_distance_jitter + 1e-12
        assert p["blur_sigma"] == 0 or dr.blur_sigma[0] <= p["blur_sigma"] <= dr.blur_sigma[1]
        assert np.isclose(p["key_rgb"].max(), 1.0)


# --- config -------------------------------------------------------------------------


def test_presets_and_overrides():
    assert config_lib.get_preset("full").count >= 23000
    assert 1000 <= config_lib.get_preset("quick").count <= 10000
    tiny = config_lib.get_preset("tiny")
    assert tiny.num_shards == 4 and tiny.shard_range(3) == (24, 32)
    cfg = config_lib.apply_overrides(tiny, ["count=10", "dr.noise_sigma=0,2", "dr.blur_prob=0"])
    assert (
        cfg.count == 10 and cfg.dr.noise_sigma == (0.0, 2.0) and cfg.num_shards == 2 and cfg.shard_range(1) == (8, 10)
    )
    with pytest.raises(ValueError, match="unknown key"):
        config_lib.apply_overrides(tiny, ["dr.nosie=1"])
    with pytest.raises(ValueError, match="range"):
        config_lib.apply_overrides(tiny, ["dr.key_strength=3,1"])
    with pytest.raises(ValueError, match="unknown render preset"):
        config_lib.get_preset("huge")


# --- asset and glb ------------------------------------------------------------------


def _polygon_normal(points: np.ndarray) -> np.ndarray:
    """Newell's method: area-weighted normal of a planar polygon, anticlockwise = outward."""
    nxt = np.roll(points, -1, axis=0)
    return 0.5 * np.cross(points, nxt).sum(axis=0)


def test_body_mesh_is_the_physics_box():
    s = CUBE.physics.box_size
    verts, polys, mats = asset.body_mesh(s)
    assert np.allclose(verts.min(axis=0), -s / 2) and np.allclose(verts.max(axis=0), s / 2)
    assert np.allclose(np.abs(verts).max(axis=1), s / 2)  # every vertex on the surface
    area = np.zeros(12)
    for poly, m in zip(polys, mats):
        n = _polygon_normal(verts[list(poly)])
        face = m % 6
        assert np.allclose(n / np.linalg.norm(n), asset.FACE_NORMALS[face], atol=1e-9)  # planar, outward
        area[m] += np.linalg.norm(n)
    assert np.allclose(area[:6] + area[6:], s * s, rtol=1e-9)  # each face covered exactly once
    assert np.allclose(area[6:], np.pi * asset.dot_radii(s) ** 2, rtol=0.01)  # 32-gons
    # The marking: on the top face, off centre towards +X.
    assert np.allclose(asset.dot_centres(s)[asset.TOP], [0.25 * s, 0.5 * s, 0])


def _read_glb(path):
    data = path.read_bytes()
    magic, _, length = struct.unpack("<4sII", data[:12])
    assert magic == b"glTF" and length == len(data)
    json_len, _ = struct.unpack("<I4s", data[12:20])
    doc = json.loads(data[20 : 20 + json_len])
    bin_start = 20 + json_len + 8
    blob = data[bin_start:]

    def accessor(i):
        acc = doc["accessors"][i]
        view = doc["bufferViews"][acc["bufferView"]]
        dtype = {5126: np.float32, 5123: np.uint16, 5125: np.uint32}[acc["componentType"]]
        width = {"VEC3": 3, "SCALAR": 1}[acc["type"]]
        start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
        return np.frombuffer(blob, dtype, acc["count"] * width, start).reshape(acc["count"], width)

    return doc, accessor


def test_glb_is_the_asset_in_the_body_frame(root):
    """object.glb: Y up, body frame, physics size, the asset's colours, the marking on +Y."""
    path = root / "web/public/models/object.glb"
    assert path.stat().st_size < 100_000
    doc, accessor = _read_glb(path)
    (node,) = doc["nodes"]
    assert not {"rotation", "translation", "scale", "matrix"} & set(node)
    names = [m["name"] for m in doc["materials"]]
    assert names == asset.describe(CUBE.physics.box_size)["material_order"]
    colours = np.concatenate([asset.FACE_RGB, asset.dot_rgb()])
    for m, rgb in zip(doc["materials"], colours):
        assert np.allclose(m["pbrMetallicRoughness"]["baseColorFactor"][:3], rgb, atol=1e-6)
        assert not m.get("doubleSided", False)
    s = CUBE.physics.box_size
    all_points = []
    for prim in doc["meshes"][node["mesh"]]["primitives"]:
        pos = accessor(prim["attributes"]["POSITION"]).astype(np.float64)
        tri = accessor(prim["indices"]).reshape(-1, 3)
        name = names[prim["material"]]
        face = asset.FACE_NAMES.index(name[-2:])
        a, b, c = pos[tri[:, 0]], pos[tri[:, 1]], pos[tri[:, 2]]
        normals = np.cross(b - a, c - a)
        assert (normals @ asset.FACE_NORMALS[face] > 0).all()  # wound outwards
        if name.startswith("dot"):
            assert np.allclose(pos.mean(axis=0), asset.dot_centres(s)[face], atol=2e-3)
        all_points.append(pos)
    pts = np.concatenate(all_points)
    assert np.allclose(pts.min(axis=0), -s / 2, atol=1e-6) and np.allclose(pts.max(axis=0), s / 2, atol=1e-6)


# --- post-processing ----------------------------------------------------------------


def test_tga_reader_handles_both_origins(tmp_path):
    rgba = np.random.default_rng(0).integers(0, 256, (3, 5, 4), dtype=np.uint8)
    for descriptor, rows in ((0x28, rgba), (0x08, rgba[::-1])):
        header = bytes([0, 0, 2] + [0] * 9) + struct.pack("<HHBB", 5, 3, 32, descriptor)
        (tmp_path / "x.tga").write_bytes(header + rows[..., [2, 1, 0, 3]].tobytes())
        assert np.array_equal(postprocess.read_tga(tmp_path / "x.tga"), rgba)


def test_finish_composites_blurs_and_adds_noise():
    rgba = np.zeros((60, 60, 4), dtype=np.uint8)
    rgba[5:55, 5:55] = (200, 10, 10, 255)
    bg = np.array([0.9, 1.0, 0.95])
    rng = np.random.default_rng(0)
    clean = postprocess.finish(rgba, bg, 0.0, 0.0, rng)
    assert (clean[0, 0] == np.rint(bg * 255)).all() and (clean[30, 30] == (200, 10, 10)).all()
    blurred = postprocess.finish(rgba, bg, 1.0, 0.0, rng).astype(float)
    assert 10 < blurred[30, 5, 1] < 240 and abs(blurred.mean() - clean.astype(float).mean()) < 1.0
    noisy = postprocess.finish(rgba, bg, 0.0, 3.0, rng).astype(float) - clean
    assert 2.8 < noisy[10:50, 10:50, 0].std() < 3.2
    assert np.array_equal(postprocess.silhouette_bbox(rgba[..., 3]), [5, 5, 55, 55])


def test_the_shift_suites_frame_effects_change_only_what_they_name():
    """Texture touches only the background, exposure scales and saturates, JPEG changes
    the bytes but not the picture; at their defaults, the frame is the plain one."""
    rgba = np.zeros((64, 64, 4), dtype=np.uint8)
    rgba[8:56, 8:56] = (200, 60, 30, 255)
    bg = np.array([0.9, 1.0, 0.95])
    plain = postprocess.finish(rgba, bg, 0.0, 0.0, np.random.default_rng(0))
    same = postprocess.finish(rgba, postprocess.background(bg, 64), 0.0, 0.0, np.random.default_rng(0), 1.0, 0)
    assert np.array_equal(plain, same)
    textured_bg = postprocess.background(bg, 64, 0.5, np.random.default_rng(1))
    assert textured_bg.shape == (64, 64, 3) and 10 < textured_bg.std() < 80
    textured = postprocess.finish(rgba, textured_bg, 0.0, 0.0, np.random.default_rng(0))
    assert np.array_equal(textured[8:56, 8:56], plain[8:56, 8:56]) and not np.array_equal(textured, plain)
    bright = postprocess.finish(rgba, bg, 0.0, 0.0, np.random.default_rng(0), exposure=1.5)
    assert (bright[30, 30] == (255, 90, 45)).all()  # 200 x 1.5 saturates at 255
    coded = postprocess.finish(rgba, bg, 0.0, 0.0, np.random.default_rng(0), jpeg_quality=30)
    assert not np.array_equal(coded, plain) and np.abs(coded.astype(float) - plain).mean() < 12  # 7.1 measured


def test_value_noise_is_smooth_and_spans_its_range():
    n = postprocess.value_noise(np.random.default_rng(0), 128, 4)
    assert n.shape == (128, 128, 3) and n.min() >= -1 and n.max() <= 1 and n.max() - n.min() > 1
    assert np.abs(np.diff(n, axis=0)).max() < 0.1 and np.abs(np.diff(n, axis=1)).max() < 0.1


def test_the_frame_draws_come_last_and_change_nothing_at_their_defaults():
    """A preset at the defaults draws the same labels and scene as before the fields existed
    (brightness exactly 1, no texture, no exposure change, no JPEG)."""
    config = config_lib.get_preset("tiny")
    for index in range(4):
        _, p, _ = sampling.sample_image(config, index, CUBE.camera)
        assert float(p["exposure"]) == 1.0 and float(p["background_texture"]) == 0.0 and int(p["jpeg_quality"]) == 0
    shifted = config_lib.apply_overrides(config, ["dr.background_brightness=0.2,0.3", "dr.jpeg_prob=1"])
    q0, p0, _ = sampling.sample_image(config, 0, CUBE.camera)
    q1, p1, _ = sampling.sample_image(shifted, 0, CUBE.camera)
    assert np.array_equal(q0, q1) and np.array_equal(p0["cam_position"], p1["cam_position"])
    assert np.allclose(p1["background_rgb"] / p0["background_rgb"], p1["background_rgb"][0] / p0["background_rgb"][0])
    assert 0.2 <= p1["background_rgb"][0] / p0["background_rgb"][0] <= 0.3 and 75 <= int(p1["jpeg_quality"]) <= 95


def test_the_label_check_tolerance_never_excuses_a_silhouette():
    colour = label_check.LabelReport(face_checks=90, dot_checks=10, failures=["face"], appearance_failures=1)
    assert not colour.ok and colour.passes(0.01) and not colour.passes(0.0)
    two = label_check.LabelReport(face_checks=90, dot_checks=10, failures=["a", "b"], appearance_failures=2)
    assert not two.passes(0.01)
    silhouette = label_check.LabelReport(face_checks=900, dot_checks=100, failures=["bbox"])
    assert not silhouette.passes(0.05)


def test_every_randomization_field_is_in_exactly_one_group():
    grouped = [name for names in config_lib.GROUPS.values() for name in names]
    assert len(grouped) == len(set(grouped))
    for cls in (config_lib.Randomization, config_lib.MeshRandomization):
        missing = {f.name for f in dataclasses.fields(cls)} - set(grouped)
        assert not missing, f"{cls.__name__}: {sorted(missing)} in no group of render.config.GROUPS"


def test_a_mixed_set_takes_whole_groups_from_its_wide_randomization():
    """wide_prob: each image takes each group from `wide` or from `dr` as a whole, about
    wide_prob of the time, recorded in wide_groups; the label and camera draws stay the same."""
    wide = config_lib.Randomization(background_min=0.2, noise_sigma=(10.0, 12.0), camera_target_jitter=0.04)
    config = config_lib.RenderConfig(count=400, seed=5, wide=wide, wide_prob=0.4)
    plain = dataclasses.replace(config, wide_prob=0.0)
    groups = list(config_lib.GROUPS)
    counts = np.zeros(len(groups))
    for index in range(400):
        q, p, _ = sampling.sample_image(config, index, CUBE.camera)
        q0, p0, _ = sampling.sample_image(plain, index, CUBE.camera)
        mask = int(p["wide_groups"])
        picked = {g for i, g in enumerate(groups) if mask >> i & 1}
        counts += [g in picked for g in groups]
        assert np.array_equal(q, q0) and int(p0["wide_groups"]) == 0
        noisy = p["noise_sigma"] >= 10.0
        assert noisy == ("sensor" in picked), (index, mask, float(p["noise_sigma"]))
        if "background" not in picked:
            assert np.array_equal(p["background_rgb"], p0["background_rgb"])
    assert np.all(np.abs(counts / 400 - 0.4) < 0.08), counts
