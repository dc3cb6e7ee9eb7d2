"""Throughput measurements: env stepping (MJX vs native MuJoCo) and PPO training (ours vs
``brax.training``), plus time to a success threshold. Used by ``experiments.benchmark``.

Every function returns plain dicts of measured numbers; compile time is always reported
apart from steady-state throughput.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import time
from collections.abc import Callable

import jax
import mujoco
import numpy as np
from mujoco import mjx
from mujoco import rollout as mj_rollout

from orient_jax import quat
from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.agents.ppo.networks import PolicyParams, policy_apply
from orient_jax.agents.ppo.throughput import timed_updates
from orient_jax.agents.ppo.train import make_trainer
from orient_jax.envs.wrappers import wrap_for_training
from orient_jax.profiles.spec import TaskSpec
from orient_jax.tasks.rotation import brax_ppo
from orient_jax.tasks.rotation.env import RotationEnv, RotationEnvConfig
from orient_jax.tasks.rotation.evaluation import evaluate_rotation

# Envs the suite steps, each built for a task profile: (env, episode length, physics
# steps per control step). The Humanoid joins this registry when it is benchmarked.
ENVS: dict[str, Callable[[TaskSpec], tuple]] = {
    "rotation": lambda spec: (RotationEnv(spec), spec.episode_steps, spec.physics.substeps),
}


def _timed(fn, repeats: int) -> tuple[float, list[float]]:
    """Run ``fn`` once to compile, then ``repeats`` times. Returns (compile s, run times)."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn(0))
    compile_s = time.perf_counter() - t0
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(i + 1))
        times.append(time.perf_counter() - t0)
    return compile_s, times


def env_steps(spec: TaskSpec, name: str, batch: int, steps: int, repeats: int = 3) -> dict:
    """Control steps/s of a wrapped, vmapped env under random actions."""
    env, episode_length, substeps = ENVS[name](spec)
    env = wrap_for_training(env, episode_length)
    state0 = jax.jit(env.reset)(jax.random.split(jax.random.PRNGKey(0), batch))

    @jax.jit
    def rollout(state, key):
        def body(state, key):
            action = jax.random.uniform(key, (batch, env.action_size), minval=-1.0, maxval=1.0)
            return env.step(state, action), None

        return jax.lax.scan(body, state, jax.random.split(key, steps))[0]

    holder = {"state": state0}

    def run(i):
        holder["state"] = rollout(holder["state"], jax.random.PRNGKey(i))
        return holder["state"].obs

    compile_s, times = _timed(run, repeats)
    best = min(times)
    return {
        "kind": "mjx_env",
        "env": name,
        "batch": batch,
        "compile_s": compile_s,
        "control_steps_per_s": batch * steps / best,
        "control_steps_per_s_median": batch * steps / statistics.median(times),
        "physics_steps_per_s": batch * steps * substeps / best,
    }


def _random_box_states(model: mujoco.MjModel, batch: int, seed: int) -> np.ndarray:
    """Full MuJoCo states (mjSTATE_FULLPHYSICS) with uniformly random box orientations."""
    q = np.asarray(quat.to_wxyz(quat.random_uniform(jax.random.PRNGKey(seed), (batch,))))
    data = mujoco.MjData(model)
    full = mujoco.mjtState.mjSTATE_FULLPHYSICS
    states = np.empty((batch, mujoco.mj_stateSize(model, full)))
    for i in range(batch):
        mujoco.mj_resetData(model, data)
        data.qpos[3:7] = q[i]
        mujoco.mj_getState(model, data, states[i], full)
    return states


