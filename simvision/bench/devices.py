"""Check a GPU machine: which Cycles devices exist, and do GPU renders carry the same labels?

    python -m simvision.bench.devices [--devices cpu cuda optix] [--frames 4] [hydra overrides ...]

Lists what Cycles sees for every backend, then renders the same frames (same config, same seed)
once per requested device, each in a fresh process, and compares every device with the first:
instance maps and COCO annotations must agree (labels come from geometry, not from the path
tracer), depth must agree to float precision, RGB differs only by sampling noise (PSNR). Prints
frames/s per device. A device Cycles cannot find is reported, not fatal.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from simvision.bench.throughput import psnr, read_rgb, run_in_process, simvision_image


def list_devices() -> dict[str, list[str]]:
    """Cycles' devices per backend on this machine, e.g. {"CUDA": ["NVIDIA H200"], "OPTIX": [...]}."""
    from simvision.render import runtime  # noqa: PLC0415

    with runtime.quiet():
        runtime.start("cpu")
    import bpy  # noqa: PLC0415

    prefs = bpy.context.preferences.addons["cycles"].preferences
    found: dict[str, list[str]] = {}
    for kind in ("CUDA", "OPTIX", "HIP", "ONEAPI", "METAL"):
        try:
            prefs.compute_device_type = kind
        except TypeError:  # this Blender build has no such backend
            continue
        prefs.refresh_devices()
        found[kind] = [d.name for d in prefs.devices if d.type == kind]
    prefs.compute_device_type = "NONE"
    return found


def compare(reference: Path, other: Path, frames: int) -> dict[str, Any]:
    """Label and image agreement of ``other`` with ``reference`` (two simvision folders)."""
    import cv2  # noqa: PLC0415

    from simvision.io.folder import frame_stem  # noqa: PLC0415

    same_instance, depth_error, rgb_psnr = [], [], []
    for f in range(frames):
        stem = frame_stem(f)
        a = cv2.imread(str(reference / "instance" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        b = cv2.imread(str(other / "instance" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        same_instance.append(float((a == b).mean()))
        da, db = np.load(reference / "depth" / f"{stem}.npy"), np.load(other / "depth" / f"{stem}.npy")
        both = (da > 0) & (db > 0)
        depth_error.append(float(np.abs(da[both] - db[both]).max()) if both.any() else 0.0)
        rgb_psnr.append(psnr(read_rgb(simvision_image(reference, f)), read_rgb(simvision_image(other, f))))
    coco_a = json.loads((reference / "annotations" / "instances.json").read_text())["annotations"]
    coco_b = json.loads((other / "annotations" / "instances.json").read_text())["annotations"]
    boxes = lambda anns: sorted((a["image_id"], a["category_id"], tuple(a["bbox"])) for a in anns)  # noqa: E731
    return {
        "instance_pixels_equal": float(np.mean(same_instance)),
        "depth_max_abs_error_m": float(np.max(depth_error)),
        "same_boxes": boxes(coco_a) == boxes(coco_b),
        "rgb_psnr_db": float(np.mean([v for v in rgb_psnr if np.isfinite(v)] or [np.inf])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cycles devices on this machine and GPU-vs-CPU label agreement")
    parser.add_argument("--devices", nargs="+", default=["cpu", "cuda", "optix"])
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--list-only", action="store_true", help="only list the devices")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    if args.list_only:
        print(json.dumps(list_devices(), indent=2))
        return 0
    probe = subprocess.run(
        [sys.executable, "-m", "simvision.bench.devices", "--list-only"], capture_output=True, text=True
    )
    print("Cycles devices:", probe.stdout.strip() if probe.returncode == 0 else probe.stderr[-500:])
    rows: list[tuple[str, dict[str, Any] | None, str]] = []
    with tempfile.TemporaryDirectory(prefix="simvision-devices-") as tmp:
        folders: dict[str, Path] = {}
        for i, device in enumerate(args.devices):
            out = Path(tmp) / f"{i}_{device}"
            try:
                overrides = [f"num_frames={args.frames}", *args.overrides, f"render.device={device}"]
                timing = run_in_process("simvision", out, overrides)
            except RuntimeError as exc:
                rows.append((device, None, str(exc).splitlines()[-1]))
                continue
            folders[device] = out
            rows.append((device, timing, ""))
        print("| device | frames/s | instance pixels equal | depth max error (m) | same boxes | RGB PSNR (dB) |")
        print("|---|---|---|---|---|---|")
        reference = next(iter(folders.values()), None)
        for device, timing, error in rows:
            if timing is None:
                print(f"| {device} | failed: {error} | | | | |")
                continue
            c = compare(reference, folders[device], args.frames) if reference is not None else {}
            fps = timing["frames"] / timing["loop_seconds"]
            print(
                f"| {device} | {fps:.3f} | {100 * c['instance_pixels_equal']:.2f} % | "
                f"{c['depth_max_abs_error_m']:.2e} | {c['same_boxes']} | {c['rgb_psnr_db']:.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
