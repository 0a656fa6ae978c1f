"""Polish a rendered simvision dataset folder (layout: docs/dataset_format.md), in place or into a copy.

For every frame: the raw render is kept under ``images_raw/`` (hard link, so free), the polished image
replaces ``images/<frame>.png`` atomically when it is kept, and ``metadata/frames.jsonl`` is rewritten
atomically with a ``polish`` entry per frame (score, per-object scores, accepted, applied, model, seed,
strength, ...). Labels (COCO, masks, depth) are never touched: they stay exact because pixels outside
the mask are unchanged and frames whose objects moved are rejected (raw image kept) or flagged.

Re-running is safe and idempotent: polishing always starts from ``images_raw/`` when it exists, so a
second run (or a run after a crash) never polishes an already polished image. A copy into ``out_dir``
hard-links the source's files, and every write replaces a link with a new file, so the source folder
is never modified.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from simvision.io.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
from simvision.io.folder import FRAMES_PATH, DatasetError, frame_files, link_or_copy, load_frames, path_inside
from simvision.io.frames import seal, seal_holds, sha256
from simvision.polish.config import PolishConfig, PolishConfigError, validate_polish_config

__all__ = ["RAW_DIR", "SUMMARY_PATH", "PolishSummary", "polish_dataset", "polish_rendered_frame", "copy_dataset"]

RAW_DIR = "images_raw"
SUMMARY_PATH = Path("metadata/polish.json")


@dataclass
class PolishSummary:
    root: str
    frames: int = 0
    accepted: int = 0
    rejected: int = 0  # failed the check, raw image kept (action=reject)
    flagged: int = 0  # failed the check, polished image kept and marked (action=flag)
    scores: list[float | None] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        scored = [s for s in self.scores if s is not None]
        out = asdict(self)
        out.pop("scores")
        out["mean_score"] = round(float(np.mean(scored)), 4) if scored else None
        out["min_score"] = round(float(np.min(scored)), 4) if scored else None
        return out

    def line(self) -> str:
        d = self.to_dict()
        return (
            f"{self.frames} frames polished in {self.root}: {self.accepted} accepted, {self.rejected} rejected, "
            f"{self.flagged} flagged; score mean {d['mean_score']}, min {d['min_score']}"
        )


def copy_dataset(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Path:
    """Hard-link (or copy) every file of ``src`` into ``dst``, keeping the layout; returns ``dst``."""
    s, d = Path(src).resolve(), Path(dst).resolve()
    if d == s or s in d.parents:
        raise DatasetError(f"{dst}: the output folder must not be the dataset itself or inside it")
    files = [p for p in sorted(s.rglob("*")) if p.is_file() and not p.name.startswith(".")]
    for path in files:  # all checked before the first copy: a symlink out of the dataset copies nothing
        path_inside(s, path.relative_to(s), str(s))
    for path in files:
        link_or_copy(path, d / path.relative_to(s))
    return d


def _read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise DatasetError(f"{path}: cannot read the image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _read_map(path: Path | None) -> np.ndarray | None:
    if path is None or not path.is_file():
        return None
    if path.suffix == ".npy":
        return np.load(path)
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DatasetError(f"{path}: cannot read the map")
    return image


def _png(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError("PNG encoding failed")
    return buf.tobytes()


def _raw_path(root: Path, rgb_path: Path, frame_id: int) -> Path:
    """``images_raw/`` + the image's path below ``images/``; refused when it would land outside ``root``."""
    rel = rgb_path.relative_to(root)
    parts = rel.parts[1:] if rel.parts and rel.parts[0] == "images" else rel.parts
    return path_inside(root, Path(RAW_DIR, *parts), f"{root / FRAMES_PATH}: frame {frame_id} raw image")


def _frame_paths(root: Path, frame: dict[str, Any]) -> tuple[dict[str, Path], Path]:
    """A frame's files and where its raw image goes, all inside ``root``."""
    files = frame_files(root, frame)
    return files, _raw_path(root, files["rgb"], int(frame["frame_id"]))


