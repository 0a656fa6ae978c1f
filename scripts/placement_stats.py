"""Placement statistics of sampled street scenes (no rendering): per-class distance from the camera to the
object centre (median, p10, p90) and the share of car boxes at least 40 px high when the image is scaled to
375 px high (KITTI's image height), from each car's projected 3D box in the first camera.

    python scripts/placement_stats.py [--scenes 200] [--seed 0] [overrides such as scene.placement.parked_rows=0]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from omegaconf import OmegaConf

from simvision.labels.geometry import box_corners, transform
from simvision.scene.street.config import StreetSceneConfig
from simvision.scene.street.scene import StreetScene

CLASSES = ("car", "person", "cyclist", "traffic_cone")


def sample_stats(n_scenes: int, seed: int, overrides: list[str], resolution=(1242, 375), in_view: bool = True) -> dict:
    """Per-class distances (metres) and car box heights (px at 375 px image height) of ``n_scenes`` sampled
    street scenes; ``in_view``: only objects whose centre is ahead and inside the first camera's width."""
    overrides = [o.removeprefix("scene.") for o in overrides]  # the scene block's fields, as on the command line
    cfg = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig), OmegaConf.from_dotlist(overrides))
    class_ids = {
        "car": 1,
        "van": 2,
        "truck": 3,
        "bus": 4,
        "person": 5,
        "cyclist": 6,
        "traffic_cone": 7,
        "barrier": 8,
        "obstacle": 9,
        "traffic_light": 10,
    }
    scene = StreetScene(cfg, class_ids, resolution)
    dists: dict[str, list[float]] = {c: [] for c in CLASSES}
    heights: list[float] = []
    for i in range(n_scenes):
        ss = np.random.SeedSequence([seed, i])
        spec = scene.sample(i, [seed, i], 1, rng=np.random.default_rng(ss))
        cam = spec.cameras[0]
        world_to_cam = np.linalg.inv(np.asarray(cam.cam_to_world))
        K = np.asarray(cam.K)
        for obj in spec.objects:
            if obj.class_name not in dists:
                continue
            pose = np.eye(4)
            yaw = obj.rotation_euler[2]
            pose[:3, :3] = [[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]]
            pose[:3, 3] = obj.location
            lo, hi = obj.vertices.min(axis=0), obj.vertices.max(axis=0)
            pose_cam = world_to_cam @ pose
            centre = transform(((lo + hi) / 2)[None], pose_cam)[0]
            if in_view and (centre[2] <= 0.5 or not 0 <= (centre @ K.T)[0] / centre[2] < cam.width):
                continue
            dists[obj.class_name].append(float(np.linalg.norm(centre)))
            if obj.class_name == "car":
                corners = transform(box_corners((lo + hi) / 2, hi - lo), pose_cam)
                if in_view and (corners[:, 2] > 0.1).all():
                    v = (corners @ K.T)[:, 1] / corners[:, 2]
                    heights.append(float(v.max() - v.min()) * 375.0 / cam.height)
    return {"distances": dists, "car_box_heights": heights}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--all", action="store_true", help="every object, not only those in the first camera's view")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    stats = sample_stats(args.scenes, args.seed, args.overrides, in_view=not args.all)
    for name, values in stats["distances"].items():
        if values:
            p10, med, p90 = np.percentile(values, [10, 50, 90])
            print(f"{name:13s} n={len(values):5d}  distance m: median {med:5.1f}  p10 {p10:5.1f}  p90 {p90:5.1f}")
    h = np.asarray(stats["car_box_heights"])
    if h.size:
        share = 100 * (h >= 40).mean()
        print(f"car boxes (375 px high image): median height {np.median(h):.0f} px, >= 40 px: {share:.0f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
