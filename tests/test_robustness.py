"""Faults a render folder must survive, without Blender: a second job on the folder, a killed lock
holder. (The same faults against real renders: tests/test_sweeps.py.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simvision.io.lock import LOCK_NAME, LockedError, lock_folder

HOLD_LOCK = (
    "import sys, time; from simvision.io.lock import lock_folder; "
    "lock_folder(sys.argv[1]); print('held', flush=True); time.sleep(60)"
)


def _hold_lock(folder: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_a_locked_folder_refuses_a_second_holder_and_names_the_first(tmp_path: Path) -> None:
    holder = _hold_lock(tmp_path)
    try:
        with pytest.raises(LockedError) as caught:
            lock_folder(tmp_path)
        assert caught.value.holder == f"PID {holder.pid} on host {socket.gethostname()}"
    finally:
        holder.kill()
        holder.wait()


def test_a_sigkilled_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = _hold_lock(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (tmp_path / LOCK_NAME).exists()  # the file stays; the lock went with the process
    started = time.monotonic()
    with lock_folder(tmp_path):
        assert time.monotonic() - started < 1.0
        assert (tmp_path / LOCK_NAME).read_text().split()[0] == str(os.getpid())
    with lock_folder(tmp_path):  # released on exit, so this process can take it again
        pass
