"""Memory of a render job seen from outside: RSS and peak RSS of the job and each helper process.

The job runs as ``python -m simvision.cli.render`` in a subprocess; its writer and physics worker are
its children. Sampling from outside sees every process (patching the frame writer in this process
sees none since the writer moved to its own process) and counts finished frames from the manifest
(``metadata/frames.jsonl``), exactly what a user's job would have written.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

MIB = 2**20
# helper processes by the module they run (simvision.childproc starts them as ``python -m <module>``)
ROLES = {"simvision.dataset.shard_writer": "writer", "simvision.render.physics_worker": "physics"}


@dataclass
class Sample:
    seconds: float  # since the job started
    frames: int  # manifest lines written so far
    rss_mib: dict[str, float]  # role -> resident set size
    peak_mib: dict[str, float]  # role -> high-water mark of the resident set (VmHWM) so far


@dataclass
class JobRun:
    """What :func:`watch_job` saw: the samples, the exit code and the job's last stderr lines."""

    returncode: int
    samples: list[Sample] = field(default_factory=list)
    stderr_tail: str = ""

    def peak_mib(self) -> dict[str, float]:
        """Each role's largest high-water mark (VmHWM only grows, so the last reading is the peak)."""
        peaks: dict[str, float] = {}
        for sample in self.samples:
            for role, value in sample.peak_mib.items():
                peaks[role] = max(peaks.get(role, 0.0), value)
        return peaks


def role_of(proc: psutil.Process, main_pid: int) -> str:
    if proc.pid == main_pid:
        return "main"
    try:
        cmdline = proc.cmdline()
    except psutil.Error:
        return "helper"
    return next((role for module, role in ROLES.items() if module in cmdline), "helper")


def _peak_rss(pid: int) -> float:
    """VmHWM of a process in MiB (Linux); 0 where /proc has no such line."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / MIB
    except OSError:
        pass
    return 0.0


def count_frames(out: Path) -> int:
    manifest = out / "metadata" / "frames.jsonl"
    try:
        with manifest.open("rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def sample_tree(main: psutil.Process) -> tuple[dict[str, float], dict[str, float]]:
    """RSS and peak RSS (MiB) per role of the job and its helpers (children, recursively)."""
    rss: dict[str, float] = {}
    peak: dict[str, float] = {}
    try:
        procs = [main, *main.children(recursive=True)]
    except psutil.Error:
        return rss, peak
    for proc in procs:
        try:
            role = role_of(proc, main.pid)
            rss[role] = rss.get(role, 0.0) + proc.memory_info().rss / MIB
            peak[role] = peak.get(role, 0.0) + _peak_rss(proc.pid)
        except psutil.Error:
            continue
    return rss, peak


def watch_job(overrides: Sequence[str], out: Path, interval: float = 1.0, log: Path | None = None) -> JobRun:
    """Run ``simvision-render output_dir=<out> <overrides>`` and sample it every ``interval`` seconds."""
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "simvision.cli.render",
        f"output_dir={out}",
        f"hydra.run.dir={out.parent / (out.name + '.hydra')}",
    ]
    stderr_path = log or out.parent / f"{out.name}.stderr.log"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen([*cmd, *overrides], stdout=subprocess.DEVNULL, stderr=stderr, cwd=out.parent)
        main = psutil.Process(proc.pid)
        run = JobRun(returncode=0)
        started = time.perf_counter()
        while proc.poll() is None:
            rss, peak = sample_tree(main)
            if rss:
                run.samples.append(Sample(time.perf_counter() - started, count_frames(out), rss, peak))
            time.sleep(interval)
    run.returncode = proc.returncode
    run.stderr_tail = "\n".join(stderr_path.read_text().splitlines()[-5:])
    return run


def growth_per_frame(samples: Sequence[Sample], role: str, from_frame: int) -> float:
    """Least-squares slope of ``role``'s RSS against frames written (MiB/frame), from ``from_frame`` on."""
    points = [(s.frames, s.rss_mib[role]) for s in samples if s.frames >= from_frame and role in s.rss_mib]
    frames = np.array([p[0] for p in points], dtype=np.float64)
    if len(points) < 2 or np.ptp(frames) == 0:
        return float("nan")
    return float(np.polyfit(frames, [p[1] for p in points], 1)[0])


def at_frame(samples: Sequence[Sample], frame: int) -> Sample | None:
    """The first sample taken once ``frame`` frames were written."""
    return next((s for s in samples if s.frames >= frame), None)
