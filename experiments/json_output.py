"""``--json``: stdout is exactly one JSON document; every human line goes to stderr.

    with json_output.stdout_document(args.json) as doc:
        print("human line")          # on stderr when --json, on stdout otherwise
        doc.set(result)              # written to stdout, alone, when the block ends

While the block runs with ``enabled``, both Python's ``sys.stdout`` and file descriptor
1 point at stderr, so prints from libraries, C extensions and child processes cannot
reach stdout either. The document is written after they are restored. A non-finite
number in it is written as ``null`` ("no measurement"), never as the bare ``NaN`` or
``Infinity`` tokens that strict parsers and ``jq`` refuse.

Every exit path writes one document. A block that never calls ``set`` (an error path that
printed ``error: ...`` and returned) writes ``{"ok": false, "error": <that line>}``; one
that raises writes ``{"ok": false, "error": "<type>: <message>"}`` and the exception goes on.
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


class _ErrorLines:
    """A text stream that passes everything on and remembers the last ``error: ...`` line."""

    def __init__(self, stream):
        self.stream, self.last, self._partial = stream, None, ""

    def write(self, text: str) -> int:
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        for line in lines:
            if line.startswith("error:"):
                self.last = line.removeprefix("error:").strip()
        return self.stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextlib.contextmanager
def stdout_document(enabled: bool) -> Iterator[Document]:
    doc = Document()
    if not enabled:
        yield doc
        return
    sys.stdout.flush()
    saved_fd = os.dup(1)
    errors = _ErrorLines(sys.stderr)
    failure = None
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(errors), contextlib.redirect_stderr(errors):
            try:
                yield doc
            except BaseException as e:
                first = str(e).strip().splitlines()[0] if str(e).strip() else ""
                failure = f"{type(e).__name__}: {first}" if first else type(e).__name__
                raise
            finally:
                sys.stderr.flush()
    finally:
        os.dup2(saved_fd, 1)
        os.close(saved_fd)
        if failure is not None:
            value = {"ok": False, "error": failure}
        elif doc.present:
            value = doc.value
        else:
            value = {"ok": False, "error": errors.last or "the command ended without a result"}
        sys.stdout.write(json.dumps(finite_or_null(value), allow_nan=False) + "\n")
        sys.stdout.flush()
