"""Pedestrians and cyclists: a jointed figure posed by its sampled joint angles."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simvision.scene.shapes import torus
from simvision.scene.street.meshes import (
    PartsBuilder,
    PartsMesh,
    Point,
    RecordingSampler,
    align_z,
    box,
    capsule,
    cylinder,
    ellipsoid,
    loft,
    outward,
    rot_y,
    superellipse,
    two_bone_ik,
    unit,
    wheel_torus,
)

PERSON_SLOTS = ("skin", "top", "bottom", "hair", "shoes")
CYCLIST_SLOTS = ("frame", "tyre", "rim", "skin", "top", "bottom", "hair", "shoes", "helmet")


def _body_dims(height: float, build: float, shoulder: float) -> dict[str, float]:
    """Segment lengths and radii for a figure of ``height``; children get bigger heads and shorter legs."""
    h = height
    child = float(np.clip((1.75 - h) / 0.75, 0.0, 1.0))
    head = h * (0.13 + 0.045 * child)
    z_hip = h * (0.5 - 0.05 * child)
    ankle = 0.045 * h
    leg = z_hip - ankle
    z_sh = h - head - 0.05 * h
    return {
        "height": h,
        "head": head,
        "z_hip": z_hip,
        "ankle": ankle,
        "thigh": 0.52 * leg,
        "shin": 0.48 * leg,
        "z_shoulder": z_sh,
        "hip_hw": 0.052 * h * build,
        "shoulder_hw": 0.112 * h * shoulder,
        "upper_arm": 0.186 * h,
        "forearm": 0.146 * h,
        "hand": 0.1 * h,
        "foot": 0.15 * h,
        "foot_w": 0.055 * h,
        "thigh_r": 0.042 * h * build,
        "knee_r": 0.029 * h * build,
        "ankle_r": 0.019 * h * build,
        "arm_r": 0.024 * h * build,
        "elbow_r": 0.019 * h * build,
        "wrist_r": 0.014 * h * build,
        "neck_r": 0.031 * h * (1 + 0.3 * child),
        "build": build,
    }


def _shoulders(d: dict[str, float], pelvis: np.ndarray, lean: float) -> list[np.ndarray]:
    up = d["z_shoulder"] - d["z_hip"] - 0.01 * d["height"]
    return [pelvis + rot_y(lean) @ np.array([0.0, side * d["shoulder_hw"], up]) for side in (1.0, -1.0)]


def _torso(parts: PartsBuilder, d: dict[str, float], pelvis: np.ndarray, lean: float) -> np.ndarray:
    """Hips and a lofted torso leaning forward by ``lean``; returns the base of the neck."""
    h = d["height"]
    r_lean = rot_y(lean)
    parts.add(
        ellipsoid(
            pelvis + (0.0, 0.0, 0.015 * h),
            (0.068 * h, d["hip_hw"] + 0.045 * h * d["build"], 0.07 * h),
            rot_y(0.4 * lean),
            segments=12,
            rings=5,
        ),
        "bottom",
    )
    torso_len = d["z_shoulder"] - d["z_hip"]
    b, sh = d["build"], d["shoulder_hw"]
    stations = [
        (0.02 * h, 0.07 * b, 0.095 * b),
        (0.12 * h, 0.064 * b, 0.085 * b),
        (torso_len - 0.1 * h, 0.072 * b, 0.1 * b),
        (torso_len - 0.01 * h, 0.06 * b, sh / h + 0.012),
        (torso_len + 0.035 * h, 0.04 * b, 0.06),
    ]
    a_, b_ = superellipse(14, 2.6)
    rings = np.stack([np.stack([hx * h * a_, hy * h * b_, np.full(14, z)], axis=1) for z, hx, hy in stations])
    rings = pelvis + rings @ r_lean.T
    v, f, _ = loft(rings)
    parts.add((v, f), "top")
    return pelvis + r_lean @ np.array([0.0, 0.0, torso_len + 0.01 * h])


def _head(parts: PartsBuilder, d: dict[str, float], neck_base: np.ndarray, head_lean: float, hair: str) -> None:
    """Neck, head and hair (short, long or none) or a helmet, tilted forward by ``head_lean``."""
    h, head = d["height"], d["head"]
    r_head = rot_y(head_lean)
    neck_len = h - d["head"] - (d["z_shoulder"] + 0.01 * h) + 0.03 * h
    parts.add(capsule(neck_base, neck_base + r_head @ np.array([0.0, 0.0, neck_len]), d["neck_r"], segments=10), "skin")
    head_center = neck_base + r_head @ np.array([0.03 * head, 0.0, h - head / 2 - (d["z_shoulder"] + 0.01 * h)])
    radii = np.array([0.44, 0.35, 0.5]) * head
    parts.add(ellipsoid(head_center, radii, r_head, segments=12, rings=7), "skin")

    def cap(offset: Point, scale: Point, slot: str, segments: int, rings: int) -> None:
        """An ellipsoid over the head, offset and scaled in head radii."""
        center = head_center + r_head @ (np.array(offset) * radii)
        parts.add(ellipsoid(center, radii * scale, r_head, segments=segments, rings=rings), slot)

    if hair == "helmet":
        cap((-0.1, 0.0, 0.35), (1.18, 1.18, 0.78), "helmet", 12, 5)
    elif hair != "none":
        cap((-0.12, 0.0, 0.1), (1.02, 1.06, 0.95), "hair", 12, 7)
        if hair == "long":
            cap((-0.55, 0.0, -0.55), (0.5, 1.0, 1.1), "hair", 10, 5)


def _legs(
    parts: PartsBuilder,
    d: dict[str, float],
    legs: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, float]],
    long_trousers: bool,
) -> None:
    """Thighs, shins (bare below shorts) and shoes pitched by the foot angle."""
    h = d["height"]
    leg_slot = "bottom" if long_trousers else "skin"
    for hip, knee, ankle, pitch in legs:
        parts.add(capsule(hip, knee, d["thigh_r"], d["knee_r"]), "bottom")
        parts.add(capsule(knee, ankle, d["knee_r"] * 0.95, d["ankle_r"]), leg_slot)
        rot = rot_y(-pitch)
        foot_h = d["ankle"] + 0.015 * h
        center = ankle + rot @ np.array([0.25 * d["foot"], 0.0, -d["ankle"] + foot_h / 2])
        parts.add(box(center, (d["foot"], d["foot_w"], foot_h), rot), "shoes")


def _arms(
    parts: PartsBuilder,
    d: dict[str, float],
    arms: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    long_sleeves: bool,
) -> None:
    """Upper arms, forearms (bare below short sleeves) and hands along the forearm."""
    h = d["height"]
    arm_slot = "top" if long_sleeves else "skin"
    for shoulder, elbow, wrist in arms:
        parts.add(capsule(shoulder, elbow, d["arm_r"], d["elbow_r"]), "top")
        parts.add(capsule(elbow, wrist, d["elbow_r"] * 0.95, d["wrist_r"]), arm_slot)
        direction = unit(wrist - elbow)
        parts.add(
            ellipsoid(
                wrist + direction * d["hand"] * 0.45,
                (0.022 * h, 0.012 * h, d["hand"] * 0.5),
                align_z(direction),
                segments=8,
                rings=4,
            ),
            "skin",
        )


def _figure(
    parts: PartsBuilder,
    d: dict[str, float],
    pelvis: np.ndarray,
    lean: float,
    head_lean: float,
    legs: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, float]],
    arms: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    long_sleeves: bool,
    long_trousers: bool,
    hair: str,
) -> None:
    """Build the body parts of a figure from its joint positions (legs: hip, knee, ankle, foot pitch)."""
    neck_base = _torso(parts, d, pelvis, lean)
    _head(parts, d, neck_base, head_lean, hair)
    _legs(parts, d, legs, long_trousers)
    _arms(parts, d, arms, long_sleeves)


def _sample_figure_style(s: RecordingSampler, adult_only: bool = False) -> tuple[float, dict[str, float]]:
    if adult_only or not s.flag("child", 0.15):
        height = s.u("height", 1.5, 1.95)
    else:
        height = s.u("height", 1.0, 1.4)
    d = _body_dims(height, s.u("build", 0.88, 1.18), s.u("shoulder_width", 0.9, 1.1))
    return height, d


def make_person(*, rng: np.random.Generator) -> PartsMesh:
    """A pedestrian facing +x, standing, walking or running; pose angles (degrees) are in params."""
    s = RecordingSampler(rng)
    height, d = _sample_figure_style(s)
    pose = s.choice("pose", ("standing", "walking", "running"), p=(0.3, 0.5, 0.2))
    phase = s.u("phase", 0.0, 2 * np.pi)
    if pose == "walking":
        amp, knee_swing = s.u("hip_amplitude", 16, 28), s.u("knee_swing", 35, 55)
        knee_stance = s.u("knee_stance", 3, 12)
        arm_amp, elbow, lean = s.u("arm_amplitude", 10, 25), s.u("elbow_flexion", 8, 30), s.u("lean", 0, 6)
    elif pose == "running":
        amp, knee_swing = s.u("hip_amplitude", 28, 42), s.u("knee_swing", 70, 105)
        knee_stance = s.u("knee_stance", 12, 28)
        arm_amp, elbow, lean = s.u("arm_amplitude", 30, 55), s.u("elbow_flexion", 75, 100), s.u("lean", 6, 15)
    else:
        amp, knee_swing, knee_stance = 0.0, 0.0, s.u("knee_stance", 0, 5)
        arm_amp, elbow, lean = 0.0, s.u("elbow_flexion", 3, 20), s.u("lean", -2, 3)
    spread = s.u("leg_spread", 0.0, 5.0) if pose == "standing" else s.u("leg_spread", 0.0, 2.0)
    abduction = s.u("arm_abduction", 6.0, 14.0)
    long_sleeves, long_trousers = s.flag("long_sleeves", 0.6), s.flag("long_trousers", 0.7)
    hair = s.choice("hair", ("short", "long", "none"), p=(0.55, 0.35, 0.1))
    pelvis = np.array([0.0, 0.0, d["z_hip"]])
    shoulders = _shoulders(d, pelvis, math.radians(lean))
    legs, arms, joints = [], [], {}
    for side_name, side, ph in (("left", 1.0, phase), ("right", -1.0, phase + np.pi)):
        if pose == "standing":
            hip_a, knee_a = s.u(f"hip_{side_name}", -6, 6), knee_stance
            pitch, sh_a = 0.0, s.u(f"shoulder_{side_name}", -8, 8)
        else:
            hip_a = amp * math.sin(ph)
            knee_a = knee_stance + knee_swing * max(0.0, math.cos(ph)) ** 2
            pitch = 15 * math.sin(ph) - 5
            sh_a = -arm_amp * math.sin(ph)
        joints.update(
            {
                f"hip_{side_name}": hip_a,
                f"knee_{side_name}": knee_a,
                f"foot_pitch_{side_name}": pitch,
                f"shoulder_{side_name}": sh_a,
                f"elbow_{side_name}": elbow,
            }
        )
        t_h, t_s, ab = math.radians(hip_a), math.radians(hip_a - knee_a), math.radians(spread)
        hip = pelvis + np.array([0.0, side * d["hip_hw"], 0.0])
        knee = hip + d["thigh"] * unit([math.sin(t_h), side * math.sin(ab), -math.cos(t_h)])
        ankle = knee + d["shin"] * unit([math.sin(t_s), side * math.sin(ab), -math.cos(t_s)])
        legs.append((hip, knee, ankle, math.radians(pitch)))
        r_lean = rot_y(math.radians(lean))
        t_a, t_f, ab_a = math.radians(sh_a), math.radians(sh_a + elbow), math.radians(abduction)
        elbow_p = shoulders[0 if side > 0 else 1] + d["upper_arm"] * (
            r_lean @ unit([math.sin(t_a), side * math.sin(ab_a), -math.cos(t_a)])
        )
        wrist = elbow_p + d["forearm"] * (r_lean @ unit([math.sin(t_f), side * 0.5 * math.sin(ab_a), -math.cos(t_f)]))
        arms.append((shoulders[0 if side > 0 else 1], elbow_p, wrist))
    parts = PartsBuilder(PERSON_SLOTS)
    _figure(parts, d, pelvis, math.radians(lean), math.radians(lean), legs, arms, long_sleeves, long_trousers, hair)
    return parts.finish("person", {**s.params, "joints_deg": joints})


# per bike kind: tyre tube radius, stem (reach low, high, rise low, high) and handlebar width ranges
BIKE_TYRE_RADIUS = {"road": (0.012, 0.016), "city": (0.018, 0.024), "mtb": (0.025, 0.032)}
BIKE_STEM = {"road": (0.08, 0.12, 0.0, 0.05), "city": (0.05, 0.09, 0.12, 0.25), "mtb": (0.05, 0.08, 0.04, 0.1)}
BIKE_BAR_WIDTH = {"road": (0.4, 0.46), "city": (0.55, 0.64), "mtb": (0.68, 0.78)}


@dataclass(frozen=True)
class _Bike:
    """The key points of a sampled bicycle (rear hub at x = 0, riding towards +x)."""

    kind: str  # road, city or mtb
    wheel_r: float
    tyre_r: float
    rear: np.ndarray  # hubs
    front: np.ndarray
    bb: np.ndarray  # bottom bracket
    pedals: list[np.ndarray]  # left, right
    seat_tube_top: np.ndarray
    saddle_top: np.ndarray
    u_head: np.ndarray  # head tube direction, upwards
    ht_bottom: np.ndarray  # head tube ends
    ht_top: np.ndarray
    bar: np.ndarray  # handlebar centre
    bar_w: float


def _ankle_above_pedal(d: dict[str, float], pitch: float) -> np.ndarray:
    """Where the ankle sits relative to the pedal it pushes with the ball of the foot."""
    return np.array([-0.45 * d["foot"] * math.cos(pitch), 0.0, d["ankle"] + 0.015])


def _hip_above_saddle(height: float) -> float:
    return 0.075 * (height / 1.75)


def _fit_saddle(
    bb: np.ndarray, u_seat: np.ndarray, crank: float, d: dict[str, float], pitch: float, height: float, extension: float
) -> float:
    """Saddle distance along the seat tube at which the stretched leg reaches ``extension`` of its length
    at the bottom of the pedal stroke (bisection)."""
    leg_len = d["thigh"] + d["shin"]
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    pedal_path = bb + crank * np.stack([np.cos(angles), np.zeros_like(angles), np.sin(angles)], 1)
    ankles = pedal_path + _ankle_above_pedal(d, pitch)

    def reach(saddle_dist: float) -> float:
        hip = bb + saddle_dist * u_seat + np.array([0.0, 0.0, _hip_above_saddle(height)])
        return float(np.linalg.norm(ankles - hip, axis=1).max())

    lo, hi = 0.3, 1.2
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if reach(mid) < extension * leg_len else (lo, mid)
    return (lo + hi) / 2


def _sample_bike(s: RecordingSampler, d: dict[str, float], height: float) -> tuple[_Bike, float]:
    """A bicycle for a rider of ``height`` with body dimensions ``d``, its saddle set to the rider's legs; also
    the rider's foot pitch on the pedals, which the saddle height depends on."""
    kind = s.choice("bike", ("road", "city", "mtb"), p=(0.35, 0.45, 0.2))
    scale = height / 1.75
    wheel_r = s.u("wheel_radius", 0.33, 0.36)
    tyre_r = s.u("tyre_radius", *BIKE_TYRE_RADIUS[kind])
    chainstay, drop = s.u("chainstay", 0.41, 0.45), s.u("bb_drop", 0.05, 0.075)
    seat_angle, head_angle = math.radians(s.u("seat_angle", 72, 75)), math.radians(s.u("head_angle", 69, 73.5))
    front_center = s.u("front_center", 0.57, 0.63) * max(scale, 0.9)
    crank, crank_angle = s.u("crank_length", 0.165, 0.175), s.u("crank_angle", 0.0, 2 * np.pi)
    x_rear = 0.0
    bb = np.array([x_rear + math.sqrt(chainstay**2 - drop**2), 0.0, wheel_r - drop])
    rear, front = np.array([x_rear, 0.0, wheel_r]), np.array([bb[0] + front_center, 0.0, wheel_r])
    u_seat = np.array([-math.cos(seat_angle), 0.0, math.sin(seat_angle)])
    u_head = np.array([-math.cos(head_angle), 0.0, math.sin(head_angle)])
    pitch = math.radians(s.u("foot_pitch", -18, 2))
    pedals = []
    for side, angle in ((1.0, crank_angle), (-1.0, crank_angle + np.pi)):
        pedals.append(bb + np.array([crank * math.cos(angle), side * 0.12, crank * math.sin(angle)]))
    saddle_dist = _fit_saddle(bb, u_seat, crank, d, pitch, height, s.u("leg_extension", 0.93, 0.97))
    ht_bottom = front + s.u("fork_length", 0.37, 0.4) * u_head
    ht_top = ht_bottom + s.u("head_tube", 0.11, 0.19) * scale * u_head
    stem = BIKE_STEM[kind]
    bar = ht_top + np.array([s.u("stem_reach", stem[0], stem[1]), 0.0, s.u("stem_rise", stem[2], stem[3])])
    bike = _Bike(
        kind=kind,
        wheel_r=wheel_r,
        tyre_r=tyre_r,
        rear=rear,
        front=front,
        bb=bb,
        pedals=pedals,
        seat_tube_top=bb + min(0.3 * height, saddle_dist - 0.1) * u_seat,
        saddle_top=bb + saddle_dist * u_seat,
        u_head=u_head,
        ht_bottom=ht_bottom,
        ht_top=ht_top,
        bar=bar,
        bar_w=s.u("bar_width", *BIKE_BAR_WIDTH[kind]),
    )
    return bike, pitch


