"""Task profiles: the re-orientation task contract as named, frozen values.

    from orient_jax import profiles
    spec = profiles.get("cube")        # a TaskSpec (orient_jax.profiles.spec)

Adding a profile is one module that defines ``PROFILE`` plus an entry in ``PROFILES``.
Standard library only, like ``spec``: the render venv imports this package.
"""

from __future__ import annotations

from orient_jax.profiles import cube, original, test_box
from orient_jax.profiles.spec import TaskSpec

PROFILES: dict[str, TaskSpec] = {
    "cube": cube.PROFILE,  # our own task and web/ app
    "original": original.PROFILE,  # the original, unchanged runtime (sagerkudrick/main-prediction-RL)
    "test_box": test_box.PROFILE,  # test-only: cube with a few constants changed
}


def names() -> list[str]:
    return sorted(PROFILES)


def get(name: str) -> TaskSpec:
    """The profile called ``name``; an unknown name says which exist."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown task profile {name!r}; choose one of {', '.join(names())}") from None
