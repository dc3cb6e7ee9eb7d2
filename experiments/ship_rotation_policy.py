"""``python -m experiments.ship rotation``, under its earlier name (the same flags)."""

import sys

from experiments import ship


def main(argv: list[str] | None = None) -> int:
    return ship.main(["rotation", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
