"""``--json``: stdout is exactly one JSON document; every human line goes to stderr.

    with json_output.stdout_document(args.json) as doc:
        print("human line")          # on stderr when --json, on stdout otherwise
        doc.set(result)              # written to stdout, alone, when the block ends

While the block runs with ``enabled``, both Python's ``sys.stdout`` and file descriptor
1 point at stderr, so prints from libraries, C extensions and child processes cannot
reach stdout either. The document is written after they are restored. A non-finite
number in it is written as ``null`` ("no measurement"), never as the bare ``NaN`` or
``Infinity`` tokens that strict parsers and ``jq`` refuse. If the block raises, or never
calls ``set``, stdout stays empty.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Iterator
from typing import Any


def finite_or_null(value: Any) -> Any:
    """``value`` with every non-finite float (numpy's too) replaced by None, recursively."""
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_null(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):  # numpy.float64 is a float
        return None
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy / jax scalars
        return finite_or_null(value.item())
    return value


class Document:
    def __init__(self) -> None:
        self.value: Any = None
        self.present = False

    def set(self, value: Any) -> None:
        self.value, self.present = value, True


@contextlib.contextmanager
def stdout_document(enabled: bool) -> Iterator[Document]:
    doc = Document()
    if not enabled:
        yield doc
        return
    sys.stdout.flush()
    saved_fd = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield doc
            sys.stderr.flush()
    finally:
        os.dup2(saved_fd, 1)
        os.close(saved_fd)
    if doc.present:
        text = json.dumps(finite_or_null(doc.value), allow_nan=False)
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
