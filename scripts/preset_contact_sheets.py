"""Render every edge-case preset and write one labelled contact sheet (JPEG) per preset.

    uv run python scripts/preset_contact_sheets.py [--frames 4] [--resolution 640x480] [--samples 16]
        [--out out/presets] [--sheets docs/presets]

Prints the per-frame time of each preset (numbers, not assertions).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
from hydra import compose, initialize_config_dir

from simvision.config import CONF_DIR
from simvision.dataset.job import run
from simvision.dataset.job_config import register_configs
from simvision.dataset.preview import contact_sheet, preview_frames
from simvision.io.atomic import atomic_write_bytes

PRESETS = ["night_glare", "dense_fog", "construction_zone", "rare_obstacle", "rainy_night"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--resolution", default="640x480")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("out/presets"))
    parser.add_argument("--sheets", type=Path, default=Path("docs/presets"))
    parser.add_argument("--presets", nargs="+", default=PRESETS)
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.resolution.lower().split("x"))
    register_configs()
    args.sheets.mkdir(parents=True, exist_ok=True)
    rows = []
    for preset in args.presets:
        out = (args.out / preset).resolve()
        with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            cfg = compose(
                "render",
                overrides=[
                    f"+experiment={preset}",
                    f"output_dir={out}",
                    f"num_frames={args.frames}",
                    f"seed={args.seed}",
                    f"render.resolution=[{width},{height}]",
                    f"render.samples={args.samples}",
                ],
            )
        t0 = time.perf_counter()
        result = run(cfg)
        wall = time.perf_counter() - t0
        frames = [cv2.resize(f, (480, 360), interpolation=cv2.INTER_AREA) for f in preview_frames(out, args.frames)]
        sheet = args.sheets / f"{preset}.jpg"  # JPEG keeps the committed sheets small
        ok, data = cv2.imencode(
            ".jpg", cv2.cvtColor(contact_sheet(frames, 2), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88]
        )
        assert ok
        atomic_write_bytes(sheet, data.tobytes())
        rows.append((preset, result.frames, wall / max(result.frames, 1), result, sheet))
    print(f"{'preset':<18} {'frames':>6} {'s/frame':>8} {'render s/frame':>15}  sheet")
    for preset, n, spf, result, sheet in rows:
        print(f"{preset:<18} {n:>6} {spf:>8.2f} {result.timings['render'] / max(n, 1):>15.2f}  {sheet}")


if __name__ == "__main__":
    main()
