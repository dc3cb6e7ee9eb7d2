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


def dqn_learner(overrides: tuple[str, ...], calls: int = 4) -> dict:
    """The native DQN's learner alone (``orient_jax.agents.dqn.host``, the bottleneck of a run
    on the CPU): seconds per call of ``steps_per_call * updates_per_step`` gradient steps on
    random transitions, ``dqn_native`` with ``overrides`` (a 100k buffer: the cost does not
    depend on its size)."""
    import time

    import numpy as np

    from experiments.configs.humanoid import PRESETS
    from orient_jax.agents.dqn.host import make_learner, transition_example
    from orient_jax.core import dataclass_config
    from orient_jax.tasks.humanoid.run import make_dqn_network

    exp = dataclass_config.apply_overrides(
        PRESETS.get("dqn_native"), ["dqn.buffer_size=100000", "dqn.learning_starts=1024", *overrides]
    )
    c = exp.dqn
    learner = make_learner(c, make_dqn_network(exp))
    state = learner.init(jax.random.PRNGKey(0))
    n, rng = c.steps_per_call * c.num_envs, np.random.default_rng(0)
    chunk = {k: rng.normal(size=(n, *v.shape)).astype(np.float32) for k, v in transition_example(376, 17).items()}
    chunk.update(action=rng.integers(0, c.bins, (n, 17)).astype(np.int32), terminated=np.zeros(n, np.float32),
                 done=np.zeros(n, np.float32), discounted=np.ones(n, np.float32), valid=np.ones((), bool))  # fmt: skip
    t0 = time.perf_counter()
    state, metrics = learner.update(state, chunk)
    jax.block_until_ready(metrics)
    compile_s = time.perf_counter() - t0
    while int(state.buffer.size) < max(c.learning_starts, c.batch_size):
        state, metrics = learner.update(state, chunk)  # until the calls learn
    state, metrics = learner.update(state, chunk)
    jax.block_until_ready(metrics)
    t0 = time.perf_counter()
    for _ in range(calls):
        state, metrics = learner.update(state, chunk)
    jax.block_until_ready(metrics)
    per_call = (time.perf_counter() - t0) / calls
    grad_steps = c.steps_per_call * c.updates_per_step
    return {
        "kind": "dqn_learner",
        "overrides": list(overrides),
        "critics": c.critics,
        "hidden_sizes": list(c.hidden_sizes),
        "batch_size": c.batch_size,
        "grad_steps_per_call": grad_steps,
        "compile_s": compile_s,
        "s_per_call": per_call,
        "ms_per_grad_step": 1000 * per_call / grad_steps,
        "env_steps_per_s_bound": n / per_call,  # the learner's pace: the actor runs beside it
    }
