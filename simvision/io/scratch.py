"""Per-process scratch folders that do not outlive their process, or not for long.

Blender's render scratch (``/tmp/simvision-<pid>-*``) and the physics worker's hand-off folder
(``/dev/shm/simvision-physics-<pid>-*``) are removed when their process exits normally. A killed
process cannot clean up, so each folder holds a lock (:mod:`simvision.io.lock`) for its owner's
lifetime, and every new one first sweeps the folders of its kind whose lock is free: their owner
is dead. Unlike a PID check, a lock cannot be fooled by a reused PID or by a process in another
PID namespace that shares ``/tmp``.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from simvision.io.lock import FileLock, try_lock

__all__ = ["OWNER_LOCK", "process_scratch", "remove_scratch", "sweep_stale"]

OWNER_LOCK = ".owner.lock"
UNLOCKED_GRACE_S = 60.0  # a folder without its lock (a legacy one, or one being created) is left this long
_owned: dict[Path, FileLock] = {}


def process_scratch(prefix: str, parent: str | os.PathLike[str] | None = None) -> Path:
    """A new folder ``<parent>/<prefix>-<pid>-XXXXXXXX`` (parent: the temp folder), removed when this
    process exits; stale folders of the same prefix are swept first."""
    root = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    sweep_stale(root, prefix)
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}-{os.getpid()}-", dir=root))
    lock = try_lock(path / OWNER_LOCK)
    assert lock is not None  # a folder nobody else knows yet
    _owned[path] = lock
    atexit.register(remove_scratch, path)
    return path


def remove_scratch(path: Path) -> None:
    """Remove a folder made by :func:`process_scratch` (idempotent)."""
    shutil.rmtree(path, ignore_errors=True)
    lock = _owned.pop(path, None)
    if lock is not None:
        lock.release()


def sweep_stale(parent: str | os.PathLike[str], prefix: str) -> list[Path]:
    """Remove this user's ``<prefix>-<pid>-*`` folders in ``parent`` whose owner is dead: their lock is
    free, or (no lock file: made before these locks, or killed while being made) their PID is gone
    and they are older than a minute. Returns the folders removed."""
    pattern = re.compile(rf"{re.escape(prefix)}-(\d+)-.+")
    removed = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        try:
            if match is None or entry.is_symlink() or not entry.is_dir() or entry.stat().st_uid != os.getuid():
                continue
            if (entry / OWNER_LOCK).exists():
                lock = try_lock(entry / OWNER_LOCK)
                if lock is None:
                    continue  # its owner is alive
                with lock:
                    shutil.rmtree(entry, ignore_errors=True)
            elif not _alive(int(match.group(1))) and time.time() - entry.stat().st_mtime > UNLOCKED_GRACE_S:
                shutil.rmtree(entry, ignore_errors=True)
            else:
                continue
        except OSError:
            continue
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
