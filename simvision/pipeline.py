"""One render job (one shard): sample -> build -> render -> label -> write."""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf
from tqdm import tqdm

from simvision import __version__
from simvision.config.validate import ConfigError, validate_render_config
from simvision.dataset.atomic import atomic_write_json, atomic_write_text
from simvision.dataset.stats import format_counts, realised_counts
from simvision.labels.derive import coco_annotations, label_objects
from simvision.render.effects import apply_camera_effects
from simvision.scene.conditions import Conditions
from simvision.scene.tabletop import TabletopSampler
from simvision.writers.coco import CocoWriter, coco_categories
from simvision.writers.frames import MetadataLog, frame_stem, read_metadata, write_frame_files

log = logging.getLogger("simvision")

STAGES = ("sample", "build", "render", "labels", "write")


@dataclass
class RenderResult:
    output_dir: Path
    frames: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, summed

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def scene_seed(seed: int, scene_index: int) -> list[int]:
    """Seed words of one scene: independent of num_frames, so frames never change when N grows."""
    return [int(seed), int(scene_index)]


def make_sampler(cfg: Any, class_ids: dict[str, int]) -> Any:
    """The scene sampler named by ``scene.name``."""
    width, height = (int(v) for v in cfg.render.resolution)
    if cfg.scene.name == "street":
        from simvision.scene.street import StreetSampler  # noqa: PLC0415

        return StreetSampler(cfg.scene, cfg.conditions, class_ids, (width, height))
    return TabletopSampler(cfg.scene, cfg.camera, cfg.lighting, cfg.materials, class_ids, (width, height))


def cameras_per_scene(cfg: Any) -> int:
    """Views rendered per sampled scene: the rig's cameras for streets, else camera.cameras_per_scene."""
    if cfg.scene.name == "street":
        return len(cfg.scene.rig_yaw_deg)
    return int(cfg.camera.cameras_per_scene)


def _prepare_output(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"output_dir: cannot write to {out} ({exc.strerror or exc})") from exc


def export_formats(out: Path, cfg: Any) -> None:
    """Extra label formats, validation and the dataset card, from the files just written."""
    from simvision.dataset.card import write_card  # noqa: PLC0415
    from simvision.dataset.validate import validate_dataset  # noqa: PLC0415
    from simvision.writers.bop import write_bop  # noqa: PLC0415
    from simvision.writers.kitti import write_kitti  # noqa: PLC0415
    from simvision.writers.yolo import write_yolo  # noqa: PLC0415

    writers = {"kitti": write_kitti, "yolo": write_yolo, "bop": write_bop}
    for fmt in cfg.output.formats:
        if fmt in writers:
            writers[fmt](out)
    if cfg.output.card:
        validation = validate_dataset(out)
        write_card(out, validation=validation, purpose=f"simvision {cfg.scene.name} scenes, seed {cfg.seed}")
        log.info("validation: %s", validation.summary())


