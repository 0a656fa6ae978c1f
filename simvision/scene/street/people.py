"""Pedestrians and cyclists: a jointed figure posed by its sampled joint angles."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from simvision.scene.shapes import torus
from simvision.scene.street.meshes import (
    PartsBuilder,
    PartsMesh,
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
    h = d["height"]
    r_lean, r_head = rot_y(lean), rot_y(head_lean)
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
    neck_base = pelvis + r_lean @ np.array([0.0, 0.0, torso_len + 0.01 * h])
    neck_len = h - d["head"] - (d["z_shoulder"] + 0.01 * h) + 0.03 * h
    parts.add(capsule(neck_base, neck_base + r_head @ np.array([0.0, 0.0, neck_len]), d["neck_r"], segments=10), "skin")
    head = d["head"]
    head_center = neck_base + r_head @ np.array([0.03 * head, 0.0, h - head / 2 - (d["z_shoulder"] + 0.01 * h)])
    radii = np.array([0.44, 0.35, 0.5]) * head
    parts.add(ellipsoid(head_center, radii, r_head, segments=12, rings=7), "skin")
    if hair == "helmet":
        parts.add(
            ellipsoid(
                head_center + r_head @ (np.array([-0.1, 0.0, 0.35]) * radii),
                radii * (1.18, 1.18, 0.78),
                r_head,
                segments=12,
                rings=5,
            ),
            "helmet",
        )
    elif hair != "none":
        parts.add(
            ellipsoid(
                head_center + r_head @ (np.array([-0.12, 0.0, 0.1]) * radii),
                radii * (1.02, 1.06, 0.95),
                r_head,
                segments=12,
                rings=7,
            ),
            "hair",
        )
        if hair == "long":
            parts.add(
                ellipsoid(
                    head_center + r_head @ (np.array([-0.55, 0.0, -0.55]) * radii),
                    radii * (0.5, 1.0, 1.1),
                    r_head,
                    segments=10,
                    rings=5,
                ),
                "hair",
            )
    leg_slot = "bottom" if long_trousers else "skin"
    for hip, knee, ankle, pitch in legs:
        parts.add(capsule(hip, knee, d["thigh_r"], d["knee_r"]), "bottom")
        parts.add(capsule(knee, ankle, d["knee_r"] * 0.95, d["ankle_r"]), leg_slot)
        rot = rot_y(-pitch)
        foot_h = d["ankle"] + 0.015 * h
        center = ankle + rot @ np.array([0.25 * d["foot"], 0.0, -d["ankle"] + foot_h / 2])
        parts.add(box(center, (d["foot"], d["foot_w"], foot_h), rot), "shoes")
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


def make_cyclist(*, rng: np.random.Generator) -> PartsMesh:
    """A bicycle (riding towards +x) with a seated rider: hands on the bar, feet on the pedals."""
    s = RecordingSampler(rng)
    height, d = _sample_figure_style(s, adult_only=True)
    bike = s.choice("bike", ("road", "city", "mtb"), p=(0.35, 0.45, 0.2))
    scale = height / 1.75
    wheel_r = s.u("wheel_radius", 0.33, 0.36)
    tyre = {"road": (0.012, 0.016), "city": (0.018, 0.024), "mtb": (0.025, 0.032)}[bike]
    tyre_r = s.u("tyre_radius", *tyre)
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

    def ankle_for(pedal: np.ndarray) -> np.ndarray:
        return pedal + np.array([-0.45 * d["foot"] * math.cos(pitch), 0.0, d["ankle"] + 0.015])

    hip_above = 0.075 * scale
    leg_len = d["thigh"] + d["shin"]
    extension = s.u("leg_extension", 0.93, 0.97)

    def reach(saddle_dist: float) -> float:
        hip = bb + saddle_dist * u_seat + np.array([0.0, 0.0, hip_above])
        angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        pts = bb + crank * np.stack([np.cos(angles), np.zeros_like(angles), np.sin(angles)], 1)
        pts = pts + np.array([-0.45 * d["foot"] * math.cos(pitch), 0.0, d["ankle"] + 0.015])
        return float(np.linalg.norm(pts - hip, axis=1).max())

    lo, hi = 0.3, 1.2
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if reach(mid) < extension * leg_len else (lo, mid)
    saddle_dist = (lo + hi) / 2
    saddle_top = bb + saddle_dist * u_seat
    seat_tube_top = bb + min(0.3 * height, saddle_dist - 0.1) * u_seat
    ht_bottom = front + s.u("fork_length", 0.37, 0.4) * u_head
    ht_top = ht_bottom + s.u("head_tube", 0.11, 0.19) * scale * u_head
    stem = {"road": (0.08, 0.12, 0.0, 0.05), "city": (0.05, 0.09, 0.12, 0.25), "mtb": (0.05, 0.08, 0.04, 0.1)}[bike]
    bar = ht_top + np.array([s.u("stem_reach", stem[0], stem[1]), 0.0, s.u("stem_rise", stem[2], stem[3])])
    bar_w = s.u("bar_width", *{"road": (0.4, 0.46), "city": (0.55, 0.64), "mtb": (0.68, 0.78)}[bike])

    parts = PartsBuilder(CYCLIST_SLOTS)
    for hub in (rear, front):
        parts.add(wheel_torus(hub, wheel_r, tyre_r, 2 * tyre_r, segments=24, sides=5), "tyre")
        rim_v, rim_f = torus(wheel_r - 2 * tyre_r - 0.008, 0.01, 20, 4)
        parts.add(outward((rim_v + hub, rim_f)), "rim")
        parts.add(cylinder(hub - (0, 0.05, 0), hub + (0, 0.05, 0), 0.022, segments=8), "frame")
    tube = 0.016 if bike != "mtb" else 0.022
    for a, b, r in (
        (bb, seat_tube_top, tube),
        (seat_tube_top, ht_top, tube * 0.9),
        (bb, ht_bottom, tube * 1.1),
        (ht_bottom - 0.02 * u_head, ht_top + 0.02 * u_head, tube * 1.2),
        (seat_tube_top, saddle_top, 0.013),
        (ht_top, bar, 0.014),
    ):
        parts.add(cylinder(a, b, r, segments=8), "frame")
    for side in (1.0, -1.0):
        off = np.array([0.0, side * 0.055, 0.0])
        parts.add(cylinder(bb + off * 0.6, rear + off, 0.01, segments=6), "frame")
        parts.add(cylinder(seat_tube_top + off * 0.3, rear + off, 0.009, segments=6), "frame")
        parts.add(cylinder(ht_bottom + off * 0.7, front + off * 0.9, 0.012, segments=6), "frame")
    parts.add(cylinder(bar + (0, bar_w / 2, 0), bar - (0, bar_w / 2, 0), 0.012, segments=8), "frame")
    saddle = saddle_top - np.array([0.0, 0.0, 0.025])
    parts.add(box(saddle + (0.02, 0, 0), (0.26, 0.12 if bike == "road" else 0.17, 0.05)), "frame")
    ring_v, ring_f = torus(0.095, 0.006, 20, 4)
    parts.add(outward((ring_v + bb + (0, -0.06, 0), ring_f)), "frame")
    for pedal, side in zip(pedals, (1.0, -1.0), strict=True):
        parts.add(cylinder(bb + (0, side * 0.08, 0), pedal - (0, side * 0.04, 0), 0.012, segments=6), "frame")
        parts.add(box(pedal, (0.1, 0.08, 0.022)), "frame")

    # rider
    pelvis = saddle_top + np.array([-0.02, 0.0, hip_above])
    shoulder_reach = 0.9 * (d["upper_arm"] + d["forearm"] + 0.4 * d["hand"])
    grips = [bar + np.array([0.0, side * (bar_w / 2 - 0.06), 0.0]) for side in (1.0, -1.0)]
    leans = np.radians(np.linspace(10, 75, 66))
    errors = [abs(np.linalg.norm(grips[0] - _shoulders(d, pelvis, a)[0]) - shoulder_reach) for a in leans]
    lean = float(leans[int(np.argmin(errors))])
    shoulders = _shoulders(d, pelvis, lean)
    legs, arms = [], []
    for i, side in enumerate((1.0, -1.0)):
        hip = pelvis + np.array([0.0, side * d["hip_hw"], 0.0])
        knee, ankle = two_bone_ik(hip, ankle_for(pedals[i]), d["thigh"], d["shin"], (1.0, 0.0, 0.3))
        legs.append((hip, knee, ankle, pitch))
        wrist_target = grips[i] - 0.45 * d["hand"] * unit(grips[i] - shoulders[i])
        elbow, wrist = two_bone_ik(shoulders[i], wrist_target, d["upper_arm"], d["forearm"], (-0.3, side * 0.6, -1.0))
        arms.append((shoulders[i], elbow, wrist))
    helmet = s.flag("helmet", 0.5)
    long_sleeves, long_trousers = s.flag("long_sleeves", 0.5), s.flag("long_trousers", 0.6)
    hair = "helmet" if helmet else s.choice("hair", ("short", "long"), p=(0.6, 0.4))
    _figure(parts, d, pelvis, lean, 0.35 * lean, legs, arms, long_sleeves, long_trousers, hair)
    params = {
        **s.params,
        "lean_deg": math.degrees(lean),
        "saddle_height": float(np.linalg.norm(saddle_top - bb)),
        "wheelbase": float(front[0] - rear[0]),
    }
    return parts.finish("cyclist", params)
