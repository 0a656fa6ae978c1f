"""What stands on and along the road, and where: traffic, people, road works, obstacles, street furniture
and buildings. Each function draws in a fixed order, and the sampler calls them in a fixed order, so one
seed always gives the same street."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simvision.scene.spec import CameraSpec
from simvision.scene.street import distances
from simvision.scene.street.assets import STREET_SHAPES
from simvision.scene.street.buildings import make_building
from simvision.scene.street.cameras import in_frame
from simvision.scene.street.draws import count_in, uniform_in, weighted_choice
from simvision.scene.street.placement import Placer, local_to_world
from simvision.scene.street.road import Road
from simvision.scene.street.vegetation import GROUND_Z


def _side(rng: np.random.Generator) -> float:
    """Left (+1) or right (-1) of the centre line."""
    return float(rng.choice([-1.0, 1.0]))


def _ahead(
    road: Road,
    t: float,
    target: Any,
    rng: np.random.Generator,
    uniform: tuple[float, float],
    within: float | None = None,
) -> float:
    """Arc length of a road user at lateral offset t: from its class's target distance (one draw), or uniform in
    ``uniform`` where the config names no target."""
    if not target:
        return float(rng.uniform(*uniform))
    return distances.arc_length(distances.draw(target, rng, within), t - road.ego_offset)


def _mark(obj: Any, role: str, **values: float) -> None:
    """Record how a placed object was placed (its ``asset.placement``)."""
    if obj is not None:
        obj.asset["placement"] = {"role": role, **{k: float(v) for k, v in values.items()}}


# -- road users ------------------------------------------------------------------------------------


def moving_vehicles(
    placer: Placer,
    road: Road,
    n: int,
    types: dict[str, float],
    targets: dict[str, Any],
    headlights_ahead: bool,
    rng: np.random.Generator,
) -> None:
    """Vehicles driving in the lanes, mostly the ego car's way; ``headlights_ahead`` (glare at night) sends them
    all into the oncoming lanes, headlights towards the camera. ``targets``: vehicle kind -> target distance."""
    forward_lanes, oncoming_lanes = road.forward_lanes, road.oncoming_lanes
    for _ in range(n):
        kind = weighted_choice(types, rng)
        oncoming = bool(oncoming_lanes) and rng.uniform() < 0.45
        if headlights_ahead and oncoming_lanes:
            oncoming = True
        t = float(rng.choice(oncoming_lanes if oncoming else forward_lanes))
        yaw = math.pi if oncoming else 0.0
        s = max(_ahead(road, t, targets.get(kind), rng, (8.0, 110.0)), 8.0)
        _mark(placer.place(kind, s, t + rng.uniform(-0.3, 0.3), yaw + rng.normal(0, 0.03)), "traffic", s=s)


def near_traffic(
    placer: Placer,
    road: Road,
    n: int,
    types: dict[str, float],
    targets: dict[str, Any],
    within: float,
    rng: np.random.Generator,
) -> None:
    """Vehicles in the ego lane and the lanes beside it, no farther than ``within`` metres ahead."""
    lanes = [
        t for t in (*road.forward_lanes, *road.oncoming_lanes) if abs(t - road.ego_offset) < 1.01 * road.lane_width
    ]
    for _ in range(n):
        kind = weighted_choice(types, rng)
        t = float(rng.choice(lanes))
        yaw = math.pi if t > 0 else 0.0
        s = max(_ahead(road, t, targets.get(kind), rng, (8.0, within), within), 8.0)
        _mark(placer.place(kind, s, t + rng.uniform(-0.3, 0.3), yaw + rng.normal(0, 0.03)), "near_traffic", s=s)


def parked_rows(
    placer: Placer, road: Road, cfg: Any, types: dict[str, float], target: Any, rng: np.random.Generator
) -> list[float]:
    """Rows of parked vehicles along the kerbs (each side with probability ``cfg.parked_rows``): slot after slot
    at a bumper-to-bumper gap drawn from ``cfg.parked_gap_m``, each slot filled with probability
    target density / its peak at the slot's distance, so the row thins out as the target does (an empty slot
    is a gap of one vehicle). Returns the sides that have a row."""
    parkable = {k: v for k, v in types.items() if k != "bus"} or types
    peak = max(distances.density(target, float(d)) for d in distances.knots(target)[:-1]) if target else 1.0
    edge = road.half_width + road.sidewalk_width + 3.0
    sides = []
    for side in (-1.0, 1.0):
        if rng.uniform() >= float(cfg.parked_rows):
            continue
        sides.append(side)
        t = side * (road.half_width - road.parking_width / 2)
        s = float(rng.uniform(0.0, 6.0))
        while s < min(road.end, 110.0):
            kind = weighted_choice(parkable, rng)
            shape = STREET_SHAPES[kind](rng=rng)
            length = float(np.ptp(shape.vertices[:, 0]))
            gap = uniform_in(rng, cfg.parked_gap_m)
            centre = s + length / 2
            d = math.hypot(centre, t - road.ego_offset)
            keep = rng.uniform() < (distances.density(target, d) / peak if target else 1.0)
            on_crossing = road.crossing_at is not None and abs(centre - road.crossing_at) < edge + length / 2
            if keep and not on_crossing:
                yaw = (0.0 if side < 0 else math.pi) + rng.normal(0, 0.02)
                obj = placer.place(kind, centre, t, yaw, shape=shape)
                _mark(obj, "parked_row", side=side, gap_m=gap, length_m=length, s=centre)
            s += length + gap
    return sides


def parked_vehicles(
    placer: Placer, road: Road, n: int, types: dict[str, float], target: Any, rng: np.random.Generator
) -> None:
    """Single vehicles (no buses) in the parking strips, facing the way the traffic on their side drives."""
    parkable = {k: v for k, v in types.items() if k != "bus"} or types
    for _ in range(n):
        kind = weighted_choice(parkable, rng)
        side = _side(rng)
        t = side * (road.half_width - road.parking_width / 2)
        s = _ahead(road, t, target, rng, (4.0, 90.0))
        _mark(placer.place(kind, s, t, (0.0 if side < 0 else math.pi) + rng.normal(0, 0.02)), "parked", s=s)


def pedestrians(placer: Placer, road: Road, n: int, target: Any, rng: np.random.Generator) -> None:
    """People on the sidewalks, and at an intersection some crossing at the zebra."""
    half, walk = road.half_width, road.sidewalk_width
    for _ in range(n):
        if road.crossing_at is not None and rng.uniform() < 0.3:
            placer.place(
                "person",
                road.crossing_at - half - walk / 2 + rng.uniform(-1, 1),
                rng.uniform(-half, half),
                float(rng.choice([-1, 1])) * math.pi / 2 + rng.normal(0, 0.2),
            )
        else:
            side = _side(rng)
            t = side * (half + rng.uniform(0.4, walk - 0.4))
            placer.place(
                "person",
                max(_ahead(road, t, target, rng, (3.0, 70.0)), 3.0),
                t,
                float(rng.uniform(-math.pi, math.pi)),
                z=road.kerb_height,
            )


def cyclists(placer: Placer, road: Road, n: int, target: Any, rng: np.random.Generator) -> None:
    """Cyclists riding ahead along the right-hand edge of the carriageway."""
    edge = -road.half_width + road.parking_width
    for _ in range(n):
        t = edge + rng.uniform(0.3, 1.0)
        placer.place("cyclist", max(_ahead(road, t, target, rng, (6.0, 70.0)), 6.0), t, rng.normal(0, 0.05))


# -- road works and hazards ------------------------------------------------------------------------


def construction_zone(placer: Placer, road: Road, rng: np.random.Generator) -> None:
    """Close the outer forward lane: a taper of cones, barriers, and a worker."""
    lane_w = road.lane_width
    t_lane = min(road.forward_lanes)
    start = float(rng.uniform(12.0, 30.0))
    for k in range(int(rng.integers(6, 12))):
        frac = min(1.0, k / 4)
        placer.place("traffic_cone", start + 2.5 * k, t_lane - lane_w / 2 + frac * lane_w * 0.9, 0.0)
    for k in range(int(rng.integers(1, 3))):
        placer.place("barrier", start + 12.0 + 4.0 * k, t_lane, math.pi / 2 + rng.normal(0, 0.05))
    if rng.uniform() < 0.7:
        placer.place("person", start + 8.0, t_lane - 0.4, float(rng.uniform(-math.pi, math.pi)))


def roadside_cones(placer: Placer, road: Road, n: int, target: Any, rng: np.random.Generator) -> None:
    """Stray cones in the parking strips."""
    for _ in range(n):
        side = _side(rng)
        t = side * (road.half_width - rng.uniform(0.2, road.parking_width))
        placer.place(
            "traffic_cone",
            max(_ahead(road, t, target, rng, (5.0, 60.0)), 4.0),
            t,
            float(rng.uniform(0, 2 * math.pi)),
        )


LANE_CONE_TRIES = 40


def _view_bearings(camera: CameraSpec, road: Road) -> tuple[float, float]:
    """The bearings (radians, left of the road's heading at the camera) of the edges of ``camera``'s view."""
    forward = np.asarray(camera.cam_to_world, dtype=np.float64)[:3, 2]
    centre = math.atan2(forward[1], forward[0]) - float(road.path.heading(0.0))
    centre = math.atan2(math.sin(centre), math.cos(centre))
    half = math.atan(0.5 * camera.width / float(camera.K[0][0]))
    limit = math.radians(89.0)
    return max(centre - half, -limit), min(centre + half, limit)


def _framed_spot(
    road: Road,
    shape: Any,
    turn: float,
    target: Any,
    rng: np.random.Generator,
    camera: CameraSpec,
    ground: LaneGround,
) -> tuple[float, float, int] | None:
    """(s, t, draws) of a lane cone spot where ``camera`` sees all of ``shape`` turned by ``turn``; None when
    LANE_CONE_TRIES draws found none. The distance comes from the class's target as for every road user; the
    offset is drawn within the lanes and the camera's view at that distance, so the check rarely has to
    redraw, and then mostly because a near spot's foot is below the frame (a camera that cannot see the
    ground that close)."""
    band_lo, band_hi = ground.band
    right, left = _view_bearings(camera, road)
    for tries in range(1, LANE_CONE_TRIES + 1):
        d = distances.draw(target, rng) if target else float(rng.uniform(3.0, 20.0))
        lo, hi = max(band_lo, d * math.sin(right)), min(band_hi, d * math.sin(left))
        if lo >= hi:
            continue
        lateral = float(rng.uniform(lo, hi))
        s = max(distances.arc_length(d, lateral), ground.min_ahead)
        t = ground.t + lateral
        yaw = float(road.path.heading(s)) + turn
        where = road.path.point(s, t) if ground.z == 0.0 else [*road.path.point(s, t), ground.z]
        if in_frame(camera, local_to_world(shape.vertices, where, yaw)):
            return s, t, tries
    return None


@dataclass(frozen=True)
class LaneGround:
    """Where a scene's lane cones may stand: offsets ``band`` across the road from the camera's lateral offset
    ``t``, at least ``min_ahead`` metres ahead of it, on ground at height ``z``. The ego lanes' by default;
    a verge scene's (scene.verge_view) is the open ground in front of its camera."""

    t: float
    band: tuple[float, float]
    min_ahead: float = 1.0
    z: float = 0.0
    role: str = "lane_cone"

    @staticmethod
    def lanes(road: Road) -> LaneGround:
        half_lanes = 0.6 * road.lane_width
        return LaneGround(road.ego_offset, (-half_lanes, half_lanes))


