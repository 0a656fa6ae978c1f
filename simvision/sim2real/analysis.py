"""Error analysis: where is a trained detector weak on synthetic validation frames, and so where is the data?

``analyse`` runs the model on a labelled set and breaks recall and AP50 down into strata:

- ``all``: every object; ``class``: per model class;
- every recorded condition (the frames' ``conditions``, flattened like ``metrics.sources.flatten_conditions``:
  ``weather.fog``; continuous values in quantile bins), a stratum of images;
- ``height_px`` (ground-truth box height in the image's own pixels), ``distance_m`` (``distance_m.euclidean``
  of the object in ``metadata/frames.jsonl``) and ``visible_fraction`` (the COCO annotation's), strata of
  objects.

Detections are matched once per image and class (greedy by score, IoU >= ``iou_threshold``). Recall counts
the stratum's objects matched by a detection scoring >= ``score_threshold`` (Wilson interval). AP50 (COCO
101-point interpolation, mean over classes present) uses the stratum's objects; detections matched to
objects outside it are ignored, unmatched detections count as false positives when they belong to the
stratum: always for image strata, by their own box height for ``height_px``. An unmatched detection has no
distance or visibility, so those strata report recall only (``ap50`` null). The AP50 interval is a
percentile bootstrap over images.

The result (``analysis.json``, schema ``simvision.sim2real.analysis/1``, documented in docs/domain_gap.md)
lists strata weakest first (by the upper end of the recall interval: surely weak before possibly weak); the
closed loop of issue 15 reads it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader
from torchvision.ops import box_iou

from simvision.formats import LabelledImage
from simvision.formats.base import valid_boxes, xyxy_from_xywh
from simvision.formats.classes import ClassMapping
from simvision.metrics.sources import condition_groups
from simvision.sim2real.config import AnalysisConfig
from simvision.sim2real.data import DetectionDataset, collate_detection
from simvision.sim2real.engine import predict

__all__ = [
    "SCHEMA",
    "analyse",
    "analyse_predictions",
    "analysis_markdown",
    "object_metadata",
    "wilson_interval",
    "write_analysis",
]

SCHEMA = "simvision.sim2real.analysis/1"
OBJECT_KEYS = ("height_px", "distance_m", "visible_fraction")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of a binomial proportion; None for n = 0."""
    if n <= 0:
        return None
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def object_metadata(root: str | Path, records: Sequence[LabelledImage]) -> list[list[dict[str, Any]]]:
    """Per record, per box of ``record.boxes`` (same order as ``formats.coco.read_coco``): the annotation's
    ``visible_fraction`` and the frame object's ``distance_m.euclidean`` (None where not recorded)."""
    root = Path(root)
    empty = [[{"visible_fraction": None, "distance_m": None} for _ in r.boxes] for r in records]
    coco_file = root / "annotations" / "instances.json"
    if not coco_file.is_file():
        return empty
    coco = json.loads(coco_file.read_text())
    per_image: dict[int, list[dict[str, Any]]] = {}
    for ann in coco.get("annotations", []):
        if not ann.get("iscrowd", 0):
            per_image.setdefault(int(ann["image_id"]), []).append(ann)
    distance: dict[tuple[int, int], float] = {}
    frames = root / "metadata" / "frames.jsonl"
    if frames.is_file():
        for line in frames.read_text().splitlines():
            if not line.strip():
                continue
            f = json.loads(line)
            for o in f.get("objects") or []:
                d = o.get("distance_m")
                if isinstance(d, dict) and d.get("euclidean") is not None and "instance_id" in o:
                    distance[(int(f["frame_id"]), int(o["instance_id"]))] = float(d["euclidean"])
    out = []
    for r, fallback in zip(records, empty, strict=True):
        anns = per_image.get(r.image_id, [])
        xyxy = xyxy_from_xywh(np.asarray([a["bbox"] for a in anns], np.float32).reshape(-1, 4))
        kept = [a for a, k in zip(anns, valid_boxes(xyxy), strict=True) if k]
        if len(kept) != len(r.boxes):  # not the layout read_coco read: no per-object metadata
            out.append(fallback)
            continue
        out.append(
            [
                {
                    "visible_fraction": a.get("visible_fraction"),
                    "distance_m": distance.get((r.image_id, int(a["instance_id"])))
                    if a.get("instance_id") is not None
                    else None,
                }
                for a in kept
            ]
        )
    return out


