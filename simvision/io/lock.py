"""Exclusive advisory locks (``fcntl.flock``) that the kernel releases when their process dies.

A render job holds :func:`lock_folder` on its output folder for its whole run, so a second job on the
same folder stops at once instead of interleaving manifest lines; a killed job (even ``kill -9``)
never leaves a stale lock, because the lock belongs to the open file, not to the file's existence.
The lock file stays in place after release: unlinking it would let a third process lock a fresh
inode while a second one still waits on the old one. The holder writes ``<pid> <host>`` into it so
the refused job can name it. NFS and other limits: docs/dataset_format.md ("Concurrent jobs").
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path

__all__ = ["LOCK_NAME", "FileLock", "LockedError", "lock_folder", "try_lock"]

LOCK_NAME = ".simvision.lock"


class LockedError(RuntimeError):
    """Another process holds the lock; ``holder`` names it (``PID 123 on host node7``)."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is locked by {holder}")
        self.path = path
        self.holder = holder


class FileLock:
    """An open file holding ``flock(LOCK_EX)``; :meth:`release` (or process death) frees it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor of the open file drops the lock
            self._fd = None

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def try_lock(path: str | os.PathLike[str]) -> FileLock | None:
    """Lock ``path`` (created if missing) without waiting; None if another process holds it."""
    target = Path(path)
    fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by helper processes (PEP 446)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return FileLock(target, fd)


def lock_folder(folder: str | os.PathLike[str]) -> FileLock:
    """Hold ``<folder>/.simvision.lock`` and record this process in it; raise :class:`LockedError`
    naming the holder's PID and host if another process has it."""
    path = Path(folder) / LOCK_NAME
    lock = try_lock(path)
    if lock is None:
        raise LockedError(path, _holder(path))
    assert lock._fd is not None
    os.ftruncate(lock._fd, 0)
    os.pwrite(lock._fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
    return lock


def _holder(path: Path, tries: int = 20) -> str:
    """``PID <pid> on host <host>`` from the lock file; the holder writes it just after locking, so
    a reader that comes in between retries for a moment."""
    for _ in range(tries):
        try:
            pid, host = path.read_text(encoding="utf-8").split()
            return f"PID {int(pid)} on host {host}"
        except (OSError, ValueError):
            time.sleep(0.01)
    return "another process (it has not written its PID yet)"
