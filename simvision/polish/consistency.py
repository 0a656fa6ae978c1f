"""Label-consistency check between a raw render and its polished version (numpy + OpenCV only).

The labels were derived from the raw render's geometry, so a polished frame keeps them only if every
object's silhouette is still where the labels say. Per object, both frames' Canny edges are compared
inside a band of ``band_px`` around the object's silhouette (from the instance map):

- ``edge_f1`` (default): the F-score of the two edge sets with a distance tolerance (precision: polished
  edges that lie within ``tolerance_px`` of a raw edge; recall: raw edges with a polished edge within
  ``tolerance_px``). A moved or reshaped object loses recall (its old contour is gone) and precision
  (its new contour has no raw counterpart); new texture far inside the object, outside the band, is
  ignored, so legitimate re-texturing is not punished.
- ``boundary_recall``: the share of the label's own contour pixels that have a polished edge within
  ``tolerance_px``, relative to the same share in the raw frame (capped at 1). It asks directly "do
  the label outlines still sit on image edges", but is blind to edges added next to the object.

Objects with too few raw edge pixels in their band (no contrast with what surrounds them) are not
scored (``score = None``): nothing in the image can tell whether they moved. The frame score is the
worst object's score (one moved object breaks the frame's labels); a frame passes when it reaches the
threshold, or when no object could be scored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

__all__ = [
    "ObjectScore",
    "ConsistencyResult",
    "edge_map",
    "distance_to_edges",
    "silhouette_band",
    "check_consistency",
]


@dataclass
class ObjectScore:
    instance_id: int
    score: float | None  # None: not measurable (too few raw edges in the band)
    precision: float | None
    recall: float | None
    raw_edges: int  # edge pixels of the raw frame inside the object's band
    polished_edges: int


@dataclass
class ConsistencyResult:
    metric: str
    threshold: float
    objects: list[ObjectScore] = field(default_factory=list)
    score: float | None = None  # worst scored object; None when no object could be scored
    mean_score: float | None = None
    passed: bool = True

    @property
    def failed(self) -> list[int]:
        """Instance ids whose score is below the threshold."""
        return [o.instance_id for o in self.objects if o.score is not None and o.score < self.threshold]

    def record(self) -> dict[str, Any]:
        """JSON-ready form (rounded) for the per-frame metadata."""

        def r(x: float | None) -> float | None:
            return None if x is None else round(float(x), 4)

        return {
            "metric": self.metric,
            "threshold": self.threshold,
            "score": r(self.score),
            "mean_score": r(self.mean_score),
            "passed": self.passed,
            "failed_objects": self.failed,
            "objects": [
                {**asdict(o), "score": r(o.score), "precision": r(o.precision), "recall": r(o.recall)}
                for o in self.objects
            ],
        }


def _gray(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = np.clip(np.round(img.astype(np.float64) * (255.0 if img.max() <= 1.0 else 1.0)), 0, 255)
        img = img.astype(np.uint8)
    if img.ndim == 3 and img.shape[2] >= 3:
        return cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_RGB2GRAY)
    if img.ndim == 3:
        return np.ascontiguousarray(img[..., 0])
    return np.ascontiguousarray(img)


def edge_map(image: np.ndarray, *, low: float = 50.0, high: float = 150.0, blur_sigma: float = 1.0) -> np.ndarray:
    """Boolean Canny edges of an RGB (or grey) image, the union over its colour channels (objects often
    differ from their surroundings in hue, not brightness); a light blur keeps pixel noise out."""
    img = np.asarray(image)
    channels = [img[..., c] for c in range(min(img.shape[2], 3))] if img.ndim == 3 else [img]
    edges = np.zeros(img.shape[:2], dtype=bool)
    for channel in channels:
        gray = _gray(channel)
        if blur_sigma > 0:
            gray = cv2.GaussianBlur(gray, (0, 0), blur_sigma)
        edges |= cv2.Canny(gray, low, high, L2gradient=True) > 0
    return edges


def distance_to_edges(edges: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels) from every pixel to the nearest edge pixel; ``inf`` without edges."""
    if not edges.any():
        return np.full(edges.shape, np.inf, dtype=np.float32)
    return cv2.distanceTransform((~edges).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def silhouette_band(mask: np.ndarray, band_px: int) -> np.ndarray:
    """Pixels within ``band_px`` of the boundary of a boolean ``mask`` (inside or outside)."""
    m = mask.astype(np.uint8)
    k = _disk(band_px)
    return (cv2.dilate(m, k) > 0) & ~(cv2.erode(m, k) > 0)


def _contour(mask: np.ndarray) -> np.ndarray:
    """Inner contour of a boolean mask, without pixels on the image border (no visible edge there)."""
    m = mask.astype(np.uint8)
    contour = mask & ~(cv2.erode(m, _disk(1)) > 0)
    contour[0, :] = contour[-1, :] = False
    contour[:, 0] = contour[:, -1] = False
    return contour


def _crop(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    return (
        slice(max(int(ys.min()) - margin, 0), min(int(ys.max()) + margin + 1, h)),
        slice(max(int(xs.min()) - margin, 0), min(int(xs.max()) + margin + 1, w)),
    )


def check_consistency(
    raw: np.ndarray,
    polished: np.ndarray,
    instance: np.ndarray,
    *,
    metric: str = "edge_f1",
    threshold: float = 0.6,
    tolerance_px: float = 2.0,
    band_px: int = 8,
    min_edge_pixels: int = 8,
    instance_ids: list[int] | None = None,
    canny: tuple[float, float] = (50.0, 150.0),
    blur_sigma: float = 1.0,
) -> ConsistencyResult:
    """Per-object edge agreement of ``raw`` and ``polished`` (H x W x 3) given the ``instance`` map.

    ``instance_ids`` limits the check to those objects (default: every id > 0 in the map).
    """
    if metric not in ("edge_f1", "boundary_recall"):
        raise ValueError(f"unknown consistency metric {metric!r} (edge_f1 | boundary_recall)")
    instance = np.asarray(instance)
    if instance.ndim == 3:
        instance = instance[..., 0]
    if raw.shape[:2] != instance.shape or polished.shape[:2] != instance.shape:
        raise ValueError(
            f"shape mismatch: raw {raw.shape[:2]}, polished {polished.shape[:2]}, instance {instance.shape}"
        )
    e_raw = edge_map(raw, low=canny[0], high=canny[1], blur_sigma=blur_sigma)
    e_pol = edge_map(polished, low=canny[0], high=canny[1], blur_sigma=blur_sigma)
    d_raw, d_pol = distance_to_edges(e_raw), distance_to_edges(e_pol)
    ids = instance_ids if instance_ids is not None else [int(i) for i in np.unique(instance) if i > 0]

    scores: list[ObjectScore] = []
    for iid in ids:
        full = instance == iid
        if not full.any():
            continue
        ys, xs = _crop(full, band_px + 2)
        mask = full[ys, xs]
        band = silhouette_band(mask, band_px)
        ref, test = e_raw[ys, xs] & band, e_pol[ys, xs] & band
        n_ref, n_test = int(ref.sum()), int(test.sum())
        dr, dp = d_raw[ys, xs], d_pol[ys, xs]
        score = precision = recall = None
        if n_ref >= min_edge_pixels:
            if metric == "edge_f1":
                recall = float((dp[ref] <= tolerance_px).mean())
                precision = float((dr[test] <= tolerance_px).mean()) if n_test else 0.0
                score = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
            else:
                contour = _contour(mask)
                # the crop hides the image border; contour pixels there were cleared on the full mask
                contour &= _contour(full)[ys, xs]
                if contour.sum() >= min_edge_pixels:
                    r_raw = float((dr[contour] <= tolerance_px).mean())
                    r_pol = float((dp[contour] <= tolerance_px).mean())
                    recall = r_pol
                    # below 20 % the raw render itself barely shows the outline: nothing to compare
                    if r_raw >= 0.2:
                        score = min(1.0, r_pol / r_raw)
        scores.append(ObjectScore(int(iid), score, precision, recall, n_ref, n_test))

    scored = [s.score for s in scores if s.score is not None]
    frame = min(scored) if scored else None
    return ConsistencyResult(
        metric=metric,
        threshold=float(threshold),
        objects=scores,
        score=frame,
        mean_score=float(np.mean(scored)) if scored else None,
        passed=frame is None or frame >= threshold,
    )
