"""The whole pipeline, quick preset, in one command (what `make demo` runs).

    python -m experiments.demo                 # run (or skip) every stage, print the figures, serve
    python -m experiments.demo --no-serve      # stop after the summary
    python -m experiments.demo --list          # each stage's state and command; runs nothing:
                                               # valid, resume, stale (redone), missing (not made
                                               # yet) or waiting (checked after its inputs run)

Stages, in order (each prints its own progress bar):

  render-quick   Blender renders data/quick (4,096 images; the CNN's training set)
  render-test    Blender renders data/test (2,048 held-out images, seed 1, the spec camera)
  cnn            trains the orientation CNN (vision preset `demo`) -> runs/demo/vision
  noise          evaluates it on data/test: errors and the noise model -> runs/demo/noise
  policy         trains PPO (rotation preset `demo`) under that noise model -> runs/demo/rotation
  export         both to ONNX, checked against the browser contract, parity, ORT latency -> runs/demo/models
  web            builds the browser app with those models -> runs/demo/site (web/public stays as shipped)

Each stage's outputs are content-hashed into a stamp (OUT/stage.json, see
orient_jax/stages.py) keyed on its config and its inputs' hashes: a re-run skips every
stage whose outputs are still valid, resumes one that was interrupted, and redoes one
whose config or inputs changed or whose outputs were damaged. Then it prints a summary
of the figures (runs/demo/summary.json) and serves runs/demo/site.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from experiments.configs import rotation as rotation_presets
from experiments.configs import vision as vision_presets
from orient_jax import paths, profiles
from orient_jax.core import dataclass_config, stages
from orient_jax.export import contract
from orient_jax.vision import dataset
from render import config as render_config

REPO = paths.REPO
ROOT = Path("runs/demo")
PROFILE = "cube"  # the task profile the demo's web app serves
_FILES = profiles.get(PROFILE).artifacts
MODEL_FILES = (_FILES.pose_file, _FILES.policy_file, _FILES.task_file, contract.MANIFEST_FILE)
WEB_SOURCES = ("web/src", "web/index.html", "web/public", "web/vite.config.js", "web/package-lock.json")
PARITY_IMAGES = 512  # renders of data/test for the pose model's ONNX-vs-JAX check
LATENCY_RUNS = 200  # batch-1 ORT CPU runs per model


def command(*argv: str | Path) -> Callable[[], None]:
    """A stage body that runs one command from the repository root and fails if it fails."""
    argv = [str(a) for a in argv]

    def run() -> None:
        print(f"    $ {' '.join(argv)}", flush=True)
        subprocess.run(argv, cwd=REPO, check=True)

    run.argv = argv  # for --list
    return run


def render_stage(
    name: str,
    preset: str,
    render_python: Path,
    workers: int,
    task: str = PROFILE,
    runtime_dir: Path | None = None,
    data_root: Path = Path("data"),
) -> stages.Stage:
    """``data_root/<preset>`` of task profile ``task``; a profile whose object is its runtime's
    mesh reads it from ``runtime_dir``, and the mesh file is one of the stage's sources."""
    config = render_config.get_preset(preset)
    out = Path(data_root) / preset
    shards = tuple(dataset.shard_name(k) for k in range(config.num_shards))
    mesh = profiles.get(task).runtime.mesh
    runtime = ("--runtime-dir", Path(runtime_dir).resolve()) if runtime_dir is not None else ()
    return stages.Stage(
        name=name,
        out=out,
        outputs=(dataset.MANIFEST_FILE, *shards),
        run=command(
            render_python,
            "-m",
            "render",
            "render",
            "--preset",
            preset,
            "--task",
            task,
            "--out",
            out,
            "--workers",
            workers,
            *runtime,
        ),  # fmt: skip
        config={"render": dataclass_config.to_dict(config), "task": task},
        sources=(Path(runtime_dir) / mesh,) if runtime_dir is not None and mesh else (),
        # The renderer resumes, re-checks every shard and refuses another config itself:
        # a data/<preset> rendered by `make data` is verified and kept, not thrown away.
        clean_on_stale=False,
        title=f"Blender renders {out} ({config.count:,} images, seed {config.seed})",
    )


