"""Write a profile's task.json (what a browser runtime reads).

    python -m orient_jax.profiles cube                        # -> web/public/models/task.json
    python -m orient_jax.profiles original --out /tmp/task.json
    python -m orient_jax.profiles --list

Without ``--out`` the file goes to the profile's own export folder
(``artifacts.export_dir``, relative to the repository).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orient_jax import paths, profiles
from orient_jax.profiles.spec import write_task_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orient_jax.profiles", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("name", nargs="?", default="cube", help="the profile (default cube; --list shows them)")
    parser.add_argument("--out", type=Path, help="where to write task.json (default: the profile's export folder)")
    parser.add_argument("--list", action="store_true", help="list the profiles and exit")
    args = parser.parse_args(argv)
    try:  # a profile module of $ORIENT_JAX_PROFILE_MODULES that fails is one error line too
        if args.list:
            for name in profiles.names():
                print(f"{name:<10} {profiles.get(name).artifacts.export_dir}")
            return 0
        spec = profiles.get(args.name)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = args.out or paths.REPO / spec.artifacts.export_dir / spec.artifacts.task_file
    print(f"wrote {write_task_json(spec, out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
