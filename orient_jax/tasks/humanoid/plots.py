"""Learning-progress plots from a per-episode log (``episodes.jsonl``).

* ``episode_rewards.png``: return per episode, its running mean over 100 episodes,
  and an optional reference line (the published DQN's peak).
* ``plot_running_means``: several runs' running means on one axis, for comparing variants.
* ``episodes_3d_scatter.html`` and ``episodes_3d_surface.html``: episode x step x
  cumulative reward, interactive (plotly). The plotly library is embedded in each
  file, so they open offline from disk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_SCATTER_POINTS = 60_000  # keeps the HTML a few MB; episodes are thinned evenly beyond it


# The seed project's branching DQN: its peak return over 200-step episodes (episode 348),
# drawn as the reference line of the DQN plots.
PUBLISHED_PEAK = ("published DQN peak 454.41", 454.41)


def cumulative_grid(rows: list[dict]) -> np.ndarray:
    """[episodes, longest episode] cumulative reward; after an episode ends it holds its final value."""
    longest = max(len(r["cumulative"]) for r in rows)
    grid = np.empty((len(rows), longest), np.float32)
    for i, r in enumerate(rows):
        c = np.asarray(r["cumulative"], np.float32)
        grid[i, : c.size] = c
        grid[i, c.size :] = c[-1] if c.size else 0.0
    return grid


def running_mean(returns: np.ndarray, window: int = 100) -> np.ndarray:
    """Mean of the last ``window`` values at every episode (fewer at the start)."""
    sums = np.cumsum(np.concatenate([[0.0], np.asarray(returns, np.float64)]))
    i = np.arange(1, len(returns) + 1)
    start = np.maximum(0, i - window)
    return (sums[i] - sums[start]) / (i - start)


def plot_running_means(curves: dict[str, list[dict]], png: Path, reference: tuple[str, float] | None = None) -> None:
    """One line per run: the mean return of its last 100 episodes, episode by episode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for label, rows in curves.items():
        ax.plot([r["episode"] for r in rows], running_mean([r["return"] for r in rows]), lw=1.6, label=label)
    _finish(fig, ax, png, "mean return, last 100 episodes", reference, legend_size=8)


def plot_episode_rewards(rows: list[dict], png: Path, reference: tuple[str, float] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    episodes = np.array([r["episode"] for r in rows])
    returns = np.array([r["return"] for r in rows])
    window = running_mean(returns)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(episodes, returns, lw=0.6, alpha=0.5, label="episode return")
    ax.plot(episodes, window, lw=2, label="mean of last 100")
    _finish(fig, ax, png, "return", reference)


def _finish(fig, ax, png: Path, ylabel: str, reference: tuple[str, float] | None, legend_size=None) -> None:
    """The common tail of the per-episode plots: reference line, labels, grid, legend, PNG."""
    import matplotlib.pyplot as plt

    if reference is not None:
        ax.axhline(reference[1], color="k", ls="--", lw=1, label=reference[0])
    ax.set_xlabel("episode")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=legend_size)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def write_3d_views(rows: list[dict], directory: Path, title: str) -> tuple[Path, Path]:
    import plotly.graph_objects as go

    grid = cumulative_grid(rows)
    episodes = np.array([r["episode"] for r in rows])
    lengths = np.array([len(r["cumulative"]) for r in rows])
    stride = max(1, int(np.ceil(lengths.sum() / MAX_SCATTER_POINTS)))
    xs, ys, zs = [], [], []
    for i in range(0, len(rows), stride):
        n = lengths[i]
        xs.append(np.full(n, episodes[i]))
        ys.append(np.arange(1, n + 1))
        zs.append(grid[i, :n])
    x, y, z = (np.concatenate(a) for a in (xs, ys, zs))
    axes = {"xaxis_title": "episode", "yaxis_title": "step", "zaxis_title": "cumulative reward"}
    scatter = go.Figure(
        go.Scatter3d(
            x=x,
            y=y,
            z=z,
            mode="markers",
            marker={"size": 1.5, "color": z, "colorscale": "Viridis", "colorbar": {"title": "reward"}},
        )  # fmt: skip
    )
    scatter.update_layout(title=f"{title}: cumulative reward per step", scene=axes)
    scatter_path = directory / "episodes_3d_scatter.html"
    scatter.write_html(scatter_path, include_plotlyjs=True, full_html=True)

    rows_step = max(1, len(rows) // 200)  # at most ~200 episodes across the surface
    surface = go.Figure(
        go.Surface(
            x=np.arange(1, grid.shape[1] + 1), y=episodes[::rows_step], z=grid[::rows_step], colorscale="Viridis"
        )
    )
    surface.update_layout(
        title=f"{title}: cumulative reward surface",
        scene={"xaxis_title": "step", "yaxis_title": "episode", "zaxis_title": "cumulative reward"},
    )
    surface_path = directory / "episodes_3d_surface.html"
    surface.write_html(surface_path, include_plotlyjs=True, full_html=True)
    return scatter_path, surface_path


def plot_curve_over_steps_and_time(rows: list[dict], png: Path, title: str, goal: float | None = None) -> None:
    """A run's training return (mean of the last 100 episodes, exploring envs included) and
    its greedy validation score, over env steps and over wall-clock minutes, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, (x_key, scale, label) in zip(axes, (("env_steps", 1e-6, "env steps (millions)"),
                                                 ("wall_s", 1 / 60, "wall-clock minutes"))):  # fmt: skip
        for key, name, style in (("return_last100", "training episodes, last 100", "-"),
                                 ("validation", "greedy validation", "o-")):  # fmt: skip
            pts = [(r[x_key] * scale, r[key]) for r in rows if r.get(key) is not None]
            if pts:
                ax.plot(*zip(*pts), style, ms=3, lw=1.4, label=name)
        if goal is not None:
            ax.axhline(goal, color="k", ls="--", lw=1, label=f"goal {goal:,.0f}")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("return (1000-step episodes)")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
