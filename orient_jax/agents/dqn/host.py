"""Branching DQN on envs the host steps (native MuJoCo): an actor and a learner, pipelined.

``DQNTrainer`` steps MJX envs inside its jitted update. Gymnasium's own Humanoid is
stepped fastest by native MuJoCo on the host, so this trainer splits the work in two,
as Ape-X and the large-scale Q-learning systems after it do:

* the **actor** steps a batch of host envs (``orient_jax.tasks.humanoid.native``) with
  ``act``, a jitted epsilon-greedy pick from the online network;
* the **learner** (``HostQLearner.update``, jitted, the state donated) writes those
  transitions into the replay buffer in device memory, merges them into the observation
  and return statistics, and takes ``updates_per_step`` gradient steps per vector step
  (``QLearning._learn``: the same n-step double-Q TD loss as ``DQNTrainer``).

``HostDQNProgram.chunk`` runs both at once, in two threads (MuJoCo and XLA release the
GIL, so on two cores they overlap): the actor collects call ``i``'s transitions with the
parameters the learner produced at call ``i - 1``, while the learner learns from call
``i - 1``'s transitions. The pairing never depends on timing, so a run is a function of
its seed, and a checkpoint (learner state, the transitions not yet learnt from, the envs'
MuJoCo states) resumes it bit for bit.

Exploration is per env, as in Ape-X (Horgan et al., 2018): env ``i`` of ``N`` explores
with probability ``eps_start ** (1 + eps_alpha * i / (N - 1))``, so a few envs explore
hard and the last is nearly greedy; every env acts uniformly at random until
``learning_starts`` transitions are in. ``explore="uniform"`` makes an exploring step a
whole random action; ``"nudge"`` moves each dimension's greedy bin one step up or down,
independently, with that probability.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from orient_jax.agents.dqn.config import DQNConfig
from orient_jax.agents.dqn.networks import QNetwork
from orient_jax.agents.dqn.policy_io import save_policy
from orient_jax.agents.dqn.replay import ReplayBuffer
from orient_jax.agents.dqn.train import QLearning, make_optimizer
from orient_jax.agents.normalization import RunningStats
from orient_jax.core import loop, runs
from orient_jax.core.trainer import Trainer, jitted

EPISODES = "episodes"


@struct.dataclass
class LearnerState:
    params: dict
    target_params: dict
    opt_state: object
    buffer: ReplayBuffer
    obs_stats: RunningStats  # [obs]
    return_stats: RunningStats  # [1]: discounted returns, for reward scaling
    key: jax.Array
    grad_steps: jax.Array  # [] int32
    # With config.policy_ema: a slow average of params that acts, is validated and is saved
    # (None without it, so the checkpoints of runs without it keep their layout).
    policy_params: dict | None = None


def env_epsilons(config: DQNConfig) -> np.ndarray:
    """Each env's exploration rate (Ape-X): ``eps_start ** (1 + eps_alpha * i / (N - 1))``."""
    n = config.num_envs
    i = np.arange(n) / max(n - 1, 1)
    return (config.eps_start ** (1.0 + config.eps_alpha * i)).astype(np.float32)


def transition_example(obs_size: int, action_size: int) -> dict:
    return {
        "obs": jnp.zeros(obs_size),
        "action": jnp.zeros(action_size, jnp.int32),
        "reward": jnp.zeros(()),
        "next_obs": jnp.zeros(obs_size),
        "terminated": jnp.zeros(()),
        "done": jnp.zeros(()),
    }


