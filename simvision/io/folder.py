"""Reading one dataset folder (layout in docs/dataset_format.md) with one-line errors.

Every tool that consumes a shard or a merged dataset (writers, merge, validate, card) goes through
these helpers so that a bad file is reported the same way everywhere: ``DatasetError`` whose message
names the file (and line or key) at fault.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "COCO_PATH",
    "FRAMES_PATH",
    "CONFIG_PATH",
    "FRAME_FILES",
    "DatasetError",
    "path_inside",
    "frame_stem",
    "frame_path",
    "frame_files",
    "frame_labels_path",
    "REQUIRED_FRAME_FILES",
    "read_json",
    "COCO_FIELDS",
    "coco_field_errors",
    "load_coco",
    "load_frames",
    "sorted_categories",
    "annotations_by_image",
    "link_or_copy",
]

COCO_PATH = Path("annotations/instances.json")
FRAMES_PATH = Path("metadata/frames.jsonl")
CONFIG_PATH = Path("config.yaml")
FRAME_LABELS_DIR = Path("annotations/frames")  # a render shard's per-frame COCO sidecars
# per-frame files of the layout, by the kind names the render job records in each frame's ``files``:
# kind -> (sub-folder, suffix). Only ``rgb`` and ``depth`` are always written; the others are optional.
FRAME_FILES: dict[str, tuple[str, str]] = {
    "rgb": ("images", ".png"),
    "depth": ("depth", ".npy"),
    "depth_mm": ("depth_mm", ".png"),
    "instance": ("instance", ".png"),
    "semantic": ("semantic", ".png"),
    "normals": ("normals", ".npy"),
}
REQUIRED_FRAME_FILES = ("rgb", "depth")


class DatasetError(ValueError):
    """A dataset folder is malformed; the message is one line naming the file and field."""


def path_inside(root: str | os.PathLike[str], relative: Any, what: str) -> Path:
    """``root / relative``, lexically normalised, refused unless it stays inside ``root`` once resolved.

    Dataset files name other files by relative path, and a crafted name (``images/../../x``, an absolute
    path, a symlink to elsewhere) must not make a tool read or write outside the dataset. ``what`` names
    the field at fault (file, frame, key) in the one-line ``DatasetError``.
    """
    base = Path(root)
    text = os.fspath(relative) if isinstance(relative, str | os.PathLike) else str(relative)
    norm = os.path.normpath(text) if text else "."
    if os.path.isabs(norm) or norm == ".." or norm.startswith(".." + os.sep):
        raise DatasetError(f"{what}: {text!r} points outside the dataset {base}")
    try:
        inside = (base / norm).resolve().is_relative_to(base.resolve())
    except (OSError, ValueError, RuntimeError):  # NUL bytes, over-long names, symlink loops
        raise DatasetError(f"{what}: {text!r} is not a usable path") from None
    if not inside:
        raise DatasetError(f"{what}: {text!r} points outside the dataset {base} through a symlink")
    return base / norm


def frame_stem(frame_id: int) -> str:
    """File stem used for every per-frame file (``000042``)."""
    return f"{int(frame_id):06d}"


def frame_path(root: str | os.PathLike[str], kind: str, frame_id: int) -> Path:
    """Conventional path of the ``kind`` file (a key of ``FRAME_FILES``) of one frame."""
    folder, suffix = FRAME_FILES[kind]
    return Path(root) / folder / f"{frame_stem(frame_id)}{suffix}"


def frame_labels_path(root: str | os.PathLike[str], frame_id: int) -> Path:
    """A render shard's COCO sidecar of one frame (``{"image": ..., "annotations": [...]}``), written
    before the frame's manifest line; ``instances.json`` is assembled from them."""
    return Path(root) / FRAME_LABELS_DIR / f"{frame_stem(frame_id)}.json"


def frame_files(root: str | os.PathLike[str], frame: dict[str, Any]) -> dict[str, Path]:
    """The files of one frame, kind -> path: its recorded ``files`` (relative to ``root``) when present,
    else the conventional paths of the required kinds plus the optional ones that exist.

    Every recorded path must stay inside ``root`` (``path_inside``), or ``DatasetError`` names the frame."""
    root = Path(root)
    where = f"{root / FRAMES_PATH}: frame {frame.get('frame_id')}"
    recorded = frame.get("files")
    if isinstance(recorded, dict) and recorded:
        files = {str(k): path_inside(root, v, f"{where} files.{k}") for k, v in recorded.items()}
    else:
        fid = int(frame["frame_id"])
        files = {k: path_inside(root, frame_path("", k, fid), f"{where} {k}") for k in FRAME_FILES}
        files = {k: p for k, p in files.items() if k in REQUIRED_FRAME_FILES or p.is_file()}
        if frame.get("file_name"):
            files["rgb"] = path_inside(root, frame["file_name"], f"{where} file_name")
    return files


