"""Strata of the error analysis -> the generator's knobs: pure functions from weights to Hydra overrides.

Knob groups (the analysis' stratum keys, ``simvision.sim2real.analysis``) and the scene fields they set,
with the value each takes from the group's shares ``w`` (``K``: the number of levels of the group):

- ``class`` (model classes) -> ``scene.class_weights`` (street: count multiplier; tabletop: draw weight):
  ``T w_c``, ``T`` the sum of the base scene's weights over the levels (``K`` when unset: uniform shares are
  weights of 1; a preset's ``traffic_cone: 1.5`` keeps its scale);
- ``time_of_day`` (day, low_sun, dusk, night) -> ``scene.conditions.time_of_day`` (the weight table): ``w``;
- ``weather`` (clear, overcast, fog, rain) -> ``scene.conditions.weather``: ``w``;
- ``glare`` (True, False) -> ``scene.conditions.glare_probability``: ``w_True``;
- ``fog_density`` (the analysis' quantile bins ``[lo, hi)`` of the foggy frames' densities; its level ``0``,
  the frames without fog, is no bin) -> ``scene.conditions.fog_density`` (a range): the hull of the bins
  holding at least an equal share among the bins, cut to the configured range (kept when nothing is left);
- ``distance_m`` (the bins ``[a, b)`` of ``analysis.distance_bins``) -> ``scene.placement.distance_bins`` and
  ``scene.placement.distance_bin_weights``: ``T w_b`` (``T`` as for classes, ``K`` when the scene sets none).

Street scenes have every group; tabletop scenes only ``class``
(their ``scene.class_weights``). A group whose field the scene does not have is left out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["CONDITION_TABLES", "bin_label", "knob_groups", "overrides", "prior_weights"]

CONDITION_TABLES = ("time_of_day", "weather")
GLARE_LEVELS = ("True", "False")


def bin_label(edges: Sequence[float], i: int) -> str:
    """The analysis' label of bin ``i`` of ``edges`` (``simvision.sim2real.analysis``: ``[5, 10)``, ``[40, inf)``)."""
    hi = f"{float(edges[i + 1]):g})" if i + 1 < len(edges) else "inf)"
    return f"[{float(edges[i]):g}, {hi}"


def _get(cfg: Any, dotted: str) -> Any:
    node = cfg
    for part in dotted.split("."):
        if node is None:
            return None
        node = node.get(part) if hasattr(node, "get") else getattr(node, part, None)
    return node


def knob_groups(scene: Any) -> list[str]:
    """The knob groups this scene block has (in the order of the module table)."""
    groups = []
    if _get(scene, "class_weights") is not None:
        groups.append("class")
    if _get(scene, "conditions") is not None:
        groups += [*CONDITION_TABLES, "glare", "fog_density"]
    if _get(scene, "placement.distance_m") is not None and _get(scene, "placement.distance_bins") is not None:
        groups.append("distance_m")
    return groups


def _placeable(scene: Any, classes: Sequence[str]) -> list[str]:
    own = _get(scene, "classes")  # tabletop: only the classes it places
    return [c for c in classes if own is None or c in list(own)]


def prior_weights(scene: Any, classes: Sequence[str], distance_bins: Sequence[float]) -> dict[str, dict[str, float]]:
    """Each knob group's current weights (not normalised) read from a composed ``scene`` block: the weights
    round 0 renders with. ``classes``: the model's classes; ``distance_bins``: the analysis' edges."""
    out: dict[str, dict[str, float]] = {}
    groups = knob_groups(scene)
    if "class" in groups:
        cw = _get(scene, "class_weights") or {}
        out["class"] = {c: float(cw.get(c, 1.0)) for c in _placeable(scene, classes)}
    for table in CONDITION_TABLES:
        if table in groups:
            out[table] = {str(k): float(v) for k, v in _get(scene, f"conditions.{table}").items()}
    if "glare" in groups:
        p = float(_get(scene, "conditions.glare_probability"))
        out["glare"] = {"True": p, "False": 1.0 - p}
    if "fog_density" in groups:
        out["fog_density"] = {}  # levels are the analysis' quantile bins: uniform over those observed
    if "distance_m" in groups:
        edges = [float(e) for e in distance_bins]
        own = list(_get(scene, "placement.distance_bins") or [])
        own_w = list(_get(scene, "placement.distance_bin_weights") or [])
        same = [float(e) for e in own] == edges
        out["distance_m"] = {bin_label(edges, i): float(own_w[i]) if same else 1.0 for i in range(len(edges))}
    return out


