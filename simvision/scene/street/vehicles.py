"""Road vehicles: car, van, truck and bus, with wheels, glass and head / tail lights that emit at night."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from simvision.scene.shapes import Mesh
from simvision.scene.street.meshes import (
    PartsBuilder,
    PartsMesh,
    RecordingSampler,
    box,
    cylinder,
    face_normals,
    loft,
    ring_yz,
    wheel_torus,
)

VEHICLE_SLOTS = ("body", "glass", "tyre", "rim", "headlight", "taillight")
TRUCK_SLOTS = (*VEHICLE_SLOTS, "cargo", "chassis")


def _lower_body(stations: Sequence[tuple[float, float, float, float]], n: int = 16, exponent: float = 6.0) -> Mesh:
    """Loft rounded-rectangle sections (x, half width, z bottom, z top), listed from rear to front."""
    rings = np.stack([ring_yz(x, hw, z0, z1, n, exponent) for x, hw, z0, z1 in stations])
    v, f, _ = loft(rings)
    return v, f


def _body_stations(
    length: float,
    half_width: float,
    bottom: float,
    top: Callable[[np.ndarray], np.ndarray],
    extra: Sequence[float] = (),
) -> list[tuple[float, float, float, float]]:
    """Sections for a lower body: full-size in the middle, rounded-in at both ends."""
    half = length / 2
    inner = np.linspace(-half + 0.3, half - 0.3, 5)
    xs = np.unique(np.round(np.concatenate([[-half, -half + 0.09], inner, extra, [half - 0.09, half]]), 6))
    xs = xs[(xs >= -half) & (xs <= half)]
    tops = top(xs)
    stations = []
    for x, z1 in zip(xs, tops, strict=True):
        end = half - abs(x)
        if end < 1e-6:
            stations.append((x, half_width * 0.86, bottom + 0.1, z1 - 0.07))
        elif end < 0.1:
            stations.append((x, half_width * 0.96, bottom + 0.03, z1 - 0.015))
        else:
            stations.append((x, half_width, bottom, z1))
    return stations


def _greenhouse(
    parts: PartsBuilder,
    z0: float,
    z1: float,
    bottom: tuple[float, float, float],
    top: tuple[float, float, float],
    glass_sides: bool = True,
    glass_front: bool = True,
    glass_rear: bool = True,
) -> None:
    """A tapered box: bottom/top given as (x rear, x front, half width); the roof and floor use the body slot."""
    rings = np.array(
        [[[xr, -w, z], [xf, -w, z], [xf, w, z], [xr, w, z]] for (xr, xf, w), z in ((bottom, z0), (top, z1))]
    )
    v, f, _ = loft(rings)
    normal = face_normals(v, f)
    glass = np.zeros(len(f), dtype=bool)
    side = np.abs(normal[:, 1]) > 0.5
    front = (normal[:, 0] > 0.5) & ~side
    rear = (normal[:, 0] < -0.5) & ~side
    glass |= side & glass_sides
    glass |= front & glass_front
    glass |= rear & glass_rear
    glass &= np.abs(normal[:, 2]) < 0.95
    parts.add((v, f), np.where(glass, parts.sid("glass"), parts.sid("body")))


def _lamp_pair(
    parts: PartsBuilder, role: str, x_face: float, y: float, z: float, width: float, height: float, depth: float = 0.05
) -> None:
    """Two lamp boxes mirrored in y whose outer face lies at ``x_face`` (its sign says front or back)."""
    sign = 1.0 if x_face > 0 else -1.0
    for side in (1.0, -1.0):
        center = (x_face - sign * depth / 2, side * y, z)
        parts.add(box(center, (depth, width, height)), role)
        parts.light(role, (x_face, side * y, z), (sign, 0.0, 0.0))


def _wheels(
    parts: PartsBuilder, axles_x: Sequence[float], track_y: float, radius: float, sidewall: float, width: float
) -> None:
    for x in axles_x:
        for side in (1.0, -1.0):
            c = np.array([x, side * track_y, radius])
            parts.add(wheel_torus(c, radius, sidewall, width), "tyre")
            hub = np.array([0.0, 0.75 * width / 2, 0.0])
            parts.add(cylinder(c - hub, c + hub, radius - sidewall, segments=16), "rim")


def make_car(*, rng: np.random.Generator) -> PartsMesh:
    """A passenger car: sedan, hatchback or SUV."""
    s = RecordingSampler(rng)
    variant = s.choice("variant", ("sedan", "hatchback", "suv"), p=(0.45, 0.3, 0.25))
    ranges = {
        #             length       width         height        clearance     wheel r       hood          tyre w
        "sedan": ((4.3, 5.0), (1.72, 1.88), (1.38, 1.50), (0.13, 0.17), (0.30, 0.34), (1.15, 1.45), (0.19, 0.24)),
        "hatchback": ((3.6, 4.35), (1.64, 1.80), (1.42, 1.56), (0.13, 0.17), (0.29, 0.32), (0.9, 1.15), (0.18, 0.22)),
        "suv": ((4.3, 5.0), (1.80, 1.98), (1.62, 1.85), (0.19, 0.24), (0.34, 0.38), (1.05, 1.3), (0.22, 0.27)),
    }[variant]
    length, width, height = s.u("length", *ranges[0]), s.u("width", *ranges[1]), s.u("height", *ranges[2])
    clearance, wheel_r = s.u("clearance", *ranges[3]), s.u("wheel_radius", *ranges[4])
    hood_len, tyre_w = s.u("hood_length", *ranges[5]), s.u("tyre_width", *ranges[6])
    sidewall = wheel_r * s.u("sidewall_ratio", 0.2, 0.3)
    belt = height * s.u("belt_fraction", 0.6, 0.66)
    nose = belt - s.u("hood_drop", 0.08, 0.16)
    front_overhang = s.u("front_overhang", 0.78, 0.98)
    rear_overhang = s.u("rear_overhang", *{"sedan": (0.9, 1.15), "hatchback": (0.55, 0.75), "suv": (0.8, 1.0)}[variant])
    cabin_h = height - belt
    ws_run = cabin_h * s.u("windshield_rake", *((1.0, 1.4) if variant == "suv" else (1.3, 1.8)))
    trunk = s.u("trunk_length", *{"sedan": (0.8, 1.05), "hatchback": (0.08, 0.2), "suv": (0.05, 0.15)}[variant])
    rw_rake = {"sedan": (1.2, 1.7), "hatchback": (0.5, 0.9), "suv": (0.15, 0.4)}[variant]
    rw_run = cabin_h * s.u("rear_window_rake", *rw_rake)
    half = length / 2
    x_fb, x_rb = half - hood_len, -half + trunk
    squeeze = min(1.0, (x_fb - x_rb - 0.7) / (ws_run + rw_run))  # keep a roof at least 0.7 m long
    ws_run, rw_run = ws_run * squeeze, rw_run * squeeze
    x_ft, x_rt = x_fb - ws_run, x_rb + rw_run
    deck = belt - (s.u("deck_drop", 0.0, 0.05) if variant == "sedan" else 0.0)

    parts = PartsBuilder(VEHICLE_SLOTS)
    hw = width / 2 - 0.03
    ctrl_x = [-half, x_rb, x_fb, half - 0.25, half]
    ctrl_z = [deck - 0.02, belt, belt, nose + 0.03, nose]

    def top(x: np.ndarray) -> np.ndarray:
        return np.interp(x, ctrl_x, ctrl_z)

    stations = _body_stations(length, hw, clearance, top, extra=(x_rb, x_fb))
    parts.add(_lower_body(stations), "body")
    w_bottom, w_top = hw - 0.03, hw - s.u("tumblehome", 0.12, 0.2)
    _greenhouse(parts, belt - 0.12, height, (x_rb, x_fb, w_bottom), (x_rt, x_ft, w_top))
    x_b = x_rt + (x_ft - x_rt) * s.u("b_pillar", 0.4, 0.6)
    pillar = (x_b - 0.045, x_b + 0.045)
    _greenhouse(
        parts,
        belt - 0.1,
        height - 0.003,
        (*pillar, w_bottom + 0.006),
        (*pillar, w_top + 0.006),
        glass_sides=False,
        glass_front=False,
        glass_rear=False,
    )

    end_front, end_rear = stations[-1], stations[0]
    head_w, head_h = s.u("headlight_width", 0.16, 0.28), s.u("headlight_height", 0.06, 0.11)
    z_head = end_front[3] - head_h / 2 - 0.03
    _lamp_pair(parts, "headlight", half + 0.01, end_front[1] - head_w / 2 - 0.1, z_head, head_w, head_h)
    tail_w, tail_h = s.u("taillight_width", 0.18, 0.34), s.u("taillight_height", 0.06, 0.13)
    z_tail = end_rear[3] - tail_h / 2 - 0.03
    _lamp_pair(parts, "taillight", -half - 0.01, end_rear[1] - tail_w / 2 - 0.08, z_tail, tail_w, tail_h)

    axles = (half - front_overhang, -half + rear_overhang)
    _wheels(parts, axles, width / 2 - tyre_w / 2, wheel_r, sidewall, tyre_w)
    params = {**s.params, "wheelbase": axles[0] - axles[1], "windshield_run": ws_run, "rear_window_run": rw_run}
    return parts.finish("car", params)


def make_van(*, rng: np.random.Generator) -> PartsMesh:
    """A one-box van: panel van (glass only in the cab) or passenger van (glass all along)."""
    s = RecordingSampler(rng)
    variant = s.choice("variant", ("panel", "passenger"))
    length, width, height = s.u("length", 4.8, 6.0), s.u("width", 1.9, 2.05), s.u("height", 1.95, 2.6)
    clearance, wheel_r = s.u("clearance", 0.15, 0.2), s.u("wheel_radius", 0.32, 0.37)
    tyre_w, sidewall = s.u("tyre_width", 0.2, 0.24), s.u("sidewall", 0.08, 0.1)
    belt = s.u("belt_height", 0.95, 1.1)
    nose = belt - s.u("hood_drop", 0.1, 0.2)
    hood_len = s.u("hood_length", 0.45, 0.9)
    ws_run = (height - belt) * s.u("windshield_rake", 0.55, 0.9)
    cab_len = s.u("cab_length", 1.0, 1.3)
    half = length / 2
    x_fb = half - hood_len
    x_ft, x_bp = x_fb - ws_run, x_fb - ws_run - cab_len
    parts = PartsBuilder(VEHICLE_SLOTS)
    hw = width / 2 - 0.03

    def top(x: np.ndarray) -> np.ndarray:
        return np.interp(x, [-half, x_fb, half - 0.2, half], [belt, belt, nose + 0.03, nose])

    stations = _body_stations(length, hw, clearance, top, extra=(x_fb,))
    parts.add(_lower_body(stations), "body")
    w_bottom, w_top = hw - 0.02, hw - s.u("tumblehome", 0.04, 0.1)
    z0 = belt - 0.12
    _greenhouse(parts, z0, height, (x_bp, x_fb, w_bottom), (x_bp, x_ft, w_top), glass_rear=False)
    x_back = -half + 0.02
    _greenhouse(
        parts,
        z0,
        height,
        (x_back, x_bp, w_bottom),
        (x_back, x_bp, w_top),
        glass_sides=variant == "passenger",
        glass_front=False,
        glass_rear=variant == "passenger",
    )
    end_front, end_rear = stations[-1], stations[0]
    head_w, head_h = s.u("headlight_width", 0.18, 0.3), s.u("headlight_height", 0.08, 0.14)
    _lamp_pair(
        parts,
        "headlight",
        half + 0.01,
        end_front[1] - head_w / 2 - 0.1,
        end_front[3] - head_h / 2 - 0.03,
        head_w,
        head_h,
    )
    tail_w, tail_h = s.u("taillight_width", 0.1, 0.16), s.u("taillight_height", 0.2, 0.35)
    _lamp_pair(
        parts,
        "taillight",
        -half - 0.01,
        end_rear[1] - tail_w / 2 - 0.06,
        end_rear[3] - tail_h / 2 - 0.03,
        tail_w,
        tail_h,
    )
    axles = (half - s.u("front_overhang", 0.8, 1.0), -half + s.u("rear_overhang", 0.8, 1.2))
    _wheels(parts, axles, width / 2 - tyre_w / 2, wheel_r, sidewall, tyre_w)
    return parts.finish("van", s.params)


def _truck_cab(
    parts: PartsBuilder,
    s: RecordingSampler,
    style: str,
    half: float,
    hw: float,
    cab: tuple[float, float, float, float],
) -> tuple[float, float, float]:
    """The cab, behind a bonnet for a conventional truck; ``cab`` is (length, height, belt, bottom). Returns the
    cab's front x and the half width and top of the front face (bonnet or cab) for bumper and headlights."""
    cab_len, cab_h, belt, cab_bottom = cab
    if style == "conventional":
        hood_len, hood_h = s.u("hood_length", 1.2, 1.7), s.u("hood_height", 1.45, min(1.8, belt - 0.05))
        hood_hw = hw - s.u("hood_inset", 0.25, 0.4)
        x_cab_front = half - hood_len
        hood = [
            (x_cab_front - 0.1, hood_hw, cab_bottom, hood_h),
            (half - 0.15, hood_hw, cab_bottom, hood_h - 0.05),
            (half, hood_hw * 0.95, cab_bottom + 0.05, hood_h - 0.12),
        ]
        parts.add(_lower_body(hood, exponent=5.0), "body")
        front_hw, front_top = hood_hw * 0.95, hood_h - 0.12
    else:
        x_cab_front = half
        front_hw, front_top = hw * 0.97, belt - 0.03
    x_cab_rear = x_cab_front - cab_len
    body = [
        (x_cab_rear, hw, cab_bottom, belt),
        (x_cab_front - 0.08, hw, cab_bottom, belt),
        (x_cab_front, hw * 0.97, cab_bottom + 0.03, belt - 0.03),
    ]
    parts.add(_lower_body(body, exponent=8.0), "body")
    rake = s.u("windshield_rake", 0.05, 0.3)
    _greenhouse(
        parts,
        belt - 0.1,
        cab_h,
        (x_cab_rear, x_cab_front - 0.02, hw - 0.01),
        (x_cab_rear, x_cab_front - 0.02 - rake, hw - 0.06),
        glass_rear=False,
    )
    return x_cab_front, front_hw, front_top


