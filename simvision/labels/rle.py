"""COCO run-length encoding of masks, both ways, in one place.

pycocotools wants a Fortran-ordered uint8 mask to encode and ``counts`` as bytes to decode, while JSON
files keep ``counts`` as str; these helpers are the only code that knows both conventions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

__all__ = ["coco_rle", "decode_rle", "encode_rle"]


def encode_rle(mask: np.ndarray) -> dict[str, object]:
    """COCO RLE of a bool mask with ``counts`` as str (JSON-serialisable)."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode("ascii")}


def coco_rle(segmentation: dict[str, Any]) -> dict[str, Any]:
    """A copy of a COCO RLE as pycocotools takes it: ``counts`` as bytes when JSON gave a str."""
    rle = dict(segmentation)
    if isinstance(rle.get("counts"), str):
        rle["counts"] = rle["counts"].encode("ascii")
    return rle


def decode_rle(segmentation: dict[str, Any]) -> np.ndarray:
    """Decode a COCO RLE (``counts`` as str or bytes) to a ``bool`` HxW mask."""
    return mask_utils.decode(coco_rle(segmentation)).astype(bool)