def _add_bike(parts: PartsBuilder, bike: _Bike) -> None:
    """Wheels, frame tubes, stays, handlebar, saddle, chainring, cranks and pedals."""
    bb, rear, front, u_head = bike.bb, bike.rear, bike.front, bike.u_head
    seat_tube_top, ht_bottom, ht_top, bar = bike.seat_tube_top, bike.ht_bottom, bike.ht_top, bike.bar
    for hub in (rear, front):
        parts.add(wheel_torus(hub, bike.wheel_r, bike.tyre_r, 2 * bike.tyre_r, segments=24, sides=5), "tyre")
        rim_v, rim_f = torus(bike.wheel_r - 2 * bike.tyre_r - 0.008, 0.01, 20, 4)
        parts.add(outward((rim_v + hub, rim_f)), "rim")
        parts.add(cylinder(hub - (0, 0.05, 0), hub + (0, 0.05, 0), 0.022, segments=8), "frame")
    tube = 0.016 if bike.kind != "mtb" else 0.022
    for a, b, r in (
        (bb, seat_tube_top, tube),
        (seat_tube_top, ht_top, tube * 0.9),
        (bb, ht_bottom, tube * 1.1),
        (ht_bottom - 0.02 * u_head, ht_top + 0.02 * u_head, tube * 1.2),
        (seat_tube_top, bike.saddle_top, 0.013),
        (ht_top, bar, 0.014),
    ):
        parts.add(cylinder(a, b, r, segments=8), "frame")
    for side in (1.0, -1.0):
        off = np.array([0.0, side * 0.055, 0.0])
        parts.add(cylinder(bb + off * 0.6, rear + off, 0.01, segments=6), "frame")
        parts.add(cylinder(seat_tube_top + off * 0.3, rear + off, 0.009, segments=6), "frame")
        parts.add(cylinder(ht_bottom + off * 0.7, front + off * 0.9, 0.012, segments=6), "frame")
    parts.add(cylinder(bar + (0, bike.bar_w / 2, 0), bar - (0, bike.bar_w / 2, 0), 0.012, segments=8), "frame")
    saddle = bike.saddle_top - np.array([0.0, 0.0, 0.025])
    parts.add(box(saddle + (0.02, 0, 0), (0.26, 0.12 if bike.kind == "road" else 0.17, 0.05)), "frame")
    ring_v, ring_f = torus(0.095, 0.006, 20, 4)
    parts.add(outward((ring_v + bb + (0, -0.06, 0), ring_f)), "frame")
    for pedal, side in zip(bike.pedals, (1.0, -1.0), strict=True):
        parts.add(cylinder(bb + (0, side * 0.08, 0), pedal - (0, side * 0.04, 0), 0.012, segments=6), "frame")
        parts.add(box(pedal, (0.1, 0.08, 0.022)), "frame")