def cnn_stage(preset: str, exp, out: Path, render: str, overrides: tuple[str, ...] = ()) -> stages.Stage:
    """The orientation CNN of vision preset ``preset`` (``exp``: it with ``overrides``) trained into
    ``out`` on the renders of stage ``render``; a model it starts from is one of its sources."""
    return stages.Stage(
        name="cnn",
        out=out,
        outputs=("config.json", "model"),
        run=command(
            sys.executable,
            "-m",
            "experiments.train",
            "vision",
            "--config",
            preset,
            "--run",
            out,
            "--no-eval",
            *overrides,
        ),  # fmt: skip
        config={"vision": dataclass_config.to_dict(exp)},
        needs=(render,),
        sources=(REPO / exp.init_from,) if exp.init_from else (),
        title=f"train the orientation CNN on {exp.data}, {exp.epochs} epochs (preset {preset})"
        + (f", from {exp.init_from}" if exp.init_from else ""),
    )


def noise_stage(vision: Path, test_data: str | Path, out: Path) -> stages.Stage:
    """The CNN in ``vision`` measured on the held-out renders ``test_data`` (stage ``render-test``):
    its errors, and the error model the policy trains under."""
    return stages.Stage(
        name="noise",
        out=out,
        outputs=("vision_eval.json", "error_model.json"),
        run=command(
            sys.executable, "-m", "experiments.evaluate", "vision", "--run", vision, "--data", test_data, "--out", out
        ),
        needs=("cnn", "render-test"),
        title=f"measure the CNN on {test_data}: its error is the policy's noise model",
    )


def build_stages(root: Path, render_python: Path, workers: int) -> list[stages.Stage]:
    py = sys.executable
    vision, noise, rotation, models, site = (root / n for n in ("vision", "noise", "rotation", "models", "site"))
    noise_override = f"env.noise_model={noise / 'error_model.json'}"
    rotation_exp = dataclass_config.apply_overrides(rotation_presets.PRESETS.get("demo"), [noise_override])
    vision_exp = vision_presets.PRESETS.get("demo")

    def export_and_check() -> None:
        sources = ["--task", PROFILE, "--vision-run", vision, "--policy-run", rotation, "--out", models]
        parity = ["--parity-data", vision_exp.test_data, "--parity-images", PARITY_IMAGES]
        command(py, "-m", "experiments.export", *sources, *parity)()
        argv = [
            py,
            "-m",
            "experiments.check_onnx",
            str(models),
            "--task",
            PROFILE,
            "--latency",
            str(LATENCY_RUNS),
            "--json",
        ]
        print(f"    $ {' '.join(argv)}", flush=True)
        proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
        print(proc.stderr.rstrip())  # the report; with --json, stdout is the JSON document alone
        if proc.returncode != 0:
            raise RuntimeError(f"the browser contract check failed on {models}:\n{proc.stderr}")
        (models / "check.json").write_text(json.dumps(json.loads(proc.stdout)) + "\n")

    def build_site() -> None:
        command("npm", "--prefix", "web", "run", "build", "--", "--outDir", (REPO / site).resolve(), "--emptyOutDir")()
        for name in MODEL_FILES:  # the demo's models replace the shipped ones in the built site only
            shutil.copyfile(models / name, site / "models" / name)
            if stages.sha256_file(models / name) != stages.sha256_file(site / "models" / name):
                raise RuntimeError(f"copying {models / name} into {site / 'models'} failed")

    return [
        render_stage("render-quick", "quick", render_python, workers),
        render_stage("render-test", "test", render_python, workers),
        cnn_stage("demo", vision_exp, vision, "render-quick"),
        noise_stage(vision, vision_exp.test_data, noise),
        stages.Stage(
            name="policy",
            out=rotation,
            outputs=("config.json", "policy", "eval.json"),
            run=command(
                py, "-m", "experiments.train", "rotation", "--config", "demo", "--run", rotation, noise_override
            ),
            config={"rotation": dataclass_config.to_dict(rotation_exp)},
            needs=("noise",),
            title=f"train PPO under the CNN's noise, {rotation_exp.ppo.total_env_steps:,} env steps (preset demo)",
        ),
        stages.Stage(
            name="export",
            out=models,
            outputs=(*MODEL_FILES, "check.json"),
            run=export_and_check,
            config={"parity_images": PARITY_IMAGES, "latency_runs": LATENCY_RUNS},
            needs=("cnn", "policy", "render-test"),
            title="export both to ONNX, check the browser contract, parity and latency",
        ),
        stages.Stage(
            name="web",
            out=site,
            outputs=("index.html", "assets", "ort", "models"),
            run=build_site,
            needs=("export",),
            sources=tuple(REPO / s for s in WEB_SOURCES),
            title=f"build the browser app into {site} with the demo's models",
        ),
    ]


