"""Helper processes of a render job (the writer, the physics worker): start, talk, die together.

The render process must not run Python threads (another thread running while Blender executes an
operator crashes the interpreter), so its side of a helper is two plain pipes used synchronously:
``send`` pickles in the caller, ``receive`` blocks or polls. The helper runs
``python -m <module> <recv_fd> <send_fd>``; it dies with its parent (Linux ``PR_SET_PDEATHSIG``)
and exits at once when the parent's pipe closes, so a killed job never leaves a helper behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from multiprocessing.connection import Connection
from typing import Any


class HelperProcessError(RuntimeError):
    """A helper process died or did not answer."""


class HelperProcess:
    """The parent's handle on one helper: ``send`` / ``receive`` with death detection."""

    def __init__(self, module: str, name: str) -> None:
        self.name = name
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        cmd = [sys.executable, "-m", module, str(to_child_r), str(from_child_w)]
        self.proc = subprocess.Popen(cmd, pass_fds=(to_child_r, from_child_w), close_fds=True)
        os.close(to_child_r)
        os.close(from_child_w)
        self._send_conn = Connection(to_child_w, readable=False)
        self._recv_conn = Connection(from_child_r, writable=False)

    def died(self) -> HelperProcessError:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        return HelperProcessError(f"the {self.name} stopped unexpectedly (exit code {self.proc.returncode})")

    def send(self, message: Any) -> None:
        try:
            self._send_conn.send(message)
        except OSError as exc:  # BrokenPipeError included
            raise self.died() from exc

    def receive(self, timeout: float | None = None) -> Any:
        """The next message; None if none arrived within ``timeout`` seconds (None: wait)."""
        if timeout is not None and not self._recv_conn.poll(timeout):
            return None
        try:
            return self._recv_conn.recv()
        except (EOFError, OSError) as exc:
            raise self.died() from exc

    def close(self, timeout: float = 30.0) -> None:
        for conn in (self._send_conn, self._recv_conn):
            with contextlib.suppress(OSError):
                conn.close()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def die_with_parent() -> None:
    """Linux: receive SIGKILL when the parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def helper_connections(argv: list[str] | None = None) -> tuple[Connection, Connection]:
    """In a helper: (receive-from-parent, send-to-parent) from ``<recv_fd> <send_fd>`` on the command line."""
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(description="a simvision helper process (started by simvision-render)")
    parser.add_argument("recv_fd", type=int)
    parser.add_argument("send_fd", type=int)
    args = parser.parse_args(argv)
    die_with_parent()
    return Connection(args.recv_fd, writable=False), Connection(args.send_fd, readable=False)


def picklable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling, else a RuntimeError with its text."""
    import pickle  # noqa: PLC0415

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")
