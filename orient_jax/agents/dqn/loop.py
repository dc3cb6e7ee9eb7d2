"""The host loop around ``DQNTrainer.run``: progress bar, episode log, checkpoints, resume.

Two JSONL files: ``metrics.jsonl`` has one row per jitted call (losses, rates) and
``episodes.jsonl`` one row per finished episode (return, length, epsilon and the
cumulative reward after every step, which the 3D plots draw). Both are keyed by the
call index, so a resumed run drops the rows logged after its checkpoint.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import jax
import numpy as np
from tqdm import tqdm

from orient_jax import bundle_io, runs
from orient_jax.agents.dqn.train import DQNState, DQNTrainer, epsilon
from orient_jax.checkpointing import Checkpoints

FORMAT = "orient-jax-dqn-policy/1"


def save_policy(directory: Path, trainer: DQNTrainer, state: DQNState, meta: dict) -> Path:
    payload = {"params": jax.device_get(state.params), "normalizer": jax.device_get(state.obs_stats)}
    info = {"format": FORMAT, "network": trainer.network.kwargs(), "obs_norm": trainer.config.obs_norm, **meta}
    return bundle_io.write(directory, "policy", payload, info)


def _episode_rows(out: dict, call: int, first_episode: int, config) -> list[dict]:
    """Finished episodes in one call's outputs, in the order they ended."""
    rows = []
    done = out["done"]
    for t, e in zip(*np.nonzero(done)):
        n = first_episode + len(rows)
        if n >= config.episodes:
            break
        length = int(out["length"][t, e])
        cumulative = out["curve"][t, e, :length]
        rows.append(
            {
                "update": call,
                "episode": n + 1,
                "return": float(out["episode_return"][t, e]),
                "length": length,
                "epsilon": float(epsilon(config, np.asarray(n))),
                "cumulative": [round(float(x), 3) for x in cumulative],
            }
        )
    return rows


def train(
    trainer: DQNTrainer,
    run_dir: Path,
    seed: int,
    config: dict,
    checkpoint_every: int,
    keep_checkpoints: int = 1,
    stop_after: int | None = None,
    progress: bool = True,
) -> DQNState:
    """Run to ``config.episodes`` finished episodes, resuming from ``run_dir``'s latest
    checkpoint if there is one. ``stop_after`` stops after that many calls in total."""
    c = trainer.config
    run_dir = Path(run_dir)
    ckpt = Checkpoints(run_dir / "checkpoints", keep=keep_checkpoints)
    log = runs.MetricsLog(run_dir / "metrics.jsonl")
    episodes_log = runs.MetricsLog(run_dir / "episodes.jsonl")
    state = trainer.init(jax.random.PRNGKey(seed))
    state, start, elapsed = runs.resume(run_dir, ckpt, log, state, config)
    call = 0
    if start is not None:
        episodes_log.truncate_after(start)
        call = start
        print(f"resumed {run_dir} at call {start} ({int(state.episodes)} episodes)")
    else:
        episodes_log.path.unlink(missing_ok=True)

    def checkpoint(state, call):
        ckpt.save(call, state, config)
        save_policy(run_dir / "policy", trainer, state, {"seed": seed, "episodes": int(state.episodes)})

    episodes = int(state.episodes)
    bar = tqdm(total=c.episodes, initial=episodes, desc="dqn episodes", unit="ep", disable=not progress)
    t_last = time.perf_counter()
    recent = [r["return"] for r in episodes_log.read()][-100:]
    with runs.sigterm_as_interrupt():
        try:
            while episodes < c.episodes and (stop_after is None or call < stop_after):
                new_state, out = trainer.run(state)
                out = jax.device_get(out)
                now = time.perf_counter()
                dt, t_last = now - t_last, now
                elapsed += dt
                rows = _episode_rows(out, call + 1, episodes, c)
                for row in rows:
                    episodes_log.write(row)
                recent = (recent + [r["return"] for r in rows])[-100:]
                steps = int(out["live"].sum())
                losses = out["loss"][out["live"]]
                losses = losses[~np.isnan(losses)]
                log.write(
                    {
                        "update": call + 1,
                        "env_steps": int(new_state.env_steps),
                        "episodes": int(new_state.episodes),
                        "grad_steps": int(new_state.grad_steps),
                        "wall_s": round(elapsed, 3),
                        "steps_per_s": steps / dt,
                        "epsilon": float(epsilon(c, np.asarray(int(new_state.episodes)))),
                        "loss": float(losses.mean()) if losses.size else math.nan,
                        "q": float(np.nanmean(out["q"][out["live"]])) if losses.size else math.nan,
                        "return_last100": float(np.mean(recent)) if recent else math.nan,
                    }
                )
                state, call = new_state, call + 1
                bar.update(min(int(state.episodes), c.episodes) - episodes)
                episodes = min(int(state.episodes), c.episodes)
                if recent:
                    bar.set_postfix(last100=f"{np.mean(recent):.1f}", sps=f"{steps / dt:,.0f}")
                if call % checkpoint_every == 0 or episodes >= c.episodes:
                    checkpoint(state, call)
        except KeyboardInterrupt:
            bar.close()
            if ckpt.latest_step() != call:
                checkpoint(state, call)
            print(f"\ninterrupted: saved call {call}; rerun with --run {run_dir} to resume")
            raise
        finally:
            bar.close()
            ckpt.close()
    return state
