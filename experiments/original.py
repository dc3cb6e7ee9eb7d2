"""Drop-in models for the original runtime in one resumable command (what `make original` runs).

    python -m experiments.original --runtime-dir DIR            # run (or skip) every stage; install if every goal holds
    python -m experiments.original --runtime-dir DIR --list     # each stage's state and command; runs nothing
    python -m experiments.original --runtime-dir DIR --restore  # DIR's models as they were before the first install

DIR is your checkout of sagerkudrick/main-prediction-RL at 6957ebb. It is checked byte
for byte first; nothing of it is copied into the repository. Stages, in order (each on
orient_jax/core/stages.py: content-hashed, skipped when valid, resumed when interrupted):

  render         Blender renders of its motor through its page's camera and lights -> data/original-pipeline
  render-test    held-out renders (seed 1, the page's camera exactly) -> data/original-pipeline-test
  cnn            the pose CNN, the cube CNN's weights fine-tuned on the renders -> runs/original/vision
  noise          the CNN on the held-out renders: its errors are the policy's noise model -> runs/original/noise
  policy         PPO in MJX under the page's physics, cadence and that noise model, stopped once
                 its training success holds -> runs/original/rotation
  export         both to the original's ONNX files, contract and parity checked -> runs/original/models
  verify         a private copy of DIR with the new models in it, run by its own unchanged JS:
                 Node drops with the true pose and with the error model, the pose model on the
                 page's own frames and whole episodes of the page (Chromium) -> runs/original/verify

Then, only if every goal holds, the models are installed into DIR (the first install backs
up DIR's own models; --restore brings them back exactly). A goal that fails is named in
the summary and DIR is left as it was. The figures go to runs/original/summary.json, the
goal figures' keys of docs/results/original_runtime.json to runs/original/original_runtime.json
and the stages' times to runs/original/original_pipeline.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from experiments import original_results
from experiments.configs import rotation as rotation_presets
from experiments.configs import vision as vision_presets
from experiments.demo import cnn_stage, command, noise_stage, render_stage, within_repo
from orient_jax import paths, profiles
from orient_jax.core import dataclass_config, stages
from orient_jax.export import install
from orient_jax.profiles.spec import TaskSpec
from orient_jax.tasks.rotation.mesh import HOW_TO_GET

REPO = paths.REPO
ROOT = Path("runs/original")
TASK = "original"


@dataclasses.dataclass(frozen=True)
class Plan:
    """What the pipeline makes: the presets of each stage and the sizes of the verification."""

    render: str = "original-pipeline"  # render/config.py presets
    render_test: str = "original-pipeline-test"
    vision: str = "original_pipeline"  # experiments/configs/vision.py
    rotation: str = "original_cpu"  # experiments/configs/rotation.py
    parity_images: int = 256  # held-out renders the pose model's ONNX is compared on
    node_episodes: int = 200  # seeded drops in Node, with the true pose and with the error model
    frames: int = 200  # page renders the pose model is scored on (Chromium)
    page_episodes: int = 10  # whole page episodes (Chromium)


# The goals every install must meet (the `original` profile's issue): key of the figures,
# what it says, and the test.
GOALS: tuple[tuple[str, str, Callable[[dict], bool]], ...] = (
    ("node_upright_rate", "Node, true pose: >= 95 % upright", lambda f: f["node_upright_rate"] >= 0.95),
    (
        "node_upright_rate_error_model",
        "Node, the CNN's error model: >= 95 % upright",
        lambda f: f["node_upright_rate_error_model"] >= 0.95,
    ),
    ("pose_median_deg", "page frames: pose median <= 5 deg", lambda f: f["pose_median_deg"] <= 5.0),
    ("pose_p95_deg", "page frames: pose p95 <= 15 deg", lambda f: f["pose_p95_deg"] <= 15.0),
    (
        "chromium_upright",
        "page episodes: >= 90 % upright (9 of 10)",
        lambda f: f["chromium_upright"] >= 0.9 * f["chromium_episodes"],
    ),
    ("console_problems", "page: no console error, page error or failed request", lambda f: f["console_problems"] == 0),
)


def judge(figures: dict) -> list[dict]:
    """Each goal with its figure and whether it holds (a missing figure fails it)."""
    rows = []
    for key, about, holds in GOALS:
        try:
            ok = bool(holds(figures))
        except (KeyError, TypeError):
            ok = False
        rows.append({"key": key, "goal": about, "value": figures.get(key), "pass": ok})
    return rows


# --- verification in the runtime's own JS ----------------------------------------------------

Verifier = Callable[[Path, Path, Path, Path, Plan], dict]  # (models, noise model, runtime, out, plan) -> figures


def private_copy(runtime_dir: Path, to: Path) -> Path:
    """The runtime's folder, copied (its git data left out) for the new models to go into."""
    if to.exists():
        shutil.rmtree(to)
    shutil.copytree(runtime_dir, to, ignore=shutil.ignore_patterns(".git", install.BACKUP), symlinks=False)
    return to


