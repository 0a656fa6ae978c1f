"""Street props (``scene.props``): fences and railings, bollards, utility and sign poles, litter bins and
parked bicycles as unlabelled distractors on the sidewalks and verges.

On by default with ``scene.assets=infinigen``, off with ``procedural`` (``scene.props.enabled``: null = follow
the asset library, true / false force it), so the procedural street stays exactly what it was. Placed after the
street's own objects and before its vegetation, from a generator seeded by the scene seed plus a tag: road
users, their instance ids, poses and the cameras are those of the same street without props (props are scenery,
never labelled: a parked bicycle has no rider and is not a cyclist). Where they stand:

* fences: runs of straight segments with gaps, on the verge just beyond the sidewalk's outer edge (in front of
  the buildings), or a pedestrian guardrail along the kerb;
* bollards (in rows of 1-4), poles and round public bins in the kerb-side strip of the sidewalk;
* wheelie bins and parked bicycles along the sidewalk's outer (building) side.

Every footprint must be free (:meth:`Placer.free`: parked cars, people, lamps, signs, other props) and clear of
building footprints, and nothing stands in the crossing road. Each placed prop is recorded in the scene's
container (``container.props``: kind, variant, zone, position, rotation, its shape's parameters), which every
frame's metadata line carries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from simvision.config.checks import ConfigError, check_range
from simvision.scene.spec import ObjectSpec
from simvision.scene.street.draws import count_in, tagged_rng, uniform_in
from simvision.scene.street.placement import Placer, _footprint
from simvision.scene.street.prop_shapes import FENCE_VARIANTS, PROP_SHAPES, make_fence
from simvision.scene.street.road import Road
from simvision.scene.street.vegetation import GROUND_Z, _Site

COUNTS = ("fences", "bollards", "poles", "bins", "bicycles")
SEED_TAG = 0x9809  # mixed into the scene seed: prop draws never touch the scene's own generator
TRIES = 6  # positions drawn per prop before it is given up


@dataclass
class PropsConfig:
    """``scene.props``: unlabelled street props. Counts are [low, high] per scene."""

    enabled: bool | None = None  # null: on with scene.assets=infinigen, off with procedural; true / false force it
    fences: list[int] = field(default_factory=lambda: [1, 3])  # fence runs, each of 2-6 segments with gaps
    bollards: list[int] = field(default_factory=lambda: [0, 6])
    poles: list[int] = field(default_factory=lambda: [1, 3])
    bins: list[int] = field(default_factory=lambda: [1, 4])
    bicycles: list[int] = field(default_factory=lambda: [1, 4])
    within_m: float = 60.0  # props stand between 3 m and this far ahead of the camera (arc length)
    fence_segment_m: list[float] = field(default_factory=lambda: [2.0, 5.0])  # length of one segment
    fence_gap_m: list[float] = field(default_factory=lambda: [0.3, 3.0])  # gap between segments of a run


def validate_props(cfg: Any) -> None:
    """Raise :class:`ConfigError` naming the first bad ``scene.props.*`` field."""
    if cfg.enabled is not None and not isinstance(cfg.enabled, bool):
        raise ConfigError(f"scene.props.enabled: true, false or null, got {cfg.enabled!r}")
    for key in COUNTS:
        check_range(cfg[key], f"scene.props.{key}", minimum=0, integer=True)
    check_range(cfg.fence_segment_m, "scene.props.fence_segment_m", minimum=0.5)
    check_range(cfg.fence_gap_m, "scene.props.fence_gap_m", minimum=0.0)
    if not float(cfg.within_m) > 3.0:
        raise ConfigError(f"scene.props.within_m: must be > 3 (metres ahead), got {cfg.within_m}")


def enabled_with_library(cfg: Any, assets: str) -> bool:
    """Whether a street layer whose ``enabled`` may be null (``scene.props``, ``scene.shop_fronts``) is on:
    ``enabled``, or when null, with the Infinigen library only."""
    if cfg is None:
        return False
    return bool(cfg.enabled) if cfg.enabled is not None else assets == "infinigen"


class _Props:
    """Places props through the scene's :class:`Placer` (footprints), with the props' own generator."""

    def __init__(self, placer: Placer, road: Road, rng: np.random.Generator) -> None:
        self.placer = placer
        self.road = road
        self.rng = rng
        self.site = _Site(placer, road)
        self.records: list[dict[str, Any]] = []

    def put(
        self,
        kind: str,
        shape: Any,
        s: float,
        t: float,
        yaw_offset: float,
        z: float,
        zone: str,
        like: ObjectSpec | None = None,
    ) -> ObjectSpec | None:
        """Place ``shape`` if its footprint is free, off buildings and the crossing road; record it. ``like``: a prop
        of the same run (fence, bollard row) whose materials this one takes (its own are drawn all the same)."""
        road, placer = self.road, self.placer
        if not 3.0 <= s <= road.end or abs(t) < road.half_width:
            return None
        reach = 0.5 * float(max(shape.size[0], shape.size[1]))
        if self.site.on_crossing(s, reach):
            return None
        xy = road.path.point(s, t)
        yaw = float(road.path.heading(s)) + yaw_offset
        if any(b.hits(c, r) for c, r in _footprint(shape, xy, yaw) for b in self.site.buildings):
            return None
        saved, placer.rng = placer.rng, self.rng  # the slot materials come from the props' generator too
        try:
            obj = placer.place(kind, s, t, yaw_offset, z=z, labelled=False, shape=shape)
        finally:
            placer.rng = saved
        if obj is None:
            return None
        if like is not None:
            obj.slot_materials = {slot: replace(m) for slot, m in like.slot_materials.items()}
            obj.material = next(iter(obj.slot_materials.values()))
        self.records.append(
            {
                "kind": kind,
                "variant": shape.params.get("variant") or shape.params.get("stand"),
                "zone": zone,
                "position": [round(v, 4) for v in obj.location],
                "rotation": [0.0, 0.0, round(obj.rotation_euler[2], 5)],
                "s": round(float(s), 4),
                "t": round(float(t), 4),
                "params": shape.params,
            }
        )
        return obj


def place_props(placer: Placer, road: Road, cfg: Any, seed: list[int]) -> list[dict[str, Any]]:
    """Put the scene's props on its sidewalks and verges; return their records (placement order)."""
    rng = tagged_rng(seed, SEED_TAG)
    props = _Props(placer, road, rng)
    counts = {key: count_in(rng, cfg[key]) for key in COUNTS}
    reach = min(float(cfg.within_m), road.end)
    half, edge = road.half_width, road.half_width + road.sidewalk_width
    kerb = road.kerb_height

    def side() -> float:
        return 1.0 if rng.uniform() < 0.5 else -1.0

    for _ in range(counts["fences"]):
        _fence_run(props, cfg, rng, side(), float(rng.uniform(3.0, reach)), half, edge, kerb)
    for _ in range(counts["poles"]):
        for _ in range(TRIES):
            shape = PROP_SHAPES["pole"](rng=rng)
            sd, s = side(), float(rng.uniform(3.0, reach))
            facing = math.pi if shape.params["variant"] == "sign_post" else 0.0  # a sign faces the camera
            if props.put("pole", shape, s, sd * (half + rng.uniform(0.35, 0.6)), facing, kerb, "kerb"):
                break
    left = counts["bollards"]
    while left > 0:  # rows of 1-4 at 1.2-2 m, the row's style shared (one generator seed per row)
        n = min(left, int(rng.integers(1, 5)))
        left -= n
        style, spacing = int(rng.integers(2**31)), float(rng.uniform(1.2, 2.0))
        sd, s = side(), float(rng.uniform(3.0, reach))
        t = sd * (half + rng.uniform(0.25, 0.4))
        first = None
        for k in range(n):
            shape = PROP_SHAPES["bollard"](rng=np.random.default_rng(style))
            shape.params["style_seed"] = style
            first = props.put("bollard", shape, s + k * spacing, t, 0.0, kerb, "kerb", like=first) or first
    for _ in range(counts["bins"]):
        for _ in range(TRIES):
            shape = PROP_SHAPES["bin"](rng=rng)
            sd, s = side(), float(rng.uniform(3.0, reach))
            if shape.params["variant"] == "wheelie":  # against the outer edge, its front (+x) to the road
                t, zone = sd * (edge - 0.5 * float(shape.size[0]) - rng.uniform(0.05, 0.3)), "outer"
            else:
                t, zone = sd * (half + rng.uniform(0.4, 0.6)), "kerb"
            if props.put("bin", shape, s, t, -sd * math.pi / 2 + rng.normal(0, 0.15), kerb, zone):
                break
    for _ in range(counts["bicycles"]):
        for _ in range(TRIES):
            shape = PROP_SHAPES["bicycle"](rng=rng)
            sd, s = side(), float(rng.uniform(3.0, reach))
            t = sd * (edge - 0.5 * float(shape.size[1]) - rng.uniform(0.05, 0.3))
            yaw = (0.0 if rng.uniform() < 0.5 else math.pi) + rng.normal(0, 0.05)
            if props.put("bicycle", shape, s, t, yaw, kerb, "outer"):
                break
    return props.records


