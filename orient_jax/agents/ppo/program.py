"""PPO as the host loop runs it (``orient_jax.core.loop``): one jitted update per chunk,
the policy exported into ``RUN/policy`` beside every checkpoint.

With several seeds (``seeds > 1``) the update is vmapped over them (``orient_jax.core.seeds``):
one compile, one checkpoint of the stacked state. Each metrics row then holds the mean
over seeds (``episode_return`` and the task's episode metrics: over the seeds whose
episodes ended), ``seeds.jsonl`` one row per seed, and every seed's policy is exported
into ``RUN/policies/seed-<seed>`` (the first seed's also into ``RUN/policy``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jax

from orient_jax.agents.ppo.policy_io import save_policy
from orient_jax.agents.ppo.train import PPOTrainer, TrainState
from orient_jax.core import loop
from orient_jax.core import seeds as seeds_lib

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
        seeds: int = 1,
    ):
        """``policy_meta``: recorded in the exported policy.json (e.g. the task it is for).
        ``stop``: an early-stop rule over the metrics rows (``loop.HeldAtLeast``), or None.
        ``seeds``: how many seeds to train at once (``seed``, ``seed + 1``, ...)."""
        self.trainer, self.seed, self.run_dir, self.stop = trainer, seed, Path(run_dir), stop
        self.seeds = seeds_lib.seed_values(seed, seeds)
        self.batched = seeds_lib.batch_of(trainer) if seeds > 1 else None
        self.logs = ("seeds",) if self.batched else ()
        self.policy_meta = policy_meta or {}
        self.total = trainer.config.num_updates
        self.reported = tuple(name for _, name in trainer.episode_metrics)  # the task's episode metrics
        self.curve_keys = (*self.reported, *curve_keys)

    def init(self) -> TrainState:
        if self.batched:
            return self.batched.init(seeds_lib.seed_keys(self.seeds))
        return self.trainer.init(jax.random.PRNGKey(self.seed))

    def _row(self, metrics: dict) -> dict:
        row = {k: float(v) for k, v in metrics.items()}
        if row["episodes"] == 0:  # the per-episode figures average over episodes that ended: none did
            row.update({name: None for name in ("episode_return", *self.reported)})
        return row

    def chunk(self, state: TrainState, step: int, stop: int) -> loop.Chunk:
        batch = self.trainer.config.batch_size
        env_steps = {"env_steps": (step + 1) * batch}  # per seed
        if not self.batched:
            state, metrics = self.trainer.update(state)
            return loop.Chunk(state, step + 1, {**env_steps, **self._row(jax.device_get(metrics))}, work=batch)
        state, metrics = self.batched.update(state)
        metrics = jax.device_get(metrics)
        per_seed = [
            {"seed": s, **env_steps, **self._row(seeds_lib.index(metrics, i))} for i, s in enumerate(self.seeds)
        ]
        row = dict(env_steps, seeds=len(self.seeds))
        for key in per_seed[0]:
            if key not in row and key != "seed":
                values = [r[key] for r in per_seed if r[key] is not None]
                row[key] = sum(values) / len(values) if values else None
        return loop.Chunk(state, step + 1, row, work=batch * len(self.seeds), rows={"seeds": per_seed})

    def save(self, state: TrainState, step: int) -> None:
        for i, seed in enumerate(self.seeds):
            one = seeds_lib.index(state, i) if self.batched else state
            meta = {**self.policy_meta, "seed": seed, "run_dir": str(self.run_dir), "update": step}
            folders = [self.run_dir / "policy"] if i == 0 else []
            if self.batched:
                folders.append(self.run_dir / "policies" / f"seed-{seed}")
            for folder in folders:
                save_policy(folder, self.trainer.networks, one.params, one.normalizer, meta)

    def stop_early(self, rows: list[dict]) -> str | None:
        return self.stop(rows) if self.stop is not None else None

    def postfix(self, row: dict) -> dict:
        if row["episode_return"] is None:  # no episode ended in this update
            return {"sps": f"{row['steps_per_s']:,.0f}"}
        shown = {name: f"{row[name]:.3f}" for name in self.reported}
        return {**shown, "ret": f"{row['episode_return']:.1f}", "sps": f"{row['steps_per_s']:,.0f}"}