def _node(script: str, *args: str | Path) -> list[str]:
    return ["node", str(REPO / "original" / script), *map(str, args)]


def _run_with_progress(jobs: list[tuple[list[str], Path]], total: int, desc: str, marker: str) -> None:
    """Run the commands at once (stdout to each one's file, stderr to file.log) and show one
    bar, advanced by every stderr line that starts with ``marker``. A failure raises with its log."""
    procs, files = [], []
    for argv, out in jobs:
        print(f"    $ {' '.join(argv)} > {out}", flush=True)
        files += [out.open("w"), out.with_suffix(".log").open("w")]
        procs.append((subprocess.Popen(argv, cwd=REPO, stdout=files[-2], stderr=files[-1]), out, argv))
    try:
        with tqdm(total=total, desc=desc, dynamic_ncols=True) as bar:
            while True:
                logs = [out.with_suffix(".log").read_text().splitlines() for _, out, _ in procs]
                bar.update(sum(line.startswith(marker) for lines in logs for line in lines) - bar.n)
                if all(p.poll() is not None for p, _, _ in procs):
                    break
                time.sleep(1.0)
    finally:
        for p, _, _ in procs:
            if p.poll() is None:  # interrupted: the harness processes go too
                p.terminate()
                p.wait()
        for f in files:
            f.close()
    for p, out, argv in procs:
        if p.returncode != 0:
            log = out.with_suffix(".log").read_text().strip().splitlines()
            raise subprocess.CalledProcessError(p.returncode, argv, stderr="\n".join(log[-5:]))


def node_verifier(models: Path, noise_model: Path, runtime_dir: Path, out: Path, plan: Plan) -> dict:
    """The models in a private copy of the runtime, scored by its own unchanged JS: the two
    Node runs at once (one core each), then the page's frames and episodes in Chromium."""
    copy = private_copy(runtime_dir, out / "runtime")
    result = install.install(models, copy, profiles.get(TASK), HOW_TO_GET)
    print(f"    installed into the private copy {copy}: {', '.join(map(str, result['installed']))}")
    node, noisy, frames, page = (out / n for n in ("node.json", "node_error_model.json", "frames.json", "page.json"))
    drops = ("--runtime-dir", copy, "--episodes", plan.node_episodes, "--progress", "--json")
    _run_with_progress(
        [(_node("eval.mjs", *drops), node), (_node("eval.mjs", *drops, "--noise-model", noise_model.resolve()), noisy)],
        2 * plan.node_episodes,
        "Node drops (true pose, error model)",
        "drop ",
    )
    shots = _node("frames.mjs", "--runtime-dir", copy, "--frames", plan.frames, "--json")
    _run_with_progress([(shots, frames)], 1, "page frames (Chromium)", "pose error on")
    episodes = _node("page_eval.mjs", "--runtime-dir", copy, "--episodes", plan.page_episodes, "--json")
    _run_with_progress([(episodes, page)], plan.page_episodes, "page episodes (Chromium)", "seed ")
    shutil.rmtree(copy)  # the copy has served; its figures stay
    return original_results.collect(node, frames, page, node_noise=noisy)


