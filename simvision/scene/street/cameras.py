"""The ego car's camera rig: one lens, height, pitch and roll shared by every camera, each turned by its
rig yaw."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simvision.labels.geometry import intrinsics_from_hfov, project, transform
from simvision.scene.spec import CameraSpec
from simvision.scene.street.draws import uniform_in
from simvision.scene.street.road import RoadPath


def vehicle_camera(position: np.ndarray, yaw: float, pitch: float, roll: float) -> np.ndarray:
    """cam_to_world (OpenCV axes) of a forward camera: yaw about world z, pitch up > 0, roll about the axis."""
    cy, sy = math.cos(yaw), math.sin(yaw)
    forward = np.array([cy * math.cos(pitch), sy * math.cos(pitch), math.sin(pitch)])
    left = np.array([-sy, cy, 0.0])
    up = np.cross(forward, left)
    right, down = -left, -up
    cr, sr = math.cos(roll), math.sin(roll)
    right, down = cr * right + sr * down, -sr * right + cr * down
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, down, forward, position
    return m


def rig_cameras(
    cfg: Any,
    resolution: tuple[int, int],
    path: RoadPath,
    ego_t: float,
    yaw_jitter: float,
    n_cameras: int,
    rng: np.random.Generator,
    pitch_deg: Any = None,
) -> list[CameraSpec]:
    """``n_cameras`` views from the ego car at the start of the road, within the config's camera ranges (the pitch
    within ``pitch_deg`` when given: a verge scene's own)."""
    width, height = resolution
    hfov = uniform_in(rng, cfg.camera_hfov_deg)
    K = intrinsics_from_hfov(hfov, width, height)
    cam_h = uniform_in(rng, cfg.camera_height)
    pitch = math.radians(uniform_in(rng, cfg.camera_pitch_deg if pitch_deg is None else pitch_deg))
    roll = math.radians(uniform_in(rng, cfg.camera_roll_deg))
    base = path.point(0.0, ego_t)
    heading = float(path.heading(0.0)) + math.radians(yaw_jitter)
    rig = [float(v) for v in cfg.rig_yaw_deg]
    cameras = []
    for i in range(n_cameras):
        yaw = heading + math.radians(rig[i % len(rig)])
        cam_to_world = vehicle_camera(np.array([base[0], base[1], cam_h]), yaw, pitch, roll)
        pose = {
            "hfov_deg": hfov,
            "height_m": cam_h,
            "pitch_deg": math.degrees(pitch),
            "roll_deg": math.degrees(roll),
            "yaw_deg": math.degrees(yaw),
            "rig_index": i % len(rig),
        }
        cameras.append(CameraSpec(K.tolist(), width, height, cam_to_world.tolist(), pose))
    return cameras


def forward_camera(cameras: list[CameraSpec], rig_yaw_deg: list[float]) -> CameraSpec:
    """The rig's camera looking most nearly straight ahead (its rig yaw closest to 0)."""
    rig = [float(v) for v in rig_yaw_deg]
    return cameras[min(range(min(len(cameras), len(rig))), key=lambda i: abs(rig[i]))]


def in_frame(camera: CameraSpec, points: np.ndarray, margin_px: float = 2.0) -> bool:
    """True when every world point (N, 3) lies in front of ``camera`` and projects at least ``margin_px`` inside
    its image: an object whose vertices these are is seen whole, not cut by the frame."""
    cam = transform(points, np.linalg.inv(np.asarray(camera.cam_to_world, dtype=np.float64)))
    if np.any(cam[:, 2] <= 0.05):
        return False
    uv = project(cam, np.asarray(camera.K, dtype=np.float64))
    return bool(
        np.all(uv >= margin_px - 0.5)
        and np.all(uv[:, 0] <= camera.width - 0.5 - margin_px)
        and np.all(uv[:, 1] <= camera.height - 0.5 - margin_px)
    )