def lane_cones(
    placer: Placer,
    road: Road,
    n: int,
    target: Any,
    rng: np.random.Generator,
    camera: CameraSpec,
    ground: LaneGround | None = None,
) -> int:
    """Cones standing in the ego lane and the lanes beside it, from 1 m ahead: a closure right in front of the
    car, a cone in its path (``scene.lane_cones``); or, in a verge scene, on the open ground in front of the
    camera (``ground``). Each is seen whole by ``camera`` (the rig's forward one): with its shape and turn
    drawn, where it stands is drawn again until no part of it is cut by the frame, up to LANE_CONE_TRIES
    times, after which it is left out. Returns how many were left out."""
    ground = ground or LaneGround.lanes(road)
    left_out = 0
    for _ in range(n):
        shape = STREET_SHAPES["traffic_cone"](rng=rng)
        turn = float(rng.uniform(0, 2 * math.pi))
        spot = _framed_spot(road, shape, turn, target, rng, camera, ground)
        if spot is None:
            left_out += 1
            continue
        s, t, tries = spot
        placed = placer.place("traffic_cone", s, t, turn, z=ground.z, shape=shape)
        _mark(placed, ground.role, s=s, t=t, tries=tries)
    return left_out


ROW_MIN_DEPTH_M = 0.5  # a row's cone stands at least this far in front of the camera's image plane


