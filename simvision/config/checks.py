"""Small checks every config block uses, each raising a one-line :class:`ConfigError` naming the field.

Each subsystem validates its own block with these (the scene its scene config, the renderer its
render settings); this module knows none of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any


class ConfigError(ValueError):
    """A bad config value; the message starts with the dotted name of the field."""


def check_range(value: Any, name: str, *, minimum: float | None = None, integer: bool = False) -> None:
    """``value`` is ``[low, high]`` with low <= high (whole numbers when ``integer``), both >= ``minimum``."""
    if value is None or len(value) != 2:
        raise ConfigError(f"{name}: expected [low, high], got {value}")
    lo, hi = value
    if integer and (int(lo) != lo or int(hi) != hi):
        raise ConfigError(f"{name}: expected whole numbers, got {list(value)}")
    if lo > hi:
        raise ConfigError(f"{name}: low {lo} is above high {hi}")
    if minimum is not None and lo < minimum:
        raise ConfigError(f"{name}: values must be >= {minimum}, got {list(value)}")


def check_weights(mapping: Mapping[str, Any], name: str, allowed: Iterable[str]) -> None:
    """Categorical weights: known keys, each >= 0, not all 0."""
    allowed = tuple(allowed)
    if not mapping:
        raise ConfigError(f"{name}: needs at least one entry")
    for key, value in mapping.items():
        if key not in allowed:
            raise ConfigError(f"{name}.{key}: unknown entry; choose from {', '.join(sorted(allowed))}")
        if float(value) < 0:
            raise ConfigError(f"{name}.{key}: weights must be >= 0, got {value}")
    if sum(float(v) for v in mapping.values()) <= 0:
        raise ConfigError(f"{name}: all weights are 0")


def check_probability(value: Any, name: str) -> None:
    if not 0 <= float(value) <= 1:
        raise ConfigError(f"{name}: must be within [0, 1], got {value}")


def check_choice(value: Any, name: str, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(allowed)}")


def check_minimum(value: Any, name: str, minimum: float) -> None:
    if float(value) < minimum:
        raise ConfigError(f"{name}: must be >= {minimum:g}, got {value}")


def positive_number(value: Any, name: str) -> float:
    """``value`` as a finite float > 0: a weight or scale of nan, inf, 0 or below would only fail
    (or silently hide an object) once the scene is sampled, after Blender has started."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: must be a number > 0, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ConfigError(f"{name}: must be a finite number > 0, got {value}")
    return number


def incomplete_weights(preset: Mapping[str, Any], defaults: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Weight tables a preset names only in part, as one message each.

    Hydra merges a preset's mapping into the default key by key, so a preset that sets
    ``weather: {fog: 1.0}`` silently keeps every other weather at its default weight, and a weather
    added later leaks into the preset unnoticed. A weight table is a non-empty mapping of numbers in
    ``defaults``; a preset that sets one must name every one of its keys.
    """
    problems: list[str] = []
    for key, value in preset.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        default = defaults.get(key) if isinstance(defaults, Mapping) else None
        if not isinstance(value, Mapping) or not isinstance(default, Mapping) or not default:
            continue
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in default.values()):
            missing = [str(k) for k in default if k not in value]
            if missing:
                problems.append(
                    f"{name}: a preset's weights replace the defaults, so it must name every entry; "
                    f"missing {', '.join(missing)}"
                )
        else:
            problems.extend(incomplete_weights(value, default, name))
    return problems
