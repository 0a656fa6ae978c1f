"""A simvision dataset folder (docs/dataset_format.md) read as labelled images with their conditions.

Export: nothing to do, the folder a writer is given already is a simvision dataset.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from simvision.formats.base import LabelFormat, LabelledImage
from simvision.formats.coco import read_coco
from simvision.formats.registry import register
from simvision.io.folder import COCO_PATH, FRAMES_PATH, path_inside

__all__ = ["SimvisionFormat", "read_simvision"]


def read_simvision(output_dir: str | Path) -> list[LabelledImage]:
    """A simvision dataset folder (docs/dataset_format.md): COCO labels plus per-frame ``conditions``,
    taken from the COCO image entries and completed from ``metadata/frames.jsonl``."""
    root = Path(output_dir)
    records = read_coco(root / COCO_PATH, root)
    frames = path_inside(root, FRAMES_PATH, str(root))
    if frames.is_file():
        conditions: dict[int, dict[str, Any]] = {}
        for line in frames.read_text().splitlines():
            if line.strip():
                frame = json.loads(line)
                conditions[int(frame["frame_id"])] = dict(frame.get("conditions") or {})
        for r in records:
            r.conditions = {**conditions.get(r.image_id, {}), **r.conditions}
    return records


class SimvisionFormat(LabelFormat):
    """A simvision dataset folder (the render job's and ``simvision-merge``'s output)."""

    name = "simvision"

    def write(self, root: str | os.PathLike[str]) -> dict[str, int]:
        return {}  # ``root`` is a simvision dataset already

    def read(self, path: str | Path, **_: Any) -> list[LabelledImage]:
        return read_simvision(path)

    def detect(self, path: str | Path) -> bool:
        return (Path(path) / COCO_PATH).is_file()


register(SimvisionFormat())