def cone_row(
    placer: Placer,
    road: Road,
    cfg: Any,
    target: Any,
    rng: np.random.Generator,
    camera: CameraSpec,
    ground: LaneGround,
) -> dict[str, Any]:
    """A verge scene's cones in one row across its open ground (``scene.verge_view.cone_row_probability``): a
    car park's or a plaza's line of cones. ``cfg.row_cones`` cones of one model (one shape seed), set by hand
    ``cfg.row_spacing_m`` apart (each a few per cent off, a few centimetres out of line) along a bearing drawn
    at any angle. One of them, the anchor, stands where a lane cone would (at the class's distance target, seen
    whole by ``camera``); the others stand where the row puts them, on the open ground and in front of the
    camera, so the frame cuts some and leaves some out. Returns the row's record (what was drawn, how many
    stand); with no framed spot for the anchor, no row."""
    n = count_in(rng, cfg.row_cones)
    spacing = uniform_in(rng, cfg.row_spacing_m)
    shape_seed = int(rng.integers(2**31))  # every cone of the row the same model

    def shape() -> Any:
        return STREET_SHAPES["traffic_cone"](rng=np.random.default_rng(shape_seed))

    turn = float(rng.uniform(0, 2 * math.pi))
    spot = _framed_spot(road, shape(), turn, target, rng, camera, ground)
    bearing = float(rng.uniform(0.0, math.pi))  # from the road's heading; the row runs both ways from the anchor
    anchor = int(rng.integers(n))
    record: dict[str, Any] = {"drawn": n, "spacing_m": spacing, "bearing_deg": math.degrees(bearing)}
    if spot is None:
        return {**record, "anchor": anchor, "standing": 0}
    s0, t0, _ = spot
    lo, hi = ground.band
    cam_to_world = np.asarray(camera.cam_to_world, dtype=np.float64)
    standing = 0
    for i in [anchor, *(i for i in range(n) if i != anchor)]:  # the framed anchor first: nothing takes its place
        along = 0.0 if i == anchor else (i - anchor) * spacing * float(rng.uniform(0.93, 1.07))
        across = 0.0 if i == anchor else float(rng.normal(0.0, 0.04))
        s = s0 + along * math.cos(bearing) - across * math.sin(bearing)
        t = t0 + along * math.sin(bearing) + across * math.cos(bearing)
        cone_turn = turn if i == anchor else float(rng.uniform(0, 2 * math.pi))
        depth = (np.array([*road.path.point(s, t), ground.z]) - cam_to_world[:3, 3]) @ cam_to_world[:3, 2]
        if depth < ROW_MIN_DEPTH_M or not lo <= t - ground.t <= hi:  # behind the camera, or off the open ground
            continue
        placed = placer.place("traffic_cone", s, t, cone_turn, z=ground.z, shape=shape())
        _mark(placed, "cone_row", s=s, t=t, index=i)
        standing += placed is not None
    return {**record, "anchor": anchor, "standing": standing}


