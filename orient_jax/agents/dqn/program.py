"""Branching DQN as the host loop runs it (``orient_jax.core.loop``).

One chunk is one call of ``DQNTrainer.update`` (``steps_per_call`` vector env
steps); the step the loop counts is the call. Two logs: ``metrics.jsonl`` has one row
per call (losses, rates, the mean return of the last 100 episodes) and
``episodes.jsonl`` one row per finished episode (return, length, epsilon and the
cumulative reward after every step, which the 3D plots draw).
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from orient_jax.agents.dqn.policy_io import save_policy
from orient_jax.agents.dqn.train import DQNState, DQNTrainer, epsilon
from orient_jax.core import loop

EPISODES = "episodes"


def episode_rows(out: dict, first_episode: int, config) -> list[dict]:
    """Finished episodes in one call's outputs, in the order they ended."""
    rows = []
    for t, e in zip(*np.nonzero(out["done"])):
        n = first_episode + len(rows)
        if n >= config.episodes:
            break
        length = int(out["length"][t, e])
        cumulative = out["curve"][t, e, :length]
        rows.append(
            {
                "episode": n + 1,
                "return": float(out["episode_return"][t, e]),
                "length": length,
                "epsilon": float(epsilon(config, np.asarray(n))),
                "cumulative": [round(float(x), 3) for x in cumulative],
            }
        )
    return rows


class DQNProgram(loop.Program):
    name = "dqn episodes"
    unit = "call"
    logs = (EPISODES,)

    def __init__(self, trainer: DQNTrainer, seed: int, run_dir: Path):
        self.trainer, self.seed, self.run_dir = trainer, seed, Path(run_dir)
        self.total = trainer.config.episodes
        self.recent: list[float] = []  # the last 100 episode returns, for the metrics row

    def init(self) -> DQNState:
        return self.trainer.init(jax.random.PRNGKey(self.seed))

    def progress(self, state: DQNState, step: int) -> int:
        return min(int(state.episodes), self.total)

    def resumed(self, logs: dict[str, list[dict]]) -> None:
        self.recent = [r["return"] for r in logs[EPISODES]][-100:]

    def chunk(self, state: DQNState, step: int, stop: int) -> loop.Chunk:
        c = self.trainer.config
        new_state, out = self.trainer.update(state)
        out = jax.device_get(out)
        rows = episode_rows(out, self.progress(state, step), c)
        self.recent = (self.recent + [r["return"] for r in rows])[-100:]
        live = out["live"]
        losses = out["loss"][live]
        losses = losses[~np.isnan(losses)]
        metrics = {
            "env_steps": int(new_state.env_steps),
            "episodes": int(new_state.episodes),
            "grad_steps": int(new_state.grad_steps),
            "epsilon": float(epsilon(c, np.asarray(int(new_state.episodes)))),
            "loss": float(losses.mean()) if losses.size else None,  # None: no gradient step yet
            "q": float(np.nanmean(out["q"][live])) if losses.size else None,
            "return_last100": float(np.mean(self.recent)) if self.recent else None,  # None: no episode yet
        }
        return loop.Chunk(new_state, step + 1, metrics, work=int(live.sum()), rows={EPISODES: rows})

    def save(self, state: DQNState, step: int) -> None:
        meta = {"obs_norm": self.trainer.config.obs_norm, "seed": self.seed, "episodes": int(state.episodes)}
        save_policy(self.run_dir / "policy", self.trainer.network, state.params, state.obs_stats, meta)

    def postfix(self, row: dict) -> dict:
        if row["return_last100"] is None:
            return {}
        return {"last100": f"{row['return_last100']:.1f}", "sps": f"{row['steps_per_s']:,.0f}"}
