"""simvision vs a plain BlenderProc loop, same frames, same render settings, timed in one run.

    python -m simvision.bench.throughput [--frames 8] [--settings 320x240@16 640x480@64]
        [--reference-samples 0] [--json out.json] [hydra overrides ...]

Each pipeline runs in a fresh process of its own, one after the other (never both at once), on
the same Hydra config. Throughput is frames per second of the per-frame work: Blender's start-up
is reported apart, and simvision's end-of-shard extras (validation, dataset card, contact sheet)
are switched off, since the baseline has none. The two pipelines' images are compared pixel by
pixel (PSNR), and optionally both against a many-sample reference render of the same frames,
so equal quality is measured, not assumed.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simvision.dataset.job import STAGES


def compose(overrides: list[str]) -> Any:
    from hydra import compose as hydra_compose  # noqa: PLC0415
    from hydra import initialize_config_dir  # noqa: PLC0415

    from simvision.config import CONF_DIR  # noqa: PLC0415
    from simvision.dataset.job_config import register_configs  # noqa: PLC0415

    register_configs()
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return hydra_compose("render", overrides=overrides)


def _worker(kind: str, out: Path, overrides: list[str]) -> dict[str, Any]:
    """Runs inside the child process: one pipeline, its timings as plain data."""
    if kind == "baseline":
        from simvision.bench.baseline import run_baseline  # noqa: PLC0415

        cfg = compose([f"output_dir={out}", *overrides])
        return run_baseline(cfg, out).as_dict()
    from simvision.dataset.job import run  # noqa: PLC0415

    cfg = compose([f"output_dir={out}", "output.card=false", *overrides])
    result = run(cfg)
    return {
        "frames": result.frames,
        "startup_seconds": result.startup_seconds,
        "loop_seconds": result.loop_seconds,
        "finish_seconds": result.finish_seconds,
        "timings": result.timings,
        "background_writes": bool(cfg.output.background_writes),
        "views_per_scene": int(cfg.scene.camera.cameras_per_scene),
    }


def run_in_process(kind: str, out: Path, overrides: list[str]) -> dict[str, Any]:
    """One pipeline in a fresh Python process; returns its timings."""
    result_file = out.parent / f"{out.name}.result.json"
    cmd = [sys.executable, "-m", "simvision.bench.throughput", "--worker", kind, "--out", str(out)]
    cmd += ["--result", str(result_file), "--", *overrides]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(result_file.read_text())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two 8-bit images in dB (inf when identical)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def read_rgb(path: Path) -> np.ndarray:
    import cv2  # noqa: PLC0415

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read {path}")
    return image


def simvision_image(out: Path, frame: int) -> Path:
    from simvision.io.folder import frame_stem  # noqa: PLC0415

    return out / "images" / f"{frame_stem(frame)}.png"


def measure(
    width: int,
    height: int,
    samples: int,
    frames: int,
    overrides: list[str],
    reference_samples: int,
    work: Path,
    simvision_overrides: Sequence[str] = (),
) -> dict[str, Any]:
    """Both pipelines (and optionally the reference) on one setting; a row of the table."""
    from simvision.bench.baseline import baseline_image  # noqa: PLC0415

    common = [f"num_frames={frames}", f"render.resolution=[{width},{height}]", f"render.samples={samples}"]
    common += overrides
    tag = f"{width}x{height}_{samples}"
    sim_out, base_out = work / f"simvision_{tag}", work / f"baseline_{tag}"
    sim = run_in_process("simvision", sim_out, [*common, *simvision_overrides])
    base = run_in_process("baseline", base_out, common)
    sim_images = [read_rgb(simvision_image(sim_out, f)) for f in range(frames)]
    base_images = [read_rgb(baseline_image(base_out, f)) for f in range(frames)]
    agreement = [psnr(a, b) for a, b in zip(sim_images, base_images, strict=True)]
    row: dict[str, Any] = {
        "resolution": f"{width}x{height}",
        "samples": samples,
        "frames": frames,
        "simvision": sim,
        "baseline": base,
        "simvision_fps": frames / sim["loop_seconds"],
        "baseline_fps": frames / base["loop_seconds"],
        "psnr_simvision_vs_baseline_db": _finite_mean(agreement),
    }
    row["ratio"] = row["simvision_fps"] / row["baseline_fps"]
    busy = sim["timings"]
    row["critical_path_overhead"] = max(sim["loop_seconds"] - busy["render"], 0.0) / sim["loop_seconds"]
    if reference_samples > 0:
        ref_out = work / f"reference_{tag}"
        run_in_process("simvision", ref_out, [*common, *simvision_overrides, f"render.samples={reference_samples}"])
        ref = [read_rgb(simvision_image(ref_out, f)) for f in range(frames)]
        row["reference_samples"] = reference_samples
        row["psnr_simvision_vs_reference_db"] = _finite_mean([psnr(a, r) for a, r in zip(sim_images, ref, strict=True)])
        row["psnr_baseline_vs_reference_db"] = _finite_mean([psnr(b, r) for b, r in zip(base_images, ref, strict=True)])
    return row


def _finite_mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return math.inf if not finite else float(np.mean(finite))


def format_table(rows: list[dict[str, Any]]) -> str:
    """The comparison as a Markdown table plus simvision's stage split."""
    lines = [
        "| resolution | spp | frames | baseline frames/s | simvision frames/s | ratio | PSNR sim vs base (dB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['resolution']} | {r['samples']} | {r['frames']} | {r['baseline_fps']:.3f} | "
            f"{r['simvision_fps']:.3f} | {r['ratio']:.2f}x | {r['psnr_simvision_vs_baseline_db']:.1f} |"
        )
    lines += ["", "simvision seconds per frame by stage (busy time; labels/write run beside the render):", ""]
    lines.append("| resolution | spp | wall s/frame | " + " | ".join(STAGES) + " | critical-path overhead |")
    lines.append("|---|---|---|" + "---|" * len(STAGES) + "---|")
    for r in rows:
        sim, n = r["simvision"], r["frames"]
        stages = " | ".join(f"{sim['timings'].get(s, 0.0) / n:.3f}" for s in STAGES)
        lines.append(
            f"| {r['resolution']} | {r['samples']} | {sim['loop_seconds'] / n:.3f} | {stages} | "
            f"{100 * r['critical_path_overhead']:.1f} % |"
        )
    lines += ["", "baseline seconds per frame by stage:", ""]
    lines.append("| resolution | spp | wall s/frame | sample | build | render | write |")
    lines.append("|---|---|---|---|---|---|---|")
    for r in rows:
        base, n = r["baseline"], r["frames"]
        stages = " | ".join(f"{base['timings'][s] / n:.3f}" for s in ("sample", "build", "render", "write"))
        lines.append(f"| {r['resolution']} | {r['samples']} | {base['loop_seconds'] / n:.3f} | {stages} |")
    if any("reference_samples" in r for r in rows):
        lines += ["", "| resolution | spp | reference spp | PSNR simvision vs ref (dB) | PSNR baseline vs ref (dB) |"]
        lines.append("|---|---|---|---|---|")
        for r in rows:
            if "reference_samples" in r:
                lines.append(
                    f"| {r['resolution']} | {r['samples']} | {r['reference_samples']} | "
                    f"{r['psnr_simvision_vs_reference_db']:.2f} | {r['psnr_baseline_vs_reference_db']:.2f} |"
                )
    return "\n".join(lines)