def _fence_run(
    props: _Props,
    cfg: Any,
    rng: np.random.Generator,
    sd: float,
    s: float,
    half: float,
    edge: float,
    kerb: float,
) -> None:
    """2-6 segments of one fence with gaps (one style: every segment's shape drawn from one generator seed, the
    first placed segment's materials), on the verge beyond the sidewalk or, for a guardrail, along the kerb; a
    segment that is not free is left out (a longer gap)."""
    variant = FENCE_VARIANTS[int(rng.integers(len(FENCE_VARIANTS)))]
    style = int(rng.integers(2**31))
    height = {"railing": (0.9, 1.4), "picket": (0.8, 1.3), "guardrail": (0.8, 1.1)}[variant]
    height_m = float(rng.uniform(*height))
    at_kerb = variant == "guardrail" and rng.uniform() < 0.5
    t = sd * (half + 0.2) if at_kerb else sd * (edge + rng.uniform(0.15, 0.5))
    z, zone = (kerb, "kerb") if at_kerb else (GROUND_Z, "verge")
    first = None
    for _ in range(int(rng.integers(2, 7))):
        length = uniform_in(rng, cfg.fence_segment_m)
        gap = uniform_in(rng, cfg.fence_gap_m)
        shape = make_fence(rng=np.random.default_rng(style), variant=variant, length=length, height=height_m)
        shape.params["style_seed"] = style
        first = props.put("fence", shape, s + length / 2, t, 0.0, z, zone, like=first) or first
        s += length + gap
