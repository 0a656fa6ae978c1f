"""Crash safety and resume for one shard folder.

A frame is finished when its line is in ``metadata/frames.jsonl`` (the shard's manifest), the line's
seal holds (``line_sha256``), every file the line lists exists with the recorded SHA-256 and the
frame's COCO sidecar has the recorded labels checksum. Files are written atomically (temp + rename)
before the line is appended, so a job killed mid-frame leaves at most hidden ``.*.tmp`` files and a
torn last line, both of which :func:`recover` removes; an edited line, file or label makes the frame
unfinished, so the rerun renders it again and rebuilds ``instances.json`` from clean sidecars.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from simvision.config.checks import ConfigError
from simvision.io.atomic import atomic_write_text
from simvision.io.folder import FRAMES_PATH, DatasetError, frame_labels_path, path_inside
from simvision.io.frames import json_sha256, labels_sha256, read_metadata, seal_holds, sha256
from simvision.scene.base import scene_type_of

log = logging.getLogger("simvision")

IGNORED_KEYS = {"output_dir"}  # may differ between runs of the same dataset


def config_fingerprint(cfg: Any) -> dict[str, Any]:
    """The resolved config minus keys that may legitimately change between resumed runs."""
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    fingerprint = {k: v for k, v in container.items() if k not in IGNORED_KEYS}
    _drop_later_fields(fingerprint.get("scene"))
    return fingerprint


def _drop_later_fields(scene: Any) -> None:
    """Leave out of the identity the scene type's fields added after release while they are off
    (``SceneType.later_fields``): a folder rendered before them keeps its fingerprint."""
    if not isinstance(scene, dict) or not scene.get("_target_"):
        return
    try:
        later = scene_type_of(scene).later_fields
    except ConfigError:  # the job's validation names a bad _target_
        return
    for dotted, off in later.items():
        *parents, leaf = dotted.split(".")
        node: Any = scene
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and leaf in node and (off(node[leaf], scene) if callable(off) else node[leaf] == off):
            del node[leaf]


def first_difference(a: Any, b: Any, prefix: str = "") -> str | None:
    """Dotted path of the first place two nested configs differ, None if equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            diff = first_difference(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key))
            if diff:
                return diff
        return None
    return None if a == b else (prefix or "<root>")


def config_sha256(cfg: Any) -> str:
    """The config fingerprint each manifest line carries (sealed with the line)."""
    return json_sha256(config_fingerprint(cfg))


def check_same_config(out: Path, cfg: Any) -> None:
    """Refuse to mix frames of two different configs in one folder.

    The folder's identity does not hang on one file: each frame's manifest line carries the
    fingerprint of the config that rendered it, and ``config.json`` (the readable copy) names the
    field that differs. A folder with no finished frame takes any config, so a run that failed
    before its first frame (a missing GPU, a bad asset) does not lock its folder to its mistake.
    """
    records = [r for r in read_metadata(out / FRAMES_PATH) if isinstance(r, dict)]
    if not records:
        return
    fingerprint = config_fingerprint(cfg)
    stored, problem = _stored_config(out)
    if stored is not None:
        diff = first_difference(stored, fingerprint)
        if diff:
            raise _different_config(out, f"{diff} differs")
    proven = [r.get("config_sha256") for r in records if seal_holds(r)]
    if any(digest != json_sha256(fingerprint) for digest in proven):
        why = f"config.json {problem}" if problem else "config.json does not match its frames"
        raise _different_config(out, f"the config fingerprint in {FRAMES_PATH} differs; {why}")
    if stored is None and not proven:
        raise ConfigError(
            f"output_dir: {out / 'config.json'} {problem} and no intact line of {FRAMES_PATH} names the "
            "config of its frames; restore config.json or use another output_dir"
        )
    if problem:
        log.warning("output_dir: config.json %s; its frames' fingerprints match this config, rewriting it", problem)


def _stored_config(out: Path) -> tuple[dict[str, Any] | None, str | None]:
    """config.json, or None and what is wrong with it."""
    try:
        stored = json.loads((out / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "is missing"
    except OSError as exc:
        return None, f"is unreadable ({exc.strerror or exc})"
    except ValueError as exc:
        return None, f"is corrupt ({exc})"
    if not isinstance(stored, dict):
        return None, "is corrupt (not a JSON object)"
    return stored, None


def _different_config(out: Path, what: str) -> ConfigError:
    return ConfigError(
        f"output_dir: {out} already holds frames rendered with a different config ({what}); "
        "use another output_dir, or the same config to resume"
    )


def write_config(out: Path, cfg: Any) -> None:
    atomic_write_text(out / "config.json", json.dumps(config_fingerprint(cfg), indent=2, sort_keys=True) + "\n")
    atomic_write_text(out / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))


def frame_is_intact(out: Path, record: dict[str, Any]) -> bool:
    """Every file the manifest line lists exists with its checksum, and neither the line nor the frame's
    labels were edited (``DatasetError`` if a file lies outside ``out``)."""
    files = {  # a path out of the folder stops the job, even on an edited line: never read
        kind: path_inside(out, rel, f"{out / FRAMES_PATH}: frame {record.get('frame_id')} files.{kind}")
        for kind, rel in record.get("files", {}).items()
    }
    if not seal_holds(record):  # edited, or written before lines were sealed
        return False
    checksums = record.get("checksums", {})
    for kind, path in files.items():
        if not path.is_file() or kind not in checksums or sha256(path.read_bytes()) != checksums[kind]:
            return False
    try:
        part = json.loads(frame_labels_path(out, record["frame_id"]).read_text(encoding="utf-8"))
        return labels_sha256(part["image"], part["annotations"]) == checksums.get("labels")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # missing or not a sidecar
        return False


def recover(out: Path) -> dict[int, dict[str, Any]]:
    """Finished frames of an interrupted shard (frame_id -> metadata record); cleans up the rest.

    Removes stale temp files, drops manifest lines whose files are missing or corrupt or whose line
    or labels were edited (and the torn last line of a killed job), and rewrites the manifest
    atomically. A line naming a file outside ``out`` stops the job (``ConfigError``): that file is
    never read and the manifest is left as it is.
    """

    for tmp in out.rglob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    manifest = out / FRAMES_PATH
    records = [r for r in read_metadata(manifest) if isinstance(r, dict) and "frame_id" in r]
    try:
        finished = {int(r["frame_id"]): r for r in records if frame_is_intact(out, r)}
    except DatasetError as exc:
        raise ConfigError(f"output_dir: {exc}; use another output_dir") from None
    if manifest.exists():
        text = "".join(json.dumps(finished[k], allow_nan=False) + "\n" for k in sorted(finished))
        atomic_write_text(manifest, text)
    return finished
