"""torchvision-detection datasets over ``LabelledImage`` records (any reader, any class mapping)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from simvision.formats import LabelledImage
from simvision.formats.classes import ClassMapping
from simvision.sim2real.augment import augment_sample
from simvision.sim2real.config import AugmentConfig

__all__ = [
    "DetectionDataset",
    "collate_detection",
    "describe",
    "records_subset",
    "scene_groups",
    "validation_split",
]

Target = dict[str, Tensor]


def _masks_for(record: LabelledImage, keep: np.ndarray, boxes: np.ndarray, h: int, w: int, scale: float) -> Tensor:
    """Instance masks from COCO segmentations when present, else filled boxes (real YOLO/KITTI sets have
    no masks; Mask R-CNN still trains its box heads and learns box-shaped masks for them)."""
    out = np.zeros((int(keep.sum()), h, w), np.uint8)
    segs = record.segmentations
    if segs is not None:
        from pycocotools import mask as mask_utils

        from simvision.labels.rle import coco_rle

        for j, idx in enumerate(np.flatnonzero(keep)):
            seg = segs[idx]
            if isinstance(seg, list):  # polygons
                rle = mask_utils.merge(mask_utils.frPyObjects(seg, record.height, record.width))
            elif isinstance(seg.get("counts"), list):  # uncompressed RLE
                rle = mask_utils.frPyObjects(seg, record.height, record.width)
            else:
                rle = coco_rle(seg)
            m = mask_utils.decode(rle)
            if scale != 1.0:
                m = np.asarray(Image.fromarray(m).resize((w, h), Image.Resampling.NEAREST))
            out[j] = m
        return torch.from_numpy(out)
    for j, (x0, y0, x1, y1) in enumerate(boxes):
        out[j, int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))] = 1
    return torch.from_numpy(out)


class DetectionDataset(Dataset[tuple[Tensor, Target]]):
    """Images as float [0, 1] tensors and torchvision detection targets (labels 1..C, 0 = background).

    Objects whose class maps to no model class are dropped. ``max_side`` shrinks large images at load
    time (the detector resizes to ``min_size``/``max_size`` anyway; decoding less saves CPU time).
    Horizontal flips draw from a generator seeded by (seed, epoch, index): reproducible with workers;
    ``augment`` (when enabled, training only) draws from its own generator seeded by (seed, epoch, index,
    1), so flips are the same with or without it. ``target["source_index"]`` is each kept object's index
    in ``record.boxes`` (the error analysis joins per-object metadata through it).
    """

    def __init__(
        self,
        records: Sequence[LabelledImage],
        mapping: ClassMapping,
        *,
        train: bool = False,
        hflip: float = 0.5,
        masks: bool = False,
        max_side: int | None = None,
        seed: int = 0,
        augment: AugmentConfig | None = None,
    ) -> None:
        self.records = list(records)
        self.augment = augment if augment is not None and augment.enabled else None
        self.mapping = mapping
        self.train = train
        self.hflip = hflip
        self.masks = masks
        self.max_side = max_side
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> tuple[Tensor, Target]:
        r = self.records[i]
        with Image.open(r.path) as src:
            im = src.convert("RGB")
            w0, h0 = im.size
            scale = 1.0
            if self.max_side and max(w0, h0) > self.max_side:
                scale = self.max_side / max(w0, h0)
                im = im.resize((max(1, round(w0 * scale)), max(1, round(h0 * scale))), Image.Resampling.BILINEAR)
            w, h = im.size
            image = torch.from_numpy(np.array(im, dtype=np.uint8)).permute(2, 0, 1).float().div_(255)
        # boxes were read against the recorded size; rescale to the decoded size
        sx, sy = w / (r.width or w0), h / (r.height or h0)
        labels = [self.mapping.index(n) for n in r.labels]
        keep = np.asarray([lbl is not None for lbl in labels], bool)
        boxes = r.boxes[keep] * np.asarray([sx, sy, sx, sy], np.float32) if len(r.boxes) else r.boxes
        boxes = boxes.clip(0, [w, h, w, h])
        ok = (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)
        boxes = boxes[ok]
        keep[np.flatnonzero(keep)[~ok]] = False
        target: Target = {
            "boxes": torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            "labels": torch.as_tensor(
                [lbl + 1 for lbl, k in zip(labels, keep, strict=True) if k and lbl is not None], dtype=torch.int64
            ),
            "image_id": torch.tensor(r.image_id),
        }
        target["area"] = (target["boxes"][:, 2] - target["boxes"][:, 0]) * (
            target["boxes"][:, 3] - target["boxes"][:, 1]
        )
        target["iscrowd"] = torch.zeros(len(boxes), dtype=torch.int64)
        target["source_index"] = torch.as_tensor(np.flatnonzero(keep), dtype=torch.int64)
        if self.masks:
            target["masks"] = _masks_for(r, keep, boxes, h, w, sx)
        if self.train and self.hflip > 0:
            gen = np.random.default_rng((self.seed, self.epoch, i))
            if gen.random() < self.hflip:
                image = image.flip(-1)
                b = target["boxes"]
                target["boxes"] = torch.stack([w - b[:, 2], b[:, 1], w - b[:, 0], b[:, 3]], 1)
                if "masks" in target:
                    target["masks"] = target["masks"].flip(-1)
        if self.train and self.augment is not None:
            image, target, _ = augment_sample(
                image, target, self.augment, np.random.default_rng((self.seed, self.epoch, i, 1))
            )
        return image, target


def collate_detection(batch: Sequence[tuple[Tensor, Target]]) -> tuple[list[Tensor], list[Target]]:
    return [b[0] for b in batch], [b[1] for b in batch]


def records_subset(records: Sequence[LabelledImage], k: int, seed: int) -> list[LabelledImage]:
    """The first ``k`` of a seeded permutation: for one seed, smaller k are subsets of larger k, so an
    ablation over k changes only the amount of real data, not which images."""
    order = np.random.default_rng(seed).permutation(len(records))
    return [records[i] for i in order[: min(k, len(records))]]


def describe(records: Sequence[LabelledImage], mapping: ClassMapping) -> dict[str, Any]:
    """Images and instances per model class (dropped source names prefixed '!')."""
    return {"images": len(records), "instances": mapping.coverage(records)}


def scene_groups(root: str | Path, records: Sequence[LabelledImage]) -> list[int] | None:
    """Each record's ``scene_index`` from a simvision folder's ``metadata/frames.jsonl`` (frames of one
    scene are near-duplicate views of it); None when the set has no such file or a frame is missing."""
    frames = Path(root) / "metadata" / "frames.jsonl"
    if not frames.is_file():
        return None
    scene: dict[int, int] = {}
    for line in frames.read_text().splitlines():
        if line.strip():
            f = json.loads(line)
            if "scene_index" in f:
                scene[int(f["frame_id"])] = int(f["scene_index"])
    if any(r.image_id not in scene for r in records):
        return None
    return [scene[r.image_id] for r in records]


def validation_split(
    records: Sequence[LabelledImage], fraction: float, seed: int, groups: Sequence[int] | None = None
) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """(train, val): whole groups (scenes; each image its own group when ``groups`` is None) drawn in a
    seeded order until ``val`` holds at least ``fraction`` of the images. Both keep the input order."""
    n = len(records)
    keys = list(groups) if groups is not None else list(range(n))
    unique = sorted(set(keys))
    if len(unique) < 2:
        raise ValueError(
            f"train.val_fraction={fraction}: the synthetic set has {len(unique)} scene(s); a validation split "
            "by scene needs at least 2 (render more scenes, or set train.val_fraction=0)"
        )
    order = np.random.default_rng(seed).permutation(len(unique))
    want = max(1, int(round(fraction * n)))
    val_keys: set[int] = set()
    count = {k: 0 for k in unique}
    for k in keys:
        count[k] += 1
    held = 0
    for j in order[:-1]:  # never the last group: something stays to train on
        if held >= want:
            break
        val_keys.add(unique[j])
        held += count[unique[j]]
    train = [r for r, k in zip(records, keys, strict=True) if k not in val_keys]
    val = [r for r, k in zip(records, keys, strict=True) if k in val_keys]
    return train, val