def _bin_label(edges: Sequence[float], value: float | None) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    idx = int(np.searchsorted(np.asarray(edges, np.float64), value, side="right")) - 1
    if idx < 0:
        return None
    hi = f"{edges[idx + 1]:g})" if idx + 1 < len(edges) else "inf)"
    return f"[{edges[idx]:g}, {hi}"


class _Image:
    """One image's matches: per ground truth (class, matched score or -1), per detection (class, score,
    index of its ground truth or -1, height in source pixels)."""

    def __init__(self, pred: dict[str, Tensor], gt: dict[str, Tensor], iou_threshold: float, to_source: float) -> None:
        gb, gl = gt["boxes"].float(), gt["labels"].long()
        db, ds, dl = pred["boxes"].float(), pred["scores"].float(), pred["labels"].long()
        order = torch.argsort(ds, descending=True, stable=True)
        db, ds, dl = db[order], ds[order], dl[order]
        self.gt_class = gl.numpy()
        self.gt_score = np.full(len(gl), -1.0)
        self.det_class = dl.numpy()
        self.det_score = ds.numpy().astype(np.float64)
        self.det_gt = np.full(len(dl), -1, np.int64)
        self.det_height = ((db[:, 3] - db[:, 1]) * to_source).numpy() if len(db) else np.zeros(0)
        if len(gb) and len(db):
            iou = box_iou(db, gb).numpy()
            taken = np.zeros(len(gb), bool)
            for j in range(len(db)):
                cand = np.where((gl.numpy() == dl[j].item()) & ~taken & (iou[j] >= iou_threshold))[0]
                if len(cand):
                    g = cand[np.argmax(iou[j, cand])]
                    taken[g] = True
                    self.det_gt[j] = g
                    self.gt_score[g] = self.det_score[j]


def _ap(dets: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_gt: np.ndarray, weights: np.ndarray) -> float | None:
    """Mean over classes with objects of the 101-point interpolated AP; ``dets`` per image (class, score,
    tp) of counted detections, ``n_gt`` (images, classes) object counts, ``weights`` per image."""
    gt_total = (n_gt * weights[:, None]).sum(0)
    present = np.flatnonzero(gt_total > 0)
    if not len(present):
        return None
    cls = np.concatenate([d[0] for d in dets]) if dets else np.zeros(0, np.int64)
    score = np.concatenate([d[1] for d in dets]) if dets else np.zeros(0)
    tp = np.concatenate([d[2] for d in dets]) if dets else np.zeros(0, bool)
    w = np.concatenate([np.full(len(d[0]), wi) for d, wi in zip(dets, weights, strict=True)]) if dets else np.zeros(0)
    recall_points = np.linspace(0, 1, 101)
    aps = []
    for c in present:
        sel = (cls == c) & (w > 0)
        if not sel.any():
            aps.append(0.0)
            continue
        order = np.argsort(-score[sel], kind="stable")
        t, ww = tp[sel][order], w[sel][order]
        ctp, cfp = np.cumsum(ww * t), np.cumsum(ww * ~t)
        rec = ctp / gt_total[c]
        prec = ctp / np.maximum(ctp + cfp, 1e-12)
        prec = np.maximum.accumulate(prec[::-1])[::-1]
        idx = np.searchsorted(rec, recall_points, side="left")
        aps.append(float(np.where(idx < len(prec), prec[np.minimum(idx, len(prec) - 1)], 0.0).mean()))
    return float(np.mean(aps))