# --- the stages -------------------------------------------------------------------------------


def _blank_runtime(config: dict) -> dict:
    """A run config without the runtime folder's path (the mesh's bytes are a source instead)."""
    config = json.loads(json.dumps(config))
    config.get("env", {}).pop("runtime_dir", None)
    return config


def build_stages(
    root: Path,
    runtime_dir: Path,
    plan: Plan,
    render_python: Path,
    workers: int,
    verifier: Verifier = node_verifier,
    data_root: Path = Path("data"),
) -> list[stages.Stage]:
    py = sys.executable
    spec = profiles.get(TASK)
    mesh = runtime_dir / spec.runtime.mesh
    vision, noise, rotation, models, verify = (root / n for n in ("vision", "noise", "rotation", "models", "verify"))
    render = render_stage("render", plan.render, render_python, workers, TASK, runtime_dir, data_root)
    render_test = render_stage("render-test", plan.render_test, render_python, workers, TASK, runtime_dir, data_root)
    test_data = render_test.out
    data_overrides = [f"data={render.out}", f"test_data={test_data}"]  # the renders of this pipeline
    vision_exp = dataclass_config.apply_overrides(vision_presets.PRESETS.get(plan.vision), data_overrides)
    env_overrides = [f"env.runtime_dir={runtime_dir}", f"env.noise_model={noise / 'error_model.json'}"]
    rotation_exp = dataclass_config.apply_overrides(rotation_presets.PRESETS.get(plan.rotation), env_overrides)

    def export() -> None:
        command(
            py,
            "-m",
            "experiments.export",
            "--task",
            TASK,
            "--vision-run",
            vision,
            "--policy-run",
            rotation,
            "--out",
            models,
            "--parity-data",
            test_data,
            "--parity-images",
            plan.parity_images,
        )()

    def run_verify() -> None:
        verify.mkdir(parents=True, exist_ok=True)
        figures = verifier(models, noise / "error_model.json", runtime_dir, verify, plan)
        figures["goals"] = judge(figures)
        (verify / "figures.json").write_text(json.dumps(figures, indent=2, allow_nan=False) + "\n")

    return [
        render,
        render_test,
        cnn_stage(plan.vision, vision_exp, vision, "render", tuple(data_overrides)),
        noise_stage(vision, test_data, noise),
        stages.Stage(
            name="policy",
            out=rotation,
            outputs=("config.json", "policy", "eval.json"),
            run=command(
                py, "-m", "experiments.train", "rotation", "--config", plan.rotation, "--run", rotation, *env_overrides
            ),
            config={"rotation": _blank_runtime(dataclass_config.to_dict(rotation_exp))},
            needs=("noise",),
            sources=(mesh,),
            title=f"PPO under the page's physics and the CNN's noise, at most {rotation_exp.ppo.total_env_steps:,} "
            f"env steps (rotation preset {plan.rotation})",
        ),
        stages.Stage(
            name="export",
            out=models,
            outputs=(spec.artifacts.pose_file, spec.artifacts.policy_file, "manifest.json"),
            run=export,
            config={"parity_images": plan.parity_images},
            needs=("cnn", "policy", "render-test"),
            title="both to the original's ONNX files, contract and parity checked",
        ),
        stages.Stage(
            name="verify",
            out=verify,
            outputs=("figures.json",),
            run=run_verify,
            config={"plan": dataclasses.asdict(plan), "goals": [about for _, about, _ in GOALS]},
            needs=("export", "noise"),
            sources=tuple(
                REPO / "original" / p
                for p in ("eval.mjs", "frames.mjs", "page_eval.mjs", "node", "browser", "package-lock.json")
            ),
            title=f"a private copy of the runtime with the new models, run by its own JS ({plan.node_episodes} + "
            f"{plan.node_episodes} Node drops, {plan.frames} page frames, {plan.page_episodes} page episodes)",
        ),
    ]


