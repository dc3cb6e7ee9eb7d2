"""A pipeline of stages whose outputs are content-hashed, so a re-run skips what is done.

A ``Stage`` names its output directory, the files in it that are its result, the config
that defines them (JSON data), the stages it reads from and any source paths it depends
on. Its *key* is a hash of the config, the upstream stages' digests and the sources'
contents. When it finishes, ``OUT/stage.json`` records the key, the sha256 of every
output file and their *digest*, which is what downstream keys are built from: a stage
whose inputs changed in content runs again, one whose inputs were only re-made
identically does not.

Before running a stage, ``run_pipeline`` checks its stamp:

* ``valid``   complete, same key, every output present with its recorded hash: skipped;
* ``resume``  started with the same key and interrupted: run again in place (the stage's
              own command resumes: renders and training runs do);
* ``missing`` never made (no output directory): the stage runs from the start;
* ``stale``   made by this pipeline for another key, or with outputs missing or changed
              since: the output directory is cleared first (unless the stage says its
              command repairs what is there) and the stage runs from the start;
* ``foreign`` the output directory exists but has no stamp: this pipeline did not make
              it, so nothing in it is deleted. A stage whose command repairs what is there
              runs in it; any other stops the run with ``ForeignOutput``, unless
              ``move_aside``, which renames the folder to ``OUT.moved-<UTC time>`` first.

``plan`` says, without running anything, what a run would do with each stage. A stage
made from an upstream stage that is not valid is ``waiting``: it is checked again once
that stage has run (an identical re-make leaves it valid).

Standard library only; stage bodies are plain callables, so tests can use cheap fakes.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path

STAMP = "stage.json"
FORMAT = "orient-jax-stage/1"


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str
    out: Path  # the directory the stage writes into; its stamp goes there too
    outputs: tuple[str, ...]  # files or folders under ``out`` that are the stage's result
    run: Callable[[], None]  # makes the outputs; raise to fail
    config: dict = dataclasses.field(default_factory=dict)  # what defines the outputs (JSON data)
    needs: tuple[str, ...] = ()  # upstream stage names
    sources: tuple[Path, ...] = ()  # other files or folders whose content the outputs depend on
    clean_on_stale: bool = True  # False: the command itself checks and repairs what ``out`` holds
    title: str = ""  # one line for people


@dataclasses.dataclass
class Outcome:
    name: str
    status: str  # "skipped", "ran"
    seconds: float  # wall time of this invocation (0 for a skipped stage)
    digest: str
    reason: str  # why it ran or was skipped
    stamp: dict


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def hash_paths(root: Path, names: Iterable[str]) -> dict[str, str]:
    """sha256 of every file under ``root / name`` (folders recursively), keyed by the
    path relative to ``root``. A missing name raises FileNotFoundError."""
    root = Path(root)
    hashes = {}
    for name in names:
        path = root / name
        if path.is_file():
            hashes[name] = sha256_file(path)
        elif path.is_dir():
            for f in sorted(p for p in path.rglob("*") if p.is_file()):
                hashes[f.relative_to(root).as_posix()] = sha256_file(f)
        else:
            raise FileNotFoundError(f"{path} is missing")
    return hashes


def _digest(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def stage_key(stage: Stage, upstream: dict[str, str]) -> str:
    """Hash of the config, the upstream digests and the sources' contents."""
    sources = {str(p): hash_paths(Path(p).parent, [Path(p).name]) for p in stage.sources}
    return _digest({"stage": stage.name, "config": stage.config, "needs": {n: upstream[n] for n in stage.needs},
                    "sources": sources})  # fmt: skip


class ForeignOutput(RuntimeError):
    """A stage's output directory exists, but this pipeline did not make it."""


