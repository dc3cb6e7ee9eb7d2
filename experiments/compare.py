"""Compare methods over seeds: IQM, mean and median with 95 % bootstrap intervals, and curves.

    python -m experiments.compare runs/rotation/a-s0 runs/rotation/a-s1 runs/rotation/b-s0 ...
    python -m experiments.compare base=runs/humanoid/x-s0 base=runs/humanoid/x-s1 gap=runs/humanoid/y-s0
    python -m experiments.compare RUN ... --score eval.json:median_time_to_upright_s --curve reward_mean

Every RUN is one seed of one method, or every seed of a run trained with ``--seeds N``
(its ``seeds.jsonl`` rows and ``eval.json``'s ``per_seed`` figures). A ``LABEL=RUN`` names its
method; otherwise runs whose configs differ only in ``seed`` (and ``seeds``) are one method,
labelled by their preset and the keys in which they differ from the first run. Every run
must be of one task (kind, task profile, episode length): comparing across tasks is an error.

The score of a run is a figure of its final evaluation (``FILE:KEY``, dots for nested keys;
by default a rotation run's ``eval.json:success_rate``, a vision run's
``vision_eval.json:median_deg``, a Humanoid run's ``summary.json:last100``). The curve is a
``metrics.jsonl`` figure over env steps (the vision CNN: over epochs), each run
interpolated onto the steps every run reached. Statistics: ``orient_jax.core.stats``.

Writes ``OUT/compare.json``, ``OUT/compare.md``, ``OUT/curves.png`` and an offline
interactive ``OUT/curves.html`` (default OUT: ``runs/compare``); prints the table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from experiments import json_output
from orient_jax.core import dataclass_config, runs, stats

# Per experiment class: (score file, score key, curve key, curve x)
DEFAULTS = {
    "RotationExperiment": ("eval.json", "success_rate", "success_rate", "env_steps"),
    "VisionExperiment": ("vision_eval.json", "median_deg", "val_median_deg", "epoch"),
    # The Humanoid's training curve by algorithm: the DQN's last-100-episode mean, PPO's mean
    # return of one update's finished episodes.
    "HumanoidExperiment": ("summary.json", "last100", {"dqn": "return_last100", "ppo": "episode_return"}, "env_steps"),
}
GRID = 100  # curve points


class CompareError(ValueError):
    pass


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CompareError(f"{path} not found (has the run finished and been evaluated?)") from None
    except ValueError as e:
        raise CompareError(f"{path} is not JSON: {e}") from None


def _lookup(data: dict, key: str, where: Path):
    value = data
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise CompareError(f"{where} has no {key!r}")
        value = value[part]
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not np.isfinite(value):
        raise CompareError(f"{where}: {key} is {value!r}, not a finite number")
    return float(value)


def load_runs(items: list[str]) -> list[dict]:
    """Each run's directory, label (explicit or None), config record and task."""
    out = []
    for item in items:
        label, sep, directory = item.rpartition("=") if "=" in item else ("", "", item)
        if sep and not label:
            raise CompareError(f"{item!r}: expected RUN or LABEL=RUN")
        run_dir = Path(directory)
        config = _read_json(run_dir / "config.json")
        if "experiment" not in config or "preset" not in config:
            raise CompareError(f"{run_dir / 'config.json'} is not a run's config")
        experiment = config["experiment"]
        kind = str(config.get("type", "")).rpartition(":")[2] or None
        task = (kind, experiment.get("task"), experiment.get("episode_steps"))
        entry = {"dir": run_dir, "label": label or None, "config": config, "kind": kind, "task": task, "seed": None}
        several = experiment.get("seeds", 1)
        if isinstance(several, int) and several > 1:  # a vmapped run: one entry per seed
            first = experiment.get("seed", 0)
            out += [{**entry, "seed": first + i, "name": f"{run_dir}#seed-{first + i}"} for i in range(several)]
        else:
            out.append({**entry, "name": str(run_dir)})
    tasks = {r["task"] for r in out}
    if len(tasks) > 1:
        listing = "; ".join(
            f"{r['dir']}: {r['task'][0]} {r['task'][1] or ''} {r['task'][2] or ''}".strip() for r in out
        )
        raise CompareError(f"these runs are of different tasks, which compare cannot put side by side ({listing})")
    return out


