"""One render job (one shard): sample -> build -> render -> label -> write, resumable."""

from __future__ import annotations

import collections
import errno
import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from simvision import __version__
from simvision.config.validate import ConfigError, validate_render_config
from simvision.dataset.resume import check_same_config, recover, write_config
from simvision.dataset.shard_writer import RenderedScene, WriterJob, final_colours, make_sink, output_settings
from simvision.dataset.stats import format_counts, realised_counts
from simvision.io.atomic import atomic_write_json
from simvision.io.folder import frame_stem
from simvision.io.frames import read_metadata
from simvision.render.physics_worker import PhysicsWorker, needs_physics
from simvision.scene.tabletop import TabletopSampler
from simvision.writers.coco import CocoWriter, coco_categories

log = logging.getLogger("simvision")

# busy seconds per stage. With output.background_writes, labels and write run in the writer process,
# overlapping the next scene's build and render; wait is the time the render loop was blocked on it.
# physics is the time spent waiting for the physics worker's drop of the scene (with
# render.physics_worker=false the drop is part of build).
STAGES = ("sample", "physics", "build", "render", "polish", "labels", "write", "wait")


class OutputError(RuntimeError):
    """Writing the dataset failed (disk full, folder gone); finished frames are kept."""


@dataclass
class RenderResult:
    output_dir: Path
    frames: int  # frames rendered by this call
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, summed
    skipped: int = 0  # frames already finished by an earlier run (resume)
    startup_seconds: float = 0.0  # starting Blender/BlenderProc and configuring Cycles
    loop_seconds: float = 0.0  # wall clock of the per-frame work: first scene sampled .. last frame written
    finish_seconds: float = 0.0  # end of shard: COCO assembly, stats, extra formats, validation, card

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def loop_frames_per_second(self) -> float:
        """Steady-state throughput: frames per second of the per-frame work alone."""
        return self.frames / self.loop_seconds if self.loop_seconds > 0 else 0.0


def scene_seed(seed: int, scene_index: int) -> list[int]:
    """Seed words of one scene: independent of num_frames and of sharding, so a frame is the same
    whether it is rendered alone, in a shard, or in one big job."""
    return [int(seed), int(scene_index)]


def make_sampler(cfg: Any, class_ids: dict[str, int]) -> Any:
    """The scene sampler named by ``scene.name``."""
    width, height = (int(v) for v in cfg.render.resolution)
    if cfg.scene.name == "street":
        from simvision.scene.street.sampler import StreetSampler  # noqa: PLC0415

        return StreetSampler(cfg.scene, cfg.conditions, class_ids, (width, height))
    return TabletopSampler(cfg.scene, cfg.camera, cfg.lighting, cfg.materials, class_ids, (width, height))


def cameras_per_scene(cfg: Any) -> int:
    """Views rendered per sampled scene: the rig's cameras for streets, else camera.cameras_per_scene."""
    if cfg.scene.name == "street":
        return len(cfg.scene.rig_yaw_deg)
    return int(cfg.camera.cameras_per_scene)


def shard_scenes(num_frames: int, per_scene: int, index: int, count: int) -> range:
    """Contiguous block of scene indices of shard ``index`` out of ``count``."""
    n_scenes = math.ceil(num_frames / per_scene)
    size = math.ceil(n_scenes / count)
    return range(min(index * size, n_scenes), min((index + 1) * size, n_scenes))


def scene_frames(scene_index: int, per_scene: int, num_frames: int) -> list[int]:
    first = scene_index * per_scene
    return list(range(first, min(first + per_scene, num_frames)))


def _prepare_output(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}.tmp"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"output_dir: cannot write to {out} ({exc.strerror or exc})") from exc


def export_formats(out: Path, cfg: Any) -> None:
    """Extra label formats, validation and the dataset card, from the files just written."""
    from simvision.dataset.card import write_card  # noqa: PLC0415
    from simvision.dataset.merge import export_format  # noqa: PLC0415
    from simvision.dataset.validate import validate_dataset  # noqa: PLC0415

    for fmt in cfg.output.formats:
        if fmt != "coco":  # COCO is the shard's own format
            export_format(out, fmt)
    if cfg.output.card:
        validation = validate_dataset(out)
        write_card(out, validation=validation, purpose=f"simvision {cfg.scene.name} scenes, seed {cfg.seed}")
        log.info("validation: %s", validation.summary())


