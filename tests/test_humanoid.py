"""The MJX Humanoid against Gymnasium's native Humanoid-v4 (MuJoCo C, PGS solver)."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

from orient_jax.tasks.humanoid.env import OBS_SIZE, HumanoidConfig, HumanoidEnv, gymnasium_model

gym = pytest.importorskip("gymnasium")
OBS_PARTS = {"qpos[2:]": 22, "qvel": 23, "cinert": 140, "cvel": 84, "qfrc_actuator": 23, "cfrc_ext": 84}
# Stated tolerance: MJX (float32, Newton) against MuJoCo (float64, PGS), over 10 steps.
OBS_RTOL, OBS_ATOL, REWARD_ATOL = 1e-3, 2e-3, 1e-3


def native_env():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gym.make("Humanoid-v4").unwrapped


@pytest.fixture(scope="module", params=["jax", "warp"])
def exact_env(request):
    """Gymnasium's model stepped by MJX's JAX code, and by MuJoCo Warp (on the CPU here)."""
    env = HumanoidEnv(HumanoidConfig(impl=request.param))
    return env, jax.jit(env.reset_to), jax.jit(env.step)


@pytest.mark.integration
def test_model_is_gymnasiums_field_by_field():
    ours, theirs = gymnasium_model(), native_env().model
    cosmetic = {"geom_rgba"}
    checked = 0
    for name in dir(theirs):
        value = getattr(theirs, name)
        if name.startswith("_") or name in cosmetic or not isinstance(value, np.ndarray | int):
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind not in "fiu":
            continue
        np.testing.assert_allclose(getattr(ours, name), value, atol=1e-12, err_msg=name)
        checked += 1
    assert checked > 100
    for field in ("timestep", "integrator", "solver", "iterations", "tolerance", "cone", "jacobian", "impratio"):
        assert getattr(ours.opt, field) == getattr(theirs.opt, field), field
    assert (ours.nq, ours.nv, ours.nu, ours.nbody, ours.ntendon) == (24, 23, 17, 14, 2)


@pytest.mark.integration
def test_mjx_model_differs_only_by_solver():
    env = HumanoidEnv()
    assert env.mj_model.opt.solver == mujoco.mjtSolver.mjSOL_NEWTON  # MJX has no PGS
    assert env.mj_model.opt.integrator == mujoco.mjtIntegrator.mjINT_RK4
    assert env.observation_size == OBS_SIZE == sum(OBS_PARTS.values())
    assert env.action_size == 17
    assert env.dt == pytest.approx(0.015)


def _compare(ours: np.ndarray, theirs: np.ndarray, where: str) -> None:
    start = 0
    for part, size in OBS_PARTS.items():
        np.testing.assert_allclose(
            ours[start : start + size], theirs[start : start + size], rtol=OBS_RTOL, atol=OBS_ATOL,
            err_msg=f"{part} at {where}",
        )  # fmt: skip
        start += size


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 7])
def test_observations_rewards_and_termination_match_gymnasium(exact_env, seed):
    env, reset_to, step = exact_env
    native = native_env()
    native.reset(seed=seed)
    state = reset_to(jnp.asarray(native.data.qpos, jnp.float32), jnp.asarray(native.data.qvel, jnp.float32))
    _compare(np.asarray(state.obs), native._get_obs(), "reset")
    rng = np.random.default_rng(seed)
    for t in range(10):
        action = rng.uniform(-0.4, 0.4, 17)
        obs, reward, terminated, truncated, info = native.step(action)
        state = step(state, jnp.asarray(action, jnp.float32))
        _compare(np.asarray(state.obs), obs, f"step {t}")
        assert float(state.reward) == pytest.approx(reward, abs=REWARD_ATOL)
        assert float(state.metrics["forward_reward"]) == pytest.approx(info["forward_reward"], abs=REWARD_ATOL)
        assert float(state.metrics["ctrl_cost"]) == pytest.approx(-info["reward_quadctrl"], rel=1e-5)
        assert bool(state.done) == terminated and not truncated


@pytest.mark.integration
def test_a_fall_terminates_like_gymnasium(exact_env):
    """Zero torque: the body collapses; both envs must end the episode on the same step."""
    env, reset_to, step = exact_env
    native = native_env()
    native.reset(seed=3)
    state = reset_to(jnp.asarray(native.data.qpos, jnp.float32), jnp.asarray(native.data.qvel, jnp.float32))
    zero = np.zeros(17)
    for t in range(200):
        _, reward, terminated, _, _ = native.step(zero)
        state = step(state, jnp.zeros(17))
        assert float(state.reward) == pytest.approx(reward, abs=REWARD_ATOL), t
        height = float(state.metrics["height"])
        assert bool(state.done) == (not 1.0 < height < 2.0)
        assert bool(state.done) == terminated, f"step {t}: MJX done={bool(state.done)}, Gymnasium {terminated}"
        if terminated:
            break
    assert terminated, "a humanoid without torque should fall within 200 steps"


@pytest.mark.integration
def test_reset_noise_is_uniform_within_scale():
    env = HumanoidEnv(HumanoidConfig(physics="fast"))  # the same reset code; a quicker compile
    states = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.PRNGKey(0), 64))
    dq = np.asarray(states.pipeline_state.qpos) - env.mj_model.qpos0
    dv = np.asarray(states.pipeline_state.qvel)
    assert np.abs(dq).max() <= 0.01 + 1e-6 and np.abs(dv).max() <= 0.01 + 1e-6
    assert dq.std() > 0.004 and dv.std() > 0.004  # U(-0.01, 0.01) has std 0.0058
    assert np.all(np.asarray(states.done) == 0) and np.all(np.isfinite(np.asarray(states.obs)))


@pytest.mark.integration
def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="physics"):
        HumanoidConfig(physics="pgs")
    with pytest.raises(ValueError, match="healthy_z"):
        HumanoidConfig(healthy_z=(2.0, 1.0))
    with pytest.raises(ValueError, match=r"env.impl must be one of \('jax', 'warp'\)"):
        HumanoidConfig(impl="cuda")
    with pytest.raises(ValueError, match="warp_contacts"):
        HumanoidConfig(impl="warp", warp_contacts=0)


@pytest.mark.integration
def test_physics_variants_keep_the_body_and_cut_only_the_solver_and_contacts():
    from mujoco import mjx

    from orient_jax.tasks.humanoid.env import Solver, mjx_model, tuned_model

    def contacts(m):
        return mjx.make_data(m)._impl.contact.dist.shape[0]

    gym_model, lean = gymnasium_model(), mjx_model("lean")
    same = ("body_mass", "body_inertia", "jnt_range", "dof_damping", "actuator_gear", "geom_size", "geom_friction")
    for field in same:
        np.testing.assert_array_equal(getattr(lean, field), getattr(gym_model, field), err_msg=field)
    assert lean.ntendon == gym_model.ntendon == 2 and lean.opt.timestep == gym_model.opt.timestep
    assert (lean.opt.iterations, lean.opt.ls_iterations) == (1, 4)
    assert lean.opt.integrator == mujoco.mjtIntegrator.mjINT_EULER
    assert contacts(mjx_model("gymnasium")) == 138
    assert contacts(lean) == 2  # two foot spheres on the floor plane
    lean4 = mjx_model("lean4")
    assert (lean4.opt.iterations, lean4.opt.ls_iterations, contacts(lean4)) == (4, 8, 2)
    floor4 = mjx_model("floor4")
    assert (floor4.opt.iterations, floor4.opt.ls_iterations, contacts(floor4)) == (4, 8, 29)
    assert contacts(tuned_model(Solver(contacts="floor"))) == 29  # 13 capsules x 2 + 3 spheres
    assert contacts(tuned_model(Solver(contacts="all"))) == 138
    with pytest.raises(ValueError, match="iterations"):
        tuned_model(Solver(iterations=0))


@pytest.mark.integration
def test_a_blown_up_state_ends_the_episode_and_nothing_non_finite_comes_out():
    env = HumanoidEnv(HumanoidConfig(physics="lean"))
    state = jax.jit(env.reset)(jax.random.PRNGKey(0))
    step = jax.jit(env.step)
    fine = step(state, jnp.zeros(17))
    assert float(fine.done) == 0.0 and float(fine.metrics["blew_up"]) == 0.0
    data = state.pipeline_state
    broken = state.replace(pipeline_state=data.replace(qvel=data.qvel.at[3].set(jnp.nan)))
    out = step(broken, jnp.zeros(17))
    assert float(out.done) == 1.0 and float(out.metrics["blew_up"]) == 1.0
    assert float(out.reward) == 0.0
    assert np.all(np.asarray(out.obs) == 0.0)
    assert all(np.isfinite(float(v)) for v in out.metrics.values())


@pytest.mark.integration
def test_an_exported_policy_is_scored_in_gymnasium_by_onnxruntime(root):
    from orient_jax.tasks.humanoid import evaluation as humanoid_eval

    policy = humanoid_eval.onnx_policy(root / "models" / "humanoid" / "humanoid_ppo.onnx")
    obs = native_env().reset(seed=0)[0]
    action = policy(obs)
    assert action.shape == (17,) and np.all(np.abs(action) <= 0.4 + 1e-6)
    result = humanoid_eval.evaluate_gymnasium(policy, episodes=2, episode_steps=5, seed=0, jit=False)
    assert result["episodes"] == 2 and result["mean_length"] == 5.0  # the shipped PPO stands 5 steps
    assert 20 < result["mean_return"] < 30  # about 5 per step: alive bonus, small velocity and control terms
    with pytest.raises(ValueError, match=r"not \[batch, 376\] -> \[batch, 17\]"):
        humanoid_eval.onnx_policy(root / "web" / "public" / "models" / "policy.onnx")  # the cube's policy


@pytest.mark.integration
def test_warp_envs_auto_reset_in_a_batch():
    """Warp's contact buffers are shared by the worlds: the auto-reset keeps them whole
    (HumanoidEnv.select), so a batch steps past its episodes' ends under jit and scan."""
    from orient_jax.envs.wrappers import wrap_for_training

    env = wrap_for_training(HumanoidEnv(HumanoidConfig(impl="warp"), worlds=4), episode_length=2, stagger=False)
    state = jax.jit(env.reset)(jax.random.split(jax.random.PRNGKey(0), 4))

    @jax.jit
    def roll(state):
        def body(s, _):
            s = env.step(s, jnp.zeros((4, 17)))
            return s, (s.done, s.info["steps"])

        return jax.lax.scan(body, state, None, length=3)

    state, (done, steps) = roll(state)
    np.testing.assert_array_equal(np.asarray(done[1]), 1.0)  # every episode truncated at step 2
    np.testing.assert_array_equal(np.asarray(steps), [[1] * 4, [0] * 4, [1] * 4])
    assert np.all(np.isfinite(np.asarray(state.obs)))
    assert np.asarray(state.pipeline_state._impl.contact__dist).ndim == 1  # still one buffer for all worlds