def native_physics(spec: TaskSpec, batch: int, steps: int, nthread: int | None = None, repeats: int = 3) -> dict:
    """Native MuJoCo on the same model: mujoco.rollout, one thread per core, random body torques."""
    env = RotationEnv(spec)
    model = env.mj_model
    nthread = nthread or os.cpu_count() or 1
    datas = [mujoco.MjData(model) for _ in range(nthread)]
    init = _random_box_states(model, batch, seed=0)
    rng = np.random.default_rng(0)
    torque = rng.uniform(-spec.actuation.max_torque, spec.actuation.max_torque, (batch, steps, 3))
    control = np.zeros((batch, steps, model.nbody * 6))
    control[:, :, 6 + 3 : 6 + 6] = torque  # xfrc_applied of body 1, torque part
    control_spec = mujoco.mjtState.mjSTATE_XFRC_APPLIED
    times = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        mj_rollout.rollout([model] * batch, datas, init, control, control_spec=control_spec, nstep=steps)
        times.append(time.perf_counter() - t0)
    best = min(times[1:])
    return {
        "kind": "native_mujoco",
        "env": "rotation",
        "batch": batch,
        "threads": nthread,
        "physics_steps_per_s": batch * steps / best,
        "control_steps_per_s": batch * steps / best / spec.physics.substeps,
    }


def mjx_physics(spec: TaskSpec, batch: int, steps: int, repeats: int = 3) -> dict:
    """Raw ``mjx.step`` on the same model and torques as ``native_physics``: physics only."""
    env = RotationEnv(spec)
    mx = env.mjx_model
    q = quat.to_wxyz(quat.random_uniform(jax.random.PRNGKey(0), (batch,)))
    data0 = jax.vmap(lambda qq: env._data0.replace(qpos=env._data0.qpos.at[3:7].set(qq)))(q)

    @jax.jit
    def rollout(data, key):
        def body(data, key):
            torque = jax.random.uniform(key, (batch, 3), minval=-1.0, maxval=1.0) * spec.actuation.max_torque
            data = data.replace(xfrc_applied=data.xfrc_applied.at[:, 1, 3:].set(torque))
            return jax.vmap(lambda d: mjx.step(mx, d))(data), None

        return jax.lax.scan(body, data, jax.random.split(key, steps))[0]

    holder = {"data": data0}

    def run(i):
        holder["data"] = rollout(holder["data"], jax.random.PRNGKey(i))
        return holder["data"].qpos

    compile_s, times = _timed(run, repeats)
    return {
        "kind": "mjx_physics",
        "env": "rotation",
        "batch": batch,
        "compile_s": compile_s,
        "physics_steps_per_s": batch * steps / min(times),
    }


def ppo_ours(spec: TaskSpec, config: PPOConfig, updates: int, seed: int = 0) -> dict:
    """Steady-state env steps/s of our PPO (rollout + GAE + SGD), compile apart."""
    trainer = make_trainer(wrap_for_training(RotationEnv(spec), spec.episode_steps), config)
    compile_s, seconds = timed_updates(trainer, updates, seed)
    return {
        "kind": "ppo",
        "trainer": "orient_jax",
        "num_envs": config.num_envs,
        "compile_s": compile_s,
        "env_steps_per_s": updates * config.batch_size / seconds,
        "updates_timed": updates,
    }


def ppo_brax(spec: TaskSpec, config: PPOConfig, updates: int, seed: int = 0) -> dict:
    """Brax PPO on the same env and batch shape. Brax reports ``training/sps`` per
    epoch; its first epoch includes compilation, so the last epoch's figure is used."""
    epochs = 3
    config = dataclasses.replace(config, total_env_steps=epochs * updates * config.batch_size)
    reports = []
    _, _, _, wall = brax_ppo.train(
        spec,
        RotationEnvConfig(),
        config,
        seed=seed,
        num_evals=epochs + 1,
        run_evals=False,
        progress_fn=lambda step, metrics: reports.append((time.perf_counter(), step, dict(metrics))),
    )
    sps = [float(m["training/sps"]) for _, _, m in reports if "training/sps" in m]
    # Brax compiles its training epoch on the first call and, on this JAX, again on the
    # second; the third epoch is the first steady one.
    return {
        "kind": "ppo",
        "trainer": "brax",
        "num_envs": config.num_envs,
        "env_steps_per_s": sps[-1],
        "first_epoch_env_steps_per_s_incl_compile": sps[0],
        "updates_timed": updates,
        "wall_s": wall,
    }


