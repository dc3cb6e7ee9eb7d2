"""Install the `original` profile's exported models into the original runtime's folder.

    python -m experiments.install_original --runtime-dir DIR [--models runs/export/original] [--json]
    python -m experiments.install_original --runtime-dir DIR --restore

DIR is your checkout of sagerkudrick/main-prediction-RL at 6957ebb. Its files are first
checked byte for byte (the profile's runtime.files), the models against the profile's
contract (python -m experiments.check_onnx --task original). The first install backs up
static/models/pose_model_best.onnx and rl-model.onnx as they are, with their hashes, to
static/models/orient-jax-backup/ (later installs keep that backup); then both models are
swapped in all or nothing. --restore checks the backup and puts the folder back exactly
as it was before the first install. Exit status 2 when anything is wrong, with nothing
changed (orient_jax.export.install).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments import json_output
from orient_jax import profiles
from orient_jax.export import install, pipeline
from orient_jax.tasks.rotation.mesh import HOW_TO_GET


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runtime-dir", required=True, type=Path, help="the original runtime's folder")
    parser.add_argument("--models", type=Path, help="the export folder (default: runs/export/original)")
    parser.add_argument("--restore", action="store_true", help="put the newest backup back instead")
    parser.add_argument("--json", action="store_true", help="stdout: one JSON object; human lines: stderr")
    args = parser.parse_args(argv)
    with json_output.stdout_document(args.json) as doc:
        return run(args, doc)


def run(args: argparse.Namespace, doc: json_output.Document) -> int:
    spec = profiles.get("original")
    try:
        if args.restore:
            install.verify_runtime(args.runtime_dir, spec, HOW_TO_GET)
            result = install.restore(args.runtime_dir, spec)
            for path in result["restored"]:
                print(f"restored {path}")
            for path in result["removed"]:
                print(f"removed {path} (the runtime did not have it)")
            print(f"the folder is as it was before the first install; removed the backup {result['backup']}")
        else:
            models = args.models or pipeline.default_out(spec)
            result = install.install(models, args.runtime_dir, spec, HOW_TO_GET)
            for path in result["installed"]:
                print(f"installed {path}")
            for path in result["unchanged"]:
                print(f"unchanged {path} (already these bytes)")
            made = "backed up the runtime's models to" if result["backup_made"] else "kept the first backup,"
            print(f"{made} {result['backup']} (--restore puts them back)")
    except (install.InstallError, OSError) as e:  # OSError: a read-only folder, a full disk
        print(f"error: {e}", file=sys.stderr)
        return 2
    doc.set(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
