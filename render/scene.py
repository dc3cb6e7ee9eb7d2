"""The Blender scene: Cycles on the CPU, the profile's camera, its lights, the object.

For the marked cube: two sun lamps and a hemisphere ambient term (below). For a
runtime's own mesh (``runtime_mesh``): the mesh with its own textured materials, lit by
the profile's point lights only (``runtime.point_lights``; the runtime's inference scene
has no ambient light and no shadows), their powers matched to the runtime's Three.js
lights (``sampling.matched_power``).

One :class:`Scene` per worker process is built once and kept open; each image only
changes the object's rotation, the lights, the materials and the camera, then
renders (``use_persistent_data`` keeps Cycles' scene between renders).

Lighting is noise-free by construction, so a few samples per pixel only anti-alias:
the lamps are suns with zero angular size and no shadow rays (a convex object cannot
shadow itself), the world is black (nothing to sample), and the hemisphere ambient term is evaluated per
face in numpy and fed to each face's material as emission -- for a convex object lit
by a sky/ground gradient the radiance it reflects is exactly albedo x ambient, which
is what Three.js's HemisphereLight computes, and it costs no rays.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from orient_jax.profiles.spec import TaskSpec
from render import asset, frames, postprocess


def _rotate(q_xyzw: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``[..., 3]`` by the unit quaternion (x, y, z, w), body -> world."""
    u, w = np.asarray(q_xyzw[:3], float), float(q_xyzw[3])
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