def assemble_coco(out: Path, cfg: Any, frame_ids: list[int]) -> dict[str, Any]:
    """The shard's instances.json from the per-frame COCO sidecars (ids from the frame ids)."""
    coco = CocoWriter(
        out / "annotations" / "instances.json",
        coco_categories(cfg.classes),
        {
            "description": "simvision synthetic dataset",
            "version": __version__,
            "seed": int(cfg.seed),
            "shard": {"index": int(cfg.shard.index), "count": int(cfg.shard.count)},
        },
    )
    for frame_id in frame_ids:
        part = json.loads((out / "annotations" / "frames" / f"{frame_stem(frame_id)}.json").read_text())
        coco.add(part["image"], part["annotations"])
    coco.write()
    return coco.document()


def run(cfg: Any) -> RenderResult:
    """Render this shard's frames into ``cfg.output_dir``; frames finished earlier are kept."""
    class_ids = validate_render_config(cfg)
    out = Path(str(cfg.output_dir)).resolve()
    _prepare_output(out)
    check_same_config(out, cfg)
    sampler = make_sampler(cfg, class_ids)  # reads every asset: bad files fail before rendering
    per_scene = cameras_per_scene(cfg)
    num_frames = int(cfg.num_frames)
    scenes = shard_scenes(num_frames, per_scene, int(cfg.shard.index), int(cfg.shard.count))
    frame_ids = [f for s in scenes for f in scene_frames(s, per_scene, num_frames)]
    finished = recover(out)
    todo = [s for s in scenes if any(f not in finished for f in scene_frames(s, per_scene, num_frames))]
    write_config(out, cfg)
    shard_name = f"{int(cfg.shard.index)}/{int(cfg.shard.count)}"
    if finished:
        log.info(
            "resuming shard %s: %d of %d frames already finished",
            shard_name,
            sum(f in finished for f in frame_ids),
            len(frame_ids),
        )
    timings = dict.fromkeys(STAGES, 0.0)
    started = time.perf_counter()
    rendered = 0
    clock: dict[str, float] = {"startup": 0.0, "loop": 0.0}
    try:
        if todo:
            rendered = _render_scenes(cfg, sampler, todo, finished, out, timings, clock, per_scene, num_frames)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise OutputError(
                f"output_dir: disk full while writing to {out}; finished frames are kept, free space and run "
                "the same command again to resume"
            ) from exc
        raise OutputError(
            f"output_dir: cannot write to {out} ({exc.strerror or exc}); finished frames are kept"
        ) from exc
    t0 = time.perf_counter()
    coco = assemble_coco(out, cfg, frame_ids)
    stats = realised_counts(coco, read_metadata(out / "metadata" / "frames.jsonl"), cfg)
    atomic_write_json(out / "stats.json", stats, indent=2)
    log.info("%s", format_counts(stats))
    export_formats(out, cfg)
    finish = time.perf_counter() - t0
    log.debug("shard finishing (COCO, stats, formats, card) took %.1f s", finish)
    seconds = time.perf_counter() - started
    result = RenderResult(
        out,
        rendered,
        seconds,
        timings,
        skipped=len(frame_ids) - rendered,
        startup_seconds=clock["startup"],
        loop_seconds=clock["loop"],
        finish_seconds=finish,
    )
    write_throughput(out, result, clock, cfg)
    log.info(
        "shard %s: %d frames in %.1f s (%.2f frames/s), %d already done -> %s",
        shard_name,
        rendered,
        seconds,
        result.frames_per_second,
        result.skipped,
        out,
    )
    return result