# --- the summary ------------------------------------------------------------------------


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _last_row(path: Path, key: str | None = None) -> dict:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    rows = [r for r in rows if key is None or key in r]
    return rows[-1] if rows else {}


def summarize(root: Path, outcomes: list[stages.Outcome]) -> dict:
    """The figures of this demo, read back from the stages' outputs."""
    quick = _last_row(Path("data/quick") / dataset.LOG_FILE)
    cnn_val = _last_row(root / "vision" / "metrics.jsonl", "val_median_deg")
    cnn_test = _json(root / "noise" / "vision_eval.json")
    policy = _json(root / "rotation" / "eval.json")
    policy_train = _last_row(root / "rotation" / "metrics.jsonl")
    manifest = _json(root / "models" / "manifest.json")
    check = _json(root / "models" / "check.json")
    files = manifest.get("files", {})
    return {
        "stages": {
            o.name: {"status": o.status, "seconds": round(o.seconds, 1), "seconds_when_made": o.stamp.get("seconds")}
            for o in outcomes
        },
        "render_quick_images_per_s": quick.get("images_per_s"),
        "cnn_epochs": cnn_val.get("epoch"),
        "cnn_val_median_deg": cnn_val.get("val_median_deg"),
        "cnn_test_images": cnn_test.get("n"),
        "cnn_test_median_deg": cnn_test.get("median_deg"),
        "cnn_test_p95_deg": cnn_test.get("p95_deg"),
        "policy_env_steps": policy_train.get("env_steps"),
        "policy_train_success_rate": policy_train.get("success_rate"),
        "policy_eval_episodes": policy.get("episodes"),
        "policy_success_rate": policy.get("success_rate"),
        "policy_median_time_to_upright_s": policy.get("median_time_to_upright_s"),
        "onnx_parity_max_abs": {
            name: max((p["max_abs"] for p in entry.get("parity", [])), default=None)
            for name, entry in files.items()
            if name.endswith(".onnx")
        },
        "onnx_ort_cpu_ms": {name: t.get("mean_ms") for name, t in check.get("latency", {}).items()},
        "served_models": {
            name: {"sha256": entry["sha256"], "source": entry.get("source", {}).get("path")}
            for name, entry in files.items()
            if name.endswith(".onnx")
        },
    }


