"""Command line of the renderer (run it with the render venv's Python).

    python -m render render --preset quick [--task cube] [--out DIR] [--start N --stop M] [--workers W] [key=value ...]
    python -m render merge --out DIR PART_DIR [PART_DIR ...]
    python -m render verify DIR [--no-checksums]
    python -m render export-glb [--task cube] [--out web/public/models/object.glb]

``render`` resumes: re-running the same command renders only what is missing, then
checks everything and writes the manifest. Overrides change the config, e.g.
``count=1000``, ``samples=8``, ``dr.noise_sigma=0,2`` (then use a new --out).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# The repo root, so that ``orient_jax.profiles`` (standard library only) and
# ``orient_jax.vision.dataset`` (numpy only) import inside the render venv.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orient_jax import profiles  # noqa: E402
from orient_jax.vision import dataset  # noqa: E402
from render import config as config_lib  # noqa: E402
from render import label_check, pipeline  # noqa: E402


def _verify(root: Path, checksums: bool) -> int:
    manifest = dataset.read_manifest(root)
    report = label_check.LabelReport()
    for entry, arrays in zip(manifest["shards"], dataset.iter_shards(root, checksums)):
        params = {n: arrays[dataset.PARAM_PREFIX + n] for n in manifest["params"]}
        report.add(
            label_check.check_labels(
                arrays[dataset.IMAGES], arrays[dataset.QUATS], params, manifest["asset"], entry["start"]
            )
        )
    print(
        f"{root}: {manifest['count']} images, {len(manifest['shards'])} shards, "
        f"checksums {'verified' if checksums else 'skipped'}"
    )
    tolerance = manifest["config"].get("label_check_tolerance", 0.0)
    print(f"label check: {report.summary()}" + (f" (colour checks may fail: {tolerance:g})" if tolerance else ""))
    for line in report.failures[:20]:
        print(f"  {line}")
    return 0 if report.passes(tolerance) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m render", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render", help="render or resume a dataset (or a range of it)")
    r.add_argument("--preset", default="quick", help=f"one of {sorted(config_lib.PRESETS)}")
    r.add_argument("--task", default="cube", help="the task profile (python -m orient_jax.profiles --list)")
    r.add_argument("--runtime-dir", default="", help="the runtime's folder, for a profile whose object is its mesh")
    r.add_argument("--out", type=Path, help="dataset directory (default data/<preset>)")
    r.add_argument("--start", type=int, help="first image index (a shard boundary; default 0)")
    r.add_argument("--stop", type=int, help="end image index, exclusive (a shard boundary or count; default count)")
    r.add_argument("--workers", type=int, help="render processes (default: one per CPU core)")
    r.add_argument("--threads", type=int, default=1, help="Cycles threads per worker (default 1)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("overrides", nargs="*", help="config overrides, e.g. count=1000 dr.blur_prob=0")
    m = sub.add_parser("merge", help="combine part directories of one dataset, then finalize")
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("parts", type=Path, nargs="+")
    v = sub.add_parser("verify", help="check a finished dataset: manifest, checksums, shapes, every label")
    v.add_argument("root", type=Path)
    v.add_argument("--no-checksums", action="store_true")
    g = sub.add_parser("export-glb", help="write the object as glTF binary for the browser")
    g.add_argument("--task", default="cube", help="the task profile (python -m orient_jax.profiles --list)")
    g.add_argument("--out", type=Path, default=None, help="default: the profile's export folder")
    args = parser.parse_args(argv)

    try:
        if args.command == "render":
            config = config_lib.apply_overrides(config_lib.get_preset(args.preset), args.overrides)
            spec = profiles.get(args.task)
            out = args.out or Path("data") / args.preset
            pipeline.render(config, spec, out, args.start, args.stop, args.workers, args.threads,
                            progress=not args.no_progress, runtime_dir=args.runtime_dir)  # fmt: skip
        elif args.command == "merge":
            pipeline.merge(args.out, args.parts)
        elif args.command == "verify":
            return _verify(args.root, not args.no_checksums)
        elif args.command == "export-glb":
            from render import asset

            spec = profiles.get(args.task)
            path = asset.export_glb(spec, args.out or asset.glb_path(spec))
            print(f"wrote {path} ({path.stat().st_size} bytes)")
    except (pipeline.RenderError, dataset.DatasetError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: re-run the same command to resume (finished shards are kept)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
