"""The reference for simvision's throughput: a plain BlenderProc script over the same frames.

What a BlenderProc user writes, following BlenderProc's own examples: per frame, build the scene
(the same :class:`~simvision.scene.tabletop.TabletopSampler` specs and the same
:class:`~simvision.render.builder.SceneBuilder`, rigid-body drop included), set one camera, render
RGB + depth + segmentation with ``bproc.renderer.render``, and write with BlenderProc's writers
(``write_hdf5`` and ``write_coco_annotations``). Render settings go through BlenderProc's API only:
samples, noise threshold, bounces, threads and its OIDN denoiser (``set_denoiser("INTEL")``, the
compositor's Denoise node with the same prefilter).

Frame ``f`` is camera ``f % k`` of scene ``f // k`` (``k`` = simvision's views per scene), so both
pipelines render identical scenes from identical cameras; with the denoiser off their images are
bit-identical (tested), with OIDN they differ only by where the denoiser runs.

Runs in its own process: BlenderProc's output registrations are global and cannot coexist with
simvision's renderer in one process.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simvision.labels.geometry import BLENDER_TO_OPENCV_CAM

BASELINE_STAGES = ("sample", "build", "render", "write")


@dataclass
class BaselineResult:
    frames: int
    startup_seconds: float
    loop_seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _denoiser_for_blenderproc(denoiser: str) -> str | None:
    """simvision's render.denoiser as BlenderProc's set_denoiser argument."""
    return {"OPENIMAGEDENOISE": "INTEL", "OPTIX": "OPTIX"}.get(denoiser.upper())


def configure_blenderproc(bpy: Any, bproc: Any, render_cfg: Any, class_ids: dict[str, int]) -> dict[str, Any]:
    """Render settings and outputs the way a BlenderProc script sets them (its API, its defaults)."""
    from simvision.render.builder import light_bounces, render_setting  # noqa: PLC0415

    get = lambda name: render_setting(render_cfg, name)  # noqa: E731
    bproc.renderer.set_max_amount_of_samples(int(get("samples")))
    bproc.renderer.set_noise_threshold(float(get("noise_threshold")))
    bounces = int(get("max_bounces"))
    bproc.renderer.set_light_bounces(**light_bounces(bounces))
    denoiser = _denoiser_for_blenderproc(str(get("denoiser")))
    bproc.renderer.set_denoiser(denoiser)
    prefilter = str(get("denoising_prefilter")).upper()
    for node in bpy.context.scene.node_tree.nodes:
        if node.bl_idname == "CompositorNodeDenoise":
            node.prefilter = prefilter  # equal settings: simvision's prefilter (default ACCURATE = node default)
    if denoiser == "OPTIX":
        bpy.context.scene.cycles.denoising_prefilter = prefilter
    # BlenderProc's init turns persistent data on; a script may switch it off (same setting as simvision)
    bpy.context.scene.render.use_persistent_data = bool(get("persistent_data"))
    bproc.renderer.enable_depth_output(activate_antialiasing=False)
    bproc.renderer.enable_segmentation_output(
        map_by=["category_id", "instance", "name"], default_values={"category_id": 0}
    )
    return {
        "samples": int(get("samples")),
        "denoiser": denoiser,
        "denoising_prefilter": prefilter if denoiser else None,
        "noise_threshold": float(get("noise_threshold")),
        "max_bounces": bounces,
        "persistent_data": bool(bpy.context.scene.render.use_persistent_data),
        "label_mapping": class_ids,
    }


def run_baseline(cfg: Any, out: Path) -> BaselineResult:
    """Render ``cfg.num_frames`` frames the plain-BlenderProc way into ``out`` (hdf5/ and coco_data/)."""
    from simvision.dataset.job_config import validate_job_config  # noqa: PLC0415
    from simvision.dataset.shards import scene_seed  # noqa: PLC0415
    from simvision.render import runtime  # noqa: PLC0415
    from simvision.render.builder import SceneBuilder, render_setting  # noqa: PLC0415
    from simvision.scene.base import load_scene  # noqa: PLC0415

    t_start = time.perf_counter()
    class_ids = validate_job_config(cfg)
    sampler = load_scene(cfg.scene, class_ids, tuple(int(v) for v in cfg.render.resolution))
    with runtime.quiet():
        runtime.start(render_setting(cfg.render, "device"), render_setting(cfg.render, "threads"))
    bproc = runtime.blenderproc()
    import bpy  # noqa: PLC0415

    settings = configure_blenderproc(bpy, bproc, cfg.render, class_ids)
    label_mapping = bproc.utility.LabelIdMapping.from_dict(class_ids)
    builder = SceneBuilder(bpy, bproc)
    per_scene = sampler.views_per_scene()
    out.mkdir(parents=True, exist_ok=True)
    timings = dict.fromkeys(BASELINE_STAGES, 0.0)
    t_loop = time.perf_counter()
    for frame in range(int(cfg.num_frames)):
        scene_index, cam_index = divmod(frame, per_scene)
        t0 = time.perf_counter()
        seed = scene_seed(cfg.seed, scene_index)
        spec = sampler.sample(scene_index, seed, per_scene, rng=np.random.default_rng(np.random.SeedSequence(seed)))
        t1 = time.perf_counter()
        builder.build(spec)  # clean_up, objects, materials, lights, physics: every frame
        bproc.utility.reset_keyframes()
        camera = spec.cameras[cam_index]
        bproc.camera.set_intrinsics_from_K_matrix(np.asarray(camera.K), camera.width, camera.height)
        bproc.camera.add_camera_pose(np.asarray(camera.cam_to_world) @ BLENDER_TO_OPENCV_CAM)
        t2 = time.perf_counter()
        with runtime.quiet():
            data = bproc.renderer.render(verbose=False)
        t3 = time.perf_counter()
        with runtime.quiet():
            bproc.writer.write_hdf5(str(out / "hdf5"), data, append_to_existing_output=True)
            bproc.writer.write_coco_annotations(
                str(out / "coco_data"),
                instance_segmaps=data["instance_segmaps"],
                instance_attribute_maps=data["instance_attribute_maps"],
                colors=data["colors"],
                color_file_format="PNG",
                label_mapping=label_mapping,
                append_to_existing_output=True,
            )
        t4 = time.perf_counter()
        for stage, seconds in zip(BASELINE_STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            timings[stage] += seconds
    loop = time.perf_counter() - t_loop
    return BaselineResult(int(cfg.num_frames), t_loop - t_start, loop, timings, settings)


def baseline_image(out: Path, frame: int) -> Path:
    """The RGB image the baseline wrote for ``frame`` (BlenderProc numbers COCO images in order)."""
    return out / "coco_data" / "images" / f"{frame:06d}.png"
