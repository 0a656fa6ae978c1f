"""Boxes and visibility from masks and geometry (pure functions); RLE is in ``rle``."""

from __future__ import annotations

import numpy as np

from simvision.labels.geometry import BOX_EDGES, NEAR, project

Box = list[float]  # COCO [x, y, w, h] in pixels


def tight_box(mask: np.ndarray) -> Box | None:
    """COCO box of the mask's pixels ([x, y, w, h], w = last - first + 1), None if empty.

    Matches ``pycocotools.mask.toBbox`` of the mask's RLE exactly.
    """
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size == 0:
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    return [float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1)]


def clip_box(x0: float, y0: float, x1: float, y1: float, width: int, height: int) -> Box | None:
    """Clip corner coordinates to the image; COCO box or None if nothing remains."""
    x0, x1 = max(x0, 0.0), min(x1, float(width))
    y0, y1 = max(y0, 0.0), min(y1, float(height))
    if x1 <= x0 or y1 <= y0:
        return None
    return [x0, y0, x1 - x0, y1 - y0]


def amodal_box(corners_cam: np.ndarray, K: np.ndarray, width: int, height: int) -> Box | None:
    """The projected 3D box clipped to the image: COCO box in continuous pixel-edge coordinates.

    Box edges that cross the near plane are cut there, so objects partly behind the camera still
    get a box. Pixel i spans [i - 0.5, i + 0.5]; the box is reported on pixel edges ([0, W]).
    """
    corners = np.asarray(corners_cam, dtype=np.float64)
    points = [c for c in corners if c[2] >= NEAR]
    for a, b in BOX_EDGES:
        za, zb = corners[a, 2], corners[b, 2]
        if (za >= NEAR) != (zb >= NEAR):
            t = (NEAR - za) / (zb - za)
            points.append(corners[a] + t * (corners[b] - corners[a]))
    if not points:
        return None
    uv = project(np.asarray(points), K) + 0.5
    return clip_box(uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max(), width, height)


def visible_fraction(visible_pixels: int, unoccluded_pixels: int) -> float:
    """Visible / unoccluded pixels, in [0, 1].

    The visible count comes from the renderer's index pass and the unoccluded one from the
    rasterised silhouette; at silhouette edges they can disagree by a pixel, hence the clamp.
    """
    if visible_pixels <= 0:
        return 0.0
    return float(min(1.0, visible_pixels / max(unoccluded_pixels, visible_pixels)))


def truncation(silhouette_padded: np.ndarray, pad: int) -> float:
    """Fraction of the projected silhouette (on a padded canvas) that falls outside the image."""
    total = int(silhouette_padded.sum())
    if total == 0:
        return 0.0
    h, w = silhouette_padded.shape
    inside = int(silhouette_padded[pad : h - pad, pad : w - pad].sum())
    return float(1.0 - inside / total)
