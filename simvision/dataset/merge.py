"""Merge shard folders into one dataset folder with fresh, unique frame/image/annotation ids.

Shards are read and cross-checked before anything is written (class tables equal, every image has
its metadata line and its files), then the merged folder is built in a hidden sibling folder and
renamed into place, so a refused or failed merge leaves neither a half dataset nor any change to
the shards. Exports (any format of ``simvision.formats``) and the dataset card are written afterwards,
in place.

New ids: frames are numbered 0..N-1 in shard order, then by each shard's frame id; annotation ids
1..M in the same order. Every image and metadata record keeps where it came from in ``source``
(``{"shard": path, "frame_id": old id, "config": digest}``) and ``merge_manifest.json`` lists the shards,
their frame-id ranges and their resolved configs.

A frame rendered twice (overlapping shards: the same seed words, scene and camera under the same config)
would land in both a training and an evaluation split, so it is refused, or with ``dedupe`` only its
first copy is kept. The config counts minus ``IDENTITY_IGNORED``; the digest in ``source`` carries it
through merges of merged datasets.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from tqdm import tqdm

from simvision.formats import format_names, get_format, unknown_formats
from simvision.io.atomic import WriteError, atomic_write_json, atomic_write_text, dir_mode, write_error
from simvision.io.folder import (
    COCO_PATH,
    CONFIG_PATH,
    FRAMES_PATH,
    DatasetError,
    annotations_by_image,
    frame_files,
    frame_stem,
    link_or_copy,
    load_coco,
    load_frames,
    path_inside,
    read_json,
    sorted_categories,
)
from simvision.io.frames import seal, seal_holds

__all__ = ["MergeResult", "class_table_difference", "check_class_tables", "config_digest", "merge_shards"]

MANIFEST_PATH = Path("merge_manifest.json")
# where a folder is written and which of a sweep's frames it holds; a frame's pixels and labels depend on
# neither (scene seeds are [seed, scene_index] whatever num_frames and sharding, see dataset/shards.py)
IDENTITY_IGNORED = ("output_dir", "shard", "num_frames")


@dataclass
class MergeResult:
    """What a merge wrote: counts, the output folder and per-format export counts."""

    out_dir: Path
    n_shards: int
    n_frames: int
    n_annotations: int
    exports: dict[str, dict[str, int]] = field(default_factory=dict)
    n_duplicates: int = 0  # frames dropped by ``dedupe`` as copies of an earlier shard's frame


@dataclass
class _Shard:
    root: Path
    coco: dict[str, Any]
    frames: dict[int, dict[str, Any]]
    config: Any
    identity: str | None = None  # digest of the config a frame's identity includes (``config_digest``)
    dropped: set[int] = field(default_factory=set)  # frame ids left out as duplicates


def class_table_difference(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> str | None:
    """None when two COCO ``categories`` lists are the same class table, else the first difference."""
    ca, cb = sorted_categories(a), sorted_categories(b)
    ids_a, ids_b = [c["id"] for c in ca], [c["id"] for c in cb]
    if ids_a != ids_b:
        only_a, only_b = sorted(set(ids_a) - set(ids_b)), sorted(set(ids_b) - set(ids_a))
        return f"category ids differ (only in first: {only_a}, only in second: {only_b})"
    for x, y in zip(ca, cb, strict=True):
        if x != y:
            keys = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
            return f"category id {x['id']} differs in {keys}: {x.get(keys[0])!r} vs {y.get(keys[0])!r}"
    return None


def check_class_tables(shards: Sequence[tuple[Path, Sequence[dict[str, Any]]]]) -> None:
    """Raise ``DatasetError`` naming both shards when any class table differs from the first."""
    first_root, first = shards[0]
    for root, cats in shards[1:]:
        diff = class_table_difference(first, cats)
        if diff is not None:
            raise DatasetError(f"incompatible class tables: shard {root} vs shard {first_root}: {diff}")


def _load_shard(root: Path) -> _Shard:
    if not root.is_dir():
        raise DatasetError(f"{root}: shard folder not found")
    coco = load_coco(root)
    frames: dict[int, dict[str, Any]] = {}
    for f in load_frames(root):
        fid = int(f["frame_id"])
        if fid in frames:
            raise DatasetError(f"{root / FRAMES_PATH}: frame_id {fid} appears twice")
        if seal_holds(f) is False:  # merge reseals the lines it renumbers: it must not launder an edit
            raise DatasetError(
                f"{root / FRAMES_PATH}: frame {fid}: the line was edited after it was written; "
                "rerun the shard's render to redo the frame"
            )
        frames[fid] = f
    image_ids = [int(img["id"]) for img in coco["images"]]
    if len(set(image_ids)) != len(image_ids):
        raise DatasetError(f"{root / COCO_PATH}: duplicate image ids")
    known = set(image_ids)
    for iid in image_ids:
        if iid not in frames:
            raise DatasetError(f"{root / FRAMES_PATH}: no metadata for image {iid}")
    for fid in frames:
        if fid not in known:
            raise DatasetError(f"{root / COCO_PATH}: no image for metadata frame {fid}")
    for ann in coco["annotations"]:
        if int(ann["image_id"]) not in known:
            raise DatasetError(f"{root / COCO_PATH}: annotation {ann['id']} refers to unknown image {ann['image_id']}")
    for img in coco["images"]:
        files = _source_files(root, img, frames[int(img["id"])])
        for path in files.values():
            if not path.is_file():
                raise DatasetError(f"{path}: file not found (shard {root}, frame {img['id']})")
        _check_merged_names(root, int(img["id"]), files)
    cfg_path = path_inside(root, CONFIG_PATH, str(root))
    config: Any = None
    if cfg_path.is_file():
        try:
            config = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise DatasetError(f"{cfg_path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    fingerprint = path_inside(root, "config.json", str(root))  # the resolved config as the render job wrote it
    identity = config_digest(read_json(fingerprint) if fingerprint.is_file() else config)
    return _Shard(root=root, coco=coco, frames=frames, config=config, identity=identity)


def config_digest(config: Any) -> str | None:
    """Short digest of a resolved config minus ``IDENTITY_IGNORED``; None without a config."""
    if not isinstance(config, dict):
        return None
    kept = {k: v for k, v in config.items() if k not in IDENTITY_IGNORED}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _frame_config(shard: _Shard, frame: dict[str, Any]) -> str | None:
    """The frame's config digest: recorded in ``source`` by an earlier merge, else its shard's."""
    source = frame.get("source")
    recorded = source.get("config") if isinstance(source, dict) else None
    return str(recorded) if recorded else shard.identity


def _frame_identity(shard: _Shard, frame: dict[str, Any]) -> tuple[Any, ...] | None:
    """What makes two frames the same render: config digest, seed words, scene and camera; None if unrecorded."""
    if frame.get("seed") is None:
        return None
    seed = json.dumps(frame["seed"], sort_keys=True)
    return (_frame_config(shard, frame), seed, frame.get("scene_index"), frame.get("camera_index"))


def _find_duplicates(shards: list[_Shard], dedupe: bool) -> int:
    """Mark frames repeating an earlier shard's frame as dropped (``dedupe``), else refuse the first one."""
    first: dict[tuple[Any, ...], tuple[Path, int]] = {}
    n = 0
    for shard in shards:
        mine: dict[tuple[Any, ...], tuple[Path, int]] = {}
        for fid in sorted(shard.frames):
            frame = shard.frames[fid]
            key = _frame_identity(shard, frame)
            if key is None:
                continue
            if key not in first:
                mine.setdefault(key, (shard.root, fid))  # within one shard frames are not compared
                continue
            if not dedupe:
                root, other = first[key]
                raise DatasetError(
                    f"shards {root} and {shard.root} both hold the frame of seed {key[1]}, scene "
                    f"{frame.get('scene_index')}, camera {frame.get('camera_index')} (their frames {other} and "
                    f"{fid}): a frame merged twice lands in two splits; use --dedupe to keep the first copy"
                )
            shard.dropped.add(fid)
            n += 1
        first.update(mine)
    return n