def format_summary(s: dict) -> str:
    def num(v, fmt: str) -> str:
        return "n/a" if v is None else format(v, fmt)

    lines = ["", "=" * 78, "orient-jax demo: summary", "-" * 78, f"{'stage':<14}{'this run':>12}{'when made':>12}"]
    for name, st in s["stages"].items():
        now = "skipped" if st["status"] == "skipped" else f"{st['seconds']:.0f} s"
        lines.append(f"{name:<14}{now:>12}{num(st['seconds_when_made'], '.0f') + ' s':>12}")
    total = sum(st["seconds"] for st in s["stages"].values())
    lines += [f"{'total':<14}{total:>10.0f} s", "-" * 78]
    parity = s["onnx_parity_max_abs"]
    latency = s["onnx_ort_cpu_ms"]
    lines += [
        f"renders          data/quick at {num(s['render_quick_images_per_s'], '.1f')} images/s",
        f"CNN              {num(s['cnn_epochs'], '.0f')} epochs; held-out data/test ({s['cnn_test_images']} images): "
        f"median {num(s['cnn_test_median_deg'], '.2f')} deg, p95 {num(s['cnn_test_p95_deg'], '.2f')} deg "
        f"(validation median {num(s['cnn_val_median_deg'], '.2f')} deg)",
        f"policy           {num(s['policy_env_steps'], ',')} env steps under the CNN's noise model; "
        f"success {num(s['policy_success_rate'], '.3f')} over {s['policy_eval_episodes']} episodes, "
        f"median time to upright {num(s['policy_median_time_to_upright_s'], '.2f')} s",
        "ONNX             " + ", ".join(f"{k} parity {num(v, '.1e')}" for k, v in parity.items()),
        "ORT CPU batch 1  " + ", ".join(f"{k} {num(v, '.2f')} ms" for k, v in latency.items()),
        "served models    "
        + "; ".join(f"{k} {v['sha256'][:12]} from {v['source']}" for k, v in s["served_models"].items()),
        "=" * 78,
    ]
    return "\n".join(lines)


def within_repo(root: Path) -> Path:
    """``root`` from the working directory; relative to the repository when it lies inside it
    (the stages' keys hold their paths, and runs/demo made from the repository keeps its keys)."""
    root = Path(root).resolve()
    try:
        return root.relative_to(REPO.resolve())
    except ValueError:
        return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="where the demo's runs go (default runs/demo)")
    parser.add_argument("--render-python", type=Path, default=Path(".render-venv/bin/python"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="render processes")
    parser.add_argument("--no-serve", action="store_true", help="stop after the summary")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--list", action="store_true", help="print each stage's state and command, run nothing")
    parser.add_argument(
        "--move-aside", action="store_true", help="rename a stage folder this pipeline did not make, not stop"
    )
    args = parser.parse_args(argv)
    args.root = within_repo(args.root)  # --root is the user's path, from where they stand
    os.chdir(REPO)  # every path in the stages (and in the runs' configs) is relative to the repository
    pipeline = build_stages(args.root, args.render_python, args.workers)

    if args.list:  # valid: skipped; resume: continues; stale: redone; missing: made; waiting: see stages.plan
        print(stages.describe_plan(pipeline))
        return 0
    if not args.render_python.exists():
        print(f"error: {args.render_python} not found: run `make render-setup` (or `make demo`)", file=sys.stderr)
        return 2
    try:
        outcomes = stages.run_pipeline(pipeline, move_aside=args.move_aside)
    except stages.ForeignOutput as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as e:
        print(
            f"\nerror: a stage failed ({' '.join(map(str, e.cmd))} exited {e.returncode}); fix it and re-run "
            "`make demo`: finished stages are skipped, an interrupted one resumes",
            file=sys.stderr,
        )
        return 1
    except (RuntimeError, OSError, ValueError) as e:
        print(f"\nerror: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: re-run `make demo` to resume (finished stages are skipped)", file=sys.stderr)
        return 130
    summary = summarize(args.root, outcomes)
    (args.root / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(format_summary(summary))
    if args.no_serve:
        print(f"built {args.root / 'site'}; serve it with `node web/scripts/serve.mjs --root {args.root / 'site'}`")
        return 0
    try:
        serve = [
            "node",
            "web/scripts/serve.mjs",
            "--root",
            str(args.root / "site"),
            "--port",
            str(args.port),
            "--host",
            args.host,
        ]
        return subprocess.run(serve, cwd=REPO).returncode
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
