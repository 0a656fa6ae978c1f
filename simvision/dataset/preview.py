"""Label previews: boxes, mask outlines and class names drawn on frames, tiled into a contact sheet.

A human glance at a contact sheet catches what no checker does (wrong class on the right box,
masks shifted by a pixel, labels on the wrong frame). All images here are RGB ``uint8`` arrays;
OpenCV's BGR order is confined to reading and writing files.
"""

from __future__ import annotations

import colorsys
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from simvision.io.atomic import atomic_write_bytes
from simvision.io.folder import COCO_PATH, DatasetError, annotations_by_image, load_coco, path_inside
from simvision.labels.rle import decode_rle

__all__ = [
    "category_color",
    "draw_labels",
    "contact_sheet",
    "read_rgb",
    "write_rgb_png",
    "preview_frames",
    "write_contact_sheet",
]


def category_color(category_id: int) -> tuple[int, int, int]:
    """A stable, saturated RGB colour per class (golden-ratio hue steps keep neighbours apart)."""
    hue = (int(category_id) * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.9, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_labels(
    rgb: np.ndarray,
    annotations: Sequence[dict[str, Any]],
    categories: Sequence[dict[str, Any]],
    *,
    thickness: int = 1,
    upscale: int = 1,
) -> np.ndarray:
    """A copy of ``rgb`` with each COCO annotation's box, mask outline and class name drawn.

    ``upscale`` enlarges the frame (nearest neighbour) first, so labels stay legible on tiny renders.
    """
    img = np.ascontiguousarray(rgb[..., :3] if rgb.ndim == 3 else np.stack([rgb] * 3, -1))
    f = max(int(upscale), 1)
    img = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_NEAREST) if f > 1 else img.copy()
    names = {int(c["id"]): str(c["name"]) for c in categories}
    scale = max(0.3, min(img.shape[:2]) / 600.0)
    for ann in annotations:
        cid = int(ann["category_id"])
        color = category_color(cid)
        seg = ann.get("segmentation")
        if isinstance(seg, dict) and "counts" in seg:
            m = decode_rle(seg).astype(np.uint8)
            if f > 1:
                m = cv2.resize(m, None, fx=f, fy=f, interpolation=cv2.INTER_NEAREST)
            contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(img, contours, -1, color, thickness)
        x, y, w, h = (int(round(float(v) * f)) for v in ann["bbox"])
        cv2.rectangle(img, (x, y), (x + max(w - 1, 0), y + max(h - 1, 0)), color, thickness)
        label = names.get(cid, f"?{cid}")
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        ty = y - 2 if y - th - base - 2 >= 0 else min(y + th + 2, img.shape[0] - 1)
        cv2.rectangle(img, (x, ty - th - 1), (x + tw, ty + base - 1), color, -1)
        cv2.putText(img, label, (x, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return img


def contact_sheet(
    images: Sequence[np.ndarray],
    cols: int,
    *,
    cell_size: tuple[int, int] | None = None,
    pad: int = 4,
    background: int = 32,
) -> np.ndarray:
    """Tile RGB images into a grid of ``cols`` columns; each is fitted (aspect kept) into a cell.

    ``cell_size`` is (width, height); by default the largest image's size.
    """
    if not images:
        raise ValueError("contact_sheet needs at least one image")
    if cols < 1:
        raise ValueError(f"cols must be >= 1, got {cols}")
    cw, ch = cell_size or (max(i.shape[1] for i in images), max(i.shape[0] for i in images))
    rows = -(-len(images) // cols)
    ncols = min(cols, len(images))
    sheet = np.full((rows * ch + (rows + 1) * pad, ncols * cw + (ncols + 1) * pad, 3), background, np.uint8)
    for k, im in enumerate(images):
        im = im if im.ndim == 3 else np.stack([im] * 3, -1)
        s = min(cw / im.shape[1], ch / im.shape[0])
        w, h = max(1, int(round(im.shape[1] * s))), max(1, int(round(im.shape[0] * s)))
        fitted = cv2.resize(im[..., :3], (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_NEAREST)
        r, c = divmod(k, cols)
        y0 = pad + r * (ch + pad) + (ch - h) // 2
        x0 = pad + c * (cw + pad) + (cw - w) // 2
        sheet[y0 : y0 + h, x0 : x0 + w] = fitted
    return sheet


def read_rgb(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as RGB ``uint8``; ``DatasetError`` naming the file when it does not decode."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise DatasetError(f"{path}: cannot decode image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def sheet_of_files(paths: Sequence[str | os.PathLike[str]], cols: int, width: int) -> np.ndarray:
    """Image files read, each resized to ``width`` pixels wide (aspect kept), tiled ``cols`` to a row."""
    frames = []
    for path in paths:
        rgb = read_rgb(path)
        height = round(rgb.shape[0] * width / rgb.shape[1])
        frames.append(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA))
    return contact_sheet(frames, cols)


def write_rgb_png(path: str | os.PathLike[str], rgb: np.ndarray) -> Path:
    """Encode an RGB array as PNG and write it atomically."""
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise DatasetError(f"{path}: PNG encoding failed")
    return atomic_write_bytes(path, buf.tobytes())


def preview_frames(root: str | os.PathLike[str], n: int = 16, min_width: int = 320) -> list[np.ndarray]:
    """Up to ``n`` frames spread evenly over the dataset, labels drawn (unreadable images skipped);
    frames narrower than ``min_width`` are enlarged by an integer factor."""
    root = Path(root)
    coco = load_coco(root)
    images = sorted(coco["images"], key=lambda i: int(i["id"]))
    if not images or n < 1:
        return []
    picks = sorted({int(round(v)) for v in np.linspace(0, len(images) - 1, min(n, len(images)))})
    by_image = annotations_by_image(coco)
    out = []
    for k in picks:
        img = images[k]
        path = path_inside(root, img["file_name"], f"{root / COCO_PATH}: image {img['id']} file_name")
        try:
            rgb = read_rgb(path)
        except DatasetError:
            continue
        upscale = -(-min_width // rgb.shape[1])  # ceil: small renders are enlarged for legibility
        out.append(draw_labels(rgb, by_image.get(int(img["id"]), []), coco["categories"], upscale=upscale))
    return out


def write_contact_sheet(
    root: str | os.PathLike[str], path: str | os.PathLike[str] | None = None, *, n: int = 16, cols: int = 4
) -> Path | None:
    """Write ``contact_sheet.png`` (or ``path``) for the dataset; None when no frame could be read."""
    frames = preview_frames(root, n)
    if not frames:
        return None
    return write_rgb_png(path or Path(root) / "contact_sheet.png", contact_sheet(frames, cols))
