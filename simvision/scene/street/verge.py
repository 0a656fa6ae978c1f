"""A camera on foot beside the street (``scene.verge_view``): on the open ground beyond a sidewalk (a grass verge,
a lawn, a field's edge), looking along the street or turned away from it, with the scene's lane cones standing
on that ground in front of it instead of in the lanes.

Real photos of traffic cones are mostly not taken from a car: a third of the cone photos we measure against
show cones standing in grass, which a camera in the lanes never sees (docs/realism.md, "Cones standing in
grass"). A verge scene keeps the whole street (road, traffic, people, trees, the far side's buildings) and
changes only where the camera stands, where its lane cones stand, and the buildings on its own side (left out:
open ground there, with a few trees scattered over it when the street has vegetation). Whether a scene is one
is drawn from a generator of its own (:data:`SEED_TAG`), so with ``probability`` 0 (the default) every scene is
exactly what it was, and the scenes that stay on the road draw what they drew before. A share of verge scenes may
stand their cones in one row (``cone_row_probability``) or make the open ground a paved car park with rows of
parked cars across the view (``car_park_probability``): a quarter of the cone photos are of a car park's rows of
cones (population.cone_row, population.car_park).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simvision.config.checks import ConfigError, check_probability, check_range
from simvision.scene.street.draws import tagged_rng, uniform_in
from simvision.scene.street.road import Road

SEED_TAG = 0x5E26  # mixed into the scene seed: the verge draws never touch the scene's own generator
CAR_PARK_TAG = 0x5E27  # and a car park's bays and cars have a generator of their own
# the lane cones of a verge scene stand this far beyond the sidewalk's outer edge at least (metres): on the
# ground, clear of the kerb's outer face
CONE_EDGE_CLEARANCE_M = 0.3
CONE_REACH_M = 40.0  # and at most this far out from the camera, sideways


@dataclass
class VergeViewConfig:
    # share of scenes whose camera stands on the open ground beside the street instead of in the ego lane
    probability: float = 0.0
    # how far beyond the sidewalk's outer edge the camera stands (metres; either side of the street)
    distance_m: list[float] = field(default_factory=lambda: [1.5, 6.0])
    # how far the camera is turned away from the road (degrees; 0 looks along the street, 90 straight away)
    turn_deg: list[float] = field(default_factory=lambda: [0.0, 60.0])
    # the camera's pitch in a verge scene (degrees, up > 0); null = the scene's camera_pitch_deg. A photo of a cone
    # on a lawn is mostly taken level, the horizon, trees and sky in view
    pitch_deg: list[float] | None = None
    # with scene.vegetation on (scene.assets=infinigen): Infinigen trees standing singly on the open ground where
    # the camera looks, this far from it
    trees: list[int] = field(default_factory=lambda: [2, 8])
    tree_distance_m: list[float] = field(default_factory=lambda: [8.0, 60.0])
    # a line of trees and bushes across the view at the open ground's far edge (a park's, a field's), this far
    # out, one every tree_line_spacing_m, in a share of verge scenes; the ground beyond runs to the horizon
    tree_line_probability: float = 0.7
    tree_line_m: list[float] = field(default_factory=lambda: [40.0, 120.0])
    tree_line_spacing_m: list[float] = field(default_factory=lambda: [5.0, 12.0])
    # a few Infinigen grass tufts (weeds left by the mower) near the camera, among the cones: the lawn itself is
    # the ground's material; dozens of tufts turn a lawn into rough grassland
    grass_tufts: list[int] = field(default_factory=lambda: [0, 12])
    tuft_distance_m: list[float] = field(default_factory=lambda: [0.5, 12.0])
    tuft_height_m: list[float] = field(default_factory=lambda: [0.08, 0.25])
    # with scene.assets=infinigen, where the ground is a lawn: grass blades on it in front of the camera, out to
    # blade_reach_m, this many per square metre (drawn per scene; [0, 0] = the lawn's material alone), this tall
    # (lawn.py)
    blades_per_m2: list[float] = field(default_factory=lambda: [1500.0, 4000.0])
    blade_height_m: list[float] = field(default_factory=lambda: [0.03, 0.12])
    blade_reach_m: float = 8.0
    # a share of verge scenes whose cones stand in one row across the open ground instead of scattered (a car
    # park's or a plaza's line of cones, a closed-off path): row_cones of one model, row_spacing_m apart, the
    # row at any bearing; one cone of the row is framed whole, the rest stand where the row puts them, so the
    # frame cuts some and leaves some out, as in the photos (population.cone_row)
    cone_row_probability: float = 0.0
    row_cones: list[int] = field(default_factory=lambda: [4, 9])
    row_spacing_m: list[float] = field(default_factory=lambda: [1.2, 4.0])
    # a share of verge scenes whose open ground is a car park: paved (the paved kinds of scene.ground_surface, or
    # pavers and concrete when it names none) with car_park_rows rows of parked cars and vans across the camera's
    # view in bays bay_width_m wide, nose to the aisle, the first row car_park_row_m ahead of the camera, a share
    # car_park_fill of the bays taken (population.car_park); behind the cones, as in the photos' car parks
    car_park_probability: float = 0.0
    car_park_rows: list[int] = field(default_factory=lambda: [1, 3])
    car_park_row_m: list[float] = field(default_factory=lambda: [6.0, 25.0])
    car_park_fill: list[float] = field(default_factory=lambda: [0.5, 0.95])
    bay_width_m: list[float] = field(default_factory=lambda: [2.4, 2.9])


def validate_verge_view(cfg: Any) -> None:
    """Raise :class:`ConfigError` naming the first bad ``scene.verge_view.*`` field."""
    check_probability(cfg.probability, "scene.verge_view.probability")
    check_range(cfg.distance_m, "scene.verge_view.distance_m", minimum=0.5)
    check_range(cfg.turn_deg, "scene.verge_view.turn_deg", minimum=0.0)
    if float(cfg.turn_deg[1]) > 90.0:
        raise ConfigError(f"scene.verge_view.turn_deg: at most 90 (away from the road), got {list(cfg.turn_deg)}")
    if cfg.get("pitch_deg") is not None:
        check_range(cfg.pitch_deg, "scene.verge_view.pitch_deg", minimum=-89.0)
        if float(cfg.pitch_deg[1]) > 89.0:
            raise ConfigError(f"scene.verge_view.pitch_deg: at most 89 (straight up), got {list(cfg.pitch_deg)}")
    check_range(cfg.trees, "scene.verge_view.trees", minimum=0, integer=True)
    check_range(cfg.tree_distance_m, "scene.verge_view.tree_distance_m", minimum=1.0)
    check_probability(cfg.tree_line_probability, "scene.verge_view.tree_line_probability")
    check_range(cfg.tree_line_m, "scene.verge_view.tree_line_m", minimum=5.0)
    check_range(cfg.tree_line_spacing_m, "scene.verge_view.tree_line_spacing_m", minimum=1.0)
    check_range(cfg.grass_tufts, "scene.verge_view.grass_tufts", minimum=0, integer=True)
    check_range(cfg.tuft_distance_m, "scene.verge_view.tuft_distance_m", minimum=0.1)
    check_range(cfg.tuft_height_m, "scene.verge_view.tuft_height_m", minimum=0.01)
    check_range(cfg.blades_per_m2, "scene.verge_view.blades_per_m2", minimum=0.0)
    if float(cfg.blades_per_m2[1]) > 20000:
        raise ConfigError(f"scene.verge_view.blades_per_m2: at most 20000, got {list(cfg.blades_per_m2)}")
    check_range(cfg.blade_height_m, "scene.verge_view.blade_height_m", minimum=0.005)
    if not 0.5 <= float(cfg.blade_reach_m) <= 15.0:
        raise ConfigError(f"scene.verge_view.blade_reach_m: must be between 0.5 and 15 m, got {cfg.blade_reach_m}")
    check_probability(cfg.cone_row_probability, "scene.verge_view.cone_row_probability")
    check_range(cfg.row_cones, "scene.verge_view.row_cones", minimum=2, integer=True)
    check_range(cfg.row_spacing_m, "scene.verge_view.row_spacing_m", minimum=0.6)
    if float(cfg.row_spacing_m[1]) > 10.0:
        raise ConfigError(f"scene.verge_view.row_spacing_m: at most 10 m, got {list(cfg.row_spacing_m)}")
    check_probability(cfg.car_park_probability, "scene.verge_view.car_park_probability")
    check_range(cfg.car_park_rows, "scene.verge_view.car_park_rows", minimum=1, integer=True)
    check_range(cfg.car_park_row_m, "scene.verge_view.car_park_row_m", minimum=2.0)
    check_range(cfg.car_park_fill, "scene.verge_view.car_park_fill", minimum=0.0)
    if float(cfg.car_park_fill[1]) > 1.0:
        raise ConfigError(f"scene.verge_view.car_park_fill: a share, at most 1, got {list(cfg.car_park_fill)}")
    check_range(cfg.bay_width_m, "scene.verge_view.bay_width_m", minimum=2.0)
    # the open ground is one square of scenes/street.yaml's ground_size (500 m): keep the camera and what it
    # scatters well inside it
    for key, most in (
        ("distance_m", 100.0),
        ("tree_distance_m", 200.0),
        ("tree_line_m", 200.0),
        ("car_park_row_m", 100.0),
    ):
        if float(cfg[key][1]) > most:
            raise ConfigError(f"scene.verge_view.{key}: at most {most:g} m (the ground ends), got {list(cfg[key])}")


@dataclass(frozen=True)
class Verge:
    """One verge scene's draws: the side of the street, where the camera stands and how it is turned."""

    side: float  # -1: right of the road's heading (the ego lanes' side), +1: left
    edge: float  # the sidewalk's outer edge, metres from the centre line
    distance: float  # the camera beyond that edge (metres)
    turn_deg: float  # turned away from the road
    row: bool = False  # its cones stand in one row (cone_row_probability)
    car_park: bool = False  # its open ground is a car park (car_park_probability)

    @property
    def t(self) -> float:
        """The camera's lateral offset from the centre line (left > 0)."""
        return self.side * (self.edge + self.distance)

    @property
    def yaw_deg(self) -> float:
        """The camera's turn from the road's heading, left > 0 (away from the road on its side)."""
        return self.side * self.turn_deg

    def cone_band(self) -> tuple[float, float]:
        """Where the verge's cones may stand across the street, as offsets from the camera: on the open ground
        at least :data:`CONE_EDGE_CLEARANCE_M` beyond the sidewalk, at most :data:`CONE_REACH_M` out."""
        near = self.distance - CONE_EDGE_CLEARANCE_M  # towards the road, as far as the sidewalk allows
        return (-near, CONE_REACH_M) if self.side > 0 else (-CONE_REACH_M, near)

    def record(self) -> dict[str, float]:
        record = {"side": self.side, "distance_m": self.distance, "turn_deg": self.turn_deg, "camera_t": self.t}
        return {**record, **({"cone_row": True} if self.row else {}), **({"car_park": True} if self.car_park else {})}


def draw_verge(cfg: Any, road: Road, seed: Any) -> Verge | None:
    """The scene's verge view, or None when its camera stays in the ego lane."""
    if cfg is None or float(cfg.probability) <= 0.0:
        return None
    rng = tagged_rng(seed, SEED_TAG)
    if rng.uniform() >= float(cfg.probability):
        return None
    side = -1.0 if rng.uniform() < 0.5 else 1.0
    distance, turn = uniform_in(rng, cfg.distance_m), uniform_in(rng, cfg.turn_deg)
    # drawn last, each only when its share is above 0: verge scenes without them draw what they drew before
    row = _drawn(rng, float(cfg.get("cone_row_probability", 0.0)))
    car_park = _drawn(rng, float(cfg.get("car_park_probability", 0.0)))
    edge = road.half_width + road.sidewalk_width
    return Verge(side=side, edge=edge, distance=distance, turn_deg=turn, row=row, car_park=car_park)


def _drawn(rng: np.random.Generator, probability: float) -> bool:
    """True with ``probability``; no draw at all when it is 0, so the draws after it are those of before."""
    return probability > 0.0 and bool(rng.uniform() < probability)
