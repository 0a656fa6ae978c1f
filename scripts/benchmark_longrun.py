"""Does a long render stay flat? RSS of the job and each helper process, and the time per frame.

    uv run python scripts/benchmark_longrun.py [--frames 1000] [--resolution 160x120] [--samples 8]
        [--every 100] [--json out.json] [hydra overrides ...]

Runs ``simvision-render`` as a subprocess and samples, every second from outside, the RSS of the
job (main) and of each helper (writer, physics worker) and the frames written (lines of
``metadata/frames.jsonl``). Prints RSS at frame marks, seconds per frame between marks, and the
growth per frame over the second half (least-squares slope of RSS against frames, MiB/frame).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict
from pathlib import Path

from simvision.bench.rss import at_frame, growth_per_frame, watch_job


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--resolution", default="160x120")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--every", type=int, default=100, help="print a row every this many frames")
    parser.add_argument("--json", type=Path, help="also write every sample here")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.resolution.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="sv-longrun-") as tmp:
        run = watch_job(
            [
                f"num_frames={args.frames}",
                f"render.resolution=[{width},{height}]",
                f"render.samples={args.samples}",
                "output.card=false",
                *args.overrides,
            ],
            Path(tmp) / "ds",
        )
    if run.returncode != 0:
        raise SystemExit(f"the job failed ({run.returncode}):\n{run.stderr_tail}")
    samples = run.samples
    roles = sorted({r for s in samples for r in s.rss_mib}, key=lambda r: (r != "main", r))
    print(f"{'frame':>6} {'time s':>7} " + " ".join(f"{r + ' MiB':>11}" for r in roles) + f" {'s/frame':>8}")
    marks = sorted({10, *range(args.every, args.frames, args.every), args.frames})
    complete = [s for s in samples if set(roles) <= set(s.rss_mib)]  # every process still running
    previous = at_frame(complete, 1)  # s/frame from the first frame on: Blender's start-up left out
    for mark in marks:
        sample = at_frame(complete, mark) or complete[-1]  # the job may end within a second of its last frame
        if previous is None or sample.frames <= previous.frames:
            continue
        spf = (sample.seconds - previous.seconds) / (sample.frames - previous.frames)
        rss = " ".join(f"{sample.rss_mib.get(r, float('nan')):>11.0f}" for r in roles)
        print(f"{sample.frames:>6} {sample.seconds:>7.0f} {rss} {spf:>8.3f}")
        previous = sample
    half = args.frames // 2
    for role in roles:
        print(f"growth {role}: {growth_per_frame(samples, role, half):+.4f} MiB/frame (frames {half}-{args.frames})")
    if args.json:
        args.json.write_text(json.dumps([asdict(s) for s in samples]))


if __name__ == "__main__":
    main()