CAR_PARK_KINDS = ("car", "van")  # what parks in a car park's bays
CAR_PARK_SPAN_M = 30.0  # a row's bays run this far either side of the camera's line of sight
CAR_PARK_GROUND_M = 1.5  # a bay's centre at least this far beyond the sidewalk: no car on or over it
ROW_DEPTH_M = 5.0  # a row's depth: a bay's length


def car_park(
    placer: Placer,
    road: Road,
    verge: Any,
    view_deg: float,
    cfg: Any,
    types: dict[str, float],
    rng: np.random.Generator,
) -> dict[str, Any]:
    """A verge scene's open ground as a car park (``scene.verge_view.car_park_probability``): ``cfg.car_park_rows``
    rows of bays across the camera's view (``view_deg``: its turn from the road's heading), the first
    ``cfg.car_park_row_m`` ahead of it, each row a bay deep with a 6-7.5 m aisle before the next (the next pair
    back to back), bays ``cfg.bay_width_m`` wide along the row out to :data:`CAR_PARK_SPAN_M` either side of the
    line of sight, a share ``cfg.car_park_fill`` of them taken by a car or van (``types``' weights) parked nose to
    the aisle (one in five backed in), a little off square. A bay off the open ground (on the road or the
    sidewalk), on a crossing road or whose footprint meets the cones, the camera or anything else placed stays
    empty. Positions are in the road's (s, t) frame from the camera, as the cone rows' are. Returns the record."""
    kinds = {k: float(types.get(k, 0.0)) for k in CAR_PARK_KINDS}
    kinds = kinds if sum(kinds.values()) > 0 else {"car": 1.0}
    n_rows = count_in(rng, cfg.car_park_rows)
    first = uniform_in(rng, cfg.car_park_row_m)
    bay = uniform_in(rng, cfg.bay_width_m)
    fill = uniform_in(rng, cfg.car_park_fill)
    view = math.radians(view_deg)
    ahead, across = np.array([math.cos(view), math.sin(view)]), np.array([-math.sin(view), math.cos(view)])
    camera = np.array([0.0, verge.t])
    rows, parked, distance = [], 0, first
    for k in range(n_rows):
        facing = 0.0 if k % 2 == 0 else math.pi  # noses to the aisle between rows 0 and 1, 2 and 3, ...
        rows.append(float(distance))
        centre = camera + (distance + ROW_DEPTH_M / 2) * ahead
        offset = -CAR_PARK_SPAN_M + float(rng.uniform(0.0, bay))
        while offset < CAR_PARK_SPAN_M:
            kind = weighted_choice(kinds, rng)
            shape = STREET_SHAPES[kind](rng=rng)
            taken = rng.uniform() < fill
            backed_in = rng.uniform() < 0.2
            yaw = view + facing + float(rng.normal(0.0, 0.04)) + (math.pi if backed_in else 0.0)
            s, t = (float(v) for v in centre + offset * across)
            on_ground = verge.side * t >= verge.edge + CAR_PARK_GROUND_M
            on_crossing = road.crossing_at is not None and abs(s - road.crossing_at) < road.half_width + 8.0
            if taken and on_ground and not on_crossing and s < road.end:
                obj = placer.place(kind, s, t, yaw, z=GROUND_Z, shape=shape)
                _mark(obj, "car_park", s=s, t=t, row=k, bay_width_m=bay)
                parked += obj is not None
            offset += bay
        distance += ROW_DEPTH_M + (float(rng.uniform(6.0, 7.5)) if k % 2 == 0 else 0.0)  # an aisle, or back to back
    return {"rows_m": rows, "view_deg": float(view_deg), "bay_width_m": bay, "fill": fill, "parked": parked}


