"""How far the MJX env and a runtime's own physics disagree, drop by drop.

A runtime records open-loop drops (``original/record.mjs`` for the original page): its
drop orientation, the action script it was driven with, and per control step the
object's quaternion, position and world angular velocity. ``replay`` drops the env's
object at the same orientations and drives it with the same actions (no disturbances,
no domain randomization, no observation noise), and ``compare`` measures the gap.

Free flight is the sharp check: before the object first touches anything, the two must
agree to float precision (the same gravity, damping, torque map, ramp and inertia).
After contact, two solvers with different contact models drift apart the way chaotic
systems do; what is reported there is how fast, and whether the statistics (resting
height, angular speeds) agree.
"""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np

from orient_jax import quat


def load_drops(path: str) -> dict[str, np.ndarray]:
    """A recording (``original/record.mjs --out``) as arrays: q0 [N, 4], actions [N, T, 3],
    quaternion [N, T, 4], position [N, T, 3], angular_velocity [N, T, 3]."""
    with open(path) as f:
        drops = json.load(f)["drops"]
    if not drops:
        raise ValueError(f"{path} holds no drops")
    keys = {"q0": "q0", "actions": "actions", "quaternion": "quaternion", "position": "position",
            "angular_velocity": "angularVelocity"}  # fmt: skip
    return {k: np.asarray([d[v] for d in drops], np.float64) for k, v in keys.items()}


def replay(env, q0: np.ndarray, actions: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Drive ``env`` (built without disturbances or randomization) from each drop
    orientation ``q0`` [N, 4] with ``actions`` [N, T, 3]; the same arrays as ``load_drops``."""
    reset = jax.jit(jax.vmap(env.reset_at))
    step = jax.jit(jax.vmap(env.step))
    state = reset(jax.random.split(jax.random.PRNGKey(seed), len(q0)), jnp.asarray(q0, jnp.float32))
    rows = {"quaternion": [], "position": [], "angular_velocity": []}
    world_rate = jax.jit(jax.vmap(quat.rotate))
    for t in range(actions.shape[1]):
        state = step(state, jnp.asarray(actions[:, t], jnp.float32))
        q = quat.from_wxyz(state.pipeline_state.qpos[:, 3:7])
        rows["quaternion"].append(np.asarray(q))
        rows["position"].append(np.asarray(state.pipeline_state.qpos[:, :3]))
        # MuJoCo's free joint keeps the angular velocity in the body frame.
        rows["angular_velocity"].append(np.asarray(world_rate(q, state.pipeline_state.qvel[:, 3:6])))
    return {k: np.stack(v, axis=1).astype(np.float64) for k, v in rows.items()}


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Geodesic angle between quaternions (xyzw, either sign), degrees."""
    dot = np.abs(np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)))
    return np.degrees(2 * np.arccos(np.clip(dot, 0.0, 1.0)))


def tilt_deg(q: np.ndarray) -> np.ndarray:
    """Angle between body +Y and world +Y, degrees."""
    x, z = q[..., 0], q[..., 2]
    return np.degrees(np.arccos(np.clip(1 - 2 * (x * x + z * z), -1.0, 1.0)))


def first_contact(position: np.ndarray, velocity_drop: float = 0.05, dt: float = 1 / 60) -> np.ndarray:
    """Per drop, the first control step whose vertical velocity is no longer free fall's
    (it changed by less than g dt minus ``velocity_drop`` m/s); T if none."""
    vy = np.diff(position[..., 1], axis=-1) / dt
    free = np.diff(vy, axis=-1) < -(9.81 * dt) + velocity_drop
    hit = ~free
    hit[..., :2] = False  # the first steps start from rest
    return np.where(hit.any(axis=-1), hit.argmax(axis=-1) + 1, position.shape[-2])


def compare(runtime: dict[str, np.ndarray], mjx_: dict[str, np.ndarray], dt: float, after_s=(0.25, 0.5, 1.0, 2.0)):
    """The gap between a runtime's recording and the env's replay of it (``load_drops`` /
    ``replay`` arrays). Returns a JSON-ready dict."""
    err = angle_deg(runtime["quaternion"], mjx_["quaternion"])  # [N, T]
    n, steps = err.shape
    contact = np.minimum(first_contact(runtime["position"], dt=dt), first_contact(mjx_["position"], dt=dt))
    free = np.arange(steps)[None, :] < (contact[:, None] - 1)
    out = {
        "drops": int(n),
        "control_steps": int(steps),
        "free_flight_steps_median": float(np.median(contact - 1)),
        "free_flight_orientation_error_max_deg": float(err[free].max()) if free.any() else None,
        "free_flight_angular_velocity_error_max": float(
            np.abs(runtime["angular_velocity"] - mjx_["angular_velocity"])[free].max()
        )
        if free.any()
        else None,
        "first_contact_step_difference_max": int(
            np.abs(first_contact(runtime["position"], dt=dt) - first_contact(mjx_["position"], dt=dt)).max()
        ),
    }
    after = {}
    for s in after_s:
        t = contact + int(round(s / dt))
        ok = t < steps
        if ok.any():
            e = err[np.arange(n)[ok], t[ok]]
            after[f"{s:g}s"] = {"median_deg": float(np.median(e)), "p90_deg": float(np.percentile(e, 90))}
    out["orientation_error_after_contact"] = after
    last = slice(steps // 2, steps)  # the second half: what the drops settle into
    for name, rec in (("runtime", runtime), ("mjx", mjx_)):
        out[f"{name}_height_median_m"] = float(np.median(rec["position"][:, last, 1]))
        out[f"{name}_angular_speed_median"] = float(
            np.median(np.linalg.norm(rec["angular_velocity"][:, last], axis=-1))
        )
        out[f"{name}_final_tilt_median_deg"] = float(np.median(tilt_deg(rec["quaternion"][:, -1])))
    return out
