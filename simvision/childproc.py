"""Helper processes of a render job (the writer, the physics worker): start, talk, die together.

The render process must not run Python threads (another thread running while Blender executes an
operator crashes the interpreter), so its side of a helper is two plain pipes used synchronously:
``send`` pickles in the caller, ``receive`` blocks or polls. The helper runs
``python -m <module> <recv_fd> <send_fd>``; it dies with its parent (Linux ``PR_SET_PDEATHSIG``)
and exits at once when the parent's pipe closes, so a killed job never leaves a helper behind.

Ctrl-C: a terminal sends SIGINT to the whole foreground process group, helpers included. Helpers
ignore it (they start with SIGINT blocked, so even their interpreter's start-up is safe) and the
render process, which defers it to the next frame boundary (:class:`InterruptRequest`), writes the
frames it has and closes them.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
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
        # the child inherits the blocked mask; a Ctrl-C meanwhile reaches this process on unblocking
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.proc = subprocess.Popen(cmd, pass_fds=(to_child_r, from_child_w), close_fds=True)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
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
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the render process decides when a helper stops
    die_with_parent()
    return Connection(args.recv_fd, writable=False), Connection(args.send_fd, readable=False)


class InterruptRequest:
    """Ctrl-C in the render process, deferred to the next frame boundary (a context manager).

    While active, the first SIGINT only sets :attr:`requested`: the loop finishes the frame in hand,
    writes it and stops. A second SIGINT raises ``KeyboardInterrupt`` at once. Raising on the first
    would land wherever Python happens to run, e.g. in Cycles' Python render callback, where Blender
    prints the exception, swallows it and renders on. Outside the main thread it does nothing
    (only the main thread may set signal handlers).
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> InterruptRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            self.install()
        return self

    def install(self) -> None:
        """(Re)install the handler: also after Blender starts, in case a Blender build sets its own."""
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        logging.getLogger("simvision").warning(
            "Ctrl-C: stopping after the frame being rendered (Ctrl-C again to stop at once)"
        )

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def picklable(exc: BaseException) -> BaseException:
    """The exception itself if it survives pickling, else a RuntimeError with its text."""
    import pickle  # noqa: PLC0415

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")