def roadside_barriers(placer: Placer, road: Road, n: int, rng: np.random.Generator) -> None:
    """Barriers along the parking strips."""
    for _ in range(n):
        side = _side(rng)
        t = side * (road.half_width - road.parking_width / 2)
        placer.place("barrier", float(rng.uniform(8.0, 60.0)), t, rng.normal(0, 0.1))


def obstacles(placer: Placer, road: Road, n: int, types: dict[str, float], rng: np.random.Generator) -> None:
    """Rare obstacles lying in the ego lane ahead."""
    for _ in range(n):
        kind = weighted_choice(types, rng)
        s = float(rng.uniform(12.0, 60.0))
        placer.place(kind, s, road.ego_offset + rng.uniform(-1.0, 1.0), float(rng.uniform(0, 2 * math.pi)))


# -- street furniture and buildings ----------------------------------------------------------------


def street_lamps(placer: Placer, road: Road, spacing: float, rng: np.random.Generator) -> None:
    """Lamps at a regular spacing, alternating sides, leaving the junction clear; unlabelled."""
    half, walk = road.half_width, road.sidewalk_width
    for k, s in enumerate(np.arange(road.start + rng.uniform(0, spacing), road.end, spacing)):
        side = 1.0 if k % 2 else -1.0
        if road.crossing_at is not None and abs(s - road.crossing_at) < half + walk + 1:
            continue
        # the lamp's arm (its +x) reaches over the road
        placer.place(
            "street_lamp", float(s), side * (half + 0.4), -side * math.pi / 2, z=road.kerb_height, labelled=False
        )