# --- install, summary --------------------------------------------------------------------------


def install_if_passed(root: Path, runtime_dir: Path, spec: TaskSpec) -> dict:
    """Install the verified models into the user's folder when every goal held; otherwise
    touch nothing. Returns what happened."""
    figures = json.loads((root / "verify" / "figures.json").read_text())
    failed = [g for g in figures["goals"] if not g["pass"]]
    if failed:
        return {"installed": False, "failed": failed}
    result = install.install(root / "models", runtime_dir, spec, HOW_TO_GET)
    return {
        "installed": True,
        "failed": [],
        "files": [str(p) for p in result["installed"]],
        "unchanged": [str(p) for p in result["unchanged"]],
        "backup": str(result["backup"]),
        "backup_made": result["backup_made"],
    }


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def summarize(root: Path, outcomes: list[stages.Outcome], install_result: dict, wall_s: float) -> dict:
    figures = _json(root / "verify" / "figures.json")
    cnn = _json(root / "noise" / "vision_eval.json")
    policy = _json(root / "rotation" / "eval.json")
    log = root / "rotation" / "metrics.jsonl"
    metrics = log.read_text().splitlines() if log.exists() else []
    return {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}",
        "wall_s": round(wall_s, 1),
        "stages": {
            o.name: {"status": o.status, "seconds": round(o.seconds, 1), "seconds_when_made": o.stamp.get("seconds")}
            for o in outcomes
        },
        "cnn_test_median_deg": cnn.get("median_deg"),
        "cnn_test_p95_deg": cnn.get("p95_deg"),
        "cnn_test_max_deg": cnn.get("max_deg"),
        "page_frames_max_deg": figures.get("details", {}).get("frames", {}).get("max_deg"),
        "policy_env_steps": json.loads(metrics[-1]).get("env_steps") if metrics else None,
        "policy_mjx_success_rate": policy.get("success_rate"),
        "goals": figures.get("goals", []),
        "install": install_result,
    }


def format_summary(s: dict) -> str:
    lines = ["", "=" * 78, "make original: summary", "-" * 78, f"{'stage':<14}{'this run':>12}{'when made':>12}"]
    for name, st in s["stages"].items():
        now = "skipped" if st["status"] == "skipped" else f"{st['seconds']:.0f} s"
        made = "n/a" if st["seconds_when_made"] is None else f"{st['seconds_when_made']:.0f} s"
        lines.append(f"{name:<14}{now:>12}{made:>12}")
    lines += [f"{'wall':<14}{s['wall_s']:>10.0f} s", "-" * 78]
    num = lambda v, f: "n/a" if v is None else format(v, f)  # noqa: E731
    median, p95 = num(s["cnn_test_median_deg"], ".2f"), num(s["cnn_test_p95_deg"], ".2f")
    worst, page_worst = num(s["cnn_test_max_deg"], ".1f"), num(s["page_frames_max_deg"], ".1f")
    lines.append(f"CNN held-out   median {median} deg, p95 {p95} deg, max {worst} deg")
    lines.append(f"page frames    worst {page_worst} deg")
    steps, success = num(s["policy_env_steps"], ","), num(s["policy_mjx_success_rate"], ".3f")
    lines.append(f"policy         {steps} env steps; MJX success {success}")
    for g in s["goals"]:
        value = g["value"]
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"{'PASS' if g['pass'] else 'FAIL':<6} {g['goal']:<55} {shown}")
    inst = s["install"]
    if inst.get("installed"):
        lines.append(
            f"installed      {', '.join(inst['files']) or 'nothing new (already these models)'}; backup "
            f"{inst['backup']} (--restore puts it back)"
        )
    else:
        lines.append(f"NOT installed  {len(inst.get('failed', []))} goal(s) failed: the runtime's folder is unchanged")
    lines.append("=" * 78)
    return "\n".join(lines)


