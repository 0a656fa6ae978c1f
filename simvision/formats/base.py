"""The record every reader returns and the interface every label format implements.

Every downstream step (detector datasets, per-class crops for the gap metrics, condition breakdowns)
works on ``LabelledImage`` lists, so supporting a new format means one ``LabelFormat`` subclass and
nothing else. Class names are kept as the source spells them; mapping them to model classes is
``sim2real.classes.ClassMapping``'s job.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image

from simvision.io.folder import path_inside

__all__ = [
    "IMAGE_SUFFIXES",
    "ClassNames",
    "LabelFormat",
    "LabelledImage",
    "image_size",
    "list_images",
    "load_class_names",
    "valid_boxes",
    "xyxy_from_xywh",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
_NAME_FILES = ("data.yaml", "dataset.yaml", "config.yaml")
ClassNames = Sequence[str] | Mapping[int, str] | str | Path | None  # list, {id: name} or a data.yaml


@dataclass
class LabelledImage:
    """One image with its boxes (xyxy pixels) and the class names the source uses."""

    path: Path
    image_id: int
    width: int
    height: int
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    labels: list[str] = field(default_factory=list)
    segmentations: list[Any] | None = None  # COCO RLE / polygons per box when the source has them
    conditions: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, np.float32).reshape(-1, 4)
        if len(self.labels) != len(self.boxes):
            raise ValueError(f"{self.path}: {len(self.boxes)} boxes but {len(self.labels)} labels")


class LabelFormat(ABC):
    """A label format: export a simvision dataset folder into it, read it back, recognise it on disk.

    Instances are registered by ``name`` (``registry.register``); a subclass in any importable module
    can also be named by its dotted path, so a new format needs no edit to simvision.
    """

    name: str = ""
    # auto-detection tries formats by increasing ``detect_order``: layouts that other layouts contain
    # (a YOLO ``labels/`` folder, any folder of images) go last so the more specific one wins
    detect_order: int = 0

    @abstractmethod
    def write(self, root: str | os.PathLike[str]) -> dict[str, int]:
        """Export the simvision dataset folder at ``root`` in place; counts written ({} if nothing to write)."""

    @abstractmethod
    def read(self, path: str | Path, **options: Any) -> list[LabelledImage]:
        """Records of the labelled set at ``path``.

        Options a format does not take are ignored: one set of source fields (``labels``, ``names``,
        ``annotations``) serves every format in the gap and sim2real configs.
        """

    @abstractmethod
    def detect(self, path: str | Path) -> bool:
        """Whether ``path`` looks like this format on disk (for ``format=auto``)."""


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the image header, without decoding the pixels."""
    with Image.open(path) as im:
        return im.size


def list_images(root: Path) -> list[Path]:
    """Image files found recursively under ``root``, sorted; a symlink resolving outside ``root`` is refused
    (``DatasetError``), so reading a folder never reads files elsewhere."""
    found = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    return [path_inside(root, p.relative_to(root), str(root)) for p in found]


def xyxy_from_xywh(xywh: np.ndarray) -> np.ndarray:
    """COCO/BOP ``[x, y, w, h]`` rows -> ``[x0, y0, x1, y1]`` rows."""
    return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], 1)


def valid_boxes(boxes: np.ndarray) -> np.ndarray:
    """Mask of xyxy boxes with a positive width and height."""
    return (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])


def load_class_names(names: ClassNames, search: Iterable[Path]) -> dict[int, str]:
    """Class id -> name from ``names`` or, when None, the first data.yaml-like file in ``search`` (one that
    is a symlink out of its folder is refused: ``DatasetError``)."""
    if names is None:
        for folder in search:
            for fname in _NAME_FILES:
                if (folder / fname).is_file():
                    return load_class_names(path_inside(folder, fname, str(folder)), [])
        return {}
    if isinstance(names, str | Path):
        loaded = yaml.safe_load(Path(names).read_text())
        return load_class_names(loaded["names"] if isinstance(loaded, dict) and "names" in loaded else loaded, [])
    if isinstance(names, Mapping):
        return {int(k): str(v) for k, v in names.items()}
    return dict(enumerate(str(n) for n in names))