def run(cfg: Any) -> RenderResult:
    """Render ``cfg.num_frames`` labelled frames into ``cfg.output_dir``."""
    class_ids = validate_render_config(cfg)
    out = Path(str(cfg.output_dir)).resolve()
    _prepare_output(out)
    sampler = make_sampler(cfg, class_ids)  # reads every asset: bad files fail before rendering
    from simvision.render.builder import Renderer  # noqa: PLC0415 - imports Blender

    renderer = Renderer(cfg.render, temp_dir=None)
    log.info("Blender %s, BlenderProc %s, device %s", renderer.info.blender_version,
             renderer.info.blenderproc_version, renderer.info.device)
    atomic_write_text(out / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    categories = coco_categories(cfg.classes)
    coco = CocoWriter(
        out / "annotations" / "instances.json",
        categories,
        {"description": "simvision synthetic dataset", "version": __version__, "seed": int(cfg.seed)},
    )
    meta_path = out / "metadata" / "frames.jsonl"
    if meta_path.exists():
        meta_path.unlink()
    metadata = MetadataLog(meta_path)
    per_scene = cameras_per_scene(cfg)
    num_frames = int(cfg.num_frames)
    timings = dict.fromkeys(STAGES, 0.0)
    started = time.perf_counter()
    render_info = {
        "samples": int(cfg.render.samples), "resolution": list(cfg.render.resolution),
        "device": renderer.info.device, "denoiser": str(cfg.render.denoiser),
        "blender": renderer.info.blender_version, "simvision": __version__,
    }
    with tqdm(total=num_frames, desc="render", unit="frame", dynamic_ncols=True) as bar:
        for scene_index in range(math.ceil(num_frames / per_scene)):
            first = scene_index * per_scene
            n_cams = min(per_scene, num_frames - first)
            t0 = time.perf_counter()
            seed = scene_seed(cfg.seed, scene_index)
            rng = np.random.default_rng(np.random.SeedSequence(seed))
            spec = sampler.sample(scene_index, seed, n_cams, rng=rng)
            t1 = time.perf_counter()
            built = renderer.build(spec)
            t2 = time.perf_counter()
            views = renderer.render(spec)
            t3 = time.perf_counter()
            timings["sample"] += t1 - t0
            timings["build"] += t2 - t1
            timings["render"] += t3 - t2
            scene_record = spec.record()
            for cam_index, (camera, view) in enumerate(zip(spec.cameras, views, strict=True)):
                t4 = time.perf_counter()
                frame_id = first + cam_index
                K = np.asarray(camera.K)
                cam_to_world = np.asarray(camera.cam_to_world)
                world_to_cam = np.linalg.inv(cam_to_world)
                labels = label_objects(spec.objects, built.poses_world, view.instance, K, world_to_cam)
                rgb = view.rgb
                if spec.effects is not None:  # camera effects touch colours only, never geometry
                    effects_rng = np.random.default_rng(np.random.SeedSequence([*seed, cam_index, 1]))
                    rgb = apply_camera_effects(rgb, Conditions(**spec.effects), effects_rng)
                annotations = coco_annotations(labels, frame_id)
                t5 = time.perf_counter()
                files = write_frame_files(out, frame_id, rgb, view.depth, view.instance, view.semantic,
                                          cfg.output)
                by_instance = {lab.record["instance_id"]: lab.record for lab in labels}
                objects = []
                for index, (obj, sampled) in enumerate(zip(spec.objects, scene_record["objects"], strict=True)):
                    entry = {**sampled, "pose_world": built.poses_world[index].tolist()}
                    if obj.instance_id > 0:
                        entry.update(by_instance[obj.instance_id])
                    objects.append(entry)
                metadata.append(
                    {
                        "frame_id": frame_id,
                        "file_name": files["rgb"],
                        "files": files,
                        "seed": seed,
                        "scene_index": scene_index,
                        "camera_index": cam_index,
                        "conditions": spec.conditions,
                        "camera": {
                            "K": camera.K, "width": camera.width, "height": camera.height,
                            "cam_to_world": camera.cam_to_world, "world_to_cam": world_to_cam.tolist(),
                            "sampled": camera.sampled,
                        },
                        "objects": objects,
                        "lights": scene_record["lights"],
                        "background": scene_record["background"],
                        "container": scene_record["container"],
                        "physics": scene_record["physics"],
                        "render": render_info,
                    }
                )
                coco.add(
                    {
                        "id": frame_id, "file_name": files["rgb"], "width": camera.width,
                        "height": camera.height, "conditions": spec.conditions,
                    },
                    annotations,
                )
                t6 = time.perf_counter()
                timings["labels"] += t5 - t4
                timings["write"] += t6 - t5
                bar.update(1)
    t7 = time.perf_counter()
    coco.write()
    metadata.close()
    stats = realised_counts(coco.document(), read_metadata(meta_path), cfg)
    atomic_write_json(out / "stats.json", stats, indent=2)
    log.info("%s", format_counts(stats))
    export_formats(out, cfg)
    timings["write"] += time.perf_counter() - t7
    seconds = time.perf_counter() - started
    result = RenderResult(out, num_frames, seconds, timings)
    log.info("shard %s: %d frames in %.1f s (%.2f frames/s) -> %s", out.name, num_frames, seconds,
             result.frames_per_second, out)
    return result


__all__ = ["RenderResult", "run", "scene_seed", "frame_stem"]