@dataclasses.dataclass(frozen=True)
class HostQLearner(QLearning, Trainer):
    """``init(key)``; ``update(state, chunk) -> (state, metrics)``: learn from one call's
    transitions (``chunk``: rows in time-major order, env by env within a step, as
    ``QLearning.n_step_transitions`` expects); ``act(...)``: the actor's pick."""

    update = jitted("_update", donate_argnums=0)  # the replay buffer is updated in place
    act = jitted("_act")

    def _init(self, key: jax.Array) -> LearnerState:
        c, net = self.config, self.network
        key_params, key_train = jax.random.split(key)
        params = net.init(key_params)
        return LearnerState(
            params=params,
            target_params=params,
            opt_state=self.optimizer.init(params),
            buffer=ReplayBuffer.create(c.buffer_size, transition_example(net.obs_size, net.action_size)),
            obs_stats=RunningStats.create(net.obs_size),
            return_stats=RunningStats.create(1),
            key=key_train,
            grad_steps=jnp.zeros((), jnp.int32),
            policy_params=params if c.policy_ema else None,
        )

    def policy(self, state: LearnerState) -> dict:
        """The params that act, are validated and are saved: the average with policy_ema."""
        return state.policy_params if self.config.policy_ema else state.params

    def _update(self, state: LearnerState, chunk: dict) -> tuple[LearnerState, dict]:
        """``chunk``: the transitions (``transition_example``'s keys, rows [n, ...]), the
        discounted returns after each row (``discounted``, [n]) and ``valid`` ([], False
        for the empty chunk before the first collection)."""
        c = self.config
        valid = chunk["valid"]
        rows = {k: chunk[k] for k in transition_example(1, 1)}

        def ingest(s: LearnerState) -> LearnerState:
            return s.replace(
                buffer=s.buffer.add(rows),
                obs_stats=s.obs_stats.update(rows["obs"]) if c.obs_norm else s.obs_stats,
                return_stats=s.return_stats.update(chunk["discounted"][:, None]),
            )

        state = jax.lax.cond(valid, ingest, lambda s: s, state)
        key, key_learn = jax.random.split(state.key)
        state = state.replace(key=key)
        updates = c.steps_per_call * c.updates_per_step
        ready = valid & (state.buffer.size >= max(c.learning_starts, c.batch_size))
        nothing = {"loss": jnp.full((), jnp.nan), "q": jnp.full((), jnp.nan)}
        state, metrics = jax.lax.cond(
            ready, lambda s: self._learn(s, key_learn, updates), lambda s: (s, nothing), state
        )
        if c.policy_ema:  # per call, the rate that policy_ema per gradient step adds up to
            rate = jnp.where(ready, 1.0 - (1.0 - c.policy_ema) ** updates, 0.0)
            state = state.replace(policy_params=optax.incremental_update(state.params, state.policy_params, rate))
        return state, metrics

    def _act(self, params: dict, stats: RunningStats, obs: jax.Array, key: jax.Array, step, eps, warmup):
        """Bins [envs, act] at vector step ``step``. During ``warmup`` every action is uniformly
        random; after it env ``i`` explores with probability ``eps[i]`` as ``config.explore``
        says (a whole random action, or per dimension a nudge of one bin), else acts greedily."""
        net = self.network
        key = jax.random.fold_in(key, step)
        q = net.q_values(params, self._normalize(stats, obs.astype(jnp.float32)))
        greedy = jnp.argmax(q, axis=-1).astype(jnp.int32)
        key_explore, key_random = jax.random.split(key)
        random = jax.random.randint(key_random, greedy.shape, 0, net.bins)
        if self.config.explore == "nudge":
            nudge = jax.random.uniform(key_explore, greedy.shape) < eps[:, None]
            step = jnp.where(jax.random.bernoulli(key_random, 0.5, greedy.shape), 1, -1)
            explored = jnp.where(nudge, jnp.clip(greedy + step, 0, net.bins - 1), greedy)
        else:
            explore = jax.random.uniform(key_explore, eps.shape) < eps
            explored = jnp.where(explore[:, None], random, greedy)
        return jnp.where(warmup, random, explored)


def make_learner(config: DQNConfig, network: QNetwork) -> HostQLearner:
    return HostQLearner(config, network, make_optimizer(config))


# -- the program the host loop runs -------------------------------------------------------
@struct.dataclass
class HostDQNState:
    learner: LearnerState
    pending: dict  # the last call's transitions, not learnt from yet (numpy, rows [n, ...])
    envs: dict  # the host envs' state (their ``get_state``)
    discounted: np.ndarray  # [envs] discounted return of each running episode
    curve: np.ndarray  # [envs, episode_steps] cumulative reward of each running episode, step by step
    counters: np.ndarray  # [4] int32: env steps, episodes, calls, validations done
    best: np.ndarray  # [] the best validation score so far (-inf before the first)


