"""Gymnasium's Humanoid-v4, stepped by native MuJoCo: a batch of envs on the host.

This is the physics a policy is judged in (``python -m experiments.evaluate humanoid
--gymnasium``), so a trainer that steps it learns the task itself, not an
approximation of it. It follows ``gymnasium/envs/mujoco/humanoid_v4.py`` and
``mujoco_env.py`` line for line, on Gymnasium's model with its PGS solver (the MJX env's
``gymnasium_model``, which the tests compare field by field with the one Gymnasium loads):

* a step sets ``ctrl``, runs ``mj_step`` ``frame_skip`` times, then
  ``mj_rnePostConstraint`` (``cfrc_ext``); the centre of mass is read from ``xipos``
  before and after, exactly as Gymnasium reads it;
* reward ``1.25 * vx + 5 - 0.1 * |a|^2``; termination when ``qpos[2]`` leaves (1, 2);
* reset: ``mj_resetData``, then ``qpos``/``qvel`` plus U(+-0.01) noise drawn from a
  ``numpy`` generator (uniform over ``nq``, then over ``nv``, as Gymnasium draws them),
  then ``mj_forward``.

``tests/test_humanoid_native.py`` steps it beside ``gymnasium.make("Humanoid-v4")``
and checks every observation and reward bit for bit.

The batch adds what a vector env adds: a time limit (``episode_steps``; a truncated
episode bootstraps), auto-reset, and each env's reset noise drawn from a generator
seeded by (``seed``, env, episode), so the whole batch is a function of its counters.
``get_state``/``set_state`` carry everything a step depends on, MuJoCo's integration
state (warm start included) among it, so a restored batch continues bit for bit.
Envs are stepped by ``threads`` Python threads (MuJoCo releases the GIL).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import mujoco
import numpy as np

from orient_jax.tasks.humanoid import evaluation
from orient_jax.tasks.humanoid.env import OBS_SIZE, HumanoidConfig, gymnasium_model

STATE_SPEC = mujoco.mjtState.mjSTATE_INTEGRATION  # everything mj_step reads, warm start included


def mass_center_xy(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    """Gymnasium's ``mass_center``: the mass-weighted mean of ``xipos``, x and y."""
    return (np.einsum("b,bj->j", model.body_mass, data.xipos) / model.body_mass.sum())[:2].copy()


def observation(data: mujoco.MjData) -> np.ndarray:
    """Gymnasium's Humanoid-v4 observation (float64, 376)."""
    return np.concatenate(
        (data.qpos[2:], data.qvel, data.cinert.flat, data.cvel.flat, data.qfrc_actuator, data.cfrc_ext.flat)
    )