def _source_files(root: Path, img: dict[str, Any], frame: dict[str, Any]) -> dict[str, Path]:
    """A frame's files (COCO ``file_name`` is the RGB image), each resolving inside the shard (``path_inside``)."""
    files = frame_files(root, frame)
    files["rgb"] = path_inside(root, img["file_name"], f"{root / COCO_PATH}: image {img['id']} file_name")
    return files


def _merged_name(rel: Path, frame_id: int) -> str:
    """Where a frame file lands in the merged folder: its shard sub-folder, the new frame's stem."""
    return (rel.parent / f"{frame_stem(frame_id)}{rel.suffix}").as_posix()


def _check_merged_names(root: Path, frame_id: int, files: dict[str, Path]) -> None:
    """Two files of one frame must not land on one merged name (the second would replace the first)."""
    seen: dict[str, str] = {}
    for kind, path in files.items():
        name = _merged_name(path.relative_to(root), frame_id)
        if name in seen:
            raise DatasetError(
                f"{root / FRAMES_PATH}: frame {frame_id}: files {seen[name]} and {kind} would both be merged as {name}"
            )
        seen[name] = kind


def _stage(shards: list[_Shard], stage: Path, progress: bool) -> tuple[int, int]:
    """Write files, COCO, frames.jsonl and the manifest of the merged dataset into ``stage``."""
    images: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    frame_lines: list[str] = []
    manifest: list[dict[str, Any]] = []
    new_fid = 0
    total = sum(len(s.coco["images"]) - len(s.dropped) for s in shards)
    bar = tqdm(total=total, desc="merge", unit="frame", disable=not progress)
    for shard in shards:
        by_image = annotations_by_image(shard.coco)
        first = new_fid
        for img in sorted(shard.coco["images"], key=lambda i: int(i["id"])):
            old = int(img["id"])
            if old in shard.dropped:
                continue
            frame = shard.frames[old]
            new_files: dict[str, str] = {}
            for kind, src in _source_files(shard.root, img, frame).items():
                new_rel = _merged_name(src.relative_to(shard.root), new_fid)
                link_or_copy(src, path_inside(stage, new_rel, f"merged frame {new_fid} files.{kind}"))
                new_files[kind] = new_rel
            new_name = new_files["rgb"]
            source = {"shard": str(shard.root.resolve()), "frame_id": old, "config": _frame_config(shard, frame)}
            images.append({**img, "id": new_fid, "file_name": new_name, "source": source})
            for ann in by_image.get(old, []):
                anns.append({**ann, "id": len(anns) + 1, "image_id": new_fid})
            record = {
                **frame,
                "frame_id": new_fid,
                "file_name": new_name,
                "files": new_files,
                "source": source,
            }
            if seal_holds(frame):  # same files and labels checksums (ids are not in them), new line
                record = seal(record)
            frame_lines.append(json.dumps(record, ensure_ascii=False))
            new_fid += 1
            bar.update(1)
        manifest.append(
            {
                "shard": str(shard.root.resolve()),
                "n_frames": new_fid - first,
                "frame_ids": [first, new_fid - 1] if new_fid > first else [],
                "duplicates_dropped": sorted(shard.dropped),
                "config": shard.config,
            }
        )
    bar.close()
    first_coco = shards[0].coco
    coco = {k: v for k, v in first_coco.items() if k not in ("images", "annotations", "categories")}
    info = dict(first_coco.get("info") or {})
    info.pop("seed", None)  # each shard's seed is kept below, none describes the whole
    info["merged_from"] = [{"shard": str(s.root.resolve()), "info": s.coco.get("info")} for s in shards]
    coco["info"] = info
    coco.update(images=images, annotations=anns, categories=sorted_categories(first_coco["categories"]))
    atomic_write_json(stage / COCO_PATH, coco)
    atomic_write_text(stage / FRAMES_PATH, "".join(line + "\n" for line in frame_lines))
    atomic_write_json(stage / MANIFEST_PATH, {"shards": manifest}, indent=1)
    return new_fid, len(anns)


