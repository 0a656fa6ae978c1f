"""One render job (one shard): validate, resume, run the render loop, then assemble the shard.

``run(cfg)`` is what ``simvision-render`` calls for each Hydra job; tests call it directly.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simvision import __version__
from simvision.config.checks import ConfigError
from simvision.dataset.job_config import validate_job_config
from simvision.dataset.render_loop import STAGES, Interrupted, LoopClock, RenderLoop
from simvision.dataset.resume import check_same_config, recover, write_config
from simvision.dataset.shards import scene_frames, shard_scenes
from simvision.dataset.stats import format_counts, realised_counts
from simvision.formats.coco import CocoWriter, coco_categories
from simvision.io.atomic import atomic_write_json
from simvision.io.folder import frame_labels_path
from simvision.io.frames import read_metadata
from simvision.io.lock import LockedError, lock_folder
from simvision.render.memory import check_pass_memory
from simvision.scene.base import load_scene

if TYPE_CHECKING:
    from simvision.dataset.validate import ValidationResult

log = logging.getLogger("simvision")

__all__ = ["STAGES", "Interrupted", "InvalidDatasetError", "OutputError", "RenderResult", "run"]


class OutputError(RuntimeError):
    """Writing the dataset failed (disk full, folder gone); finished frames are kept."""


class InvalidDatasetError(RuntimeError):
    """The shard failed its own end-of-run validation; everything written is kept for inspection."""


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


def run(cfg: Any) -> RenderResult:
    """Render this shard's frames into ``cfg.output_dir``; frames finished earlier are kept.

    The folder is locked for the whole job, end-of-shard work included: a second job on it stops at
    once (one line naming the holder), instead of interleaving manifest lines with this one.
    """
    class_ids = validate_job_config(cfg)
    out = Path(str(cfg.output_dir)).resolve()
    _prepare_output(out)
    try:
        lock = lock_folder(out)
    except LockedError as exc:
        raise ConfigError(
            f"output_dir: {out} is in use by another simvision-render job ({exc.holder}); wait for it to "
            "finish or use another output_dir"
        ) from None
    with lock:
        return _run_locked(cfg, out, class_ids)


def _run_locked(cfg: Any, out: Path, class_ids: dict[str, int]) -> RenderResult:
    check_same_config(out, cfg)
    width, height = (int(v) for v in cfg.render.resolution)
    scene = load_scene(cfg.scene, class_ids, (width, height))  # reads every asset: bad files fail before rendering
    prepare_assets(scene.asset_requests())  # generated assets (Infinigen) into their cache, once
    per_scene = scene.views_per_scene()
    # before Blender: refuse passes that cannot fit in memory
    check_pass_memory(cfg.render, per_scene, normals=bool(cfg.output.get("normals", False)))
    num_frames = int(cfg.num_frames)
    scenes = shard_scenes(num_frames, per_scene, int(cfg.shard.index), int(cfg.shard.count))
    frame_ids = [f for s in scenes for f in scene_frames(s, per_scene, num_frames)]
    finished = recover(out)
    todo = [s for s in scenes if any(f not in finished for f in scene_frames(s, per_scene, num_frames))]
    write_config(out, cfg)
    shard_name = f"{int(cfg.shard.index)}/{int(cfg.shard.count)}"
    if finished:
        done = sum(f in finished for f in frame_ids)
        log.info("resuming shard %s: %d of %d frames already finished", shard_name, done, len(frame_ids))
    started = time.perf_counter()
    loop = RenderLoop(scene, cfg, out, finished, num_frames)
    rendered = 0
    try:
        if todo:
            rendered = loop.run(todo)
    except OSError as exc:
        raise _output_error(out, exc) from exc
    t0 = time.perf_counter()
    try:
        validation = finish_shard(out, cfg, scene, frame_ids)
    except KeyboardInterrupt:  # every frame is written; the rerun does this part again
        raise Interrupted(rendered) from None
    except OSError as exc:  # disk full while writing COCO, stats, exports or the card: a rerun redoes this
        raise _output_error(out, exc) from exc
    finish = time.perf_counter() - t0
    log.debug("shard finishing (COCO, stats, formats, card) took %.1f s", finish)
    seconds = time.perf_counter() - started
    clock = loop.clock
    result = RenderResult(
        out,
        rendered,
        seconds,
        clock.stages,
        skipped=len(frame_ids) - rendered,
        startup_seconds=clock.startup,
        loop_seconds=clock.loop,
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
    if validation is not None and not validation.ok:  # a job whose own check fails must not exit 0
        kinds = ", ".join(f"{k}={n}" for k, n in validation.counts_by_kind().items())
        raise InvalidDatasetError(
            f"output_dir: {out} failed its own validation: {len(validation.violations)} violations ({kinds}); "
            f"its files are kept, run simvision-validate {out} to list them"
        )
    return result


def prepare_assets(requests: list[Any]) -> None:
    """Generate the scene type's missing cached assets (a helper Blender process) before sampling."""
    if not requests:
        return
    import importlib.util  # noqa: PLC0415

    from simvision.render.infinigen_assets import prepare  # noqa: PLC0415

    if importlib.util.find_spec("infinigen") is None:
        raise ConfigError("scene.assets: 'infinigen' needs the infinigen package (make setup installs it)")
    prepare(requests)