def make_truck(*, rng: np.random.Generator) -> PartsMesh:
    """A rigid truck: cab-over or conventional (bonneted) cab, chassis, cargo box and three axles."""
    s = RecordingSampler(rng)
    style = s.choice("cab_style", ("cabover", "conventional"), p=(0.6, 0.4))
    length, width, height = s.u("length", 6.5, 10.0), s.u("width", 2.3, 2.55), s.u("height", 3.0, 3.8)
    wheel_r, tyre_w = s.u("wheel_radius", 0.46, 0.53), s.u("tyre_width", 0.3, 0.36)
    sidewall = s.u("sidewall", 0.13, 0.17)
    cab_len, cab_h = s.u("cab_length", 1.6, 2.1), s.u("cab_height", 2.6, min(3.2, height))
    belt = s.u("belt_height", 1.6, 1.85)
    cab_bottom = s.u("cab_bottom", 0.4, 0.6)
    half = length / 2
    parts = PartsBuilder(TRUCK_SLOTS)
    x_cab_front, front_hw, front_top = _truck_cab(
        parts, s, style, half, width / 2 - 0.02, (cab_len, cab_h, belt, cab_bottom)
    )
    front_face = half
    gap = s.u("cab_gap", 0.1, 0.3)
    deck = 2 * wheel_r + s.u("deck_clearance", 0.05, 0.15)
    box_len = x_cab_front - cab_len - gap + half
    parts.add(box((-half + box_len / 2, 0.0, (deck + height) / 2), (box_len, width, height - deck)), "cargo")
    rail_top = wheel_r + 0.15
    parts.add(
        box(((x_cab_front - 0.2 - half + 0.3) / 2, 0.0, rail_top - 0.15), (x_cab_front - 0.2 + half - 0.3, 0.9, 0.3)),
        "chassis",
    )
    parts.add(box((front_face - 0.08, 0.0, cab_bottom - 0.05), (0.16, 2 * front_hw, 0.3)), "chassis")  # bumper
    head_w, head_h = s.u("headlight_width", 0.2, 0.32), s.u("headlight_height", 0.1, 0.16)
    _lamp_pair(
        parts,
        "headlight",
        front_face + 0.01,
        front_hw - head_w / 2 - 0.12,
        max(cab_bottom + 0.05 + head_h / 2 + 0.05, front_top - head_h / 2 - 0.25),
        head_w,
        head_h,
    )
    tail_w, tail_h = s.u("taillight_width", 0.2, 0.35), s.u("taillight_height", 0.08, 0.14)
    _lamp_pair(parts, "taillight", -half - 0.01, width / 2 - tail_w / 2 - 0.1, deck + tail_h / 2 + 0.06, tail_w, tail_h)
    front_axle = x_cab_front - s.u("front_axle_setback", 0.45, 0.8) if style == "cabover" else half - 1.0
    rear_axle = -half + s.u("rear_overhang", 1.2, 2.0)
    axles = (front_axle, rear_axle + 1.35, rear_axle)
    _wheels(parts, axles, width / 2 - tyre_w / 2 - 0.02, wheel_r, sidewall, tyre_w)
    return parts.finish("truck", s.params)


