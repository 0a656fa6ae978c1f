"""Per-frame image files (RGB, depth, masks) and the per-frame metadata log."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from simvision.io.atomic import atomic_write_bytes
from simvision.io.folder import frame_stem


def sha256(data: bytes) -> str:
    """Checksum recorded in the manifest for every file of a frame."""
    return hashlib.sha256(data).hexdigest()


def _png_bytes(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise OSError("PNG encoding failed")
    return buf.tobytes()


def _npy_bytes(array: np.ndarray) -> bytes:
    stream = io.BytesIO()
    np.save(stream, array)
    return stream.getvalue()


def write_frame_files(
    out_dir: Path,
    frame_id: int,
    rgb: np.ndarray,
    depth: np.ndarray,
    instance: np.ndarray,
    semantic: np.ndarray,
    output_cfg: Any,
) -> tuple[dict[str, str], dict[str, str]]:
    """Write the image files of one frame atomically.

    Returns ({kind: path relative to out_dir}, {kind: sha256 of the bytes written}).
    """
    stem = frame_stem(frame_id)
    payloads = {
        "rgb": (f"images/{stem}.png", _png_bytes(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))),
        "depth": (f"depth/{stem}.npy", _npy_bytes(depth.astype(np.float32))),
    }
    if output_cfg.depth_png:
        mm = np.clip(np.round(depth * 1000.0), 0, 65535).astype(np.uint16)
        payloads["depth_mm"] = (f"depth_mm/{stem}.png", _png_bytes(mm))
    if output_cfg.write_instance:
        payloads["instance"] = (f"instance/{stem}.png", _png_bytes(instance.astype(np.uint16)))
    if output_cfg.write_semantic:
        payloads["semantic"] = (f"semantic/{stem}.png", _png_bytes(semantic.astype(np.uint16)))
    files, checksums = {}, {}
    for kind, (rel, data) in payloads.items():
        atomic_write_bytes(out_dir / rel, data)
        files[kind] = rel
        checksums[kind] = sha256(data)
    return files, checksums


class MetadataLog:
    """Append-only JSON-lines log of per-frame metadata, one complete line per frame.

    Each line is written with a single ``write`` and fsync-ed, so a killed process leaves at most
    a truncated last line, which readers skip.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the shard

    def append(self, record: dict[str, Any]) -> None:
        self._fh.write(json.dumps(record, allow_nan=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


def read_metadata(path: Path) -> list[dict[str, Any]]:
    """Complete records of a metadata log (a torn final line from a killed job is ignored)."""
    records = []
    if not path.exists():
        return records
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
