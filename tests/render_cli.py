"""Run ``simvision-render`` as a user does (a child process) for the tests that expect it to stop early."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def render_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m simvision.cli.render ARGS`` in ``cwd``; stdout and stderr captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "simvision.cli.render", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def error_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines of stderr that say "error"."""
    return [line for line in proc.stderr.splitlines() if "error" in line]
