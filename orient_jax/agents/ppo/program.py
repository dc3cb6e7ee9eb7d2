"""PPO as the host loop runs it (``orient_jax.core.loop``): one jitted update per chunk,
the policy exported into ``RUN/policy`` beside every checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jax

from orient_jax.agents.ppo.policy_io import save_policy
from orient_jax.agents.ppo.train import PPOTrainer, TrainState
from orient_jax.core import loop

CURVE_KEYS = ("episode_return", "value_loss", "action_std")


class PPOProgram(loop.Program):
    name = "ppo updates"
    unit = "update"

    def __init__(
        self,
        trainer: PPOTrainer,
        seed: int,
        run_dir: Path,
        curve_keys: tuple[str, ...] = CURVE_KEYS,
        policy_meta: dict | None = None,
        stop: Callable[[list[dict]], str | None] | None = None,
    ):
        """``policy_meta``: recorded in the exported policy.json (e.g. the task it is for).
        ``stop``: an early-stop rule over the metrics rows (``loop.HeldAtLeast``), or None."""
        self.trainer, self.seed, self.run_dir, self.stop = trainer, seed, Path(run_dir), stop
        self.policy_meta = policy_meta or {}
        self.total = trainer.config.num_updates
        self.reported = tuple(name for _, name in trainer.episode_metrics)  # the task's episode metrics
        self.curve_keys = (*self.reported, *curve_keys)

    def init(self) -> TrainState:
        return self.trainer.init(jax.random.PRNGKey(self.seed))

    def chunk(self, state: TrainState, step: int, stop: int) -> loop.Chunk:
        state, metrics = self.trainer.update(state)
        batch = self.trainer.config.batch_size
        row = {"env_steps": (step + 1) * batch, **{k: float(v) for k, v in jax.device_get(metrics).items()}}
        if row["episodes"] == 0:  # the per-episode figures average over episodes that ended: none did
            row.update({name: None for name in ("episode_return", *self.reported)})
        return loop.Chunk(state, step + 1, row, work=batch)

    def save(self, state: TrainState, step: int) -> None:
        meta = {**self.policy_meta, "seed": self.seed, "run_dir": str(self.run_dir), "update": step}
        save_policy(self.run_dir / "policy", self.trainer.networks, state.params, state.normalizer, meta)

    def stop_early(self, rows: list[dict]) -> str | None:
        return self.stop(rows) if self.stop is not None else None

    def postfix(self, row: dict) -> dict:
        if row["episode_return"] is None:  # no episode ended in this update
            return {"sps": f"{row['steps_per_s']:,.0f}"}
        shown = {name: f"{row[name]:.3f}" for name in self.reported}
        return {**shown, "ret": f"{row['episode_return']:.1f}", "sps": f"{row['steps_per_s']:,.0f}"}
