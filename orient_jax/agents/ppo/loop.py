"""The host loop around ``Trainer.update``: progress bar, metrics, checkpoints, resume."""

from __future__ import annotations

import time
from pathlib import Path

import jax
from tqdm import tqdm

from orient_jax import runs
from orient_jax.agents.ppo.policy_io import save_policy
from orient_jax.agents.ppo.train import Trainer, TrainState
from orient_jax.checkpointing import Checkpoints

CURVE_KEYS = ("success_rate", "episode_return", "value_loss", "action_std")


def _export_policy(trainer: Trainer, state: TrainState, run_dir: Path, meta: dict) -> None:
    save_policy(run_dir / "policy", trainer.networks, state.params, state.normalizer, meta)


def train(
    trainer: Trainer,
    run_dir: Path,
    seed: int,
    config: dict,
    checkpoint_every: int,
    keep_checkpoints: int = 2,
    stop_after: int | None = None,
    progress: bool = True,
    curve_keys: tuple[str, ...] = CURVE_KEYS,
) -> TrainState:
    """Train to ``trainer.config.num_updates`` updates, resuming from the latest
    checkpoint in ``run_dir`` if there is one. ``stop_after`` stops early (as an
    interruption would) after that many updates in total. Ctrl-C or SIGTERM saves first."""
    run_dir = Path(run_dir)
    ckpt = Checkpoints(run_dir / "checkpoints", keep=keep_checkpoints)
    log = runs.MetricsLog(run_dir / "metrics.jsonl")
    state = trainer.init(jax.random.PRNGKey(seed))
    state, start, elapsed = runs.resume(run_dir, ckpt, log, state, config)
    if start is not None:
        print(f"resumed {run_dir} at update {start}")
    total = trainer.config.num_updates
    end = total if stop_after is None else min(total, stop_after)
    step = int(state.update_step)
    batch = trainer.config.batch_size
    policy_meta = {"seed": seed, "run_dir": str(run_dir)}

    def checkpoint(state):
        ckpt.save(int(state.update_step), state, config)
        _export_policy(trainer, state, run_dir, {**policy_meta, "update": int(state.update_step)})

    bar = tqdm(total=total, initial=step, desc="ppo updates", unit="upd", disable=not progress, dynamic_ncols=True)
    t_last = time.perf_counter()
    with runs.sigterm_as_interrupt():
        try:
            while step < end:
                new_state, metrics = trainer.update(state)
                metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
                now = time.perf_counter()
                dt, t_last = now - t_last, now
                elapsed += dt
                row = {"update": step + 1, "env_steps": (step + 1) * batch, "wall_s": round(elapsed, 3)}
                log.write({**row, "steps_per_s": batch / dt, **metrics})
                # Advance only once the row is written: a checkpoint never lacks its metrics.
                state, step = new_state, step + 1
                bar.set_postfix(
                    success=f"{metrics['success_rate']:.3f}",
                    ret=f"{metrics['episode_return']:.1f}",
                    sps=f"{batch / dt:,.0f}",
                )
                bar.update(1)
                if step % checkpoint_every == 0 or step == end:
                    checkpoint(state)
        except KeyboardInterrupt:
            bar.close()
            if ckpt.latest_step() != step:
                checkpoint(state)
            print(f"\ninterrupted: saved update {step}; rerun with --run {run_dir} to resume")
            raise
        finally:
            bar.close()
            ckpt.close()
            runs.plot_curves(log.read(), curve_keys, run_dir / "learning_curve.png")
    return state