def traffic_signs(placer: Placer, road: Road, n: int, rng: np.random.Generator) -> None:
    """Signs on the kerb facing the traffic; unlabelled."""
    for _ in range(n):
        side = _side(rng)
        s = float(rng.uniform(5.0, 80.0))
        placer.place("traffic_sign", s, side * (road.half_width + 0.5), math.pi, z=road.kerb_height, labelled=False)


def traffic_lights(placer: Placer, road: Road, crossing_at: float) -> None:
    """A signal on each kerb before the junction, facing the ego car."""
    s = crossing_at - road.half_width - road.sidewalk_width + 0.5
    for side in (-1.0, 1.0):
        placer.place("traffic_light", s, side * (road.half_width + 0.5), math.pi, z=road.kerb_height)


def buildings(
    placer: Placer, road: Road, spec: dict[str, Any], rng: np.random.Generator, open_side: float | None = None
) -> None:
    """Rows of buildings behind both sidewalks, with gaps, leaving the crossing road clear; none on
    ``open_side`` (-1 right, +1 left: a verge scene's open ground)."""
    edge = road.half_width + road.sidewalk_width
    for side in (-1.0, 1.0):
        if side == open_side:
            continue
        s = road.start
        while s < road.end:
            width, depth, height = (uniform_in(rng, spec[size]) for size in ("width", "depth", "height"))
            centre = s + width / 2
            on_crossing = road.crossing_at is not None and abs(centre - road.crossing_at) < edge + width / 2 + 2
            if not on_crossing:
                shape = make_building(rng=rng, width=width, depth=depth, height=height)
                t = side * (edge + uniform_in(rng, spec["setback"]) + depth / 2)
                yaw = float(road.path.heading(centre)) - side * math.pi / 2  # facade (+x) faces the road
                placer.backdrop("building", shape, road.path.point(centre, t), yaw)
            s += width + uniform_in(rng, spec["gap"])
