"""Frozen-dataclass configs: JSON round trip and ``a.b=value`` command-line overrides.

Standard library only, so both venvs use it: the training side (the experiment
configs) and the Blender side (``render/config.py``).

Values are read strictly, one rule for every config (the render configs too): an ``int``
field refuses text or numbers that are not whole (``1.5``, ``1e3.5``; ``1e3`` is 1000),
and a ``float`` field refuses ``nan`` and ``±inf`` unless the field's metadata says
``{"non_finite": True}``. A bad value is an error naming the key, never a silent
rounding or a NaN loss three minutes later.

A config class may define ``unused_sections() -> dict[str, str]``: the sections its
current values make inert, each with the reason (e.g. the DQN section of a PPO
experiment: "algo is 'ppo'"). An override into one of them is refused, so a misplaced
override never silently does nothing.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from typing import Any, TypeVar

T = TypeVar("T")


def to_dict(config: Any) -> dict:
    """A dataclass as plain JSON data (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            value = float(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise ValueError


def _real(value: Any, non_finite: bool) -> float:
    if isinstance(value, bool):
        raise ValueError
    number = float(value)
    if not non_finite and not math.isfinite(number):
        raise ValueError
    return number


def _coerce(value: Any, tp: Any, where: str, non_finite: bool = False) -> Any:
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected a mapping, got {value!r}")
        return from_dict(tp, value, where)
    origin = typing.get_origin(tp)
    if origin is tuple:
        args = typing.get_args(tp)
        if isinstance(value, str):
            value = [v for v in value.strip("()[] ").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], where, non_finite) for v in value)
        if len(value) != len(args):
            raise ValueError(f"{where}: expected {len(args)} comma-separated values, got {value!r}")
        return tuple(_coerce(v, a, where, non_finite) for v, a in zip(value, args))
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"{where}: union-typed config fields are not supported")
    try:
        if tp is bool:
            if isinstance(value, str):
                return {"1": True, "true": True, "yes": True, "on": True,
                        "0": False, "false": False, "no": False, "off": False}[value.lower()]  # fmt: skip
            return bool(value)
        if tp is int:
            return _whole(value)
        if tp is float:
            return _real(value, non_finite)
        if tp is str:
            return str(value)
    except (KeyError, TypeError, ValueError, OverflowError):
        what = {int: "a whole number", float: "a finite number"}.get(tp, getattr(tp, "__name__", tp))
        raise ValueError(f"{where}: cannot read {value!r} as {what}") from None
    raise TypeError(f"{where}: unsupported field type {tp}")


def from_dict(cls: type[T], data: dict, where: str = "config") -> T:
    """Build ``cls`` from JSON data, checking every key and converting every value;
    the dataclass's own ``__post_init__`` then checks the values' meaning."""
    hints = typing.get_type_hints(cls)
    unknown = set(data) - set(hints)
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; valid keys are {sorted(hints)}")
    allow = {f.name: bool(f.metadata.get("non_finite")) for f in dataclasses.fields(cls)}
    return cls(**{k: _coerce(v, hints[k], f"{where}.{k}", allow.get(k, False)) for k, v in data.items()})


def apply_overrides(config: T, overrides: list[str]) -> T:
    """Apply ``section.key=value`` strings, e.g. ``ppo.learning_rate=1e-3`` or ``dr.noise_sigma=0,2``.
    An override into a section the result does not use (``unused_sections``) is refused."""
    data = to_dict(config)
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r} must look like key=value (e.g. ppo.learning_rate=1e-3)")
        path, value = item.split("=", 1)
        node, parts = data, path.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                raise ValueError(f"override {item!r}: {part!r} is not a config section")
            node = node[part]
        if isinstance(node.get(parts[-1]), dict):
            keys = ", ".join(f"{path}.{k}" for k in sorted(node[parts[-1]]))
            raise ValueError(f"override {item!r}: {path!r} is a config section, not a value; set its keys: {keys}")
        if parts[-1] not in node:
            raise ValueError(f"override {item!r}: unknown key {parts[-1]!r}; valid keys are {sorted(node)}")
        node[parts[-1]] = value
    result = from_dict(type(config), data)
    unused = getattr(result, "unused_sections", dict)()
    for item in overrides:
        section = item.split("=", 1)[0].split(".")[0]
        if section in unused:
            raise ValueError(f"override {item!r}: the {section!r} section is not used here ({unused[section]})")
    return result


def overrides_between(base: T, config: T) -> list[str]:
    """The ``a.b=value`` strings that ``apply_overrides`` needs to turn ``base`` into
    ``config``, sorted by key: how a run's recorded config is named against its preset."""

    def flat(d: dict, prefix: str = "") -> dict:
        out = {}
        for k, v in d.items():
            out.update(flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return out

    def text(v: Any) -> str:  # as _coerce reads it back
        if isinstance(v, bool):
            return str(v).lower()
        return ",".join(map(str, v)) if isinstance(v, list) else str(v)

    old, new = flat(to_dict(base)), flat(to_dict(config))
    return [f"{k}={text(v)}" for k, v in sorted(new.items()) if old.get(k) != v]


def differences(a: dict, b: dict, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, value in ``a``, value in ``b``) for every leaf where two nested dicts
    differ, sorted by key; a key one side lacks has the value None there."""
    out = []
    for key in sorted(set(a) | set(b), key=str):
        x, y = a.get(key), b.get(key)
        if isinstance(x, dict) and isinstance(y, dict):
            out += differences(x, y, f"{prefix}{key}.")
        elif x != y:
            out.append((f"{prefix}{key}", x, y))
    return out