def read_json(path: str | os.PathLike[str]) -> Any:
    """Load a JSON file, turning I/O and syntax errors into a one-line ``DatasetError``."""
    p = Path(path)
    try:
        with p.open("r", encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise DatasetError(f"{p}: file not found") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{p}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def _integer(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


# list -> field -> (check, what the value must be, required): the fields every tool relies on
COCO_FIELDS: dict[str, dict[str, tuple[Callable[[Any], bool], str, bool]]] = {
    "images": {
        "id": (_integer, "an integer", True),
        "file_name": (lambda v: isinstance(v, str) and v != "", "a non-empty string", True),
        "width": (lambda v: _integer(v) and v > 0, "a positive integer", True),
        "height": (lambda v: _integer(v) and v > 0, "a positive integer", True),
    },
    "annotations": {
        "id": (_integer, "an integer", True),
        "image_id": (_integer, "an integer", True),
        "category_id": (_integer, "an integer", True),
        "bbox": (lambda v: isinstance(v, list) and len(v) == 4 and all(map(_number, v)), "4 finite numbers", False),
        "area": (_number, "a finite number", False),
        "instance_id": (_integer, "an integer", False),
    },
    "categories": {
        "id": (_integer, "an integer", True),
        "name": (lambda v: isinstance(v, str), "a string", True),
    },
}


def coco_field_errors(coco: dict[str, Any]) -> list[tuple[str, int, str]]:
    """``(list, index, message)`` for every COCO entry that is not an object, lacks a required field or holds
    a field of the wrong type (``COCO_FIELDS``); ``load_coco`` refuses the first, validate reports them all."""
    errors = []
    for key, fields in COCO_FIELDS.items():
        for i, item in enumerate(coco[key]):
            if not isinstance(item, dict):
                errors.append((key, i, f"{key}[{i}] is not an object"))
                continue
            entry = f"{key}[{i}] (id {_short(item.get('id'))})"
            for name, (valid, must, required) in fields.items():
                if name not in item:
                    if required:
                        errors.append((key, i, f"{entry} has no '{name}'"))
                elif not valid(item[name]):
                    errors.append((key, i, f"{entry}: '{name}' must be {must}, got {_short(item[name])}"))
    return errors


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_coco(root: str | os.PathLike[str], *, check_fields: bool = True) -> dict[str, Any]:
    """Load ``annotations/instances.json``; check its three lists and (unless ``check_fields`` is False, for
    a validator that reports them all) the fields every tool relies on, with their types."""
    path = path_inside(root, COCO_PATH, str(root))
    coco = read_json(path)
    if not isinstance(coco, dict):
        raise DatasetError(f"{path}: top level must be an object")
    for key in ("images", "annotations", "categories"):
        if not isinstance(coco.get(key), list):
            raise DatasetError(f"{path}: key '{key}' missing or not a list")
    errors = coco_field_errors(coco) if check_fields else []
    if errors:
        raise DatasetError(f"{path}: {errors[0][2]}")
    return coco


def load_frames(root: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Load ``metadata/frames.jsonl`` (one object per non-empty line, each with ``frame_id``)."""
    path = path_inside(root, FRAMES_PATH, str(root))
    frames: list[dict[str, Any]] = []
    try:
        fh = path.open("r", encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    with fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{lineno}: invalid JSON: {exc.msg}") from None
            if not isinstance(record, dict) or "frame_id" not in record:
                raise DatasetError(f"{path}:{lineno}: record has no 'frame_id'")
            if not _integer(record["frame_id"]):
                raise DatasetError(f"{path}:{lineno}: 'frame_id' must be an integer, got {_short(record['frame_id'])}")
            frames.append(record)
    return frames


def sorted_categories(categories: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The class table in its canonical order (by id): the order YOLO indices follow."""
    return sorted(categories, key=lambda c: int(c["id"]))


def annotations_by_image(coco: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """Group annotations by ``image_id`` keeping file order."""
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ann in coco["annotations"]:
        groups[int(ann["image_id"])].append(ann)
    return dict(groups)


def link_or_copy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Path:
    """Hard-link ``src`` to ``dst`` (free, same bytes) or copy when linking is impossible."""
    s, d = Path(src), Path(dst)
    d.parent.mkdir(parents=True, exist_ok=True)
    if d.exists() or d.is_symlink():
        d.unlink()
    try:
        os.link(s, d)
    except OSError:
        tmp = d.with_name(f".{d.name}.tmp")
        shutil.copy2(s, tmp)
        os.replace(tmp, d)
    return d
