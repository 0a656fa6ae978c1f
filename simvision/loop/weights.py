"""The closed loop's weighting rule: from per-stratum miss rates to the next round's sampling weights.

A pure function (no I/O, no torch), so the rule can be read, tested and swapped on its own.

For every knob group ``g`` (``class``, ``time_of_day``, ``weather``, ``glare``, ``distance_m``, ...) with
previous weights ``p`` (shares, normalised to sum 1) and the strata of that group with at least
``min_count`` objects (the set ``O``):

1. miss rate, additively smoothed: ``m_l = (misses_l + alpha) / (n_l + 2 alpha)`` for ``l`` in ``O``;
2. target: ``t_l = P_O * m_l / sum_{k in O} m_k`` for ``l`` in ``O`` (``P_O`` = prior mass of ``O``), and
   ``t_l = p_l`` for a level with no (or too little) data: it keeps its prior;
3. exponential mix with the previous weights: ``q = (1 - step) p + step t``;
4. cap per round: ``w = p + s (q - p)``, with ``s = min(1, max_change / max_l |q_l - p_l|)``, so no share
   moves by more than ``max_change`` (absolute) in one round and the direction is kept;
5. floor: every share at least ``floor`` (raised to it; the excess taken from the shares above the floor in
   proportion to their part above it), so nothing drops to zero and a level that was switched off can come
   back.

Shares are normalised at every step. A group with no stratum in the evaluation keeps its weights, and so
does a group whose pooled recall (over its strata with data) is below ``min_recall``: a model that finds
almost nothing misses every stratum alike, and steering by it would only flatten the weights.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["StratumStats", "WeightRule", "check_rule", "next_weights", "normalise"]


@dataclass(frozen=True)
class StratumStats:
    """One stratum of the evaluation: its knob ``group``, its ``level`` (``name``), object count and misses."""

    group: str
    name: str
    count: int
    misses: int

    @classmethod
    def from_recall(cls, group: str, name: str, count: int, recall: float) -> StratumStats:
        return cls(group, name, int(count), int(round(count * (1.0 - float(recall)))))


@dataclass(frozen=True)
class WeightRule:
    """The rule's settings (``loop.rule`` in ``conf/loop.yaml``)."""

    step: float = 0.5  # share of the new target mixed into the previous weights (0: never move, 1: jump)
    alpha: float = 1.0  # additive (Laplace) smoothing of the miss rate: (misses + alpha) / (n + 2 alpha)
    floor: float = 0.05  # least share of any level of a group
    max_change: float = 0.25  # most a share may move in one round (absolute)
    min_count: int = 5  # strata with fewer objects count as "no data" (keep their prior)
    min_recall: float = 0.0  # a group whose pooled recall is below this keeps its weights (0: always steer)


def check_rule(rule: WeightRule, prefix: str = "rule") -> None:
    """Raise ``ValueError`` naming the first bad field."""
    checks = (
        ("step", 0.0 <= rule.step <= 1.0, "in [0, 1]"),
        ("alpha", rule.alpha >= 0.0, ">= 0"),
        ("floor", 0.0 <= rule.floor < 1.0, "in [0, 1)"),
        ("max_change", 0.0 < rule.max_change <= 1.0, "in (0, 1]"),
        ("min_count", int(rule.min_count) >= 0 and float(rule.min_count) == int(rule.min_count), "an integer >= 0"),
        ("min_recall", 0.0 <= rule.min_recall < 1.0, "in [0, 1)"),
    )
    for name, ok, want in checks:
        value = getattr(rule, name)
        if not ok or (isinstance(value, float) and math.isnan(value)):
            raise ValueError(f"{prefix}.{name}: must be {want}, got {value!r}")


def normalise(weights: Mapping[str, float]) -> dict[str, float]:
    """Shares summing to 1 (uniform when every weight is 0); negative weights are an error."""
    for k, v in weights.items():
        if float(v) < 0 or math.isnan(float(v)):
            raise ValueError(f"weights.{k}: must be >= 0, got {v!r}")
    total = sum(float(v) for v in weights.values())
    if not weights:
        return {}
    if total <= 0:
        return {k: 1.0 / len(weights) for k in weights}
    return {k: float(v) / total for k, v in weights.items()}


def _floor(shares: dict[str, float], floor: float) -> dict[str, float]:
    """Raise every share to ``floor``, taking the excess from those above it in proportion to their surplus."""
    if floor <= 0 or not shares:
        return shares
    floor = min(floor, 1.0 / len(shares))
    out = dict(shares)
    for _ in range(len(out) + 1):
        low = [k for k, v in out.items() if v < floor - 1e-15]
        if not low:
            break
        need = sum(floor - out[k] for k in low)
        for k in low:
            out[k] = floor
        surplus = {k: v - floor for k, v in out.items() if v > floor}
        total = sum(surplus.values())
        if total <= 0:
            break
        for k, s in surplus.items():
            out[k] -= need * s / total
    return normalise(out)


def _group_weights(prior: dict[str, float], stats: list[StratumStats], rule: WeightRule) -> dict[str, float]:
    observed = {s.name: s for s in stats if s.count >= rule.min_count and s.count > 0}
    if not prior:  # a group with no weights of its own yet: start uniform over what was observed
        prior = normalise({name: 1.0 for name in observed})
    observed = {k: s for k, s in observed.items() if k in prior}
    if not observed:
        return dict(prior)
    pooled = 1.0 - sum(s.misses for s in observed.values()) / sum(s.count for s in observed.values())
    if pooled < rule.min_recall:  # the model finds too little to tell the strata apart
        return dict(prior)
    miss = {k: (s.misses + rule.alpha) / (s.count + 2 * rule.alpha) for k, s in observed.items()}
    mass = sum(prior[k] for k in observed)
    total = sum(miss.values())
    target = dict(prior)
    for k, m in miss.items():
        target[k] = mass * (m / total if total > 0 else 1.0 / len(miss))
    if mass <= 0:  # every observed level had weight 0: hand them the floor's mass to share
        target = normalise({k: (miss[k] if k in miss else prior[k]) for k in prior})
    mixed = {k: (1 - rule.step) * prior[k] + rule.step * target[k] for k in prior}
    largest = max(abs(mixed[k] - prior[k]) for k in prior)
    scale = 1.0 if largest <= rule.max_change else rule.max_change / largest
    capped = normalise({k: max(prior[k] + scale * (mixed[k] - prior[k]), 0.0) for k in prior})
    return _floor(capped, rule.floor)


def next_weights(
    stats: Iterable[StratumStats],
    previous: Mapping[str, Mapping[str, float]],
    rule: WeightRule | None = None,
) -> dict[str, dict[str, float]]:
    """New shares per knob group in ``previous`` (each normalised to sum 1); groups of ``stats`` not in
    ``previous`` are ignored (no knob to turn). See the module docstring for the rule."""
    rule = rule or WeightRule()
    check_rule(rule)
    by_group: dict[str, list[StratumStats]] = {}
    for s in stats:
        if s.count < 0 or s.misses < 0 or s.misses > s.count:
            raise ValueError(f"stats.{s.group}.{s.name}: needs 0 <= misses <= count, got {s.misses}/{s.count}")
        by_group.setdefault(s.group, []).append(s)
    out: dict[str, dict[str, float]] = {}
    for group, weights in previous.items():
        prior = normalise(weights)
        out[group] = _group_weights(prior, by_group.get(group, []), rule) if by_group.get(group) else prior
    return out