def read_stamp(stage: Stage) -> dict | None:
    try:
        stamp = json.loads((Path(stage.out) / STAMP).read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and stamp.get("format") == FORMAT else None


def check(stage: Stage, key: str) -> tuple[str, str]:
    """(``valid`` | ``resume`` | ``missing`` | ``stale`` | ``foreign``, the reason in words)."""
    stamp = read_stamp(stage)
    if stamp is None:
        if not Path(stage.out).exists() and not Path(stage.out).is_symlink():
            return "missing", "not made yet"
        return "foreign", f"{stage.out} has no {STAMP}: not made by this pipeline"
    if stamp.get("key") != key:
        return "stale", "its config or inputs changed"
    if not stamp.get("complete"):
        return "resume", "interrupted earlier; resuming"
    try:
        found = hash_paths(stage.out, stage.outputs)
    except FileNotFoundError as e:
        return "stale", f"output missing ({e})"
    if found != stamp.get("outputs"):
        changed = sorted(set(found) ^ set(stamp.get("outputs", {})) | {
            k for k in found if k in stamp.get("outputs", {}) and found[k] != stamp["outputs"][k]})  # fmt: skip
        return "stale", f"outputs changed since it ran ({', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''})"
    return "valid", "outputs valid for this config"


def _write_stamp(stage: Stage, stamp: dict) -> None:
    out = Path(stage.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (STAMP + ".tmp")
    tmp.write_text(json.dumps(stamp, indent=2) + "\n")
    tmp.replace(out / STAMP)


def run_stage(stage: Stage, key: str, log: Callable[[str], None] = print, move_aside: bool = False) -> Outcome:
    status, reason = check(stage, key)
    if status == "valid":
        stamp = read_stamp(stage)
        return Outcome(stage.name, "skipped", 0.0, stamp["digest"], reason, stamp)
    out = Path(stage.out)
    if status == "foreign" and stage.clean_on_stale:  # a stage that repairs in place deletes nothing: it runs
        stamp_time = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = out.with_name(f"{out.name}.moved-{stamp_time}")
        if not move_aside:
            raise ForeignOutput(
                f"{out} exists but this pipeline did not make it (no {STAMP}), so nothing in it was touched; "
                f"move it away yourself, or rerun with --move-aside to have it renamed to {aside.name}"
            )
        out.rename(aside)
        log(f"    moved {out} aside to {aside} (not made by this pipeline)")
    elif status == "stale" and stage.clean_on_stale and out.exists():
        log(f"    clearing {out} ({reason})")
        shutil.rmtree(out)
    started = datetime.datetime.now().isoformat(timespec="seconds")
    stamp = {"format": FORMAT, "stage": stage.name, "key": key, "complete": False, "config": stage.config,
             "started": started}  # fmt: skip
    _write_stamp(stage, stamp)
    t0 = time.perf_counter()
    stage.run()
    seconds = time.perf_counter() - t0
    try:
        outputs = hash_paths(out, stage.outputs)
    except FileNotFoundError as e:
        raise RuntimeError(f"stage {stage.name} finished without writing its outputs: {e}") from None
    stamp.update(complete=True, seconds=round(seconds, 1), outputs=outputs, digest=_digest(outputs))
    _write_stamp(stage, stamp)
    return Outcome(stage.name, "ran", seconds, stamp["digest"], reason, stamp)


def plan(stages: list[Stage]) -> list[tuple[Stage, str, str]]:
    """(stage, state, reason) for each stage, in order, running nothing.

    A stage downstream of one that is not ``valid`` cannot be judged yet: its inputs will
    be made first. If it exists it is ``waiting``, else ``missing``.
    """
    digests: dict[str, str] = {}
    rows = []
    for stage in stages:
        pending = [n for n in stage.needs if n not in digests]
        if pending:
            state, reason = check(stage, "")  # its key is unknown until they have run
            if state != "missing":
                state, reason = "waiting", f"made; checked again after {', '.join(pending)} runs"
            else:
                reason = f"not made yet; waits for {', '.join(pending)}"
        else:
            state, reason = check(stage, stage_key(stage, digests))
        if state == "valid":
            digests[stage.name] = read_stamp(stage)["digest"]
        rows.append((stage, state, reason))
    return rows


def describe_plan(stages: list[Stage]) -> str:
    """``plan`` for people: each stage's state and reason, then its command (a body made with
    an ``argv`` attribute) or its title."""
    width = max(len(s.name) for s in stages) + 1
    lines = []
    for stage, state, reason in plan(stages):
        argv = getattr(stage.run, "argv", None)
        lines.append(
            f"{stage.name:<{width}} {state:<8} {reason}\n{'':{width + 1}}{' '.join(argv) if argv else stage.title}"
        )
    return "\n".join(lines)


def run_pipeline(stages: list[Stage], log: Callable[[str], None] = print, move_aside: bool = False) -> list[Outcome]:
    """Run (or skip) the stages in order; a failure raises and leaves later stages alone.
    ``move_aside``: rename an output directory this pipeline did not make, instead of stopping."""
    names = [s.name for s in stages]
    if len(set(names)) != len(names):
        raise ValueError(f"stage names must be unique: {names}")
    digests: dict[str, str] = {}
    outcomes = []
    for i, stage in enumerate(stages, 1):
        missing = [n for n in stage.needs if n not in digests]
        if missing:
            raise ValueError(f"stage {stage.name} needs {missing}, which do not run before it")
        key = stage_key(stage, digests)
        log(f"==> [{i}/{len(stages)}] {stage.name}: {stage.title or stage.out}")
        outcome = run_stage(stage, key, log, move_aside)
        if outcome.status == "skipped":
            log(f"    skipped: {outcome.reason} ({stage.out}/{STAMP}, took {outcome.stamp.get('seconds', 0):.0f} s)")
        else:
            log(f"    done in {outcome.seconds:.0f} s ({outcome.reason})")
        digests[stage.name] = outcome.digest
        outcomes.append(outcome)
    return outcomes