def time_to_threshold_ours(
    spec: TaskSpec,
    config: PPOConfig,
    threshold: float,
    eval_every: int,
    eval_episodes: int,
    max_seconds: float,
    seed: int = 0,
) -> dict:
    """Wall-clock (compile included) until a deterministic evaluation reaches ``threshold``."""
    start = time.perf_counter()
    trainer = make_trainer(wrap_for_training(RotationEnv(spec), spec.episode_steps), config)
    state = trainer.init(jax.random.PRNGKey(seed))
    eval_s, history = 0.0, []
    for update in range(1, config.num_updates + 1):
        state, _ = trainer.update(state)
        if update % eval_every:
            continue
        t_eval = time.perf_counter()
        success = evaluate_rotation(
            policy_apply(trainer.networks),
            spec,
            RotationEnvConfig(),
            eval_episodes,
            seed=seed + 1,
            params=PolicyParams(state.params, state.normalizer),
        )["success_rate"]
        eval_s += time.perf_counter() - t_eval
        elapsed = time.perf_counter() - start
        history.append({"env_steps": update * config.batch_size, "wall_s": elapsed, "success": success})
        if success >= threshold or elapsed > max_seconds:
            break
    reached = bool(history) and history[-1]["success"] >= threshold
    return {
        "kind": "time_to_threshold",
        "trainer": "orient_jax",
        "threshold": threshold,
        "reached": reached,
        "wall_s": history[-1]["wall_s"] if history else None,
        "wall_s_excluding_evals": history[-1]["wall_s"] - eval_s if history else None,
        "env_steps": history[-1]["env_steps"] if history else None,
        "history": history,
    }


def time_to_threshold_brax(
    spec: TaskSpec,
    config: PPOConfig,
    threshold: float,
    eval_every: int,
    eval_episodes: int,
    max_env_steps: int,
    seed: int = 0,
) -> dict:
    """The same measurement for Brax PPO: its params are scored by our evaluator at each
    of Brax's evaluation points. Brax cannot stop early, so ``max_env_steps`` caps it."""
    start = time.perf_counter()
    history, eval_s = [], [0.0]
    updates = max(max_env_steps // config.batch_size, eval_every)
    config = dataclasses.replace(config, total_env_steps=updates * config.batch_size)
    epochs = max(updates // eval_every, 1)

    apply_fns = {}

    def on_params(step, make_policy_fn, params):
        t_eval = time.perf_counter()
        if make_policy_fn not in apply_fns:  # one function object: the evaluator compiles once

            def apply(p, obs, make_policy_fn=make_policy_fn):
                return make_policy_fn(p, deterministic=True)(obs, jax.random.PRNGKey(0))[0]

            apply_fns[make_policy_fn] = apply
        success = evaluate_rotation(
            apply_fns[make_policy_fn], spec, RotationEnvConfig(), eval_episodes, seed=seed + 1, params=params
        )["success_rate"]
        eval_s[0] += time.perf_counter() - t_eval
        history.append(
            {"env_steps": int(step), "wall_s": time.perf_counter() - start, "eval_s": eval_s[0], "success": success}
        )

    brax_ppo.train(
        spec,
        RotationEnvConfig(),
        config,
        seed=seed,
        num_evals=epochs + 1,
        run_evals=False,  # scored by our evaluator instead (Brax's re-compiles per call)
        policy_params_fn=on_params,
    )
    hit = next((h for h in history if h["success"] >= threshold), None)
    return {
        "kind": "time_to_threshold",
        "trainer": "brax",
        "max_env_steps": updates * config.batch_size,
        "threshold": threshold,
        "reached": hit is not None,
        "wall_s": hit["wall_s"] if hit else None,
        "wall_s_excluding_evals": hit["wall_s"] - hit["eval_s"] if hit else None,
        "env_steps": hit["env_steps"] if hit else None,
        "history": history,
    }


def host_description() -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "devices": [str(d) for d in jax.devices()],
        "platform": jax.default_backend(),
        "jax": jax.__version__,
        "mujoco": mujoco.__version__,
    }
