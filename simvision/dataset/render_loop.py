"""The per-frame loop of a render job: sample -> (physics) -> build -> render -> (polish) -> write.

Three processes overlap: this one builds and renders scene ``i``; the writer process labels and
writes scene ``i - 1`` (``output.background_writes``); the physics worker drops scene ``i + 1``'s
objects (``render.physics_worker``). Each stage gets its own block of the config.
"""

from __future__ import annotations

import collections
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from simvision import __version__
from simvision.childproc import InterruptRequest
from simvision.dataset.resume import config_sha256
from simvision.dataset.shard_writer import FrameSink, RenderedScene, WriterJob, make_sink, output_settings
from simvision.dataset.shards import scene_frames, scene_seed
from simvision.render.effects import final_colours
from simvision.render.physics_worker import PhysicsWorker, needs_physics
from simvision.scene.base import SceneType

log = logging.getLogger("simvision")

# busy seconds per stage. With output.background_writes, labels and write run in the writer process,
# overlapping the next scene's build and render; wait is the time the render loop was blocked on it.
# physics is the time spent waiting for the physics worker's drop of the scene (with
# render.physics_worker=false the drop is part of build).
STAGES = ("sample", "physics", "build", "render", "polish", "labels", "write", "wait")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped the job; ``frames`` is how many frames this run wrote (all of them committed)."""

    def __init__(self, frames: int) -> None:
        super().__init__(frames)
        self.frames = frames


@dataclass
class LoopClock:
    """Wall clock of the loop: start-up (Blender, writer, physics worker), the per-frame loop and
    its Unix timestamps (a sweep computes its aggregate frames/s over parallel shards from them)."""

    startup: float = 0.0
    loop: float = 0.0
    loop_started_at: float | None = None
    loop_ended_at: float | None = None
    stages: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))


@dataclass
class _Pending:
    """A sampled scene waiting to be built (its drop may be running in the physics worker)."""

    scene_index: int
    seed: list[int]
    frames: list[int]
    spec: Any
    simulated_ahead: bool


class RenderLoop:
    """Renders a list of scenes of one shard and writes their unfinished frames."""

    def __init__(
        self,
        scene: SceneType,
        cfg: Any,
        out: Path,
        finished: dict[int, Any],
        num_frames: int,
    ) -> None:
        self.scene = scene
        self.cfg = cfg  # the job config; each stage below takes only its own block of it
        self.out = out
        self.finished = finished
        self.num_frames = num_frames
        self.per_scene = scene.views_per_scene()
        self.clock = LoopClock()
        self.written = 0
        self._pending: collections.deque[_Pending] = collections.deque()
        self._physics: PhysicsWorker | None = None

    def run(self, scenes: list[int]) -> int:
        """Render ``scenes``; returns the number of frames written."""
        from simvision.polish.config import to_polish_config  # noqa: PLC0415
        from simvision.render.runtime import assign_worker_gpu  # noqa: PLC0415 - no Blender import

        t_start = time.perf_counter()
        assign_worker_gpu()  # a local worker's one GPU, before torch (polish) or Cycles start CUDA
        total = sum(1 for s in scenes for f in self._frames(s) if f not in self.finished)
        shard = int(self.cfg.shard.index)
        bar = tqdm(total=total, desc=f"render shard {shard}", unit="frame", dynamic_ncols=True)
        with bar, InterruptRequest() as stop:  # Ctrl-C: finish and write the frame in hand, then stop

            def on_frame(frame_id: int, labels_s: float, write_s: float) -> None:
                self.clock.stages["labels"] += labels_s
                self.clock.stages["write"] += write_s
                self.written += 1
                bar.update(1)

            # the writer starts first, so its start-up overlaps this process's Blender start
            sink = make_sink(bool(self.cfg.output.get("background_writes", True)), on_frame)
            try:
                self.polish = to_polish_config(self.cfg.polish)
                self.polisher = self._image_polisher()
                renderer = self._start_renderer(sink)
                stop.install()
                self.clock.startup = time.perf_counter() - t_start
                self.clock.loop_started_at = time.time()
                t_loop = time.perf_counter()
                self._loop(iter(scenes), renderer, sink, stop)
            except BaseException as exc:
                _close_after_error(sink)
                if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, Interrupted):
                    raise Interrupted(self.written) from None  # a second Ctrl-C
                raise
            finally:
                if self._physics is not None:
                    self._physics.close()
            sink.close()
            self.clock.stages["wait"] += sink.wait_seconds
        if stop.requested:
            raise Interrupted(self.written)
        self.clock.loop = time.perf_counter() - t_loop
        self.clock.loop_ended_at = time.time()
        return self.written

    def _frames(self, scene_index: int) -> list[int]:
        return scene_frames(scene_index, self.per_scene, self.num_frames)

    def _image_polisher(self) -> Any:
        if self.polish.mode != "image":
            return None
        from simvision.polish.image import ImagePolisher  # noqa: PLC0415

        return ImagePolisher(self.polish)  # loads the model once per job; clear error without the extra

    def _start_renderer(self, sink: FrameSink) -> Any:
        """Start Blender with the render block, then the physics worker and the writer's job."""
        from simvision.render.builder import Renderer  # noqa: PLC0415 - imports Blender

        renderer = Renderer(self.cfg.render, temp_dir=None, normals=bool(self.cfg.output.get("normals", False)))
        info = renderer.info
        log_render_info(info)
        render_info = {
            "resolution": list(self.cfg.render.resolution),
            "device": info.device,
            "gpus": list(info.gpus),
            "blender": info.blender_version,
            "simvision": __version__,
            "threads": info.threads,
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            **renderer.settings,
        }
        if renderer.settings["physics_worker"]:  # until it has started, scenes are simulated here
            self._physics = PhysicsWorker()
        job = WriterJob(
            self.out,
            output_settings(self.cfg.output),
            set(self.finished),
            int(self.cfg.shard.index),
            render_info,
            final_colours,
            config_sha256(self.cfg),
        )
        sink.start(job)
        return renderer

    def _loop(self, upcoming: Any, renderer: Any, sink: FrameSink, stop: InterruptRequest) -> None:
        stages = self.clock.stages
        self._sample_next(upcoming)
        while self._pending and not stop.requested:
            pending = self._pending.popleft()
            t0 = time.perf_counter()
            settled = None  # without the worker's poses, the build simulates the drop itself
            if pending.simulated_ahead and self._physics is not None:
                settled = self._physics.result(pending.scene_index)
            t1 = time.perf_counter()
            self._sample_next(upcoming)  # the physics worker drops the next scene while this one renders
            t2 = time.perf_counter()
            built = renderer.build(pending.spec, settled)
            t3 = time.perf_counter()
            views = renderer.render(pending.spec)
            t4 = time.perf_counter()
            stages["physics"] += t1 - t0
            stages["build"] += t3 - t2
            stages["render"] += t4 - t3
            rendered = RenderedScene(
                pending.scene_index, pending.seed, pending.frames, pending.spec, built.poses_world, views
            )
            if self.polisher is not None:
                self._polish_views(rendered)
                stages["polish"] += time.perf_counter() - t4
            sink.submit(rendered)

    def _sample_next(self, upcoming: Any) -> None:
        """Sample the next scene and, with the physics worker, start its drop right away."""
        scene_index = next(upcoming, None)
        if scene_index is None:
            return
        t0 = time.perf_counter()
        frames = self._frames(scene_index)
        seed = scene_seed(self.cfg.seed, scene_index)
        spec = self.scene.sample(
            scene_index, seed, len(frames), rng=np.random.default_rng(np.random.SeedSequence(seed))
        )
        if self.polish.mode == "textures":
            from simvision.polish.textures import apply_textures_to_scene  # noqa: PLC0415

            apply_textures_to_scene(spec, self.polish)
        physics = self._physics
        simulated_ahead = physics is not None and needs_physics(spec) and physics.ready()
        if simulated_ahead:
            assert physics is not None
            physics.submit(scene_index, spec)
        self._pending.append(_Pending(scene_index, seed, frames, spec, simulated_ahead))
        self.clock.stages["sample"] += time.perf_counter() - t0

    def _polish_views(self, rendered: RenderedScene) -> None:
        """polish.mode=image: camera effects, then masked img2img with its consistency check, in the
        render process (the model lives here); the writer gets final colours and the polish records."""
        from simvision.polish.dataset import polish_rendered_frame  # noqa: PLC0415

        records = {}
        for cam_index, (frame_id, view) in enumerate(zip(rendered.frames, rendered.views, strict=True)):
            if frame_id in self.finished:
                continue
            rgb = final_colours(rendered.spec, rendered.seed, cam_index, view)
            view.rgb, records[frame_id] = polish_rendered_frame(
                self.polisher, self.out, frame_id, rgb, view.instance, view.depth, view.semantic
            )
        rendered.polish_records = records
        rendered.final_rgb = True


def _close_after_error(sink: FrameSink) -> None:
    """Keep every frame already rendered: finish writing them; the caller re-raises the first error."""
    try:
        sink.close()
    except Exception as exc:  # noqa: BLE001
        log.error("while stopping: writing the rendered frames failed too: %s", exc)


def log_render_info(info: Any) -> None:
    log.info(
        "Blender %s, BlenderProc %s, device %s%s, %d threads",
        info.blender_version,
        info.blenderproc_version,
        info.device,
        f" ({', '.join(info.gpus)})" if info.gpus else "",
        info.threads,
    )