def polish_rendered_frame(
    polisher: Any,
    out_dir: str | os.PathLike[str],
    frame_id: int,
    rgb: np.ndarray,
    instance: np.ndarray,
    depth: np.ndarray | None = None,
    semantic: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The render loop's hook for ``polish.mode=image``: polish one freshly rendered frame.

    Writes the raw render to ``images_raw/<frame>.png`` (atomically) and returns ``(rgb, record)``: the
    image to write as ``images/<frame>.png`` (polished, or raw when rejected) and the frame's ``polish``
    metadata entry. The seed is :func:`~simvision.polish.models.frame_seed` ``(cfg.seed, frame_id)``,
    the same as :func:`polish_dataset` uses, so polishing during or after the render gives equal images.
    """
    from simvision.polish.models import frame_seed

    raw_rel = f"{RAW_DIR}/{int(frame_id):06d}.png"
    atomic_write_bytes(Path(out_dir) / raw_rel, _png(np.asarray(rgb)[..., :3].astype(np.uint8)))
    result = polisher.polish_frame(rgb, instance, depth, semantic, seed=frame_seed(polisher.cfg.seed, frame_id))
    return result.image, {**result.record(), "raw_file": raw_rel}


def polish_dataset(
    dataset: str | os.PathLike[str],
    cfg: PolishConfig,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    polisher: Any = None,
    frame_ids: list[int] | None = None,
    progress: bool = False,
) -> PolishSummary:
    """Image-polish every frame (or ``frame_ids``) of ``dataset``; in place unless ``out_dir`` is given.

    ``polisher`` injects an :class:`~simvision.polish.image.ImagePolisher` (tests use a tiny pipeline);
    by default one is built from ``cfg``. Frame ``i`` is polished with seed
    :func:`~simvision.polish.models.frame_seed` ``(cfg.seed, i)``.
    """
    validate_polish_config(cfg)
    if cfg.mode != "image":
        raise PolishConfigError(
            f"polish.mode={cfg.mode!r}: a rendered dataset can only be image-polished (mode=image); "
            "texture polishing happens before render (simvision-render polish=textures)"
        )
    src = Path(dataset)
    load_frames(src)  # fail early, with the file and line, on a malformed dataset
    root = copy_dataset(src, out_dir) if out_dir is not None else src
    frames = load_frames(root)
    wanted = None if frame_ids is None else {int(i) for i in frame_ids}

    from simvision.polish.models import frame_seed

    todo = [f for f in frames if wanted is None or int(f["frame_id"]) in wanted]
    # every frame's paths are checked (inside the dataset) before the model loads or any file is written
    plan = [(frame, *_frame_paths(root, frame)) for frame in todo]
    if polisher is None:
        from simvision.polish.image import ImagePolisher

        polisher = ImagePolisher(cfg)
    summary = PolishSummary(root=str(root))
    iterator: Any = plan
    if progress:
        from tqdm import tqdm

        iterator = tqdm(plan, desc="polish", unit="frame")
    for frame, files, raw_path in iterator:
        fid = int(frame["frame_id"])
        rgb_path = files["rgb"]
        if not raw_path.is_file():
            if not rgb_path.is_file():
                raise DatasetError(f"{rgb_path}: frame {fid} has no image")
            link_or_copy(rgb_path, raw_path)
        instance = _read_map(files.get("instance"))
        if instance is None:
            raise DatasetError(
                f"{root}: frame {fid} has no instance map; image polishing needs it (render with "
                "output.write_instance=true)"
            )
        result = polisher.polish_frame(
            _read_rgb(raw_path),
            instance,
            _read_map(files.get("depth")),
            _read_map(files.get("semantic")),
            seed=frame_seed(cfg.seed, fid),
        )
        # rejected: the raw render (and its exact labels) stays
        data = _png(result.image) if result.applied else raw_path.read_bytes()
        atomic_write_bytes(rgb_path, data)
        sealed = seal_holds(frame)  # a rendered frame's line: its checksums follow the new image
        frame["polish"] = {**result.record(), "raw_file": raw_path.relative_to(root).as_posix()}
        if sealed:
            frame["checksums"]["rgb"] = sha256(data)
            frame.update(seal(frame))
        summary.frames += 1
        summary.scores.append(result.consistency.score)
        if result.accepted:
            summary.accepted += 1
        elif result.applied:
            summary.flagged += 1
        else:
            summary.rejected += 1

    text = "".join(json.dumps(f, allow_nan=False) + "\n" for f in frames)
    atomic_write_text(root / FRAMES_PATH, text)
    atomic_write_json(
        root / SUMMARY_PATH,
        {**summary.to_dict(), "config": asdict(cfg), "model_id": getattr(polisher, "model_id", None)},
        indent=2,
    )
    return summary
