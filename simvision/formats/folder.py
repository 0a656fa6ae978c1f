"""Plain image folders, unlabelled: whole-image metrics only.

Export: nothing to do, a simvision dataset's ``images/`` already is a plain image folder (linking the
images into ``images/`` would link them onto themselves).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from simvision.formats.base import LabelFormat, LabelledImage, image_size, list_images
from simvision.formats.registry import register

__all__ = ["FolderFormat", "read_folder"]


def read_folder(images: str | Path) -> list[LabelledImage]:
    """Unlabelled images found recursively (whole-image metrics only)."""
    records = []
    for i, path in enumerate(list_images(Path(images))):
        w, h = image_size(path)
        records.append(LabelledImage(path, i, w, h))
    return records


class FolderFormat(LabelFormat):
    """Any folder: its images, found recursively, without labels."""

    name = "folder"
    detect_order = 2  # every path reads as a folder (maybe an empty one): the last resort

    def write(self, root: str | os.PathLike[str]) -> dict[str, int]:
        return {}  # ``root/images`` is the image folder (module docstring)

    def read(self, path: str | Path, **_: Any) -> list[LabelledImage]:
        return read_folder(path)

    def detect(self, path: str | Path) -> bool:
        return True


register(FolderFormat())
