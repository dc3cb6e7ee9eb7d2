"""The procedural object (``marked_cube``): a task profile's cube, one colour per face, an
off-centre disc on each; every function takes the profile's box size.

No two orientations look alike. The six face colours tell every rotation of the cube
apart whenever two or more faces are in view; an off-centre disc on every face breaks
each face's four-fold symmetry, so even a face seen head-on shows how it is turned.
The top (+Y, "up") face carries the marking: a large near-black disc towards the +X
face. The other discs are small and white, and on the side faces they sit towards the
top, so a side view alone shows where up is.

The geometry is built here in the **body frame** (pure numpy, importable without
``bpy``); :func:`build_object` maps it into Blender through ``render.frames``, and
:func:`export_glb` writes the profile's ``object.glb`` (``cube``: ``web/public/models``)
whose vertices are again in the body frame (glTF is Y up), so the browser shows the very
same object. The marking
discs are part of the faces (each face is cut around its disc), not decals above them:
the object's extent is exactly the physics box's, and nothing z-fights in the browser.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from orient_jax.profiles.spec import TaskSpec
from render import frames

REPO = Path(__file__).resolve().parent.parent

# Faces in material-index order, with their outward normals (body frame).
FACE_NAMES = ("+X", "-X", "+Y", "-Y", "+Z", "-Z")
FACE_NORMALS = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], dtype=np.float64)
# Base colours, linear RGB (glTF baseColorFactor and Blender's Base Color are both
# linear). Six hues about 60 degrees apart, so a face is told by its hue alone.
FACE_RGB = np.array(
    [
        [0.80, 0.06, 0.05],  # +X red
        [0.04, 0.55, 0.60],  # -X cyan
        [0.85, 0.68, 0.04],  # +Y yellow (top, carries the marking)
        [0.05, 0.10, 0.75],  # -Y blue
        [0.06, 0.55, 0.08],  # +Z green
        [0.60, 0.06, 0.55],  # -Z magenta
    ]
)
# Every face carries an off-centre disc, so that even a face seen head-on (the only
# face in view) shows which way it is turned. The top face's disc is "the marking":
# large and near black, towards the +X face. The side faces' discs are small, white
# and towards the top (so a side view shows where up is); the bottom's is towards +Z.
TOP = 2
DOT_DIRECTIONS = np.array([[0, 1, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 0]], dtype=np.float64)
DOT_OFFSET = 0.25  # disc centre's distance from the face centre, in box edges
MARKING_RADIUS = 0.15  # in box edges
SPOT_RADIUS = 0.1
MARKING_RGB = np.array([0.015, 0.015, 0.015])  # near black
SPOT_RGB = np.array([0.85, 0.85, 0.85])  # white
ROUGHNESS = 0.7  # nominal; the dataset randomizes it
SPECULAR = 0.5  # nominal Principled "Specular IOR Level": F0 = 0.04, Three.js's default
DISC_SEGMENTS = 32


def dot_centres(box_size: float) -> np.ndarray:
    """Centre of each face's disc ``[6, 3]``, body frame."""
    return box_size * (0.5 * FACE_NORMALS + DOT_OFFSET * DOT_DIRECTIONS)


def dot_radii(box_size: float) -> np.ndarray:
    return box_size * np.where(np.arange(6) == TOP, MARKING_RADIUS, SPOT_RADIUS)


def dot_rgb() -> np.ndarray:
    return np.stack([MARKING_RGB if i == TOP else SPOT_RGB for i in range(6)])


def describe(box_size: float) -> dict:
    """The asset as data: recorded in every dataset manifest, read by the label check."""
    centres, radii, colours = dot_centres(box_size), dot_radii(box_size), dot_rgb()
    return {
        "box_size": box_size,
        "faces": [
            {
                "name": n,
                "normal": FACE_NORMALS[i].tolist(),
                "base_rgb_linear": FACE_RGB[i].tolist(),
                "dot_center_body": centres[i].tolist(),
                "dot_radius": float(radii[i]),
                "dot_rgb_linear": colours[i].tolist(),
            }
            for i, n in enumerate(FACE_NAMES)
        ],
        "marking_face": FACE_NAMES[TOP],
        "material_order": [f"face{n}" for n in FACE_NAMES] + [f"dot{n}" for n in FACE_NAMES],
        "roughness": ROUGHNESS,
        "specular": SPECULAR,
    }


