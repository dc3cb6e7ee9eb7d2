"""Scoring Humanoid policies: deterministic episodes in the MJX env or in Gymnasium's own
Humanoid-v4, and the peak and last-100 returns of a finished run from its logs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from orient_jax.core import runs
from orient_jax.tasks.humanoid.config import HumanoidExperiment
from orient_jax.tasks.humanoid.env import HumanoidEnv

Policy = Callable[[jax.Array], jax.Array]  # raw observations [..., 376] -> actions [..., 17]


def evaluate_mjx(policy: Policy, exp: HumanoidExperiment, episodes: int, seed: int) -> dict:
    """Deterministic episodes in the MJX env, in vmapped scans of <= 64 (batches of 128 of
    this model have deadlocked XLA on the CPU)."""
    env = HumanoidEnv(exp.env, worlds=episodes)
    T = exp.episode_steps

    @jax.jit
    def rollout(keys):
        state = jax.vmap(env.reset)(keys)

        def step(carry, _):
            state, alive, ret, length = carry
            nxt = jax.vmap(env.step)(state, policy(state.obs))
            ret = ret + alive * nxt.reward
            length = length + alive
            alive = alive * (1.0 - nxt.done)
            return (nxt, alive, ret, length), None

        n = keys.shape[0]
        (_, _, ret, length), _ = jax.lax.scan(step, (state, jnp.ones(n), jnp.zeros(n), jnp.zeros(n)), None, length=T)
        return ret, length

    keys = jax.random.split(jax.random.PRNGKey(seed), episodes)
    returns, lengths = [], []
    for i in range(0, episodes, 64):
        r, n = jax.device_get(rollout(keys[i : i + 64]))
        returns.append(r)
        lengths.append(n)
    return summarize(np.concatenate(returns), np.concatenate(lengths), T)


def onnx_policy(path: str | Path) -> Callable[[np.ndarray], np.ndarray]:
    """An exported policy (``experiments.export_humanoid``) as onnxruntime runs it: one
    observation [376] -> actions [17], in Gymnasium's units."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    if list(inp.shape[1:]) != [376] or list(out.shape[1:]) != [17]:
        raise ValueError(f"{path} maps {inp.name}{inp.shape} -> {out.name}{out.shape}, not [batch, 376] -> [batch, 17]")

    def act(obs: np.ndarray) -> np.ndarray:
        return session.run([out.name], {inp.name: np.asarray(obs, np.float32)[None]})[0][0]

    return act


def evaluate_gymnasium(policy: Policy, episodes: int, episode_steps: int, seed: int, jit: bool = True) -> dict:
    """Score in Gymnasium's own Humanoid-v4 (native MuJoCo, PGS): the real thing.
    ``jit=False`` for a policy that is not JAX (``onnx_policy``)."""
    import gymnasium as gym  # noqa: PLC0415  (test/eval-only dependency)

    env = gym.make("Humanoid-v4", max_episode_steps=episode_steps)
    if jit:
        jitted = jax.jit(policy)

        def act(obs):
            return np.asarray(jitted(jnp.asarray(obs, jnp.float32)))
    else:
        act = policy
    returns, lengths, speeds = [], [], []
    dt = env.unwrapped.dt
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        total, n, done, x_start = 0.0, 0, False, None
        while not done:
            obs, reward, terminated, truncated, info = env.step(np.asarray(act(obs), np.float64))
            if x_start is None:  # the centre of mass before the first step
                x_start = info["x_position"] - info["x_velocity"] * dt
            total, n, done = total + reward, n + 1, terminated or truncated
        returns.append(total)
        lengths.append(n)
        speeds.append((info["x_position"] - x_start) / (n * dt))
    env.close()
    return summarize(np.array(returns), np.array(lengths), episode_steps, np.array(speeds))


def summarize(returns: np.ndarray, lengths: np.ndarray, episode_steps: int, speeds: np.ndarray | None = None) -> dict:
    """``speeds``: each episode's centre-of-mass x displacement over its duration (m/s)."""
    speed = {} if speeds is None else {"forward_speed_mps": float(speeds.mean())}
    return {
        "episodes": int(returns.size),
        "episode_steps": episode_steps,
        "mean_return": float(returns.mean()),
        "std_return": float(returns.std()),
        "min_return": float(returns.min()),
        "max_return": float(returns.max()),
        "mean_length": float(lengths.mean()),
        "full_length_fraction": float(np.mean(lengths >= episode_steps)),
        **speed,
    }


def training_summary(run_dir: Path, exp: HumanoidExperiment) -> dict:
    """Peak and last-100 episode returns of a finished run, from its logs.

    DQN logs every episode, so these are single episodes. PPO runs hundreds of envs at
    once; it logs the mean return of the episodes that ended in each update, so its
    peak is the best such mean and its last-100 is the mean over the final updates'
    episodes (at least 100 of them)."""
    run_dir = Path(run_dir)
    if exp.algo == "dqn":
        rows = runs.MetricsLog(run_dir / "episodes.jsonl").read()
        if not rows:
            raise FileNotFoundError(f"{run_dir}/episodes.jsonl is empty: has the run started?")
        returns = np.array([r["return"] for r in rows])
        peak = int(np.argmax(returns))
        return {
            "episodes": len(rows),
            "peak": float(returns[peak]),
            "peak_episode": int(rows[peak]["episode"]),
            "last100": float(returns[-100:].mean()),
            "env_steps": int(sum(r["length"] for r in rows)),
        }
    rows = [r for r in runs.MetricsLog(run_dir / "metrics.jsonl").read() if r.get("episodes", 0) > 0]
    if not rows:
        raise FileNotFoundError(f"{run_dir}/metrics.jsonl has no finished episodes yet")
    best = max(rows, key=lambda r: r["episode_return"])
    tail, count = [], 0
    for r in reversed(rows):
        tail.append(r)
        count += r["episodes"]
        if count >= 100:
            break
    last = sum(r["episode_return"] * r["episodes"] for r in tail) / sum(r["episodes"] for r in tail)
    return {
        "episodes": int(sum(r["episodes"] for r in rows)),
        "peak": float(best["episode_return"]),
        "peak_update": int(best["update"]),
        "last100": float(last),
        "last100_episodes": int(count),
        "env_steps": int(rows[-1]["env_steps"]),
    }
