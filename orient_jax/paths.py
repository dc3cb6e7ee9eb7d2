"""Where things are in a checkout: the one module that knows the repository's layout.

``make setup`` installs this package editable from its checkout, so the repository is
the folder above the package. Everything the library finds by location (the shipped
models, the renders, the web app's models, the recorded results) is named here, once;
code reads these names at call time (``paths.SHIPPED_POLICY``), so a test can point one
elsewhere with ``monkeypatch.setattr(paths, ...)``. Standard library only: the render
venv imports the package too.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]  # the checkout: orient_jax/, experiments/, models/, ...

MODELS = REPO / "models"
SHIPPED_POLICY = MODELS / "rotation_policy"  # the re-orientation policy (params + normalizer)
SHIPPED_POSE_MODEL = MODELS / "pose"  # the orientation CNN and its test-set evaluation
SHIPPED_HUMANOID = MODELS / "humanoid"  # the Humanoid policies and their ONNX exports

DATA = REPO / "data"  # rendered datasets, data/PRESET
RUNS = REPO / "runs"  # run directories, when a command names none
WEB = REPO / "web"  # the browser app
RESULTS = REPO / "docs" / "results"  # figures recorded as JSON, with the commands that made them
