"""What one Humanoid env step costs, per physics variant: XLA's own cost analysis of the
jitted, vmapped step (flops and bytes accessed), its compile time, and steps/s.

Used by ``experiments.humanoid_physics`` (choosing the training physics) and
``experiments.benchmark`` (the Humanoid rows). Compile time is always apart from
steady-state throughput.
"""

from __future__ import annotations

import time

import jax
import mujoco
from mujoco import mjx

from orient_jax.agents.ppo.throughput import timed_updates
from orient_jax.core.sharding import local_device
from orient_jax.envs.wrappers import wrap_for_training
from orient_jax.tasks.humanoid.config import HumanoidExperiment
from orient_jax.tasks.humanoid.env import HumanoidConfig, HumanoidEnv, Solver, mjx_model, tuned_model

# Physics steps per env step (Gymnasium's frame_skip).
FRAME_SKIP = HumanoidConfig().frame_skip


def model_for(physics: str | Solver):
    """A named variant (``env.PHYSICS``) or a candidate ``Solver`` on Gymnasium's model."""
    return tuned_model(physics) if isinstance(physics, Solver) else mjx_model(physics)


def step_cost(physics: str | Solver, batch: int, steps: int = 20, repeats: int = 3, episode_steps: int = 1000) -> dict:
    """Flops, bytes, compile time and env steps/s of ``batch`` envs under uniform random actions.

    One compile: the jitted, vmapped env step (with auto-reset). XLA's cost analysis is of
    it (a ``while`` loop's body counts once, so solver iterations beyond the first do not
    show in flops; the timings include them). Throughput: ``steps`` calls of it, best of
    ``repeats``.
    """
    mj_model = model_for(physics)
    env = wrap_for_training(HumanoidEnv(HumanoidConfig(), mj_model=mj_model), episode_steps)
    state = jax.jit(env.reset)(jax.random.split(jax.random.PRNGKey(0), batch))
    actions = jax.random.uniform(jax.random.PRNGKey(1), (steps, batch, env.action_size), minval=-0.4, maxval=0.4)

    t0 = time.perf_counter()
    step = jax.jit(env.step, donate_argnums=0).lower(state, actions[0]).compile()
    compile_s = time.perf_counter() - t0
    cost = step.cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost  # older jax returns a list
    state = jax.block_until_ready(step(state, actions[0]))  # first run: allocation, not compile
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(steps):
            state = step(state, actions[i])
        jax.block_until_ready(state)
        times.append(time.perf_counter() - t0)
    best = min(times)
    return {
        "kind": "humanoid_env",
        "physics": physics if isinstance(physics, str) else "candidate",
        "solver": _describe(mj_model),
        "batch": batch,
        "candidate_contacts": int(mjx.make_data(mj_model, device=local_device())._impl.contact.dist.shape[0]),
        "flops_per_env_step": float(cost.get("flops", float("nan"))) / batch,
        "bytes_per_env_step": float(cost.get("bytes accessed", float("nan"))) / batch,
        "compile_s": compile_s,
        "env_steps_per_s": batch * steps / best,
        "physics_steps_per_s": batch * steps * FRAME_SKIP / best,
        "device": str(jax.devices()[0].device_kind),
        "backend": jax.default_backend(),
    }


def ppo_steps(exp: HumanoidExperiment, updates: int, seed: int = 0) -> dict:
    """Steady-state env steps/s of PPO on the Humanoid (rollout + GAE + SGD), compile apart."""
    from orient_jax.tasks.humanoid.run import build_ppo_trainer

    compile_s, seconds = timed_updates(build_ppo_trainer(exp), updates, seed)
    return {
        "kind": "humanoid_ppo",
        "physics": exp.env.physics,
        "num_envs": exp.ppo.num_envs,
        "rollout_length": exp.ppo.rollout_length,
        "hidden_sizes": list(exp.ppo.hidden_sizes),
        "compile_s": compile_s,
        "env_steps_per_s": updates * exp.ppo.batch_size / seconds,
        "physics_steps_per_s": updates * exp.ppo.batch_size * FRAME_SKIP / seconds,
        "updates_timed": updates,
    }


def _describe(m) -> dict:
    return {
        "integrator": mujoco.mjtIntegrator(m.opt.integrator).name.removeprefix("mjINT_").lower(),
        "iterations": int(m.opt.iterations),
        "ls_iterations": int(m.opt.ls_iterations),
        "tendons": int(m.ntendon),
    }
