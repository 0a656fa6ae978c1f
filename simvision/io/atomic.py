"""Atomic file writes: a crash or a bad input never leaves a half-written file behind.

Each helper writes to a temporary file in the destination folder (same filesystem), flushes and
fsyncs it, then ``os.replace``-s it over the target, which is atomic on POSIX and Windows.

Files get the mode an ordinary ``open`` would give them (``0o666 & ~umask``), not ``mkstemp``'s private
0600: datasets live on shared filesystems, and the umask is how their owner says who may read them.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "current_umask",
    "file_mode",
    "dir_mode",
    "WriteError",
    "write_error",
    "writing",
]

_UMASK_SWAP = threading.Lock()


def _umask_from_proc() -> int | None:
    """The umask as Linux reports it (``Umask:`` in ``/proc/self/status``, kernel 4.7+), else None."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


@functools.cache
def _umask_by_swap() -> int:
    """The umask read the only portable way, by setting it and putting it back: once per process, under a
    lock, and with 0o077 in place meanwhile, so a file another thread creates in that instant is private."""
    with _UMASK_SWAP:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux), else once per process."""
    mask = _umask_from_proc()
    return _umask_by_swap() if mask is None else mask


def file_mode() -> int:
    """Mode of a new dataset file: what ``open`` would give it under the current umask."""
    return 0o666 & ~current_umask()


def dir_mode() -> int:
    """Mode of a new dataset folder: what ``mkdir`` would give it under the current umask."""
    return 0o777 & ~current_umask()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, creating parent folders; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), file_mode())  # mkstemp makes 0600
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike[str], obj: Any, indent: int | None = None) -> Path:
    """Serialise ``obj`` as JSON (fails before touching the file) and write it atomically."""
    text = json.dumps(obj, indent=indent, ensure_ascii=False, allow_nan=False)
    return atomic_write_text(path, text + "\n")


class WriteError(OSError):
    """A file could not be written (disk full, no permission, a file in the way); ``str`` is one line naming
    it. An ``OSError`` with the original ``errno``, so handlers that sort failures by errno keep working."""

    def __str__(self) -> str:
        return str(self.strerror)


def write_error(path: str | os.PathLike[str], exc: OSError, note: str = "") -> WriteError:
    """``exc`` as a one-line ``WriteError``: ``cannot write PATH: disk full (...)[; note]``."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        reason = f"disk full ({reason})"
    return WriteError(exc.errno, f"cannot write {path}: {reason}" + (f"; {note}" if note else ""))


@contextlib.contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an ``OSError`` raised inside the block into a ``WriteError`` naming ``path`` (kept as is if it
    already is one)."""
    try:
        yield
    except WriteError:
        raise
    except OSError as exc:
        raise write_error(path, exc) from exc
