"""Frozen-dataclass configs: JSON round trip and ``a.b=value`` command-line overrides."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, TypeVar

from orient_jax.agents.ppo.config import PPOConfig
from orient_jax.envs.rotation import RotationEnvConfig

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class RotationExperiment:
    """Everything that defines a re-orientation training run."""

    seed: int = 0
    env: RotationEnvConfig = RotationEnvConfig()
    ppo: PPOConfig = PPOConfig()
    checkpoint_every: int = 25  # updates between checkpoints
    keep_checkpoints: int = 2
    eval_episodes: int = 1024  # final deterministic evaluation after training

    def __post_init__(self):
        if self.checkpoint_every <= 0 or self.keep_checkpoints <= 0:
            raise ValueError("checkpoint_every and keep_checkpoints must be positive")
        if self.eval_episodes < 0:
            raise ValueError(f"eval_episodes must be >= 0, got {self.eval_episodes}")


def to_dict(config: Any) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(config)))


def _field_types(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected a mapping, got {value!r}")
        return from_dict(tp, value, where)
    if origin is tuple:
        args = typing.get_args(tp)
        if isinstance(value, str):
            value = [v for v in value.replace("(", "").replace(")", "").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        elem = args[0]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, elem, where) for v in value)
        if len(value) != len(args):
            raise ValueError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_coerce(v, a, where) for v, a in zip(value, args))
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"{where}: union-typed config fields are not supported")
    try:
        if tp is bool:
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            return bool(value)
        if tp is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(float(value)) if isinstance(value, str) else int(value)
        if tp is float:
            return float(value)
        if tp is str:
            return str(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: cannot read {value!r} as {tp.__name__}") from None
    raise TypeError(f"{where}: unsupported field type {tp}")


def from_dict(cls: type[T], data: dict, where: str = "config") -> T:
    types_ = _field_types(cls)
    unknown = set(data) - set(types_)
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; valid keys are {sorted(types_)}")
    kwargs = {k: _coerce(v, types_[k], f"{where}.{k}") for k, v in data.items()}
    return cls(**kwargs)


def apply_overrides(config: T, overrides: list[str]) -> T:
    """Apply ``section.key=value`` strings, e.g. ``ppo.learning_rate=1e-3``."""
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
        if parts[-1] not in node:
            raise ValueError(f"override {item!r}: unknown key {parts[-1]!r}; valid keys are {sorted(node)}")
        node[parts[-1]] = value
    return from_dict(type(config), data)
