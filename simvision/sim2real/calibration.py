"""Calibration of detection scores on real data: does a 0.8 score mean 80 % of such boxes are right?

Detection ECE (as in Kueppers et al. 2020, confidence-only binning): every detection above a score
threshold is matched greedily (highest score first) to an unmatched ground-truth box of its class with
IoU >= threshold; matched ones count as correct. ECE is the count-weighted mean |precision - mean score|
over equal-width score bins. Synthetic training tends to make scores over-confident on real images,
which mAP alone does not show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torchvision.ops import box_iou

__all__ = ["detection_calibration", "expected_calibration_error", "match_detections"]


def match_detections(
    boxes: Tensor, scores: Tensor, labels: Tensor, gt_boxes: Tensor, gt_labels: Tensor, iou_threshold: float = 0.5
) -> np.ndarray:
    """Boolean 'correct' per detection (in the given order), one ground truth per detection at most."""
    correct = np.zeros(len(boxes), bool)
    if len(boxes) == 0 or len(gt_boxes) == 0:
        return correct
    iou = box_iou(boxes.float(), gt_boxes.float())
    iou[labels[:, None] != gt_labels[None, :]] = -1
    taken = torch.zeros(len(gt_boxes), dtype=torch.bool)
    for i in torch.argsort(scores, descending=True).tolist():
        cand = iou[i].clone()
        cand[taken] = -1
        j = int(cand.argmax())
        if cand[j] >= iou_threshold:
            taken[j] = True
            correct[i] = True
    return correct


def expected_calibration_error(
    scores: np.ndarray, correct: np.ndarray, n_bins: int = 10
) -> tuple[float, list[dict[str, float]]]:
    """ECE over equal-width bins of [0, 1] plus the reliability table (empty bins omitted)."""
    scores = np.asarray(scores, np.float64)
    correct = np.asarray(correct, np.float64)
    if len(scores) == 0:
        return float("nan"), []
    edges = np.linspace(0, 1, n_bins + 1)
    idx = np.clip(np.digitize(scores, edges[1:-1], right=True), 0, n_bins - 1)
    ece, table = 0.0, []
    for b in range(n_bins):
        sel = idx == b
        if not sel.any():
            continue
        conf, acc = scores[sel].mean(), correct[sel].mean()
        ece += sel.mean() * abs(acc - conf)
        table.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "count": int(sel.sum()),
                "mean_score": float(conf),
                "precision": float(acc),
            }
        )
    return float(ece), table


def detection_calibration(
    preds: Sequence[Mapping[str, Tensor]],
    targets: Sequence[Mapping[str, Tensor]],
    *,
    iou_threshold: float = 0.5,
    n_bins: int = 10,
    score_threshold: float = 0.05,
) -> dict[str, Any]:
    """ECE, reliability table and detection count over a whole evaluation set."""
    all_scores, all_correct = [], []
    for p, t in zip(preds, targets, strict=True):
        keep = p["scores"] >= score_threshold
        ok = match_detections(
            p["boxes"][keep], p["scores"][keep], p["labels"][keep], t["boxes"], t["labels"], iou_threshold
        )
        all_scores.append(p["scores"][keep].cpu().numpy())
        all_correct.append(ok)
    scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
    correct = np.concatenate(all_correct) if all_correct else np.zeros(0, bool)
    ece, table = expected_calibration_error(scores, correct, n_bins)
    return {
        "ece": ece,
        "n_detections": int(len(scores)),
        "reliability": table,
        "iou_threshold": iou_threshold,
        "score_threshold": score_threshold,
    }
