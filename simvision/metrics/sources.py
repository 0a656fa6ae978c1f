"""Image sources for the gap metrics: whole images or object crops, grouped by class or condition, and
batched feature extraction (GPU when present, progress bar)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from simvision.formats import LabelledImage
from simvision.formats.classes import ClassMapping

__all__ = ["ImageSample", "condition_groups", "extract_features", "flatten_conditions", "object_crops", "whole_images"]


@dataclass(frozen=True)
class ImageSample:
    """An image, or a box of it, to embed; ``box`` is xyxy pixels."""

    path: Path
    box: tuple[float, float, float, float] | None = None
    label: str | None = None


def whole_images(records: Sequence[LabelledImage]) -> list[ImageSample]:
    return [ImageSample(r.path) for r in records]


def short_side(box: Sequence[float]) -> float:
    """The shorter side of an xyxy box, in pixels: what ``min_size`` and the gap report's crop sizes measure."""
    return float(min(box[2] - box[0], box[3] - box[1]))


def object_crops(
    records: Sequence[LabelledImage],
    mapping: ClassMapping,
    *,
    min_size: float = 16.0,
    max_per_class: int | None = None,
    rng: np.random.Generator | None = None,
    classes: Iterable[str] | None = None,
) -> list[ImageSample]:
    """One crop per labelled object that maps to a class and is at least ``min_size`` pixels on its short
    side (tiny crops are mostly upsampling blur, which measures the resizer, not the renderer).
    ``classes`` restricts the output to those class names (as the mapping spells them)."""
    per_class: dict[str, list[ImageSample]] = {}
    for r in records:
        for box, label in zip(r.boxes, r.labels, strict=True):
            name = mapping.name(label)
            if name is None or short_side(box) < min_size:
                continue
            x0, y0, x1, y1 = (float(v) for v in box)
            per_class.setdefault(name, []).append(ImageSample(r.path, (x0, y0, x1, y1), name))
    out: list[ImageSample] = []
    wanted = set(per_class) if classes is None else set(classes) & set(per_class)
    for name in sorted(wanted):
        crops = per_class[name]
        if max_per_class is not None and len(crops) > max_per_class:
            gen = rng if rng is not None else np.random.default_rng(0)
            crops = [crops[i] for i in sorted(gen.choice(len(crops), max_per_class, replace=False))]
        out.extend(crops)
    return out


def flatten_conditions(conditions: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested condition dicts become dotted keys (``weather.fog``); lists become their string form."""
    flat: dict[str, Any] = {}
    for key, value in conditions.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_conditions(value, f"{name}."))
        elif isinstance(value, list | tuple):
            flat[name] = str(list(value))
        else:
            flat[name] = value
    return flat


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def condition_groups(
    records: Sequence[LabelledImage],
    *,
    keys: Iterable[str] | None = None,
    max_levels: int = 8,
    numeric_bins: int = 3,
) -> dict[str, list[int]]:
    """Indices of records per ``key=value`` condition level.

    Numeric values with more than ``numeric_bins`` distinct values are continuous: an exact 0 (the effect
    off: no fog, no puddles) is its own level ``key=0`` and the other values are split into up to
    ``numeric_bins`` quantile bins ``key=[lo, hi)`` (empty bins dropped), so a fog density is stratified
    among foggy frames, not mixed with clear ones. Other keys are categorical: only the most frequent
    ``max_levels`` are kept, so the report stays readable and every group has enough images for a metric.
    """
    flat = [flatten_conditions(r.conditions) for r in records]
    all_keys = sorted({k for f in flat for k in f}) if keys is None else list(keys)
    groups: dict[str, list[int]] = {}
    for key in all_keys:
        values = [(i, f[key]) for i, f in enumerate(flat) if key in f and f[key] is not None]
        if not values:
            continue
        distinct = {v for _, v in values}
        if len(distinct) < 2:
            continue
        if all(_is_number(v) for v in distinct) and len(distinct) > numeric_bins:
            zeros = [i for i, v in values if v == 0]
            if zeros:
                groups[f"{key}=0"] = zeros
            rest = [(i, v) for i, v in values if v != 0]
            nums = np.asarray([v for _, v in rest], np.float64)
            edges = np.unique(np.quantile(nums, np.linspace(0, 1, numeric_bins + 1)))
            if len(edges) == 1:  # one value besides 0
                groups[f"{key}={edges[0]:.3g}"] = [i for i, _ in rest]
                continue
            for lo, hi in zip(edges[:-1], edges[1:], strict=True):
                last = hi == edges[-1]
                idx = [i for i, v in rest if lo <= v < hi or (last and v == hi)]
                if idx:
                    groups[f"{key}=[{lo:.3g}, {hi:.3g}{']' if last else ')'}"] = idx
            continue
        for level, _ in Counter(str(v) for _, v in values).most_common(max_levels):
            groups[f"{key}={level}"] = [i for i, v in values if str(v) == level]
    return groups


def square_crop(im: Image.Image, box: Sequence[float] | None, context: float) -> Image.Image:
    """What the extractor sees of a sample: the whole image, or a square around ``box`` (xyxy) whose side is
    the box's longer side plus ``context`` of it (the aspect ratio is kept; outside the image is black)."""
    if box is None:
        return im
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * (1 + context)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return im.crop((round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2)))


class _SampleDataset(Dataset[Tensor]):
    """Loads, crops (square, with context) and resizes samples to uint8 ``(3, size, size)``."""

    def __init__(self, samples: Sequence[ImageSample], size: int, context: float) -> None:
        self.samples = list(samples)
        self.size = size
        self.context = context
        self._cached: tuple[Path, Image.Image] | None = None  # crops of one photo decode it once

    def _load(self, path: Path) -> Image.Image:
        if self._cached is None or self._cached[0] != path:
            with Image.open(path) as src:
                self._cached = (path, src.convert("RGB"))
        return self._cached[1]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> Tensor:
        s = self.samples[i]
        im = square_crop(self._load(s.path), s.box, self.context)
        arr = np.array(im.resize((self.size, self.size), Image.Resampling.BICUBIC), dtype=np.uint8)
        return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


@torch.inference_mode()
def extract_features(
    samples: Sequence[ImageSample],
    extractor: nn.Module,
    *,
    device: torch.device | str = "cpu",
    batch_size: int = 32,
    num_workers: int = 0,
    context: float = 0.1,
    desc: str = "features",
    progress: bool = True,
) -> Tensor:
    """``(n, num_features)`` float32 CPU features; images resized to the extractor's ``input_size``."""
    device = torch.device(device)
    extractor = extractor.to(device).eval()
    size = int(getattr(extractor, "input_size"))  # noqa: B009 - documented part of the extractor contract
    n_feat = int(getattr(extractor, "num_features"))  # noqa: B009
    if not samples:
        return torch.zeros(0, n_feat)
    order = sorted(range(len(samples)), key=lambda i: str(samples[i].path))  # group crops by photo
    loader = DataLoader(
        _SampleDataset([samples[i] for i in order], size, context),
        batch_size=batch_size,
        num_workers=num_workers,
        pin_memory=device.type == "cuda",
    )
    out = []
    for batch in tqdm(loader, desc=desc, unit="batch", disable=not progress, leave=False):
        feats = extractor(batch.to(device, non_blocking=True))
        out.append(feats.float().reshape(len(batch), -1).cpu())
    feats_sorted = torch.cat(out)
    result = torch.empty_like(feats_sorted)
    result[torch.as_tensor(order)] = feats_sorted
    return result