def _face_basis(normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors u, v spanning a face with u x v = normal (so u, v run anticlockwise)."""
    u = np.roll(np.abs(normal), 1) * 1.0  # any axis orthogonal to an axis-aligned normal
    v = np.cross(normal, u)
    return u, v


def body_mesh(box_size: float) -> tuple[np.ndarray, list[tuple[int, ...]], list[int]]:
    """Vertices ``[V, 3]`` (body frame, metres), polygons (anticlockwise seen from
    outside) and each polygon's material index: face ``i`` (``FACE_NAMES`` order) is
    material ``i`` and its disc is material ``6 + i``.

    Each face is its disc plus a ring of quads joining the disc to the face's square
    boundary, all in the face's plane; the ray directions from the disc centre include
    the four corners, so every quad has its outer edge on one side of the square.
    """
    h = 0.5 * box_size
    verts: list[np.ndarray] = []
    polys: list[tuple[int, ...]] = []
    materials: list[int] = []

    def add(points) -> list[int]:
        first = len(verts)
        verts.extend(np.asarray(points, dtype=np.float64))
        return list(range(first, len(verts)))

    for i, (n, c3, r) in enumerate(zip(FACE_NORMALS, dot_centres(box_size), dot_radii(box_size))):
        u, v = _face_basis(n)
        centre = n * h
        c = np.array([np.dot(c3, u), np.dot(c3, v)])  # disc centre in the face's (u, v) coordinates
        corner_angles = [np.arctan2(b * h - c[1], a * h - c[0]) for a, b in ((1, 1), (-1, 1), (-1, -1), (1, -1))]
        uniform = np.linspace(0, 2 * np.pi, DISC_SEGMENTS, endpoint=False)
        angles = np.unique(np.mod(np.concatenate([uniform, corner_angles]), 2 * np.pi))
        d = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        # Distance from c along d to the square's boundary.
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.min(np.where(d != 0, (np.sign(d) * h - c) / d, np.inf), axis=1)
        inner = add(centre + (c + r * d) @ np.stack([u, v]))
        outer = add(centre + (c + t[:, None] * d) @ np.stack([u, v]))
        polys.append(tuple(inner))
        materials.append(6 + i)
        k = len(angles)
        for j in range(k):
            polys.append((inner[j], outer[j], outer[(j + 1) % k], inner[(j + 1) % k]))
            materials.append(i)
    return np.stack(verts), polys, materials


def build_object(box_size: float, name: str = "object"):
    """Create the object in the current Blender scene, with plain glTF-compatible
    materials (Principled BSDF: base colour, roughness, specular). Returns it."""
    import bpy

    verts, polys, mats = body_mesh(box_size)
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(frames.spec_to_blender(verts).tolist(), [], polys)
    names = describe(box_size)["material_order"]
    colours = list(FACE_RGB) + list(dot_rgb())
    for mat_name, rgb in zip(names, colours):
        mat = bpy.data.materials.new(mat_name)
        mat.use_backface_culling = True  # a closed mesh: glTF doubleSided = false
        bsdf = mat.node_tree.nodes["Principled BSDF"]
        bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
        bsdf.inputs["Roughness"].default_value = ROUGHNESS
        bsdf.inputs["Specular IOR Level"].default_value = SPECULAR
        mesh.materials.append(mat)
    mesh.polygons.foreach_set("material_index", mats)
    mesh.update()
    obj = bpy.data.objects.new(name, mesh)
    obj.rotation_mode = "QUATERNION"
    bpy.context.scene.collection.objects.link(obj)
    return obj


def glb_path(spec: TaskSpec) -> Path:
    """Where the profile's object goes by default: its export folder."""
    return REPO / spec.artifacts.export_dir / spec.artifacts.object_file


def export_glb(spec: TaskSpec, path: Path) -> Path:
    """Write the profile's object alone as glTF binary (Y up, body frame, no camera or lights)."""
    import bpy

    if spec.artifacts.object_kind != "marked_cube":
        raise ValueError(f"task profile {spec.name!r} shows its runtime's own {spec.runtime.mesh}: nothing to export")

    bpy.ops.wm.read_factory_settings(use_empty=True)
    obj = build_object(spec.physics.box_size)
    for o in bpy.context.scene.objects:
        o.select_set(o is obj)
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.export_scene.gltf(
        filepath=str(path),
        export_format="GLB",
        use_selection=True,
        export_yup=True,
        export_apply=True,
        export_texcoords=False,
        export_normals=True,
        export_materials="EXPORT",
        export_cameras=False,
        export_lights=False,
        export_extras=False,
        export_animations=False,
    )
    return path


# --- a runtime's own mesh (profile object kind "runtime_mesh") ----------------------------------


def runtime_mesh_path(spec: TaskSpec, runtime_dir: str | Path) -> Path:
    """The profile's mesh inside the runtime's folder, or a clear error naming the path."""
    if not runtime_dir:
        raise ValueError(
            f"task profile {spec.name!r} renders its runtime's {spec.runtime.mesh}: pass --runtime-dir DIR"
        )
    path = Path(runtime_dir) / spec.runtime.mesh
    if not path.is_file():
        raise ValueError(f"{path} is missing: is {runtime_dir} the runtime's folder?")
    return path


def describe_runtime_mesh(spec: TaskSpec, runtime_dir: str | Path) -> dict:
    """The runtime's mesh as data (recorded in every dataset's plan, hashed with it): which
    file, its sha256, and its convex hull's vertices (body frame), which the label check
    projects. The file itself is never copied."""
    import hashlib

    from orient_jax.tasks.rotation.mesh import page_mesh

    path = runtime_mesh_path(spec, runtime_dir)
    vertices, _ = page_mesh(path)
    return {
        "kind": "runtime_mesh",
        "mesh": spec.runtime.mesh,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "hull_body": [[round(float(c), 6) for c in v] for v in support_points(vertices)],
    }


def support_points(points: np.ndarray, directions: int = 4096) -> np.ndarray:
    """The points of ``points`` [N, 3] that are farthest along one of ``directions`` evenly
    spread directions (a Fibonacci sphere), in input order: the convex hull's vertices up
    to the directions' spacing (a projection's extremes lie on the hull, and at 4096
    directions a missed one is within 0.1 mm of a found one for a 2 m object). NumPy only:
    importing Blender here would put its script folders on the path the render workers
    inherit."""
    k = np.arange(directions) + 0.5
    z = 1 - 2 * k / directions
    r, phi = np.sqrt(1 - z * z), np.pi * (1 + 5**0.5) * k
    d = np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)
    points = np.asarray(points, float)
    return points[np.unique(np.argmax(points @ d.T, axis=0))]


def import_runtime_mesh(path: Path, name: str = "object"):
    """Import the GLB into the current Blender scene as one object whose mesh is in the
    body frame (Blender's glTF importer maps glTF (x, y, z) to (x, -z, y), ``frames``'s
    map; the runtime applies no node transform: index.html:468-473). Returns it."""
    import bpy

    before = set(bpy.data.objects)
    bpy.ops.import_scene.gltf(filepath=str(path))
    meshes = [o for o in bpy.data.objects if o not in before and o.type == "MESH"]
    if len(meshes) != 1 or meshes[0].parent is not None or any(meshes[0].rotation_euler) or any(meshes[0].location):
        raise ValueError(f"{path}: expected one mesh object without a node transform")
    obj = meshes[0]
    obj.name = name
    obj.rotation_mode = "QUATERNION"
    return obj