def _num(v: float) -> str:
    return f"{float(v):.6g}"


def _table(values: Mapping[str, float]) -> str:
    return "{" + ",".join(f"{k}:{_num(v)}" for k, v in values.items()) + "}"


_BIN = re.compile(r"^[\[(]\s*([-+0-9.eEinf]+)\s*,\s*([-+0-9.eEinf]+)\s*[\])]$")


def _parse_bin(level: str) -> tuple[float, float] | None:
    m = _BIN.match(level.strip())
    if not m:
        return None
    lo, hi = float(m.group(1)), float(m.group(2))
    return (lo, hi) if lo <= hi else None


def fog_range(shares: Mapping[str, float], configured: Sequence[float]) -> list[float] | None:
    """The fog density range from the ``fog_density`` shares: the hull of the bins holding at least an equal
    share, cut to the configured range; None when that leaves nothing (keep the configured range)."""
    bins = [(b, w) for b, w in ((_parse_bin(k), w) for k, w in shares.items()) if b is not None]
    total = sum(w for _, w in bins)
    if not bins or total <= 0:
        return None
    # levels that are not bins (the analysis' "0": frames without fog) are no part of the range
    heavy = [b for b, w in bins if w / total >= 1.0 / len(bins) - 1e-12]
    if not heavy:
        return None
    lo = max(min(b[0] for b in heavy), float(configured[0]))
    hi = min(max(b[1] for b in heavy), float(configured[1]))
    if not (hi > lo) or math.isinf(hi):
        return None
    return [lo, hi]


def overrides(weights: Mapping[str, Mapping[str, float]], scene: Any, distance_bins: Sequence[float]) -> list[str]:
    """Hydra overrides of the base render config ``scene`` that set each group's knob from its shares
    (``weights``: the output of ``simvision.loop.weights.next_weights``; groups the scene does not have are
    skipped). Weight
    tables use ``++`` (add or override): a typed empty table such as ``class_weights`` takes no new key
    otherwise; every level of the group is named, so no stale entry survives the merge."""
    groups = set(knob_groups(scene))
    out: list[str] = []
    if "class" in groups and weights.get("class"):
        w = weights["class"]
        own = _get(scene, "class_weights") or {}
        total = sum(float(own.get(c, 1.0)) for c in w) or float(len(w))  # the scene's own scale (a preset's 1.5)
        out.append(f"++scene.class_weights={_table({c: total * s for c, s in w.items()})}")
    for table in CONDITION_TABLES:
        if table in groups and weights.get(table):
            out.append(f"++scene.conditions.{table}={_table(weights[table])}")
    if "glare" in groups and weights.get("glare"):
        g = weights["glare"]
        total = sum(g.get(k, 0.0) for k in GLARE_LEVELS) or 1.0
        out.append(f"scene.conditions.glare_probability={_num(g.get('True', 0.0) / total)}")
    if "fog_density" in groups and weights.get("fog_density"):
        r = fog_range(weights["fog_density"], list(_get(scene, "conditions.fog_density")))
        if r is not None:
            out.append(f"scene.conditions.fog_density=[{_num(r[0])},{_num(r[1])}]")
    if "distance_m" in groups and weights.get("distance_m"):
        w = weights["distance_m"]
        edges = [float(e) for e in distance_bins]
        own = [float(v) for v in _get(scene, "placement.distance_bin_weights") or []]
        same = [float(e) for e in _get(scene, "placement.distance_bins") or []] == edges
        total = sum(own) if same and sum(own) > 0 else float(len(edges))
        per_bin = [total * float(w.get(bin_label(edges, i), 1.0 / len(edges))) for i in range(len(edges))]
        out.append(f"scene.placement.distance_bins=[{','.join(_num(e) for e in edges)}]")
        out.append(f"scene.placement.distance_bin_weights=[{','.join(_num(v) for v in per_bin)}]")
    return out
