"""Render throughput of the default scene: frames/s and where the time goes.

    uv run python scripts/benchmark_render.py [--frames 8] [--resolutions 320x240 640x480] [--samples 16]

Prints one row per resolution: frames/s and the share of each stage (scene sampling, scene build
+ physics, Cycles render, label derivation, writing). Numbers, never assertions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from hydra import compose, initialize_config_dir

from simvision.config import CONF_DIR, register_configs
from simvision.pipeline import STAGES, run


def baseline_loop(cfg, frames: int, out: str) -> float:
    """A plain BlenderProc-style script over the same scenes and render settings: per frame, build the
    scene (same sampler, same physics), set one camera, render RGB + depth + segmentation, write with
    BlenderProc's own HDF5 writer. Returns seconds for ``frames`` frames (Blender start-up excluded)."""
    import numpy as np

    from simvision.config.validate import validate_render_config
    from simvision.pipeline import make_sampler
    from simvision.render import runtime
    from simvision.render.builder import Renderer

    sampler = make_sampler(cfg, validate_render_config(cfg))
    renderer = Renderer(cfg.render)
    bproc = runtime.blenderproc()
    t0 = time.perf_counter()
    for i in range(frames):
        seed = [int(cfg.seed), i]
        spec = sampler.sample(i, seed, 1, rng=np.random.default_rng(np.random.SeedSequence(seed)))
        renderer.build(spec)
        bproc.utility.reset_keyframes()
        cam = spec.cameras[0]
        bproc.camera.set_intrinsics_from_K_matrix(np.asarray(cam.K), cam.width, cam.height)
        bproc.camera.add_camera_pose(np.asarray(cam.cam_to_world) @ np.diag([1.0, -1.0, -1.0, 1.0]))
        with runtime.quiet():
            data = bproc.renderer.render(verbose=False)
            bproc.writer.write_hdf5(out, data, append_to_existing_output=True)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--resolutions", nargs="+", default=["320x240", "640x480"])
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline", action="store_true", help="also time a plain BlenderProc loop")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. render.threads=2")
    args = parser.parse_args(argv)
    register_configs()
    rows = []
    for res in args.resolutions:
        width, height = (int(v) for v in res.lower().split("x"))
        with tempfile.TemporaryDirectory() as out, initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            cfg = compose(
                "render",
                overrides=[
                    f"output_dir={out}",
                    f"num_frames={args.frames}",
                    f"seed={args.seed}",
                    f"render.resolution=[{width},{height}]",
                    f"render.samples={args.samples}",
                    *args.overrides,
                ],
            )
            result = run(cfg)
            # per-frame work only: Blender start-up and the end-of-shard card/validation are excluded,
            # as they are for the baseline
            wall = sum(result.timings.values())
        base = None
        if args.baseline:
            with tempfile.TemporaryDirectory() as bout:
                base = baseline_loop(cfg, args.frames, bout)
        rows.append((res, args.samples, result, wall, base))
    header = f"{'resolution':>10} {'spp':>4} {'frames':>6} {'frames/s':>8} {'s/frame':>8} " + " ".join(
        f"{s + ' %':>9}" for s in STAGES
    )
    print(header)
    print("-" * len(header))
    for res, spp, result, wall, base in rows:
        total = sum(result.timings.values()) or 1.0
        shares = " ".join(f"{100 * result.timings[s] / total:>9.1f}" for s in STAGES)
        fps, spf = result.frames / wall, wall / result.frames
        print(f"{res:>10} {spp:>4} {result.frames:>6} {fps:>8.2f} {spf:>8.2f} {shares}")
        if base is not None:
            print(
                f"{'':>10} {'':>4} baseline (plain BlenderProc loop): {args.frames / base:.2f} frames/s, "
                f"simvision/baseline = {fps / (args.frames / base):.2f}x"
            )
    print(
        "\nstages: sample = scene sampling, build = Blender scene + rigid-body physics, render = Cycles "
        "(RGB+depth+segmentation, all cameras of a scene in one call), labels = boxes/visibility/RLE, "
        "write = PNG/NPY/JSON files.",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
