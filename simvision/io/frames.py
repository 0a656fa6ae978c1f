"""Per-frame image files (RGB, depth, masks), the per-frame metadata log and its checksums.

Every manifest line is sealed: ``line_sha256`` is the SHA-256 of the rest of the line, and its
``checksums`` hold the SHA-256 of each file plus ``labels``, the checksum of the frame's COCO labels
(:func:`labels_sha256`). An edit to a line, a file or a label is thereby seen by validation and
redone by a rerun. Checksums detect edits and corruption, not a forger: anyone can recompute them.
"""

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

LINE_CHECKSUM = "line_sha256"
# the parts of a frame's COCO entries that are labels; ids and file names are left out because
# simvision-merge renumbers them (and adds ``source``), so a merged frame keeps its checksum
IMAGE_LABEL_KEYS = ("width", "height", "conditions")
ANNOTATION_ID_KEYS = ("id", "image_id")


def sha256(data: bytes) -> str:
    """Checksum recorded in the manifest for every file of a frame."""
    return hashlib.sha256(data).hexdigest()


def json_sha256(obj: Any) -> str:
    """SHA-256 of a JSON value as it reads back from a file: keys sorted, no spacing, so the order of
    keys and the layout of the file do not matter (a round trip turns int keys and tuples into JSON's)."""
    plain = json.loads(json.dumps(obj, allow_nan=False))
    return sha256(json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())


def labels_sha256(image: dict[str, Any], annotations: list[dict[str, Any]]) -> str:
    """Checksum of one frame's COCO labels (its image entry and annotations, in any order), the same
    in the frame's sidecar, its shard's ``instances.json`` and a merged ``instances.json``."""
    anns = [{k: v for k, v in a.items() if k not in ANNOTATION_ID_KEYS} for a in annotations]
    return json_sha256(
        {
            "image": {k: image.get(k) for k in IMAGE_LABEL_KEYS},
            "annotations": sorted(anns, key=json_sha256),
        }
    )


def seal(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its ``line_sha256`` (re)computed over everything else in it."""
    body = {k: v for k, v in record.items() if k != LINE_CHECKSUM}
    return {**body, LINE_CHECKSUM: json_sha256(body)}


def seal_holds(record: dict[str, Any]) -> bool | None:
    """Whether a manifest line is unchanged since it was sealed; None for a line without a seal."""
    if LINE_CHECKSUM not in record:
        return None
    return seal(record)[LINE_CHECKSUM] == record[LINE_CHECKSUM]


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
    normals: np.ndarray | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Write the image files of one frame atomically; ``normals`` (camera-frame unit normals, H x W x 3)
    go to ``normals/{stem}.npy`` as float16 when given.

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
    if normals is not None:
        payloads["normals"] = (f"normals/{stem}.npy", _npy_bytes(np.asarray(normals).astype(np.float16)))
    files, checksums = {}, {}
    for kind, (rel, data) in payloads.items():
        atomic_write_bytes(out_dir / rel, data)
        files[kind] = rel
        checksums[kind] = sha256(data)
    return files, checksums


class MetadataLog:
    """Append-only JSON-lines log of per-frame metadata, one complete, sealed line per frame.

    Each line is written with a single ``write`` and fsync-ed, so a killed process leaves at most
    a truncated last line, which readers skip.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the shard

    def append(self, record: dict[str, Any]) -> None:
        self._fh.write(json.dumps(seal(record), allow_nan=False) + "\n")
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
