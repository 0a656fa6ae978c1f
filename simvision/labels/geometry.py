"""Camera geometry and silhouette rasterisation (pure numpy + OpenCV, no Blender).

Camera frame convention everywhere in simvision: OpenCV (x right, y down, z forward), pixel centres
at integer coordinates, ``K`` the 3x3 intrinsics.
"""

from __future__ import annotations

import cv2
import numpy as np

# Blender/OpenGL cameras look down -z with y up; OpenCV cameras look down +z with y down.
BLENDER_TO_OPENCV_CAM = np.diag([1.0, -1.0, -1.0, 1.0])
NEAR = 1e-3
_SHIFT = 4  # sub-pixel bits for cv2 polygon filling


def transform(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 4x4 rigid transform to (..., 3) points."""
    return points @ matrix[:3, :3].T + matrix[:3, 3]


def project(points_cam: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Project (N, 3) camera-frame points (z > 0) to (N, 2) pixel coordinates."""
    uvw = points_cam @ K.T
    return uvw[:, :2] / uvw[:, 2:3]


def box_corners(center: np.ndarray, size: np.ndarray) -> np.ndarray:
    """The 8 corners of an axis-aligned box, in a fixed order (x fastest, then y, then z)."""
    signs = np.array([[x, y, z] for z in (-1, 1) for y in (-1, 1) for x in (-1, 1)], dtype=np.float64)
    return np.asarray(center, dtype=np.float64) + 0.5 * signs * np.asarray(size, dtype=np.float64)


BOX_EDGES = np.array(
    [[0, 1], [2, 3], [4, 5], [6, 7], [0, 2], [1, 3], [4, 6], [5, 7], [0, 4], [1, 5], [2, 6], [3, 7]]
)


def _clip_polygon_near(poly: np.ndarray, near: float) -> np.ndarray:
    """Sutherland-Hodgman clip of one camera-frame polygon against the plane z = near."""
    out = []
    n = len(poly)
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        a_in, b_in = a[2] >= near, b[2] >= near
        if a_in:
            out.append(a)
        if a_in != b_in:
            t = (near - a[2]) / (b[2] - a[2])
            out.append(a + t * (b - a))
    return np.asarray(out).reshape(-1, 3)


def rasterize_silhouette(
    triangles_cam: np.ndarray, K: np.ndarray, width: int, height: int, pad: int = 0, near: float = NEAR
) -> np.ndarray:
    """Union of the projected triangles as a bool mask of shape (height + 2*pad, width + 2*pad).

    ``pad`` extends the canvas beyond the image on every side (pixel (0, 0) of the image is at
    (pad, pad)), which lets callers measure how much of an object the image border cuts off.
    Triangles are clipped at the near plane so objects partly behind the camera are handled.
    """
    canvas = np.zeros((height + 2 * pad, width + 2 * pad), dtype=np.uint8)
    tris = np.asarray(triangles_cam, dtype=np.float64).reshape(-1, 3, 3)
    if len(tris) == 0:
        return canvas.astype(bool)
    z = tris[:, :, 2]
    front = (z >= near).all(axis=1)
    partial = (z >= near).any(axis=1) & ~front
    scale = float(1 << _SHIFT)
    offset = np.array([pad, pad], dtype=np.float64)

    def to_fixed(points_cam: np.ndarray) -> np.ndarray:
        uv = project(points_cam.reshape(-1, 3), K).reshape(*points_cam.shape[:-1], 2) + offset
        # keep coordinates inside int32 range for OpenCV; far-off vertices are clamped on a line
        # far outside the canvas, which keeps the in-canvas part of the triangle exact enough.
        limit = 8.0 * max(canvas.shape)
        uv = np.clip(uv, -limit, limit)
        return np.round(uv * scale).astype(np.int32)

    fixed = to_fixed(tris[front])
    # drop triangles entirely off-canvas in one axis
    lo, hi = fixed.min(axis=1), fixed.max(axis=1)
    keep = (hi[:, 0] >= 0) & (hi[:, 1] >= 0) & (lo[:, 0] < canvas.shape[1] * scale) & (
        lo[:, 1] < canvas.shape[0] * scale
    )
    for tri in fixed[keep]:
        cv2.fillConvexPoly(canvas, tri, 1, lineType=cv2.LINE_8, shift=_SHIFT)
    for tri in tris[partial]:
        poly = _clip_polygon_near(tri, near)
        if len(poly) >= 3:
            cv2.fillConvexPoly(canvas, to_fixed(poly), 1, lineType=cv2.LINE_8, shift=_SHIFT)
    return canvas.astype(bool)


def look_at(position: np.ndarray, target: np.ndarray, roll_rad: float = 0.0) -> np.ndarray:
    """cam_to_world (4x4, OpenCV axes) for a camera at ``position`` looking at ``target``, z up."""
    forward = np.asarray(target, dtype=np.float64) - np.asarray(position, dtype=np.float64)
    forward /= np.linalg.norm(forward)
    up_world = np.array([0.0, 0.0, 1.0])
    if abs(forward @ up_world) > 0.999:
        up_world = np.array([0.0, 1.0, 0.0])
    right = np.cross(forward, up_world)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c, s = np.cos(roll_rad), np.sin(roll_rad)
    right, down = c * right + s * down, -s * right + c * down
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, down, forward, position
    return m


def intrinsics_from_hfov(hfov_deg: float, width: int, height: int) -> np.ndarray:
    """Pinhole K with square pixels and the principal point at the image centre."""
    fx = (width / 2.0) / np.tan(np.radians(hfov_deg) / 2.0)
    return np.array([[fx, 0.0, (width - 1) / 2.0], [0.0, fx, (height - 1) / 2.0], [0.0, 0.0, 1.0]])