class Scene:
    """A Cycles scene holding the task profile's object; :meth:`render` makes one RGBA image."""

    def __init__(
        self, spec: TaskSpec, samples: int, pixel_filter_width: float, threads: int = 1, runtime_dir: str = ""
    ):
        import bpy
        import mathutils

        self._bpy, self._mathutils = bpy, mathutils
        bpy.ops.wm.read_factory_settings(use_empty=True)
        sc = bpy.context.scene
        sc.render.engine = "CYCLES"
        cy = sc.cycles
        cy.device = "CPU"
        cy.samples = samples
        cy.use_adaptive_sampling = False
        cy.use_denoising = False
        cy.use_light_tree = False
        cy.max_bounces = 0  # direct light only: a convex object cannot light itself
        cy.caustics_reflective = cy.caustics_refractive = False
        cy.pixel_filter_type = "BLACKMAN_HARRIS"
        cy.filter_width = pixel_filter_width
        cy.use_auto_tile = False
        sc.render.threads_mode = "FIXED"
        sc.render.threads = threads
        sc.render.use_persistent_data = True
        self._res = res = spec.camera.resolution
        sc.render.resolution_x = sc.render.resolution_y = res
        sc.render.resolution_percentage = 100
        sc.render.film_transparent = True  # the background is composited in numpy
        sc.render.use_border = True  # see _crop_to_object
        sc.render.use_crop_to_border = False  # full-size output, transparent outside the border
        sc.render.dither_intensity = 0.0  # our own, seeded, sensor noise instead
        sc.view_settings.view_transform = "Standard"  # plain sRGB, like a Three.js canvas
        sc.view_settings.look = "None"
        sc.view_settings.exposure = 0.0
        sc.view_settings.gamma = 1.0
        settings = sc.render.image_settings
        settings.file_format = "TARGA_RAW"
        settings.color_mode = "RGBA"

        world = bpy.data.worlds.new("black")
        world.node_tree.nodes["Background"].inputs["Strength"].default_value = 0.0
        sc.world = world

        self.mesh = spec.artifacts.object_kind == "runtime_mesh"
        if self.mesh:
            self.obj = asset.import_runtime_mesh(asset.runtime_mesh_path(spec, runtime_dir))
            self.materials = list(self.obj.data.materials)
            self._albedo = [self._albedo_input(mat) for mat in self.materials]
        else:
            self.obj = asset.build_object(spec.physics.box_size)
            self.materials = list(self.obj.data.materials)
        for mat in self.materials:
            mat.cycles.emission_sampling = "NONE"  # emission here is ambient light, not a lamp
            mat.node_tree.nodes["Principled BSDF"].inputs["Emission Strength"].default_value = 0.0 if self.mesh else 1.0

        cam_data = bpy.data.cameras.new("camera")
        cam_data.sensor_fit = "VERTICAL"
        cam_data.clip_start, cam_data.clip_end = 0.01, 10.0
        self.camera = bpy.data.objects.new("camera", cam_data)
        self.camera.rotation_mode = "QUATERNION"
        sc.collection.objects.link(self.camera)
        sc.camera = self.camera

        self.lamps = {}
        for i, _ in enumerate(spec.runtime.point_lights if self.mesh else ()):
            data = bpy.data.lights.new(f"point{i}", "POINT")
            data.shadow_soft_size = 0.0  # a point, as Three.js's
            data.use_shadow = False  # the runtime's inference renderer has no shadow map
            lamp = bpy.data.objects.new(f"point{i}", data)
            sc.collection.objects.link(lamp)
            self.lamps[i] = lamp
        for name in () if self.mesh else ("key", "fill"):
            data = bpy.data.lights.new(name, "SUN")
            data.angle = 0.0
            # A convex object cannot shadow itself: shadow rays could only ever return
            # "unoccluded", so skip them (same image, fewer rays).
            data.use_shadow = False
            lamp = bpy.data.objects.new(name, data)
            lamp.rotation_mode = "QUATERNION"
            sc.collection.objects.link(lamp)
            self.lamps[name] = lamp

        self._scene = sc
        self._tmp = Path(
            tempfile.mkdtemp(prefix="orient-render-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        )
        self._out = self._tmp / "frame.tga"

    def _aim(self, obj, z_axis_spec: np.ndarray) -> None:
        """Point a lamp's local +Z (it shines along -Z) at ``z_axis_spec`` (spec frame)."""
        z = self._mathutils.Vector(frames.spec_to_blender(z_axis_spec).tolist())
        obj.rotation_quaternion = z.to_track_quat("Z", "Y")

    def _albedo_input(self, mat):
        """A multiplier node between the base-colour texture and the BSDF (for ``albedo``)."""
        nodes, links = mat.node_tree.nodes, mat.node_tree.links
        bsdf = nodes["Principled BSDF"]
        base = bsdf.inputs["Base Color"]
        mix = nodes.new("ShaderNodeMix")
        mix.data_type, mix.blend_type = "RGBA", "MULTIPLY"
        mix.inputs["Factor"].default_value = 1.0
        if base.is_linked:
            links.new(base.links[0].from_socket, mix.inputs["A"])
        else:
            mix.inputs["A"].default_value = base.default_value
        links.new(mix.outputs["Result"], base)
        return mix.inputs["B"]

    def apply_mesh(self, quat_xyzw: np.ndarray, p: dict[str, np.ndarray]) -> None:
        """The runtime mesh: rotation, materials, point lights and camera for one image."""
        self.obj.rotation_quaternion = frames.quat_spec_to_blender(quat_xyzw.astype(np.float64))
        for mat, albedo in zip(self.materials, self._albedo):
            bsdf = mat.node_tree.nodes["Principled BSDF"]
            bsdf.inputs["Roughness"].default_value = float(p["roughness"])
            bsdf.inputs["Specular IOR Level"].default_value = float(p["specular"])
            a = float(p["albedo"])
            albedo.default_value = (a, a, a, 1.0)
        for i, lamp in self.lamps.items():
            lamp.location = frames.spec_to_blender(p["light_position"][i]).tolist()
            lamp.data.color = tuple(p["light_rgb"][i])
            lamp.data.energy = float(p["light_power"][i])
        self._aim_camera(p)

    def _aim_camera(self, p: dict[str, np.ndarray]) -> None:
        rot = frames.SPEC_TO_BLENDER @ frames.look_at_matrix(
            p["cam_position"], p["cam_target"], float(p["cam_roll_deg"])
        )
        self.camera.rotation_quaternion = self._mathutils.Matrix(rot.tolist()).to_quaternion()
        self.camera.location = frames.spec_to_blender(p["cam_position"]).tolist()
        self.camera.data.angle_y = float(np.radians(p["cam_fov_deg"]))
        self._scene.cycles.seed = int(p["cycles_seed"])
        self._crop_to_object()

    def apply(self, quat_xyzw: np.ndarray, p: dict[str, np.ndarray]) -> None:
        """Set the object's rotation, materials, lights and camera for one image."""
        if self.mesh:
            return self.apply_mesh(quat_xyzw, p)
        self.obj.rotation_quaternion = frames.quat_spec_to_blender(quat_xyzw.astype(np.float64))

        # Hemisphere ambient per face: the face's world normal picks the blend.
        normals_world = _rotate(quat_xyzw.astype(np.float64), asset.FACE_NORMALS)
        blend = 0.5 * normals_world[:, 1:2] + 0.5
        ambient = p["ground_rgb"] * (1.0 - blend) + p["sky_rgb"] * blend  # [6, 3]
        base = list(p["face_rgb"]) + list(asset.dot_rgb())
        for m, (mat, rgb) in enumerate(zip(self.materials, base)):
            bsdf = mat.node_tree.nodes["Principled BSDF"]
            bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
            bsdf.inputs["Emission Color"].default_value = (*(rgb * ambient[m % 6]), 1.0)  # material 6+i lies on face i
            bsdf.inputs["Roughness"].default_value = float(p["roughness"])
            bsdf.inputs["Specular IOR Level"].default_value = float(p["specular"])

        for name in ("key", "fill"):
            lamp = self.lamps[name]
            self._aim(lamp, p[f"{name}_direction"])
            lamp.data.color = tuple(p[f"{name}_rgb"])
            lamp.data.energy = float(p[f"{name}_strength"])

        self._aim_camera(p)

    def _crop_to_object(self, margin_px: float = 3.0) -> None:
        """Render only the object's screen rectangle (Blender's own projection of its 8
        bounding-box corners, plus the pixel filter's reach); the rest stays transparent,
        exactly as in a full-frame render. This saves most of the path-tracing work."""
        from bpy_extras.object_utils import world_to_camera_view

        self._bpy.context.view_layer.update()
        corners = [self.obj.matrix_world @ self._mathutils.Vector(c) for c in self.obj.bound_box]
        uv = np.array([tuple(world_to_camera_view(self._scene, self.camera, c))[:2] for c in corners])
        res = self._res
        lo = np.clip(uv.min(axis=0) - margin_px / res, 0.0, 1.0)
        hi = np.clip(uv.max(axis=0) + margin_px / res, 0.0, 1.0)
        r = self._scene.render
        r.border_min_x, r.border_min_y = float(lo[0]), float(lo[1])
        r.border_max_x, r.border_max_y = float(hi[0]), float(hi[1])

    def render(self) -> np.ndarray:
        """Render the current state: uint8 RGBA ``[H, W, 4]``, row 0 at the top."""
        self._scene.render.filepath = str(self._out)
        self._bpy.ops.render.render(write_still=True)
        return postprocess.read_tga(self._out)

    def close(self) -> None:
        self._out.unlink(missing_ok=True)
        self._tmp.rmdir()