def analyse_predictions(
    preds: Sequence[dict[str, Tensor]],
    gts: Sequence[dict[str, Tensor]],
    records: Sequence[LabelledImage],
    objects: Sequence[Sequence[dict[str, Any]]],
    classes: Sequence[str],
    cfg: AnalysisConfig | None = None,
    *,
    to_source: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Strata from predictions and targets (one per record, in order). ``gts[i]["source_index"]`` maps
    each target box to ``records[i].boxes`` / ``objects[i]``; ``to_source[i]`` converts the boxes' pixels
    to the image's own (1 when not resized)."""
    cfg = cfg or AnalysisConfig()
    n_img, n_cls = len(records), len(classes) + 1
    scale = list(to_source) if to_source is not None else [1.0] * n_img
    images = [_Image(p, g, cfg.iou_threshold, s) for p, g, s in zip(preds, gts, scale, strict=True)]
    # per-object attributes, aligned with each image's targets
    attrs: list[dict[str, list[Any]]] = []
    for g, obj, s in zip(gts, objects, scale, strict=True):
        src = g.get("source_index", torch.arange(len(g["labels"]))).tolist()
        heights = ((g["boxes"][:, 3] - g["boxes"][:, 1]) * s).tolist()
        attrs.append(
            {
                "height_px": heights,
                "distance_m": [obj[j].get("distance_m") if j < len(obj) else None for j in src],
                "visible_fraction": [obj[j].get("visible_fraction") if j < len(obj) else None for j in src],
            }
        )
    bins = {"height_px": cfg.height_bins, "distance_m": cfg.distance_bins, "visible_fraction": cfg.visible_bins}

    def stratum(
        key: str, level: str, image_in: np.ndarray, gt_in: list[np.ndarray], det_in: list[np.ndarray] | None
    ) -> dict[str, Any] | None:
        """``gt_in``/``det_in`` per image: which objects / unmatched detections belong to the stratum
        (``det_in`` None: AP undefined)."""
        n_obj = int(sum(m.sum() for m in gt_in))
        if n_obj == 0:
            return None
        hits = int(sum(((im.gt_score >= cfg.score_threshold) & m).sum() for im, m in zip(images, gt_in, strict=True)))
        entry: dict[str, Any] = {
            "key": key,
            "level": level,
            "n_objects": n_obj,
            "n_images": int(sum(bool(m.any()) for m in gt_in)),
            "recall": hits / n_obj,
            "recall_interval": list(wilson_interval(hits, n_obj, cfg.confidence) or []),
            "ap50": None,
            "ap50_interval": None,
        }
        if det_in is None:
            return entry
        dets, n_gt = [], np.zeros((n_img, n_cls))
        for i, (im, m, dm) in enumerate(zip(images, gt_in, det_in, strict=True)):
            if not image_in[i]:
                dets.append((np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool)))
                continue
            np.add.at(n_gt[i], im.gt_class[m], 1)
            matched = im.det_gt >= 0
            in_gt = np.zeros(len(im.det_gt), bool)
            in_gt[matched] = m[im.det_gt[matched]]
            count = in_gt | (~matched & dm)
            dets.append((im.det_class[count], im.det_score[count], in_gt[count]))
        entry["ap50"] = _ap(dets, n_gt, image_in.astype(np.float64))
        if cfg.bootstrap > 0 and entry["ap50"] is not None:
            rng = np.random.default_rng(0)
            idx = np.flatnonzero(image_in)
            samples = []
            for _ in range(cfg.bootstrap):
                w = np.zeros(n_img)
                np.add.at(w, rng.choice(idx, len(idx), replace=True), 1.0)
                v = _ap(dets, n_gt, w)
                if v is not None:
                    samples.append(v)
            if samples:
                a = (1 - cfg.confidence) / 2
                entry["ap50_interval"] = [float(np.quantile(samples, a)), float(np.quantile(samples, 1 - a))]
        return entry

    all_images = np.ones(n_img, bool)
    all_gt = [np.ones(len(im.gt_class), bool) for im in images]
    all_det = [np.ones(len(im.det_class), bool) for im in images]
    strata = [stratum("all", "all", all_images, all_gt, all_det)]
    for c, name in enumerate(classes, start=1):
        strata.append(
            stratum(
                "class", name, all_images, [im.gt_class == c for im in images], [im.det_class == c for im in images]
            )
        )
    groups = condition_groups(records, max_levels=cfg.max_levels, numeric_bins=cfg.numeric_bins)
    for label, idx in groups.items():
        key, level = label.split("=", 1)
        inside = np.zeros(n_img, bool)
        inside[idx] = True
        gt_in = [g & inside[i] for i, g in enumerate(all_gt)]
        det_in = [d & inside[i] for i, d in enumerate(all_det)]
        strata.append(stratum(key, level, inside, gt_in, det_in))
    for key in OBJECT_KEYS:
        labels = [[_bin_label(bins[key], v) for v in a[key]] for a in attrs]
        levels = sorted({lv for ls in labels for lv in ls if lv is not None}, key=lambda s: float(s[1:].split(",")[0]))
        for level in levels:
            gt_in = [np.asarray([lv == level for lv in ls], bool) for ls in labels]
            det_in = None
            if key == "height_px":
                det_in = [np.asarray([_bin_label(bins[key], h) == level for h in im.det_height], bool) for im in images]
            strata.append(stratum(key, level, all_images, gt_in, det_in))
    kept = [s for s in strata if s is not None]
    # weakest first, and surely weak before possibly weak: by the upper end of the recall interval (a stratum of
    # one missed object, interval [0, 0.79], comes after 70 missed ones, [0, 0.05]), then recall and AP50
    kept.sort(
        key=lambda s: (
            s["recall_interval"][1] if s["recall_interval"] else s["recall"],
            s["recall"],
            s["ap50"] if s["ap50"] is not None else math.inf,
            s["key"],
            s["level"],
        )
    )
    return {
        "schema": SCHEMA,
        "n_images": n_img,
        "n_objects": int(sum(len(im.gt_class) for im in images)),
        "classes": list(classes),
        "iou_threshold": cfg.iou_threshold,
        "score_threshold": cfg.score_threshold,
        "confidence": cfg.confidence,
        "recall_interval_method": "wilson",
        "ap50_interval_method": f"percentile bootstrap over images ({cfg.bootstrap} resamples)"
        if cfg.bootstrap
        else None,
        "strata": kept,
    }


