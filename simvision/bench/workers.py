"""Worker scaling: aggregate frames/s of N local workers through the real Hydra joblib launcher.

    python -m simvision.bench.workers [--frames 16] [--splits 1x2 1x1 2x1 2x2] [--json out.json]
        [hydra overrides ...]

A split ``NxT`` runs ``simvision-render -m hydra/launcher=local hydra.launcher.n_jobs=N
shard.count=N render.threads=T`` over the same ``--frames`` (so every split renders the same
frames). Aggregate throughput is the frames of all shards over the span from the first shard's
first frame to the last shard's last frame (from each shard's ``throughput.json``), so Blender's
start-up is left out the same way for every split; the whole command's wall clock is reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def parse_split(text: str) -> tuple[int, int]:
    """'2x1' -> (2 workers, 1 thread each)."""
    try:
        workers, threads = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected WORKERSxTHREADS, e.g. 2x1, got {text!r}") from exc
    if workers < 1 or threads < 1:
        raise argparse.ArgumentTypeError(f"workers and threads must be >= 1, got {text!r}")
    return workers, threads


def run_split(workers: int, threads: int, frames: int, overrides: list[str], work: Path) -> dict[str, Any]:
    """One multirun with ``workers`` joblib processes of ``threads`` render threads each."""
    root = work / f"w{workers}_t{threads}"
    cmd = [
        sys.executable,
        "-m",
        "simvision.cli.render",
        "-m",
        "hydra/launcher=local",
        f"hydra.launcher.n_jobs={workers}",
        f"shard.count={workers}",
        f"shard.index=range(0,{workers})",
        f"num_frames={frames}",
        f"render.threads={threads}",
        "output.card=false",
        f"output_dir={root}/shard_${{shard.index}}",
        f"hydra.sweep.dir={root}/hydra",
        *overrides,
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=work, env={**os.environ, "HYDRA_FULL_ERROR": "1"})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"split {workers}x{threads} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    shards = [json.loads((root / f"shard_{i}" / "throughput.json").read_text()) for i in range(workers)]
    total = sum(s["frames"] for s in shards)
    span = max(s["loop_ended_at"] for s in shards) - min(s["loop_started_at"] for s in shards)
    return {
        "workers": workers,
        "threads": threads,
        "frames": total,
        "aggregate_fps": total / span,
        "span_seconds": span,
        "command_seconds": wall,
        "command_fps": total / wall,
        "shard_fps": [s["loop_frames_per_second"] for s in shards],
    }


def format_table(rows: list[dict[str, Any]]) -> str:
    one = next((r for r in rows if r["workers"] == 1 and r["threads"] == max(x["threads"] for x in rows)), rows[0])
    lines = [
        "| workers x threads | frames | aggregate frames/s | vs "
        f"{one['workers']}x{one['threads']} | per-worker frames/s | whole command s (incl. start-up) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        per = ", ".join(f"{v:.3f}" for v in r["shard_fps"])
        lines.append(
            f"| {r['workers']}x{r['threads']} | {r['frames']} | {r['aggregate_fps']:.3f} | "
            f"{r['aggregate_fps'] / one['aggregate_fps']:.2f}x | {per} | {r['command_seconds']:.1f} |"
        )
    best = max(rows, key=lambda r: r["aggregate_fps"])
    lines += ["", f"fastest split: {best['workers']} worker(s) x {best['threads']} thread(s)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="aggregate frames/s of N joblib workers x T render threads")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--splits", nargs="+", type=parse_split, default=[(1, 2), (1, 1), (2, 1), (2, 2)])
    parser.add_argument("--json", type=Path, help="write all numbers here")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every run, e.g. render.samples=16")
    args = parser.parse_args(argv)
    from tqdm import tqdm  # noqa: PLC0415

    from simvision.bench.throughput import report  # noqa: PLC0415

    rows = []
    with tempfile.TemporaryDirectory(prefix="simvision-workers-") as tmp:
        for workers, threads in tqdm(args.splits, desc="splits", unit="split"):
            rows.append(run_split(workers, threads, args.frames, args.overrides, Path(tmp)))
    report(format_table(rows), rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
