"""The re-orientation scene as MuJoCo is given it: the object's shape and mass, and the MJCF.

The object is the profile's box, or a mesh (the runtime's own, read by ``mesh``): a mesh
touches the world through small spheres at points of its convex hull, as the runtime's
physics does. Its inertia is the profile's, fixed in the body, or (``runtime.inertia``
``world_aabb_at_drop``) the one cannon-es gives a body from its world-aligned bounding box,
which the env updates every step. ``build`` turns a profile and its object's vertices into
the model; ``orient_jax.tasks.rotation.env`` says how that model is stepped.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import mujoco
import numpy as np

from orient_jax import quat
from orient_jax.profiles.spec import TaskSpec

# A mesh object collides through small spheres at this many of its convex-hull vertices
# (farthest-point sampled, starting from the lowest). That is the runtime's own model:
# cannon-es collides a Trimesh with the floor vertex by vertex (planeTrimesh). MJX's
# mesh-plane collision on the original's 303-vertex hull launched or sank dropped bodies
# (resting heights 0.12 m to 4.2 m where MuJoCo C gives 0.62-0.80 m); spheres at 64
# hull vertices rest within 0.02 m of MuJoCo C's full hull, in MJX and MuJoCo C alike.
MESH_CONTACT_POINTS = 64
CONTACT_RADIUS = 0.005  # m


def contact_points(vertices: np.ndarray, n: int = MESH_CONTACT_POINTS) -> np.ndarray:
    """``n`` of the convex hull's vertices [n, 3], spread out (farthest-point sampling)."""
    from scipy.spatial import ConvexHull

    hull = np.asarray(vertices, np.float64)[ConvexHull(vertices).vertices]
    chosen = [int(np.argmin(hull[:, 1]))]
    distance = np.linalg.norm(hull - hull[chosen[0]], axis=1)
    for _ in range(min(n, len(hull)) - 1):
        chosen.append(int(np.argmax(distance)))
        distance = np.minimum(distance, np.linalg.norm(hull - hull[chosen[-1]], axis=1))
    return hull[chosen]


def aabb_corners(spec: TaskSpec, vertices: np.ndarray | None = None) -> np.ndarray:
    """The 8 corners [8, 3] of the object's body-frame bounding box: the mesh's
    ``vertices`` when given, else the profile's box."""
    if vertices is None:
        h = spec.physics.box_size / 2
        lo, hi = np.full(3, -h), np.full(3, h)
    else:
        lo, hi = np.min(vertices, axis=0), np.max(vertices, axis=0)
    return np.array([[(lo, hi)[(i >> k) & 1][k] for k in range(3)] for i in range(8)], np.float64)


def world_aabb_inertia(corners, q, mass):
    """Principal moments [3] that cannon-es's Body.updateMassProperties gives a body with
    these local AABB ``corners`` at orientation ``q`` (xyzw): the inertia of a solid box
    with the half extents of the corners' world-aligned bounding box (Box.calculateInertia).
    cannon-es then uses them about the body's axes at ``q`` (the INERTIA_MODELS note)."""
    world = jax.vmap(lambda c: quat.rotate(q, c))(jnp.asarray(corners, jnp.float32))
    h2 = ((jnp.max(world, axis=0) - jnp.min(world, axis=0)) / 2) ** 2
    return mass / 3.0 * jnp.stack([h2[1] + h2[2], h2[0] + h2[2], h2[0] + h2[1]])


# The inertia frame a world-fixed inertia is compiled with: any turn that is not the
# identity. MuJoCo drops the off-diagonal entries of the mass matrix of a body whose
# inertia frame is its joint's (a "simple" body: M_colind leaves them out), so a body
# compiled aligned would keep a diagonal M when its frame is turned at run time.
UNALIGNED_IQUAT = "0.8 0.4 0.4 0.2"


def build_mjcf(spec: TaskSpec, points: np.ndarray | None = None, inertia=None) -> str:
    """The scene as MJCF, in the spec's Y-up world frame. ``points``: for a profile whose
    object is a mesh, where on the body it touches the world (``contact_points``); else
    the object is the profile's box. ``inertia``: principal moments [3], in a frame that
    the env turns every step (the world-fixed inertia); default: the profile's box,
    isotropic and fixed in the body."""
    p, r = spec.physics, spec.runtime
    h = p.box_size / 2
    a = p.arena_half_width
    ixx, iyy, izz = (p.inertia,) * 3 if inertia is None else (float(i) for i in inertia)
    frame = "" if inertia is None else f' quat="{UNALIGNED_IQUAT}"'
    walls = "\n".join(
        f'    <geom name="wall_{n}" type="plane" size="{a} {p.wall_height} 0.1" pos="{x} 0 {z}" zaxis="{nx} 0 {nz}"/>'
        for n, x, z, nx, nz in (("px", a, 0, -1, 0), ("nx", -a, 0, 1, 0), ("pz", 0, a, 0, -1), ("nz", 0, -a, 0, 1))
    )
    if points is None:
        shape = f'<geom name="box" type="box" size="{h} {h} {h}" mass="0"/>'
    else:
        shape = "\n      ".join(
            f'<geom name="contact_{i}" type="sphere" size="{CONTACT_RADIUS}" pos="{x:.7g} {y:.7g} {z:.7g}" mass="0"/>'
            for i, (x, y, z) in enumerate(np.asarray(points, np.float64))
        )
    return f"""<mujoco model="orient_{spec.name}">
  <option timestep="{p.timestep}" gravity="0 {-p.gravity} 0" iterations="{p.solver_iterations}"
          ls_iterations="{p.solver_ls_iterations}">
    <flag eulerdamp="disable"/>
  </option>
  <custom><numeric name="max_contact_points" data="8"/></custom>
  <default><geom friction="{p.friction} 0.005 0.0001"/></default>
  <worldbody>
    <geom name="floor" type="plane" size="{a} {a} 0.1" zaxis="0 1 0"/>
{walls if r.walls_collide else ""}
    <body name="object" pos="0 {p.drop_height} 0">
      <freejoint name="object"/>
      <inertial pos="0 0 0" mass="{p.box_mass}" diaginertia="{ixx} {iyy} {izz}"{frame}/>
      {shape}
    </body>
  </worldbody>
</mujoco>
"""


@dataclasses.dataclass(frozen=True)
class Scene:
    mj_model: mujoco.MjModel
    corners: np.ndarray  # [8, 3] the object's body-frame bounding box (``aabb_corners``)
    world_inertia: bool  # the inertia is cannon-es's world-aligned one, updated every step


def build(spec: TaskSpec, vertices: np.ndarray | None) -> Scene:
    """The scene of ``spec`` with its object's ``vertices`` (None: the profile's box)."""
    points = None if vertices is None else contact_points(vertices)
    world_inertia = spec.runtime.inertia == "world_aabb_at_drop"
    corners = aabb_corners(spec, vertices)
    # With a world-fixed inertia the model's moments are replaced every step; it is
    # built with those at the identity, so the solver's constants (dof_invweight0)
    # have the right scale.
    inertia = (
        np.asarray(world_aabb_inertia(corners, jnp.array([0.0, 0.0, 0.0, 1.0]), spec.physics.box_mass))
        if world_inertia
        else None
    )
    return Scene(mujoco.MjModel.from_xml_string(build_mjcf(spec, points, inertia)), corners, world_inertia)