def check_runtime(runtime_dir: Path | None, spec: TaskSpec) -> Path:
    """The runtime's folder, checked byte for byte, or InstallError saying how to get it."""
    if runtime_dir is None:
        how = "pass --runtime-dir DIR (make original RUNTIME_DIR=DIR)"
        raise install.InstallError(f"no runtime folder: {how}; {HOW_TO_GET}")
    install.verify_runtime(runtime_dir, spec, HOW_TO_GET)
    return Path(runtime_dir).resolve()


def main(
    argv: list[str] | None = None, plan: Plan = Plan(), spec: TaskSpec | None = None, verifier: Verifier = node_verifier
) -> int:
    """``plan``, ``spec`` (the runtime's recorded files) and ``verifier``: the tests' stand-ins."""
    started = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runtime-dir", type=Path, help="your checkout of the original runtime at 6957ebb")
    parser.add_argument("--root", type=Path, default=ROOT, help="where the pipeline's runs go (default runs/original)")
    parser.add_argument("--data-root", type=Path, default=Path("data"), help="where the renders go (default data)")
    parser.add_argument("--render-python", type=Path, default=Path(".render-venv/bin/python"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="render processes")
    parser.add_argument("--list", action="store_true", help="print each stage's state and command, run nothing")
    parser.add_argument("--restore", action="store_true", help="put the runtime's own models back, run nothing")
    parser.add_argument("--move-aside", action="store_true", help="rename a stage folder this pipeline did not make")
    args = parser.parse_args(argv)
    spec = spec or profiles.get(TASK)
    try:
        runtime_dir = check_runtime(args.runtime_dir, spec)
        if args.restore:
            result = install.restore(runtime_dir, spec)
            restored = ", ".join(map(str, result["restored"])) or "nothing"
            print(f"restored {restored}; removed the backup {result['backup']}")
            return 0
    except (install.InstallError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    args.root, args.data_root = within_repo(args.root), within_repo(args.data_root)
    os.chdir(REPO)  # the stages' paths (and their runs' configs) are relative to the repository
    pipeline = build_stages(args.root, runtime_dir, plan, args.render_python, args.workers, verifier, args.data_root)
    if args.list:
        print(stages.describe_plan(pipeline))
        return 0
    if not args.render_python.exists():
        print(f"error: {args.render_python} not found: run `make render-setup` (or `make original`)", file=sys.stderr)
        return 2
    try:
        outcomes = stages.run_pipeline(pipeline, move_aside=args.move_aside)
        install_result = install_if_passed(args.root, runtime_dir, spec)
    except stages.ForeignOutput as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as e:
        detail = f": {e.stderr.strip().splitlines()[-1]}" if e.stderr else ""
        print(
            f"\nerror: a stage failed ({' '.join(map(str, e.cmd))} exited {e.returncode}{detail}); fix it and re-run "
            "`make original`: finished stages are skipped, an interrupted one resumes",
            file=sys.stderr,
        )
        return 1
    except (install.InstallError, RuntimeError, OSError, ValueError) as e:
        print(f"\nerror: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: re-run `make original` to resume (finished stages are skipped)", file=sys.stderr)
        return 130
    summary = summarize(args.root, outcomes, install_result, time.perf_counter() - started)
    figures = _json(args.root / "verify" / "figures.json")
    (args.root / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (args.root / "original_runtime.json").write_text(
        json.dumps({k: v for k, v in figures.items() if k != "goals"}, indent=2) + "\n"
    )
    pipeline_record = {k: summary[k] for k in ("date", "machine", "wall_s", "stages", "goals")}
    (args.root / "original_pipeline.json").write_text(json.dumps(pipeline_record, indent=2) + "\n")
    print(format_summary(summary))
    return 0 if install_result["installed"] else 1


if __name__ == "__main__":
    sys.exit(main())