def write_throughput(out: Path, result: RenderResult, clock: dict[str, float], cfg: Any) -> None:
    """throughput.json: this run's frames, wall clock per phase and busy seconds per stage.

    Timestamps (Unix seconds) of the per-frame loop let a sweep compute its aggregate frames/s
    over parallel shards (``simvision.bench.workers``).
    """
    atomic_write_json(
        out / "throughput.json",
        {
            "frames": result.frames,
            "skipped": result.skipped,
            "startup_seconds": result.startup_seconds,
            "loop_seconds": result.loop_seconds,
            "finish_seconds": result.finish_seconds,
            "loop_frames_per_second": result.loop_frames_per_second,
            "loop_started_at": clock.get("loop_started_at"),
            "loop_ended_at": clock.get("loop_ended_at"),
            "stage_seconds": result.timings,
            "shard": {"index": int(cfg.shard.index), "count": int(cfg.shard.count)},
            "render_threads": int(cfg.render.threads),
            "background_writes": bool(cfg.output.get("background_writes", True)),
        },
        indent=2,
    )


def apply_polish_textures(spec: Any, polish: Any) -> None:
    """polish.mode=textures: swap in diffusion-made textures per class and material slot (cached).

    Only colours change; geometry and therefore labels stay exact. The variant is derived from
    the instance id, never drawn from the scene rng, so turning textures on changes no scene.
    """
    from simvision.polish.textures import apply_texture, texture_for  # noqa: PLC0415

    variants = max(int(polish.texture_variants), 1)
    for obj in [*spec.objects, *spec.scenery]:
        variant = obj.instance_id % variants
        slot = "object" if obj.class_name else "distractor"
        obj.material = apply_texture(obj.material, texture_for(polish, obj.class_name, slot, variant=variant))
        for name, material in obj.slot_materials.items():
            obj.slot_materials[name] = apply_texture(
                material, texture_for(polish, obj.class_name, name, variant=variant)
            )
    for key, holder in (("container", spec.container), ("floor", spec.background), ("walls", spec.background)):
        entry = holder.get("material" if key == "container" else key)
        if isinstance(entry, dict):
            path = texture_for(polish, None, key)
            if path is not None:
                entry["image_texture"] = str(path.resolve())


