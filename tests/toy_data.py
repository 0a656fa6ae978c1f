"""Tiny synthetic datasets in the simvision layout (docs/dataset_format.md), made of coloured rectangles on
noise with exact boxes and masks, for metric and sim-to-real tests until rendered frames are available."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

CATEGORIES = [
    {"id": 5, "name": "box", "supercategory": "kitchen"},
    {"id": 16, "name": "traffic_cone", "supercategory": "street"},
]
COLOURS = {"traffic_cone": (240, 110, 20), "box": (40, 70, 200)}


def write_toy_dataset(
    out: Path, *, n: int = 6, size: int = 64, seed: int = 0, objects: int = 2, frames_per_scene: int | None = None
) -> Path:
    """``n`` frames with ``objects`` rectangles each; half the frames are 'night' (darker). Every frame has
    ``scene_index`` 0 unless ``frames_per_scene`` groups consecutive frames into scenes."""
    rng = np.random.default_rng(seed)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "annotations").mkdir(exist_ok=True)
    (out / "metadata").mkdir(exist_ok=True)
    images, annotations, frames = [], [], []
    ann_id = 1
    for frame_id in range(n):
        night = frame_id % 2 == 1
        conditions = {
            "time_of_day": "night" if night else "day",
            "preset": "toy",
            "weather": {"fog": round(float(rng.uniform(0, 1)), 3)},
        }
        img = rng.integers(0, 90 if night else 200, (size, size, 3)).astype(np.uint8)
        instance = np.zeros((size, size), np.uint16)
        objs = []
        for inst in range(1, objects + 1):
            name = "traffic_cone" if inst % 2 else "box"
            w = int(rng.integers(size // 5, size // 3))
            h = w * 2 if name == "traffic_cone" else w
            h = min(h, size - 2)
            x0, y0 = int(rng.integers(0, size - w)), int(rng.integers(0, size - h))
            colour = np.asarray(COLOURS[name]) * (0.5 if night else 1.0)
            img[y0 : y0 + h, x0 : x0 + w] = colour.astype(np.uint8)
            # later objects occlude earlier ones; masks come from the final instance map
            instance[y0 : y0 + h, x0 : x0 + w] = inst
            objs.append((inst, name))
        for inst, name in objs:
            m = np.asfortranarray((instance == inst).astype(np.uint8))
            if not m.any():
                continue
            rle = mask_utils.encode(m)
            bbox = [float(v) for v in mask_utils.toBbox(rle)]
            cat = next(c["id"] for c in CATEGORIES if c["name"] == name)
            annotations.append(
                {
                    "id": ann_id,
                    "image_id": frame_id,
                    "category_id": cat,
                    "bbox": bbox,
                    "area": int(m.sum()),
                    "iscrowd": 0,
                    "segmentation": {"size": [size, size], "counts": rle["counts"].decode()},
                    "instance_id": inst,
                    "visible_fraction": 1.0,
                    "amodal_bbox": bbox,
                }
            )
            ann_id += 1
        file_name = f"images/{frame_id:06d}.png"
        Image.fromarray(img).save(out / file_name)
        images.append(
            {
                "id": frame_id,
                "file_name": file_name,
                "width": size,
                "height": size,
                "conditions": {k: v for k, v in conditions.items() if k != "weather"},
            }
        )
        frames.append(
            {
                "frame_id": frame_id,
                "file_name": file_name,
                "seed": [seed, frame_id],
                "scene_index": frame_id // frames_per_scene if frames_per_scene else 0,
                "camera_index": frame_id,
                "conditions": conditions,
                "objects": [],
            }
        )
    coco = {"images": images, "annotations": annotations, "categories": CATEGORIES}
    (out / "annotations" / "instances.json").write_text(json.dumps(coco))
    (out / "metadata" / "frames.jsonl").write_text("".join(json.dumps(f) + "\n" for f in frames))
    return out
