"""Does the pass-memory estimate match reality? Peak RSS of real renders next to the estimate.

    uv run python scripts/measure_render_memory.py [--settings 640x480x1 640x480x2 1280x960x1 1280x960x2]
        [--samples 2] [--scenes 3] [hydra overrides ...]

Each setting (WIDTHxHEIGHTxVIEWS) renders ``--scenes`` scenes in a fresh job; the job's and its
writer's peak RSS (VmHWM, sampled from outside) minus those of a 64x48 job with the same views is
what the passes took. Prints it (main and writer, above the baseline) next to
``simvision.render.memory.estimate_pass_memory``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from simvision.bench.rss import MIB, watch_job
from simvision.render.memory import FIXED_BYTES, GIB, MARGIN, estimate_pass_memory

BASELINE = (64, 48)


def peak_of(width: int, height: int, views: int, args: argparse.Namespace, root: Path) -> dict[str, float]:
    out = root / f"{width}x{height}x{views}"
    run = watch_job(
        [
            f"num_frames={views * args.scenes}",
            f"render.resolution=[{width},{height}]",
            f"render.samples={args.samples}",
            f"scene.camera.cameras_per_scene={views}",
            "output.card=false",
            *args.overrides,
        ],
        out,
        interval=0.05,
    )
    if run.returncode != 0:
        raise SystemExit(f"{out.name}: the job failed ({run.returncode}):\n{run.stderr_tail}")
    return run.peak_mib()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", default=["640x480x1", "640x480x2", "1280x960x1", "1280x960x2"])
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--scenes", type=int, default=3)
    parser.add_argument("--denoiser", default="OPENIMAGEDENOISE")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    args.overrides = [f"render.denoiser={args.denoiser}", *args.overrides]
    denoise = args.denoiser.upper() != "NONE"
    settings = [tuple(int(v) for v in s.lower().split("x")) for s in args.settings]
    print(f"{'setting':>12} {'main MiB':>9} {'writer MiB':>10} | {'passes MiB':>10} {'estimate':>8} {'est/meas':>8}")
    with tempfile.TemporaryDirectory(prefix="sv-memory-") as tmp:
        baselines: dict[int, dict[str, float]] = {}
        for width, height, views in settings:
            if views not in baselines:
                baselines[views] = peak_of(*BASELINE, views, args, Path(tmp))
                base = baselines[views]
                print(f"{'64x48x' + str(views):>12} {base['main']:>9.0f} {base.get('writer', 0):>10.0f} | baseline")
            base = baselines[views]
            peak = peak_of(width, height, views, args, Path(tmp))
            main_mib, writer_mib = (peak.get(r, 0.0) - base.get(r, 0.0) for r in ("main", "writer"))
            est = estimate_pass_memory(width, height, views, denoise)
            passes, estimate = main_mib + writer_mib, est.total / MIB
            print(
                f"{f'{width}x{height}x{views}':>12} {main_mib:>+9.0f} {writer_mib:>+10.0f} | "
                f"{passes:>10.0f} {estimate:>8.0f} {estimate / passes:>8.2f}"
                f"   (estimate main {(est.cycles + est.render_process) / MIB:.0f}, writer {est.writer / MIB:.0f})"
            )
    print(
        f"passes: peak RSS above the 64x48 job; the check wants x{MARGIN} the estimate + {FIXED_BYTES / GIB:g} GiB free"
    )


if __name__ == "__main__":
    main()