def make_bus(*, rng: np.random.Generator) -> PartsMesh:
    """A city / coach bus: a long rounded box with a window band, windscreen, doors and 2 or 3 axles."""
    s = RecordingSampler(rng)
    length, width, height = s.u("length", 10.0, 12.5), s.u("width", 2.45, 2.55), s.u("height", 2.9, 3.25)
    clearance, wheel_r = s.u("clearance", 0.25, 0.35), s.u("wheel_radius", 0.48, 0.52)
    tyre_w, sidewall = s.u("tyre_width", 0.28, 0.32), s.u("sidewall", 0.14, 0.17)
    axles_n = 3 if s.flag("tag_axle", 0.25) else 2
    win0, win1 = s.u("window_bottom", 1.05, 1.3), height - s.u("window_top_margin", 0.25, 0.4)
    half, hw = length / 2, width / 2 - 0.02
    n, exponent = 20, 8.0
    parts = PartsBuilder(VEHICLE_SLOTS)
    stations = _body_stations(length, hw, clearance, lambda x: np.full_like(x, height))
    stations = [stations[0], stations[1], stations[len(stations) // 2], stations[-2], stations[-1]]
    parts.add(_lower_body(stations, n=n, exponent=exponent), "body")
    band = []
    for x in (-half + 0.25, half - 0.25):
        ring = ring_yz(x, hw, clearance, height, n, exponent)
        ring[:, 1] *= (hw + 0.012) / hw
        ring[:, 2] = np.clip(ring[:, 2], win0, win1)
        band.append(ring)
    v, f, _ = loft(np.stack(band))
    parts.add((v, f), "glass")
    end_hw = stations[-1][1]
    parts.add(box((half, 0.0, (0.95 + height - 0.2) / 2), (0.03, 2 * (end_hw - 0.12), height - 0.2 - 0.95)), "glass")
    parts.add(box((-half, 0.0, (win0 + 0.2 + win1) / 2), (0.03, 2 * (end_hw - 0.3), win1 - win0 - 0.2)), "glass")
    door_w = s.u("door_width", 1.0, 1.3)
    front_overhang, rear_overhang = s.u("front_overhang", 2.4, 2.8), s.u("rear_overhang", 3.0, 3.6)
    door_xs = [half - 0.3 - door_w / 2]
    if s.flag("middle_door", 0.7):
        door_xs.append(-half + rear_overhang + 0.9 + door_w / 2 if axles_n == 2 else 0.3)
    for x in door_xs:
        parts.add(box((x, -hw, (clearance + 0.3 + win1) / 2), (door_w, 0.03, win1 - clearance - 0.3)), "glass")
    head_w, head_h = s.u("headlight_width", 0.25, 0.4), s.u("headlight_height", 0.1, 0.18)
    _lamp_pair(parts, "headlight", half + 0.01, end_hw - head_w / 2 - 0.15, clearance + 0.4, head_w, head_h)
    tail_w, tail_h = s.u("taillight_width", 0.15, 0.25), s.u("taillight_height", 0.2, 0.4)
    _lamp_pair(parts, "taillight", -half - 0.01, end_hw - tail_w / 2 - 0.12, clearance + 0.55, tail_w, tail_h)
    axles = [half - front_overhang, -half + rear_overhang]
    if axles_n == 3:
        axles.append(-half + rear_overhang - 1.4)
    _wheels(parts, axles, width / 2 - tyre_w / 2, wheel_r, sidewall, tyre_w)
    return parts.finish("bus", s.params)