def export_format(root: Path, fmt: str) -> dict[str, int]:
    """Write the dataset at ``root`` in format ``fmt`` (a name or dotted path); returns counts written."""
    return get_format(fmt).write(root)


def merge_shards(
    shards: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    formats: Sequence[str] = ("coco",),
    card: bool = True,
    progress: bool = True,
    dedupe: bool = False,
) -> MergeResult:
    """Merge ``shards`` into ``out_dir`` (which must not exist or be empty) and export ``formats``.

    A frame found in two shards (same seed, scene, camera and config) is refused, or with ``dedupe`` kept
    once (the first shard's copy); ``MergeResult.n_duplicates`` counts the copies dropped.

    Raises ``DatasetError`` (one line) on unknown formats, unreadable or inconsistent shards, incompatible
    class tables and an output that cannot be created; in that case nothing is written. A failed write
    (disk full) raises a one-line ``WriteError``: nothing written when it hits the frames, the merged
    frames kept when it hits the exports or the card.
    """
    bad = unknown_formats(formats)
    if bad:
        raise DatasetError(f"unknown format(s) {bad}; choose from {format_names()}")
    if not shards:
        raise DatasetError("no shard folders given")
    out = Path(out_dir)
    roots = [Path(s) for s in shards]
    if len({r.resolve() for r in roots}) != len(roots):
        raise DatasetError("the same shard folder is given twice")
    _check_output(out, roots)
    loaded = [_load_shard(r) for r in roots]
    check_class_tables([(s.root, s.coco["categories"]) for s in loaded])
    n_duplicates = _find_duplicates(loaded, dedupe)

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.merging-", dir=out.parent))
    except OSError as exc:
        raise DatasetError(f"{out}: cannot create the output folder ({exc.strerror or exc})") from None
    try:
        os.chmod(stage, dir_mode())  # mkdtemp makes 0700; the merged folder is an ordinary one
        n_frames, n_anns = _stage(loaded, stage, progress)
        if out.exists():
            out.rmdir()  # empty (checked above); rename needs the name free
        os.replace(stage, out)
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        raise write_error(out, exc, "nothing was written") from exc
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    result = MergeResult(
        out_dir=out, n_shards=len(loaded), n_frames=n_frames, n_annotations=n_anns, n_duplicates=n_duplicates
    )
    try:
        for fmt in formats:
            counts = export_format(out, fmt)
            if counts:  # formats the merged folder already is (coco) write nothing and are not listed
                result.exports[fmt] = counts
        if card:
            from simvision.dataset.card import write_card

            write_card(out)
    except OSError as exc:
        failed = exc if isinstance(exc, WriteError) else write_error(exc.filename or out, exc)
        note = f"the merged frames in {out} are complete; free space, remove {out} and merge again"
        raise WriteError(exc.errno, f"{failed}; {note}") from exc
    return result


def _check_output(out: Path, roots: list[Path]) -> None:
    """Refuse, in one line, an output that is a file, a non-empty folder, one of the shards, or below a file."""
    try:
        if out.is_file():
            raise DatasetError(f"{out}: output exists and is a file, not a folder")
        if out.exists() and any(out.iterdir()):
            raise DatasetError(f"{out}: output folder exists and is not empty")
        if any(out.resolve() == r.resolve() for r in roots):
            raise DatasetError(f"{out}: output folder is one of the shards")
        above = next((p for p in out.parents if p.exists()), None)
        if above is not None and not above.is_dir():
            raise DatasetError(f"{out}: cannot create the output folder, {above} is a file, not a folder")
    except OSError as exc:  # a name too long, a folder we may not list
        raise DatasetError(f"{out}: cannot create the output folder ({exc.strerror or exc})") from None