def _to_source(record: LabelledImage, max_side: int | None) -> float:
    """Factor from ``DetectionDataset``'s decoded pixels back to the image's own (it shrinks at load)."""
    w0, h0 = record.width, record.height
    if not max_side or not h0 or max(w0, h0) <= max_side:
        return 1.0
    s = max_side / max(w0, h0)
    return h0 / max(1, round(h0 * s))


def analyse(
    model: nn.Module,
    records: Sequence[LabelledImage],
    mapping: ClassMapping,
    classes: Sequence[str],
    device: torch.device,
    *,
    root: str | Path | None = None,
    cfg: AnalysisConfig | None = None,
    max_side: int | None = None,
    batch_size: int = 4,
    progress: bool = False,
) -> dict[str, Any]:
    """Run ``model`` on ``records`` (a simvision folder at ``root`` adds distance and visibility) and
    break its recall / AP50 down (``analyse_predictions``)."""
    dataset = DetectionDataset(records, mapping, max_side=max_side)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate_detection)
    model.to(device)
    preds, _ = predict(model, loader, device, progress=progress, desc="analyse")
    gts = [dataset[i][1] for i in range(len(dataset))]
    objects = object_metadata(root, records) if root is not None else [[{} for _ in r.boxes] for r in records]
    return analyse_predictions(
        preds, gts, records, objects, classes, cfg, to_source=[_to_source(r, max_side) for r in records]
    )


def _cell(v: float | None, interval: Sequence[float] | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" + (f" [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else "")


def analysis_markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Error analysis (weakest strata first)",
        "",
        f"{result['n_images']} images, {result['n_objects']} objects; recall at score >= "
        f"{result['score_threshold']}, IoU >= {result['iou_threshold']}; intervals {result['confidence']:.0%} "
        f"(recall: Wilson; AP50: {result['ap50_interval_method'] or 'none'}).",
        "",
        "| stratum | level | objects | images | recall | AP50 |",
        "|---|---|---|---|---|---|",
    ]
    for s in result["strata"]:
        lines.append(
            f"| {s['key']} | {s['level']} | {s['n_objects']} | {s['n_images']} | "
            f"{_cell(s['recall'], s['recall_interval'])} | {_cell(s['ap50'], s['ap50_interval'])} |"
        )
    return "\n".join(lines) + "\n"


def write_analysis(result: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": out / "analysis.json", "md": out / "analysis.md"}
    files["json"].write_text(json.dumps(result, indent=2))
    files["md"].write_text(analysis_markdown(result))
    return files
