"""Crash safety and resume for one shard folder.

A frame is finished when its line is in ``metadata/frames.jsonl`` (the shard's manifest) and
every file that line lists exists with the recorded SHA-256. Files are written atomically
(temp + rename) before the line is appended, so a job killed mid-frame leaves at most hidden
``.*.tmp`` files and a torn last line, both of which :func:`recover` removes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from simvision.io.atomic import atomic_write_text
from simvision.io.folder import FRAMES_PATH, DatasetError, frame_stem, path_inside
from simvision.io.frames import read_metadata, sha256

IGNORED_KEYS = {"output_dir"}  # may differ between runs of the same dataset


def config_fingerprint(cfg: Any) -> dict[str, Any]:
    """The resolved config minus keys that may legitimately change between resumed runs."""
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    return {k: v for k, v in container.items() if k not in IGNORED_KEYS}


def first_difference(a: Any, b: Any, prefix: str = "") -> str | None:
    """Dotted path of the first place two nested configs differ, None if equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            diff = first_difference(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key))
            if diff:
                return diff
        return None
    return None if a == b else (prefix or "<root>")


def check_same_config(out: Path, cfg: Any) -> None:
    """Refuse to mix frames of two different configs in one folder."""
    from simvision.config import ConfigError  # noqa: PLC0415

    stored_path = out / "config.json"
    if not stored_path.exists():
        return
    stored = json.loads(stored_path.read_text())
    diff = first_difference(stored, config_fingerprint(cfg))
    if diff:
        raise ConfigError(
            f"output_dir: {out} already holds frames rendered with a different config ({diff} differs); "
            "use another output_dir, or the same config to resume"
        )


def write_config(out: Path, cfg: Any) -> None:
    atomic_write_text(out / "config.json", json.dumps(config_fingerprint(cfg), indent=2, sort_keys=True) + "\n")
    atomic_write_text(out / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))


def frame_is_intact(out: Path, record: dict[str, Any]) -> bool:
    """Every file the manifest line lists exists with its checksum (``DatasetError`` if one lies outside ``out``)."""
    checksums = record.get("checksums", {})
    for kind, rel in record.get("files", {}).items():
        path = path_inside(out, rel, f"{out / FRAMES_PATH}: frame {record.get('frame_id')} files.{kind}")
        if not path.is_file() or kind not in checksums or sha256(path.read_bytes()) != checksums[kind]:
            return False
    sidecar = out / "annotations" / "frames" / f"{frame_stem(record['frame_id'])}.json"
    return sidecar.is_file()


def recover(out: Path) -> dict[int, dict[str, Any]]:
    """Finished frames of an interrupted shard (frame_id -> metadata record); cleans up the rest.

    Removes stale temp files, drops manifest lines whose files are missing or corrupt (and the
    torn last line of a killed job), and rewrites the manifest atomically. A line naming a file outside
    ``out`` stops the job (``ConfigError``): that file is never read and the manifest is left as it is.
    """
    from simvision.config import ConfigError  # noqa: PLC0415

    for tmp in out.rglob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    manifest = out / FRAMES_PATH
    records = read_metadata(manifest)
    try:
        finished = {int(r["frame_id"]): r for r in records if frame_is_intact(out, r)}
    except DatasetError as exc:
        raise ConfigError(f"output_dir: {exc}; use another output_dir") from None
    if manifest.exists():
        text = "".join(json.dumps(finished[k], allow_nan=False) + "\n" for k in sorted(finished))
        atomic_write_text(manifest, text)
    return finished