def finish_shard(out: Path, cfg: Any, scene: Any, frame_ids: list[int]) -> ValidationResult | None:
    """End of shard: instances.json from the sidecars, stats, extra formats, validation and card."""
    coco = assemble_coco(out, cfg.classes, int(cfg.seed), cfg.shard, frame_ids)
    stats = realised_counts(coco, read_metadata(out / "metadata" / "frames.jsonl"), scene.condition_targets())
    atomic_write_json(out / "stats.json", stats, indent=2)
    log.info("%s", format_counts(stats))
    return export_formats(out, cfg.output, f"simvision {scene.cfg.name} scenes, seed {cfg.seed}")


def _prepare_output(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}.tmp"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"output_dir: cannot write to {out} ({exc.strerror or exc})") from exc


def _output_error(out: Path, exc: OSError) -> OutputError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(
            f"output_dir: disk full while writing to {out}; finished frames are kept, free space and run "
            "the same command again to resume"
        )
    return OutputError(f"output_dir: cannot write to {out} ({exc.strerror or exc}); finished frames are kept")


def export_formats(out: Path, output: Any, purpose: str) -> ValidationResult | None:
    """Extra label formats, validation and the dataset card, from the files just written; returns the
    validation (None with ``output.card=false``)."""
    from simvision.dataset.card import write_card  # noqa: PLC0415
    from simvision.dataset.merge import export_format  # noqa: PLC0415
    from simvision.dataset.validate import validate_dataset  # noqa: PLC0415

    for fmt in output.formats:
        export_format(out, fmt)  # COCO, the shard's own format, writes nothing
    if output.card:
        validation = validate_dataset(out)
        write_card(out, validation=validation, purpose=purpose)
        log.info("validation: %s", validation.summary())
        return validation
    return None


def assemble_coco(out: Path, classes: Any, seed: int, shard: Any, frame_ids: list[int]) -> dict[str, Any]:
    """The shard's instances.json from the per-frame COCO sidecars (ids from the frame ids)."""
    coco = CocoWriter(
        out / "annotations" / "instances.json",
        coco_categories(classes),
        {
            "description": "simvision synthetic dataset",
            "version": __version__,
            "seed": seed,
            "shard": {"index": int(shard.index), "count": int(shard.count)},
        },
    )
    for frame_id in frame_ids:
        part = json.loads(frame_labels_path(out, frame_id).read_text())
        coco.add(part["image"], part["annotations"])
    coco.write()
    return coco.document()


def write_throughput(out: Path, result: RenderResult, clock: LoopClock, cfg: Any) -> None:
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
            "loop_started_at": clock.loop_started_at,
            "loop_ended_at": clock.loop_ended_at,
            "stage_seconds": result.timings,
            "shard": {"index": int(cfg.shard.index), "count": int(cfg.shard.count)},
            "render_threads": int(cfg.render.threads),
            "background_writes": bool(cfg.output.get("background_writes", True)),
        },
        indent=2,
    )