def _render_scenes(
    cfg: Any,
    sampler: Any,
    scenes: list[int],
    finished: dict[int, Any],
    out: Path,
    timings: dict[str, float],
    clock: dict[str, float],
    per_scene: int,
    num_frames: int,
) -> int:
    """Render ``scenes`` and write their unfinished frames; returns the number of frames written.

    With ``output.background_writes`` the labels and files of scene ``i`` are produced by a writer
    process while this process builds and renders scene ``i + 1``.
    """
    from simvision.polish.config import to_polish_config  # noqa: PLC0415
    from simvision.render.runtime import assign_worker_gpu  # noqa: PLC0415 - no Blender import

    t_start = time.perf_counter()
    assign_worker_gpu()  # a local worker's one GPU, before torch (polish) or Cycles start CUDA
    total = sum(1 for s in scenes for f in scene_frames(s, per_scene, num_frames) if f not in finished)
    written = 0
    with tqdm(total=total, desc=f"render shard {int(cfg.shard.index)}", unit="frame", dynamic_ncols=True) as bar:

        def on_frame(frame_id: int, labels_s: float, write_s: float) -> None:
            nonlocal written
            timings["labels"] += labels_s
            timings["write"] += write_s
            written += 1
            bar.update(1)

        # the writer starts first, so its start-up overlaps this process's Blender start
        sink = make_sink(bool(cfg.output.get("background_writes", True)), on_frame)
        physics: PhysicsWorker | None = None
        try:
            polish = to_polish_config(cfg.polish)
            polisher = None
            if polish.mode == "image":
                from simvision.polish.image import ImagePolisher  # noqa: PLC0415

                polisher = ImagePolisher(polish)  # loads the model once per job; clear error without the extra
            from simvision.render.builder import Renderer  # noqa: PLC0415 - imports Blender

            renderer = Renderer(cfg.render, temp_dir=None)
            info = renderer.info
            log.info(
                "Blender %s, BlenderProc %s, device %s%s, %d threads",
                info.blender_version,
                info.blenderproc_version,
                info.device,
                f" ({', '.join(info.gpus)})" if info.gpus else "",
                info.threads,
            )
            render_info = {
                "resolution": list(cfg.render.resolution),
                "device": info.device,
                "gpus": list(info.gpus),
                "blender": info.blender_version,
                "simvision": __version__,
                "threads": info.threads,
                "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
                **renderer.settings,
            }
            if renderer.settings["physics_worker"]:  # until it has started, scenes are simulated here
                physics = PhysicsWorker()
            sink.start(WriterJob(out, output_settings(cfg.output), set(finished), int(cfg.shard.index), render_info))
            t_loop = time.perf_counter()
            clock["startup"] = t_loop - t_start
            clock["loop_started_at"] = time.time()
            ahead: collections.deque[tuple[int, list[int], list[int], Any, bool]] = collections.deque()
            upcoming = iter(scenes)

            def sample_next() -> None:
                """Sample the next scene and, with the physics worker, start its drop right away."""
                scene_index = next(upcoming, None)
                if scene_index is None:
                    return
                t0 = time.perf_counter()
                frames = scene_frames(scene_index, per_scene, num_frames)
                seed = scene_seed(cfg.seed, scene_index)
                spec = sampler.sample(
                    scene_index, seed, len(frames), rng=np.random.default_rng(np.random.SeedSequence(seed))
                )
                if polish.mode == "textures":
                    apply_polish_textures(spec, polish)
                simulated_ahead = physics is not None and needs_physics(spec) and physics.ready()
                if simulated_ahead:
                    physics.submit(scene_index, spec)
                ahead.append((scene_index, seed, frames, spec, simulated_ahead))
                timings["sample"] += time.perf_counter() - t0

            sample_next()
            while ahead:
                scene_index, seed, frames, spec, simulated_ahead = ahead.popleft()
                t0 = time.perf_counter()
                settled = physics.result(scene_index) if simulated_ahead else None  # else: simulated here
                t1 = time.perf_counter()
                sample_next()  # the physics worker drops the next scene while this one builds and renders
                t2 = time.perf_counter()
                built = renderer.build(spec, settled)
                t3 = time.perf_counter()
                views = renderer.render(spec)
                t4 = time.perf_counter()
                timings["physics"] += t1 - t0
                timings["build"] += t3 - t2
                timings["render"] += t4 - t3
                rendered = RenderedScene(scene_index, seed, frames, spec, built.poses_world, views)
                if polisher is not None:
                    _polish_views(polisher, out, rendered, finished)
                    timings["polish"] += time.perf_counter() - t4
                sink.submit(rendered)
        except BaseException:
            try:  # keep every frame already rendered: finish writing them, then report the first error
                sink.close()
            except Exception as exc:  # noqa: BLE001
                log.error("while stopping: writing the rendered frames failed too: %s", exc)
            raise
        finally:
            if physics is not None:
                physics.close()
        sink.close()
        timings["wait"] += sink.wait_seconds
    clock["loop"] = time.perf_counter() - t_loop
    clock["loop_ended_at"] = time.time()
    return written


def _polish_views(polisher: Any, out: Path, rendered: RenderedScene, finished: dict[int, Any]) -> None:
    """polish.mode=image: camera effects, then masked img2img with its consistency check, in the
    render process (the model lives here); the writer gets final colours and the polish records."""
    from simvision.polish.dataset import polish_rendered_frame  # noqa: PLC0415

    records = {}
    for cam_index, (frame_id, view) in enumerate(zip(rendered.frames, rendered.views, strict=True)):
        if frame_id in finished:
            continue
        rgb = final_colours(rendered.spec, rendered.seed, cam_index, view)
        view.rgb, records[frame_id] = polish_rendered_frame(
            polisher, out, frame_id, rgb, view.instance, view.depth, view.semantic
        )
    rendered.polish_records = records
    rendered.final_rgb = True


__all__ = ["OutputError", "RenderResult", "run", "scene_seed", "shard_scenes"]
