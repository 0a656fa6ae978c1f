"""Camera geometry and silhouette rasterisation (pure numpy + OpenCV, no Blender).

Camera frame convention everywhere in simvision: OpenCV (x right, y down, z forward), pixel centres
at integer coordinates, ``K`` the 3x3 intrinsics.
"""

from __future__ import annotations

import numpy as np

# Blender/OpenGL cameras look down -z with y up; OpenCV cameras look down +z with y down.
BLENDER_TO_OPENCV_CAM = np.diag([1.0, -1.0, -1.0, 1.0])
NEAR = 1e-3


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


BOX_EDGES = np.array([[0, 1], [2, 3], [4, 5], [6, 7], [0, 2], [1, 3], [4, 6], [5, 7], [0, 4], [1, 5], [2, 6], [3, 7]])


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


def _fill_triangles(canvas: np.ndarray, tris2d: np.ndarray, chunk: int = 2_000_000) -> None:
    """Set the canvas pixels whose centres lie inside any of the (T, 3, 2) pixel-space triangles.

    Pixel-centre sampling, the same rule a renderer's index pass follows, so silhouettes and
    rendered masks agree at the edges. Vectorised over every candidate pixel of every triangle's
    bounding box, in chunks to bound memory.
    """
    h, w = canvas.shape
    a, b, c = tris2d[:, 0], tris2d[:, 1], tris2d[:, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    lo = np.ceil(tris2d.min(axis=1)).astype(np.int64)
    hi = np.floor(tris2d.max(axis=1)).astype(np.int64)
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, [w - 1, h - 1])
    bw, bh = hi[:, 0] - lo[:, 0] + 1, hi[:, 1] - lo[:, 1] + 1
    keep = (bw > 0) & (bh > 0) & (np.abs(area) > 1e-12)
    tris2d, area, lo, bw, bh = tris2d[keep], area[keep], lo[keep], bw[keep], bh[keep]
    counts = bw * bh
    sign = np.sign(area)
    order = np.cumsum(counts)
    begin = 0
    while begin < len(counts):
        end = int(np.searchsorted(order, (order[begin - 1] if begin else 0) + chunk, side="right"))
        end = max(end, begin + 1)
        sl = slice(begin, end)
        n = counts[sl]
        idx = np.repeat(np.arange(begin, end), n)
        local = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        px = lo[idx, 0] + local % bw[idx]
        py = lo[idx, 1] + local // bw[idx]
        inside = np.ones(len(idx), dtype=bool)
        t = tris2d[idx]
        for i, j in ((0, 1), (1, 2), (2, 0)):
            edge = (t[:, j, 0] - t[:, i, 0]) * (py - t[:, i, 1]) - (t[:, j, 1] - t[:, i, 1]) * (px - t[:, i, 0])
            inside &= edge * sign[idx] >= 0
        canvas[py[inside], px[inside]] = True
        begin = end


def rasterize_silhouette(
    triangles_cam: np.ndarray, K: np.ndarray, width: int, height: int, pad: int = 0, near: float = NEAR
) -> np.ndarray:
    """Union of the projected triangles as a bool mask of shape (height + 2*pad, width + 2*pad).

    ``pad`` extends the canvas beyond the image on every side (pixel (0, 0) of the image is at
    (pad, pad)), which lets callers measure how much of an object the image border cuts off.
    Triangles are clipped at the near plane so objects partly behind the camera are handled.
    """
    canvas = np.zeros((height + 2 * pad, width + 2 * pad), dtype=bool)
    tris = np.asarray(triangles_cam, dtype=np.float64).reshape(-1, 3, 3)
    if len(tris) == 0:
        return canvas
    z = tris[:, :, 2]
    front = (z >= near).all(axis=1)
    partial = (z >= near).any(axis=1) & ~front
    polygons = [tris[front]]
    for tri in tris[partial]:  # clipped triangles become convex polygons: fan them back
        poly = _clip_polygon_near(tri, near)
        polygons += [np.stack([poly[0], poly[k], poly[k + 1]])[None] for k in range(1, len(poly) - 1)]
    all_tris = np.concatenate(polygons)
    uv = project(all_tris.reshape(-1, 3), K).reshape(-1, 3, 2) + pad
    _fill_triangles(canvas, uv)
    return canvas


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


def world_points(depth: np.ndarray, K: np.ndarray, cam_to_world: np.ndarray) -> np.ndarray:
    """(H, W, 3) world points of a depth map (metres along the optical axis, OpenCV camera ``cam_to_world``);
    NaN where the depth is 0 (no surface)."""
    h, w = depth.shape
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    rays = np.stack([u, v, np.ones_like(u)], axis=-1) @ np.linalg.inv(np.asarray(K, dtype=np.float64)).T
    points = transform(rays * depth[..., None], np.asarray(cam_to_world, dtype=np.float64))
    points[depth <= 0] = np.nan
    return points


def intrinsics_from_hfov(hfov_deg: float, width: int, height: int) -> np.ndarray:
    """Pinhole K with square pixels and the principal point at the image centre."""
    fx = (width / 2.0) / np.tan(np.radians(hfov_deg) / 2.0)
    return np.array([[fx, 0.0, (width - 1) / 2.0], [0.0, fx, (height - 1) / 2.0], [0.0, 0.0, 1.0]])


def camera_normals(world_normals: np.ndarray, world_to_cam: np.ndarray, surface: np.ndarray) -> np.ndarray:
    """Per-pixel unit surface normals in the camera frame (OpenCV axes) from a world-space normal pass.

    ``world_normals`` is Cycles' Normal pass (H, W, 3), world space, averaged over a pixel's samples
    (so edge pixels are a blend: they are renormalised); ``world_to_cam`` the 4x4 world->camera
    transform; ``surface`` the (H, W) bool mask of pixels that see a surface. Pixels off ``surface``
    (sky, world background) or with no usable normal get (0, 0, 0). Returns float32 (H, W, 3).
    """
    rotation = np.asarray(world_to_cam, dtype=np.float32)[:3, :3]
    n = np.asarray(world_normals, dtype=np.float32)[..., :3] @ rotation.T  # float32: stored as float16 anyway
    length = np.linalg.norm(n, axis=-1)
    valid = np.asarray(surface, dtype=bool) & np.isfinite(length) & (length > 1e-6)
    out = np.zeros(n.shape, dtype=np.float32)
    out[valid] = n[valid] / length[valid, None]
    return out


def amodal_mask(silhouette: np.ndarray, pad: int, width: int, height: int) -> np.ndarray:
    """The part of a padded silhouette canvas (:func:`rasterize_silhouette` with ``pad``) inside the image."""
    return silhouette[pad : pad + height, pad : pad + width]