class HostDQNProgram(loop.Program):
    """Runs ``HostQLearner`` with a batch of host envs (see the module doc). ``envs``: an
    object with ``reset``, ``step``, ``get_state``/``set_state`` (``NativeHumanoid``);
    ``validate(policy) -> dict`` scores a greedy policy (``score`` key) on held-out
    episodes every ``validate_every`` env steps, and the best-scoring policy is kept in
    ``RUN/policy_best``."""

    name = "dqn env steps"
    unit = "call"
    logs = (EPISODES,)
    curve_keys = ("return_last100", "validation", "loss", "q")

    def __init__(self, learner: HostQLearner, envs, seed: int, run_dir: Path, validate=None):
        self.learner, self.envs, self.seed, self.run_dir = learner, envs, seed, Path(run_dir)
        self.validate_fn = validate
        c = learner.config
        self.total = c.total_env_steps
        self.eps = jnp.asarray(env_epsilons(c))
        self.act_key = jax.random.fold_in(jax.random.PRNGKey(seed), 0xAC7)
        self.recent: list[float] = []
        self.interrupted = False

    # -- state ------------------------------------------------------------------------
    def _empty_chunk(self) -> dict:
        c, net = self.learner.config, self.learner.network
        n = c.steps_per_call * c.num_envs
        example = jax.tree.map(np.asarray, transition_example(net.obs_size, net.action_size))
        rows = {k: np.zeros((n, *v.shape), v.dtype) for k, v in example.items()}
        return {**rows, "discounted": np.zeros(n, np.float32), "valid": np.zeros((), bool)}

    def init(self) -> HostDQNState:
        learner = self.learner.init(jax.random.PRNGKey(self.seed))
        self.envs.reset()
        n = self.learner.config.num_envs
        return HostDQNState(
            learner, self._empty_chunk(), self.envs.get_state(), np.zeros(n, np.float32),
            np.zeros((n, self.envs.episode_steps), np.float32), np.zeros(4, np.int32), np.array(-np.inf, np.float32),
        )  # fmt: skip

    def progress(self, state: HostDQNState, step: int) -> int:
        return min(int(state.counters[0]), self.total)

    def resumed(self, logs: dict[str, list[dict]]) -> None:
        self.recent = [r["return"] for r in logs[EPISODES]][-100:]

    # -- the actor --------------------------------------------------------------------
    def collect(self, params, stats, discounted, curve, counters) -> tuple[dict, list, np.ndarray, np.ndarray]:
        """One call's transitions from the host envs; returns (chunk, finished episodes,
        discounted, curve)."""
        c, net = self.learner.config, self.learner.network
        T, N = c.steps_per_call, c.num_envs
        chunk = self._empty_chunk()
        episodes, env_steps, calls = int(counters[1]), int(counters[0]), int(counters[2])
        obs = self.envs.obs.astype(np.float32)
        discounted, curve = discounted.copy(), curve.copy()
        finished = []
        for t in range(T):
            random_only = env_steps + t * N < c.learning_starts
            bins = np.asarray(self.learner.act(params, stats, obs, self.act_key, calls * T + t, self.eps, random_only))
            taken = self.envs.steps.copy()  # steps of the running episodes before this one
            out = self.envs.step(net.low + bins * ((net.high - net.low) / (net.bins - 1)))
            done = out["terminated"] | out["truncated"]
            curve[np.arange(N), taken] = np.where(done, out["episode_return"], self.envs.episode_return)
            discounted = discounted * c.gamma + out["reward"].astype(np.float32)
            rows = slice(t * N, (t + 1) * N)
            chunk["obs"][rows] = obs
            chunk["action"][rows] = bins
            chunk["reward"][rows] = out["reward"]
            chunk["next_obs"][rows] = out["final_obs"]
            chunk["terminated"][rows] = out["terminated"]
            chunk["done"][rows] = done
            chunk["discounted"][rows] = discounted
            for i in np.flatnonzero(done):
                episodes += 1
                finished.append(
                    {
                        "episode": episodes,
                        "env": int(i),
                        "epsilon": 1.0 if random_only else float(self.eps[i]),
                        "return": float(out["episode_return"][i]),
                        "length": int(out["episode_length"][i]),
                        "forward_speed": float(out["forward_speed"][i]),
                        "env_steps": env_steps + (t + 1) * N,
                        "cumulative": [round(float(x), 1) for x in curve[i, : taken[i] + 1]],
                    }
                )
                curve[i] = 0.0
            discounted = np.where(done, 0.0, discounted).astype(np.float32)
            obs = out["obs"].astype(np.float32)
        chunk["valid"] = np.ones((), bool)
        return chunk, finished, discounted, curve

    # -- one call ---------------------------------------------------------------------
    def chunk(self, state: HostDQNState, step: int, stop: int) -> loop.Chunk:
        if self.interrupted:  # a signal came during the last call: stop before this one starts
            raise KeyboardInterrupt("a signal during the last call")
        c = self.learner.config
        self.envs.set_state(jax.tree.map(np.asarray, state.envs))  # a restored run continues from here
        # Copies: the learner donates its own buffers.
        acting = jax.tree.map(jnp.copy, (self.learner.policy(state.learner), state.learner.obs_stats))
        result: dict = {}

        def actor():
            try:
                host = (state.discounted, state.curve, state.counters)
                result["out"] = self.collect(*acting, *(np.asarray(x) for x in host))
            except BaseException as e:  # re-raised in the main thread
                result["error"] = e

        # Once the learner has the state, the old one is gone (donated): a signal now would leave
        # the loop nothing to save, so it is held until the call's new state exists.
        with runs.signals_held() as held:
            thread = threading.Thread(target=actor, name="dqn-actor")
            thread.start()
            try:
                learner, metrics = self.learner.update(state.learner, state.pending)
                metrics = jax.device_get(metrics)
            finally:
                thread.join()
            if "error" in result:
                raise result["error"]
            pending, finished, discounted, curve = result["out"]
            counters = np.asarray(state.counters).copy()
            counters += np.array([c.steps_per_call * c.num_envs, len(finished), 1, 0], np.int32)
            best = np.asarray(state.best).copy()
            validation = {}
            due = c.validate_every and counters[0] // c.validate_every > counters[3]
            if self.validate_fn is not None and due:
                counters[3] = counters[0] // c.validate_every
                validation = self._validate(learner, counters, best)
        self.interrupted = bool(held)
        self.recent = (self.recent + [r["return"] for r in finished])[-100:]
        new = HostDQNState(learner, pending, self.envs.get_state(), discounted, curve, counters, best)
        loss = float(metrics["loss"])
        row = {
            "env_steps": int(counters[0]),
            "episodes": int(counters[1]),
            "grad_steps": int(learner.grad_steps),
            "loss": None if np.isnan(loss) else loss,  # None: no gradient step yet
            "q": None if np.isnan(loss) else float(metrics["q"]),
            "return_last100": float(np.mean(self.recent)) if self.recent else None,
            **validation,
        }
        return loop.Chunk(new, step + 1, row, work=c.steps_per_call * c.num_envs, rows={EPISODES: finished})

    def _validate(self, learner: LearnerState, counters: np.ndarray, best: np.ndarray) -> dict:
        """The greedy policy on held-out episodes; a new best is exported to ``RUN/policy_best``
        (``best`` is updated in place)."""
        net, params, stats = self.learner.network, self.learner.policy(learner), learner.obs_stats
        result = self.validate_fn(jax.jit(lambda obs: net.greedy(params, stats, obs)))
        if result["score"] > float(best):
            best[...] = result["score"]
            meta = {"obs_norm": self.learner.config.obs_norm, "seed": self.seed, "env_steps": int(counters[0])}
            save_policy(self.run_dir / "policy_best", net, params, stats, {**meta, "validation": result})
        return {"validation": result["score"], **{f"validation_{k}": v for k, v in result.items() if k != "score"}}

    def save(self, state: HostDQNState, step: int) -> None:
        c = self.learner.config
        meta = {"obs_norm": c.obs_norm, "seed": self.seed, "env_steps": int(np.asarray(state.counters)[0])}
        params, stats = self.learner.policy(state.learner), state.learner.obs_stats
        save_policy(self.run_dir / "policy", self.learner.network, params, stats, meta)

    def postfix(self, row: dict) -> dict:
        out = {"sps": f"{row['steps_per_s']:,.0f}"}
        if row["return_last100"] is not None:
            out["last100"] = f"{row['return_last100']:.0f}"
        if row.get("validation") is not None:
            out["val"] = f"{row['validation']:.0f}"
        return out