def method_labels(run_list: list[dict]) -> list[str]:
    """An explicit label, or the preset and the keys (seed aside) in which the run's
    config differs from the first run's."""
    first = run_list[0]["config"]["experiment"]
    labels = []
    for r in run_list:
        if r["label"]:
            labels.append(r["label"])
            continue
        diffs = [
            (k, b)
            for k, _, b in dataclass_config.differences(first, r["config"]["experiment"])
            if k not in ("seed", "seeds")
        ]
        labels.append(" ".join([r["config"]["preset"], *(f"{k}={v}" for k, v in diffs)]))
    return labels


def curves(run_list: list[dict], key: str, x_key: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """Every run's ``key`` over ``x_key``, interpolated onto the range every run reached."""
    series = []
    for r in run_list:
        if r["seed"] is None:
            rows = runs.MetricsLog(r["dir"] / "metrics.jsonl").read()
        else:
            rows = [row for row in runs.MetricsLog(r["dir"] / "seeds.jsonl").read() if row.get("seed") == r["seed"]]
        points = [(row[x_key], row[key]) for row in rows if row.get(key) is not None and row.get(x_key) is not None]
        if len(points) < 2:
            log = "metrics.jsonl" if r["seed"] is None else f"seeds.jsonl (seed {r['seed']})"
            raise CompareError(f"{r['dir'] / log} has fewer than two rows with {key!r} over {x_key!r}")
        series.append(np.array(points, np.float64).T)
    lo, hi = max(s[0].min() for s in series), min(s[0].max() for s in series)
    if not hi > lo:
        raise CompareError(f"the runs share no range of {x_key} to compare their curves over")
    grid = np.linspace(lo, hi, GRID)
    return grid, [np.interp(grid, x, y) for x, y in series]


def run_score(r: dict, score_file: str, score_key: str) -> float:
    """The run's figure; for one seed of a vmapped run, that seed's entry of ``per_seed``."""
    where = r["dir"] / score_file
    data = _read_json(where)
    if r["seed"] is not None:
        mine = [p for p in data.get("per_seed", []) if isinstance(p, dict) and p.get("training_seed") == r["seed"]]
        if not mine:
            raise CompareError(f"{where} has no per_seed figures for seed {r['seed']}")
        data = mine[0]
    return _lookup(data, score_key, where)


def compare(items: list[str], score: str | None = None, curve: str | None = None) -> dict:
    run_list = load_runs(items)
    kind = run_list[0]["kind"]
    default = DEFAULTS.get(kind)
    if default is None and (score is None or curve is None):
        raise CompareError(
            f"no default score or curve for {kind or 'these runs'}: give --score FILE:KEY and --curve KEY"
        )
    score_file, score_key = score.split(":", 1) if score else default[:2]
    curve_key, x_key = (curve or default[2]), (default[3] if default else "update")
    if isinstance(curve_key, dict):  # by algorithm: one for every run, or none
        algos = sorted({str(r["config"]["experiment"].get("algo")) for r in run_list})
        if len(algos) > 1 or algos[0] not in curve_key:
            raise CompareError(f"these runs train with {', '.join(algos)}: no default curve fits, give --curve KEY")
        curve_key = curve_key[algos[0]]
    labels = method_labels(run_list)
    scores = [run_score(r, score_file, score_key) for r in run_list]
    grid, ys = curves(run_list, curve_key, x_key)
    methods = {}
    for label in dict.fromkeys(labels):
        idx = [i for i, lab in enumerate(labels) if lab == label]
        band = np.stack([ys[i] for i in idx])
        cis = [stats.interval(band[:, j]) for j in range(len(grid))]
        methods[label] = {
            "runs": [run_list[i]["name"] for i in idx],
            "scores": [scores[i] for i in idx],
            **stats.summary([scores[i] for i in idx]),
            "curve": {
                "iqm": stats.iqm(band, axis=0).tolist(),
                "ci95_low": [c[0] if c else None for c in cis],
                "ci95_high": [c[1] if c else None for c in cis],
            },
        }
    return {
        "task": {"kind": kind, "task": run_list[0]["task"][1], "episode_steps": run_list[0]["task"][2]},
        "score": f"{score_file}:{score_key}",
        "curve": {"key": curve_key, "x": x_key, "grid": grid.tolist()},
        "confidence": stats.CONFIDENCE,
        "methods": methods,
    }


def table(result: dict) -> str:
    def fmt(v) -> str:
        return f"{v:.4g}"

    def ci(v) -> str:
        return "–" if v is None else f"[{fmt(v[0])}, {fmt(v[1])}]"

    lines = [
        f"score: {result['score']} (95 % percentile bootstrap over seeds)",
        "",
        "| method | seeds | IQM | 95 % CI | mean | 95 % CI | median | 95 % CI |",
        "|---|---:|---:|---|---:|---|---:|---|",
    ]
    for label, m in result["methods"].items():
        lines.append(
            f"| {label} | {m['seeds']} | {fmt(m['iqm'])} | {ci(m['iqm_ci95'])} | {fmt(m['mean'])} | "
            f"{ci(m['mean_ci95'])} | {fmt(m['median'])} | {ci(m['median_ci95'])} |"
        )
    return "\n".join(lines)


def plot(result: dict, png: Path, html: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import plotly.graph_objects as go

    grid = np.array(result["curve"]["grid"])
    x_name, y_name = result["curve"]["x"], result["curve"]["key"]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    web = go.Figure()
    for label, m in result["methods"].items():
        mid = np.array(m["curve"]["iqm"])
        low = np.array([np.nan if v is None else v for v in m["curve"]["ci95_low"]])
        high = np.array([np.nan if v is None else v for v in m["curve"]["ci95_high"]])
        name = f"{label} ({m['seeds']} seeds)"
        (line,) = ax.plot(grid, mid, label=name)
        ax.fill_between(grid, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        band = {"fill": "toself", "opacity": 0.2, "line": {"width": 0}, "showlegend": False, "hoverinfo": "skip"}
        web.add_trace(go.Scatter(x=np.concatenate([grid, grid[::-1]]), y=np.concatenate([high, low[::-1]]), **band))
        web.add_trace(go.Scatter(x=grid, y=mid, mode="lines", name=name))
    ax.set_xlabel(x_name)
    ax.set_ylabel(f"{y_name} (IQM over seeds, 95 % CI shaded)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)
    web.update_layout(xaxis_title=x_name, yaxis_title=f"{y_name}: IQM over seeds, 95 % CI")
    web.write_html(html, include_plotlyjs=True, full_html=True)  # offline: plotly.js is inside


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="RUN or LABEL=RUN, one per seed")
    parser.add_argument("--score", help="FILE:KEY of each run's final figure (dots for nested keys)")
    parser.add_argument("--curve", help="the metrics.jsonl figure to draw over env steps")
    parser.add_argument("--out", type=Path, default=Path("runs/compare"), help="where the table and plots go")
    parser.add_argument("--json", action="store_true", help="stdout: one JSON document; the table goes to stderr")
    args = parser.parse_args(argv)
    with json_output.stdout_document(args.json) as doc:
        try:
            result = compare(args.runs, args.score, args.curve)
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "compare.json").write_text(json.dumps(result, indent=2) + "\n")
            (args.out / "compare.md").write_text(table(result) + "\n")
            plot(result, args.out / "curves.png", args.out / "curves.html")
        except (CompareError, OSError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(table(result))
        print(f"wrote {args.out}/compare.json, compare.md, curves.png, curves.html")
        doc.set(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
