"""Episode bookkeeping shared by our PPO and by ``brax.training``.

``EpisodeAutoReset`` ends episodes after ``episode_length`` control steps
(truncation) or when the env says done (termination), and then resets with a *fresh*
random key, so every episode starts from a new random orientation. (Brax's own
AutoResetWrapper replays the first state of each env forever.) It keeps Brax's info
keys (``steps``, ``truncation``, ``episode_done``, ``episode_metrics``), so
``brax.training`` PPO accepts it via ``wrap_env_fn``, and it records the pre-reset observation in ``final_obs`` so that
value bootstrapping at a truncation uses the true last state.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from brax.envs import base
from brax.envs.wrappers.training import VmapWrapper


class EpisodeAutoReset(base.Wrapper):
    def __init__(self, env: base.Env, episode_length: int, stagger: bool = False):
        """``stagger``: start the first episode of each env at a random step count, so
        a batch of envs does not reset in lockstep (training only)."""
        super().__init__(env)
        if episode_length <= 0:
            raise ValueError(f"episode_length must be positive, got {episode_length}")
        self.episode_length = episode_length
        self.stagger = stagger

    def reset(self, rng: jax.Array) -> base.State:
        key_env, key_next, key_stagger = jax.random.split(rng, 3)
        state = self.env.reset(key_env)
        steps = jax.random.randint(key_stagger, (), 0, self.episode_length) if self.stagger else 0
        info = {
            **state.info,
            "steps": jnp.asarray(steps, jnp.int32),
            "truncation": jnp.zeros(()),
            "reset_key": key_next,
            "final_obs": state.obs,
            "episode_return": jnp.zeros(()),
        }
        metrics = {**state.metrics, "episode_return": jnp.zeros(())}
        info["episode_done"] = jnp.zeros(())
        info["episode_metrics"] = {k: jnp.zeros(()) for k in ("sum_reward", "length", *metrics)}
        return state.replace(info=info, metrics=metrics)

    def step(self, state: base.State, action: jax.Array) -> base.State:
        nxt = self.env.step(state, action)
        steps = state.info["steps"] + 1
        terminated = nxt.done > 0
        truncated = (steps >= self.episode_length) & ~terminated
        done = terminated | truncated
        episode_return = state.info["episode_return"] + nxt.reward

        key_reset, key_next = jax.random.split(state.info["reset_key"])
        fresh = self.env.reset(key_reset)

        def pick(a, b):
            return jnp.where(done, a, b)

        env_info = {k: nxt.info[k] for k in fresh.info}
        info = {
            **jax.tree.map(pick, fresh.info, env_info),
            "steps": jnp.where(done, 0, steps),
            "truncation": truncated.astype(jnp.float32),
            "reset_key": key_next,
            "final_obs": nxt.obs,
            "episode_return": jnp.where(done, 0.0, episode_return),
        }
        metrics = {**nxt.metrics, "episode_return": episode_return}
        # Brax's running per-episode sums: cleared on the step after an episode ends.
        keep = 1.0 - state.info["episode_done"]
        increments = {"sum_reward": nxt.reward, "length": jnp.ones(()), **metrics}
        info["episode_metrics"] = {k: v * keep + increments[k] for k, v in state.info["episode_metrics"].items()}
        info["episode_done"] = done.astype(jnp.float32)
        # An env whose physics state is not one tree of per-env arrays says how to choose.
        select = getattr(self.env, "select", None)
        pipeline_state = (
            select(done, fresh.pipeline_state, nxt.pipeline_state)
            if select is not None
            else jax.tree.map(pick, fresh.pipeline_state, nxt.pipeline_state)
        )
        return nxt.replace(
            pipeline_state=pipeline_state,
            obs=pick(fresh.obs, nxt.obs),
            done=done.astype(jnp.float32),
            metrics=metrics,
            info=info,
        )


def wrap_for_training(
    env: base.Env, episode_length: int, batch_size: int | None = None, stagger: bool = True
) -> base.Env:
    """Auto-reset, then vmap: the form that both our PPO and brax.training use."""
    return VmapWrapper(EpisodeAutoReset(env, episode_length, stagger), batch_size=batch_size)