def _add_rider(
    parts: PartsBuilder, s: RecordingSampler, d: dict[str, float], bike: _Bike, height: float, pitch: float
) -> float:
    """The rider on the saddle, leaning just enough to hold the grips, feet on the pedals; returns the lean."""
    pelvis = bike.saddle_top + np.array([-0.02, 0.0, _hip_above_saddle(height)])
    shoulder_reach = 0.9 * (d["upper_arm"] + d["forearm"] + 0.4 * d["hand"])
    grips = [bike.bar + np.array([0.0, side * (bike.bar_w / 2 - 0.06), 0.0]) for side in (1.0, -1.0)]
    leans = np.radians(np.linspace(10, 75, 66))
    errors = [abs(np.linalg.norm(grips[0] - _shoulders(d, pelvis, a)[0]) - shoulder_reach) for a in leans]
    lean = float(leans[int(np.argmin(errors))])
    shoulders = _shoulders(d, pelvis, lean)
    legs, arms = [], []
    for i, side in enumerate((1.0, -1.0)):
        hip = pelvis + np.array([0.0, side * d["hip_hw"], 0.0])
        ankle_target = bike.pedals[i] + _ankle_above_pedal(d, pitch)
        knee, ankle = two_bone_ik(hip, ankle_target, d["thigh"], d["shin"], (1.0, 0.0, 0.3))
        legs.append((hip, knee, ankle, pitch))
        wrist_target = grips[i] - 0.45 * d["hand"] * unit(grips[i] - shoulders[i])
        elbow, wrist = two_bone_ik(shoulders[i], wrist_target, d["upper_arm"], d["forearm"], (-0.3, side * 0.6, -1.0))
        arms.append((shoulders[i], elbow, wrist))
    helmet = s.flag("helmet", 0.5)
    long_sleeves, long_trousers = s.flag("long_sleeves", 0.5), s.flag("long_trousers", 0.6)
    hair = "helmet" if helmet else s.choice("hair", ("short", "long"), p=(0.6, 0.4))
    _figure(parts, d, pelvis, lean, 0.35 * lean, legs, arms, long_sleeves, long_trousers, hair)
    return lean


def make_cyclist(*, rng: np.random.Generator) -> PartsMesh:
    """A bicycle (riding towards +x) with a seated rider: hands on the bar, feet on the pedals."""
    s = RecordingSampler(rng)
    height, d = _sample_figure_style(s, adult_only=True)
    bike, pitch = _sample_bike(s, d, height)
    parts = PartsBuilder(CYCLIST_SLOTS)
    _add_bike(parts, bike)
    lean = _add_rider(parts, s, d, bike, height, pitch)
    params = {
        **s.params,
        "lean_deg": math.degrees(lean),
        "saddle_height": float(np.linalg.norm(bike.saddle_top - bike.bb)),
        "wheelbase": float(bike.front[0] - bike.rear[0]),
    }
    return parts.finish("cyclist", params)