def parse_setting(text: str) -> tuple[int, int, int]:
    """'320x240@16' -> (320, 240, 16)."""
    try:
        size, spp = text.lower().split("@")
        width, height = size.split("x")
        return int(width), int(height), int(spp)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT@SAMPLES, e.g. 320x240@16, got {text!r}") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="simvision vs a plain BlenderProc loop (frames/s, same frames)")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--settings", nargs="+", type=parse_setting, default=[(320, 240, 16), (640, 480, 64)])
    parser.add_argument("--reference-samples", type=int, default=0, help="also render a reference at this spp")
    parser.add_argument("--json", type=Path, help="write all numbers here")
    parser.add_argument(
        "--simvision-overrides", nargs="*", default=[], help="Hydra overrides for simvision only (not the baseline)"
    )
    parser.add_argument("--worker", choices=("simvision", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for both pipelines, e.g. render.threads=2")
    args = parser.parse_args(argv)
    if args.worker:
        args.result.write_text(json.dumps(_worker(args.worker, args.out, args.overrides)))
        return 0
    from tqdm import tqdm  # noqa: PLC0415

    rows = []
    with tempfile.TemporaryDirectory(prefix="simvision-bench-") as tmp:
        for width, height, spp in tqdm(args.settings, desc="settings", unit="setting"):
            rows.append(
                measure(
                    width,
                    height,
                    spp,
                    args.frames,
                    args.overrides,
                    args.reference_samples,
                    Path(tmp),
                    args.simvision_overrides,
                )
            )
    report(format_table(rows), rows, args.json)
    return 0


def report(table: str, rows: list[dict[str, Any]], json_path: Path | None) -> None:
    """Print the table; keep every number as JSON when asked to."""
    print(table)
    if json_path is not None:
        json_path.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    sys.exit(main())
