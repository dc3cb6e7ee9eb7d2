"""``python -m experiments.evaluate rotation``, under its earlier name (the same flags)."""

import sys

from experiments import evaluate


def main(argv: list[str] | None = None) -> int:
    return evaluate.main(["rotation", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
