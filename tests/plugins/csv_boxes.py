"""A label format that lives only here: ``labels.csv`` with one ``file_name,class,x0,y0,x1,y1`` line per box.

Not registered: everything reaches it by its dotted path ``tests.plugins.csv_boxes.CsvBoxes``.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from simvision.formats.base import LabelFormat, LabelledImage, image_size
from simvision.io.atomic import atomic_write_text
from simvision.io.folder import load_coco

CSV_NAME = "labels.csv"


class CsvBoxes(LabelFormat):
    name = "csv_boxes"

    def write(self, root: str | os.PathLike[str]) -> dict[str, int]:
        coco = load_coco(root)
        files = {img["id"]: img["file_name"] for img in coco["images"]}
        names = {c["id"]: c["name"] for c in coco["categories"]}
        out = io.StringIO()
        rows = csv.writer(out, lineterminator="\n")
        for ann in coco["annotations"]:
            x, y, w, h = ann["bbox"]
            rows.writerow([files[ann["image_id"]], names[ann["category_id"]], x, y, x + w, y + h])
        atomic_write_text(Path(root) / CSV_NAME, out.getvalue())
        return {"boxes": len(coco["annotations"])}

    def read(self, path: str | Path, **_: Any) -> list[LabelledImage]:
        root = Path(path)
        per_image: dict[str, tuple[list[list[float]], list[str]]] = {}
        with (root / CSV_NAME).open(newline="") as fh:
            for file_name, label, *box in csv.reader(fh):
                boxes, labels = per_image.setdefault(file_name, ([], []))
                boxes.append([float(v) for v in box])
                labels.append(label)
        records = []
        for i, (file_name, (boxes, labels)) in enumerate(sorted(per_image.items())):
            w, h = image_size(root / file_name)
            records.append(LabelledImage(root / file_name, i, w, h, boxes, labels))
        return records

    def detect(self, path: str | Path) -> bool:
        return (Path(path) / CSV_NAME).is_file()