class NativeHumanoid:
    """``n`` Humanoid-v4 envs with a time limit and auto-reset (see the module doc)."""

    def __init__(
        self, n: int, config: HumanoidConfig, episode_steps: int, seed: int, threads: int = 1,
        model: mujoco.MjModel | None = None,
    ):  # fmt: skip
        if n < 1 or threads < 1 or episode_steps < 1:
            raise ValueError("n, threads and episode_steps must be positive")
        self.n, self.config, self.episode_steps, self.seed = n, config, episode_steps, seed
        self.model = gymnasium_model() if model is None else model
        self.datas = [mujoco.MjData(self.model) for _ in range(n)]
        self.dt = self.model.opt.timestep * config.frame_skip
        self.state_size = mujoco.mj_stateSize(self.model, STATE_SPEC)
        self.obs = np.zeros((n, OBS_SIZE))
        self.xy = np.zeros((n, 2))  # the centre of mass Gymnasium's next step reads as "before"
        self.steps = np.zeros(n, np.int64)  # steps taken in the running episode
        self.episode = np.zeros(n, np.int64)  # episodes this env has started, the running one included
        self.episode_return = np.zeros(n)
        self.x_start = np.zeros(n)  # centre-of-mass x at the episode's start
        self.pool = ThreadPoolExecutor(threads) if threads > 1 else None
        self.chunks = np.array_split(np.arange(n), threads)

    # -- one env ----------------------------------------------------------------------
    def reset_env(self, i: int, rng: np.random.Generator) -> np.ndarray:
        """Gymnasium's ``reset`` of env ``i`` with noise from ``rng``; returns its observation."""
        m, d, c = self.model, self.datas[i], self.config
        mujoco.mj_resetData(m, d)
        qpos = m.qpos0 + rng.uniform(-c.reset_noise_scale, c.reset_noise_scale, size=m.nq)
        qvel = rng.uniform(-c.reset_noise_scale, c.reset_noise_scale, size=m.nv)  # init_qvel is zero
        d.qpos[:], d.qvel[:] = qpos, qvel
        mujoco.mj_forward(m, d)
        self.obs[i] = observation(d)
        self.xy[i] = mass_center_xy(m, d)
        self.steps[i], self.episode_return[i], self.x_start[i] = 0, 0.0, self.xy[i, 0]
        return self.obs[i]

    def _start_episode(self, i: int) -> None:
        rng = np.random.default_rng([self.seed, i, int(self.episode[i])])
        self.episode[i] += 1
        self.reset_env(i, rng)

    def _physics(self, rows: np.ndarray, action: np.ndarray) -> None:
        m, skip = self.model, self.config.frame_skip
        for i in rows:
            d = self.datas[i]
            d.ctrl[:] = action[i]
            mujoco.mj_step(m, d, nstep=skip)
            mujoco.mj_rnePostConstraint(m, d)

    # -- the batch --------------------------------------------------------------------
    def reset(self) -> np.ndarray:
        """Start every env's next episode; returns the observations [n, 376]."""
        for i in range(self.n):
            self._start_episode(i)
        return self.obs.copy()

    def step(self, action: np.ndarray) -> dict[str, np.ndarray]:
        """One step of every env. Returns ``obs`` (after any auto-reset), ``reward``,
        ``terminated`` (a fall), ``truncated`` (the time limit), ``final_obs`` (the step's
        own observation, before a reset), and for finished episodes ``episode_return``,
        ``episode_length`` and ``forward_speed`` (centre-of-mass x travelled / time)."""
        c, m = self.config, self.model
        action = np.asarray(action, np.float64)
        if action.shape != (self.n, self.model.nu):
            raise ValueError(f"actions must be [{self.n}, {self.model.nu}], got {list(action.shape)}")
        if self.pool is None:
            self._physics(np.arange(self.n), action)
        else:
            list(self.pool.map(lambda rows: self._physics(rows, action), self.chunks))
        before = self.xy.copy()
        for i in range(self.n):
            self.xy[i] = mass_center_xy(m, self.datas[i])
            self.obs[i] = observation(self.datas[i])
        vx = (self.xy[:, 0] - before[:, 0]) / self.dt
        reward = c.forward_reward_weight * vx + c.healthy_reward - c.ctrl_cost_weight * np.square(action).sum(-1)
        z = np.array([d.qpos[2] for d in self.datas])
        lo, hi = c.healthy_z
        terminated = ~((lo < z) & (z < hi))
        self.steps += 1
        self.episode_return += reward
        truncated = ~terminated & (self.steps >= self.episode_steps)
        done = terminated | truncated
        out = {
            "reward": reward,
            "terminated": terminated,
            "truncated": truncated,
            "final_obs": self.obs.copy(),
            "episode_return": np.where(done, self.episode_return, np.nan),
            "episode_length": np.where(done, self.steps, 0),
            "forward_speed": np.where(done, (self.xy[:, 0] - self.x_start) / (self.steps * self.dt), np.nan),
        }
        for i in np.flatnonzero(done):
            self._start_episode(i)
        out["obs"] = self.obs.copy()
        return out

    # -- checkpoints ------------------------------------------------------------------
    def get_state(self) -> dict[str, np.ndarray]:
        """Everything the next steps depend on, as arrays (float64 ones viewed as uint32
        pairs, so a checkpoint of 32-bit JAX leaves holds them exactly)."""
        physics = np.zeros((self.n, self.state_size))
        for i, d in enumerate(self.datas):
            mujoco.mj_getState(self.model, d, physics[i], STATE_SPEC)
        floats = np.concatenate([physics, self.obs, self.xy, self.episode_return[:, None], self.x_start[:, None]], 1)
        return {
            "floats": floats.view(np.uint32),
            "counters": np.stack([self.steps, self.episode], 1).astype(np.int32),
        }

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        floats = np.ascontiguousarray(np.asarray(state["floats"], np.uint32)).view(np.float64)
        if floats.shape != (self.n, self.state_size + OBS_SIZE + 4):
            raise ValueError(f"a native Humanoid state of shape {floats.shape} does not fit {self.n} envs")
        s = self.state_size
        for i, d in enumerate(self.datas):
            mujoco.mj_resetData(self.model, d)
            mujoco.mj_setState(self.model, d, floats[i, :s], STATE_SPEC)
        self.obs[:] = floats[:, s : s + OBS_SIZE]
        self.xy[:] = floats[:, s + OBS_SIZE : s + OBS_SIZE + 2]
        self.episode_return[:] = floats[:, -2]
        self.x_start[:] = floats[:, -1]
        counters = np.asarray(state["counters"])
        self.steps[:], self.episode[:] = counters[:, 0], counters[:, 1]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def run_episodes(policy, episodes: int, config: HumanoidConfig, episode_steps: int, seed: int) -> dict:
    """One deterministic episode per env, all stepped together: ``policy`` maps float32
    observations [episodes, 376] to actions. Returns ``score`` (the mean return) beside
    ``evaluation.summarize``'s figures, forward speed included."""
    envs = NativeHumanoid(episodes, config, episode_steps, seed)
    obs = envs.reset()
    returns, lengths, speeds = np.full(episodes, np.nan), np.zeros(episodes, np.int64), np.zeros(episodes)
    while np.isnan(returns).any():
        out = envs.step(np.asarray(policy(obs.astype(np.float32))))
        first = np.isnan(returns) & ~np.isnan(out["episode_return"])
        returns[first] = out["episode_return"][first]
        lengths[first] = out["episode_length"][first]
        speeds[first] = out["forward_speed"][first]
        obs = out["obs"]
    envs.close()
    return {"score": float(returns.mean()), **evaluation.summarize(returns, lengths, episode_steps, speeds)}
