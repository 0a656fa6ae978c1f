"""Render settings that decide speed and quality, the writer process, the benchmark's baseline and
per-worker GPUs (real Blender, tiny frames; no timing is asserted anywhere)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from omegaconf import OmegaConf

from tests.conftest import TINY
from tests.render_cli import error_lines, render_cli

SMALL = [*TINY, "scene.num_objects=[3,5]", "scene.distractors=[0,1]", "output.card=false"]


@pytest.mark.blender
def test_images_are_denoised_once_inside_cycles() -> None:
    """bproc.init leaves BlenderProc's compositor OIDN node in the tree; with Cycles' own OIDN on,
    every image would be denoised twice. The renderer removes it and keeps one Cycles pass."""
    import bpy

    from simvision.render.builder import Renderer

    cfg = OmegaConf.create(
        {"device": "cpu", "samples": 2, "denoiser": "OPENIMAGEDENOISE", "denoising_prefilter": "FAST"}
    )
    renderer = Renderer(cfg)
    scene = bpy.context.scene
    assert [n for n in scene.node_tree.nodes if n.bl_idname == "CompositorNodeDenoise"] == []
    assert scene.cycles.use_denoising and bpy.context.view_layer.cycles.use_denoising
    assert scene.cycles.denoiser == "OPENIMAGEDENOISE" and scene.cycles.denoising_prefilter == "FAST"
    assert not bpy.context.view_layer.use_pass_diffuse_color  # only the compositor denoiser needed it
    assert renderer.settings["denoising_prefilter"] == "FAST" and renderer.settings["persistent_data"]
    Renderer(OmegaConf.create({"device": "cpu", "samples": 2, "denoiser": "none", "noise_threshold": 0.02}))
    assert not scene.cycles.use_denoising
    assert scene.cycles.use_adaptive_sampling and scene.cycles.adaptive_threshold == pytest.approx(0.02)


def _laplacian_energy(path: Path) -> float:
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE).astype(np.float64)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


@pytest.mark.blender
@pytest.mark.slow
def test_denoiser_removes_noise_from_the_same_frame(tmp_path: Path, compose_cfg) -> None:
    from simvision.dataset.job import run

    common = ["num_frames=1", "seed=3", *SMALL, "render.resolution=[96,72]", "render.samples=2"]
    run(compose_cfg(f"output_dir={tmp_path / 'noisy'}", *common, "render.denoiser=none"))
    run(compose_cfg(f"output_dir={tmp_path / 'clean'}", *common, "render.denoiser=OPENIMAGEDENOISE"))
    noisy = _laplacian_energy(tmp_path / "noisy" / "images" / "000000.png")
    clean = _laplacian_energy(tmp_path / "clean" / "images" / "000000.png")
    assert clean < 0.7 * noisy
    a = cv2.imread(str(tmp_path / "noisy" / "instance" / "000000.png"), cv2.IMREAD_UNCHANGED)
    b = cv2.imread(str(tmp_path / "clean" / "instance" / "000000.png"), cv2.IMREAD_UNCHANGED)
    assert (a == b).all()  # denoising touches colours only


@pytest.mark.blender
@pytest.mark.slow
def test_a_contrastier_view_transform_changes_the_colours_not_the_labels(tmp_path: Path, compose_cfg) -> None:
    import bpy

    from simvision.dataset.job import run

    common = ["num_frames=1", "seed=3", *SMALL, "render.resolution=[96,72]"]
    run(compose_cfg(f"output_dir={tmp_path / 'flat'}", *common))  # BlenderProc's Filmic, no look
    run(compose_cfg(f"output_dir={tmp_path / 'punchy'}", *common, "render.view_transform=AgX", "render.look=Punchy"))
    assert (bpy.context.scene.view_settings.view_transform, bpy.context.scene.view_settings.look) == (
        "AgX",
        "AgX - Punchy",  # Blender's name for the short one in the config
    )
    flat, punchy = _manifest(tmp_path / "flat")[0], _manifest(tmp_path / "punchy")[0]
    assert (flat["render"]["view_transform"], flat["render"]["look"]) == ("Filmic", "None")
    assert (punchy["render"]["view_transform"], punchy["render"]["look"]) == ("AgX", "Punchy")
    a = cv2.imread(str(tmp_path / "flat" / "images" / "000000.png")).astype(float)
    b = cv2.imread(str(tmp_path / "punchy" / "images" / "000000.png")).astype(float)
    assert np.abs(a - b).mean() > 2  # a different curve from the same light
    # Punchy's curve spreads the tones and saturates the colours more than flat Filmic's
    assert b.std() > a.std()
    saturation = [cv2.cvtColor(x.astype(np.uint8), cv2.COLOR_BGR2HSV)[..., 1].mean() for x in (a, b)]
    assert saturation[1] > saturation[0]
    for kind in ("instance", "semantic"):
        x = cv2.imread(str(tmp_path / "flat" / kind / "000000.png"), cv2.IMREAD_UNCHANGED)
        y = cv2.imread(str(tmp_path / "punchy" / kind / "000000.png"), cv2.IMREAD_UNCHANGED)
        assert x is not None and (x == y).all()
    assert flat["objects"] == punchy["objects"]


def _manifest(folder: Path) -> dict[int, dict]:
    lines = (folder / "metadata" / "frames.jsonl").read_text().splitlines()
    return {r["frame_id"]: r for r in map(json.loads, lines)}


@pytest.mark.blender
@pytest.mark.slow
def test_writer_process_and_inline_writes_give_the_same_dataset(tmp_path: Path, compose_cfg) -> None:
    from simvision.dataset.job import STAGES, run

    common = ["num_frames=4", "seed=8", *SMALL]
    background = run(compose_cfg(f"output_dir={tmp_path / 'bg'}", *common, "output.background_writes=true"))
    inline = run(compose_cfg(f"output_dir={tmp_path / 'inline'}", *common, "output.background_writes=false"))
    assert background.frames == inline.frames == 4
    a, b = _manifest(tmp_path / "bg"), _manifest(tmp_path / "inline")
    assert sorted(a) == sorted(b) == [0, 1, 2, 3]
    for frame_id in a:
        assert a[frame_id]["checksums"] == b[frame_id]["checksums"]  # every file byte for byte
        assert a[frame_id]["objects"] == b[frame_id]["objects"]
    first = json.loads((tmp_path / "bg" / "annotations" / "instances.json").read_text())
    second = json.loads((tmp_path / "inline" / "annotations" / "instances.json").read_text())
    assert first["annotations"] == second["annotations"]
    # the settings that decide speed and quality are recorded with every frame
    render = a[0]["render"]
    for key in ("samples", "denoiser", "noise_threshold", "max_bounces", "persistent_data", "threads", "device"):
        assert key in render
    assert render["samples"] == 2 and render["denoiser"] == "NONE"
    throughput = json.loads((tmp_path / "bg" / "throughput.json").read_text())
    assert throughput["frames"] == 4 and throughput["loop_seconds"] > 0
    assert set(throughput["stage_seconds"]) == set(STAGES)
    assert throughput["loop_ended_at"] > throughput["loop_started_at"]
    assert throughput["background_writes"] is True
    assert background.timings["labels"] > 0 and background.timings["write"] > 0  # reported from the writer


def test_worker_gpus_split_between_local_workers() -> None:
    from simvision.render.runtime import worker_cuda_devices

    assert worker_cuda_devices(None, 0, 1, 4) is None  # one worker keeps every GPU
    assert worker_cuda_devices(None, 5, 8, 4) == "1"  # 8 workers over 4 GPUs
    assert worker_cuda_devices("2,3", 1, 2, None) == "3"  # the job's own GPU list is respected
    assert worker_cuda_devices("2, 3", 2, 3, None) == "2"
    assert worker_cuda_devices("7", 1, 2, None) is None  # already one GPU (e.g. set by SLURM)
    assert worker_cuda_devices(None, 1, 2, 0) is None and worker_cuda_devices(None, 1, 2, None) is None
    assert worker_cuda_devices("", 1, 2, 2) == "1"


@pytest.mark.blender
@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine has an NVIDIA GPU")
def test_a_requested_gpu_that_is_missing_gives_one_line(tmp_path: Path) -> None:
    proc = render_cli(f"output_dir={tmp_path / 'x'}", *TINY, "render.device=cuda", cwd=tmp_path, timeout=300)
    assert proc.returncode == 2
    errors = error_lines(proc)
    assert errors == [
        "simvision-render: error: render.device=cuda: Cycles finds no CUDA device on this machine; "
        "use render.device=cpu or render.device=auto"
    ]
    assert (
        not (tmp_path / "x" / "metadata" / "frames.jsonl").exists()
        or not (tmp_path / "x" / "metadata" / "frames.jsonl").read_text()
    )


@pytest.mark.blender
@pytest.mark.slow
def test_baseline_renders_the_same_frames_as_simvision(tmp_path: Path) -> None:
    """The benchmark's plain-BlenderProc loop: same scenes, same cameras, same settings -> with the
    denoiser off, the same pixels; its own writers produce a COCO file pycocotools reads."""
    from pycocotools.coco import COCO

    from simvision.bench.throughput import format_table, measure

    overrides = ["scene.num_objects=[3,5]", "scene.distractors=[0,1]", "render.device=cpu", "render.denoiser=none"]
    # BlenderProc keeps Cycles' data from frame to frame, which changes the noise of the next frame;
    # switched off, both pipelines render every frame from a fresh state
    overrides.append("render.persistent_data=false")
    row = measure(64, 48, 2, 3, overrides, 0, tmp_path)
    assert math.isinf(row["psnr_simvision_vs_baseline_db"])  # bit-identical images
    assert row["baseline"]["frames"] == row["simvision"]["frames"] == 3
    assert row["ratio"] > 0 and "| 64x48 | 2 | 3 |" in format_table([row])
    assert len(list((tmp_path / "baseline_64x48_2" / "hdf5").glob("*.hdf5"))) == 3
    base = COCO(str(tmp_path / "baseline_64x48_2" / "coco_data" / "coco_annotations.json"))
    sim = COCO(str(tmp_path / "simvision_64x48_2" / "annotations" / "instances.json"))
    for frame in range(3):  # the same visible objects of the same classes in every frame
        base_classes = sorted(a["category_id"] for a in base.loadAnns(base.getAnnIds(imgIds=[frame])))
        sim_classes = sorted(a["category_id"] for a in sim.loadAnns(sim.getAnnIds(imgIds=[frame])))
        assert base_classes == sim_classes and base_classes


@pytest.mark.blender
@pytest.mark.slow
def test_baseline_and_simvision_denoise_to_the_same_image(tmp_path: Path) -> None:
    """With OIDN on, the baseline denoises in BlenderProc's compositor and simvision inside Cycles:
    different places, same quality settings, nearly the same image."""
    from simvision.bench.throughput import measure

    overrides = ["scene.num_objects=[3,5]", "scene.distractors=[0,1]", "render.device=cpu"]
    row = measure(96, 72, 4, 1, overrides, 0, tmp_path)
    assert 30.0 < row["psnr_simvision_vs_baseline_db"] < math.inf


@pytest.mark.blender
@pytest.mark.slow
def test_worker_scaling_runs_real_joblib_workers(tmp_path: Path) -> None:
    from simvision.bench.workers import format_table, run_split

    overrides = ["render.resolution=[64,48]", "render.samples=2", "render.device=cpu", "scene.num_objects=[2,3]"]
    one = run_split(1, 1, 4, overrides, tmp_path)
    two = run_split(2, 1, 4, overrides, tmp_path)
    assert one["frames"] == two["frames"] == 4
    assert len(two["shard_fps"]) == 2 and all(v > 0 for v in two["shard_fps"])
    shard = json.loads((tmp_path / "w2_t1" / "shard_1" / "throughput.json").read_text())
    assert shard["shard"] == {"index": 1, "count": 2} and shard["render_threads"] == 1
    first = json.loads((tmp_path / "w2_t1" / "shard_1" / "metadata" / "frames.jsonl").read_text().splitlines()[0])
    assert first["render"]["threads"] == 1
    table = format_table([one, two])
    assert "| 2x1 | 4 |" in table and "fastest split" in table


@pytest.mark.blender
@pytest.mark.slow
def test_device_check_compares_labels_between_devices(capsys) -> None:
    """The GPU check's comparison, run CPU against CPU here: identical labels, identical pixels."""
    from simvision.bench.devices import main

    tiny = ["render.resolution=[64,48]", "render.samples=2", "scene.num_objects=[2,3]"]
    assert main(["--devices", "cpu", "cpu", "tpu", "--frames", "2", *tiny]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Cycles devices:")
    rows = [line for line in lines if line.startswith("| cpu |")]
    assert len(rows) == 2 and all("| 100.00 % | 0.00e+00 | True | inf |" in row for row in rows)
    assert any(line.startswith("| tpu | failed:") for line in lines)  # a bad device is reported, not fatal


@pytest.mark.gpu
@pytest.mark.blender
def test_gpu_renders_carry_the_same_labels_as_the_cpu(capsys) -> None:
    if shutil.which("nvidia-smi") is None:
        pytest.skip("no NVIDIA GPU")
    from simvision.bench.devices import main

    assert main(["--devices", "cpu", "cuda", "--frames", "2", "render.resolution=[160,120]"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| cuda |"))
    assert "| True |" in row and "failed" not in row


@pytest.mark.blender
@pytest.mark.slow
def test_physics_worker_gives_the_same_scenes_pixels_and_labels(tmp_path: Path, compose_cfg) -> None:
    """The rigid-body drop done one scene ahead in the physics worker, or in the render process:
    the same final poses, the same files byte for byte."""
    from simvision.dataset.job import run

    common = [
        "num_frames=4",
        "seed=8",
        *TINY,
        "scene.num_objects=[4,8]",
        "scene.distractors=[1,2]",
        "output.card=false",
    ]
    worker = run(compose_cfg(f"output_dir={tmp_path / 'worker'}", *common, "render.physics_worker=true"))
    inline = run(compose_cfg(f"output_dir={tmp_path / 'inline'}", *common, "render.physics_worker=false"))
    a, b = _manifest(tmp_path / "worker"), _manifest(tmp_path / "inline")
    assert sorted(a) == sorted(b) == [0, 1, 2, 3]
    for frame_id in a:
        assert a[frame_id]["checksums"] == b[frame_id]["checksums"]
        assert [o["pose_world"] for o in a[frame_id]["objects"]] == [o["pose_world"] for o in b[frame_id]["objects"]]
    assert worker.frames == inline.frames == 4
    assert a[0]["render"]["physics_worker"] is True and b[0]["render"]["physics_worker"] is False
    # the objects did fall: final heights differ from where they were dropped
    assert any(abs(o["pose_world"][2][3] - o["location"][2]) > 1e-3 for o in a[3]["objects"])


@pytest.mark.blender
@pytest.mark.slow
def test_physics_worker_poses_equal_an_in_process_drop(compose_cfg) -> None:
    """Scenes handed to the worker come back settled exactly where an in-process drop leaves them,
    and building with those poses gives the same world poses without simulating."""
    import time

    from simvision.dataset.job_config import validate_job_config
    from simvision.render.builder import Renderer
    from simvision.render.physics_worker import PhysicsWorker, needs_physics
    from simvision.scene.base import load_scene

    cfg = compose_cfg("output_dir=/tmp/unused", *TINY, "scene.num_objects=[4,8]", "scene.distractors=[1,2]")
    sampler = load_scene(cfg.scene, validate_job_config(cfg), (64, 48))
    specs = [sampler.sample(i, [5, i], 1, rng=np.random.default_rng(np.random.SeedSequence([5, i]))) for i in range(3)]
    assert all(needs_physics(spec) for spec in specs)
    worker = PhysicsWorker()
    try:
        deadline = time.monotonic() + 120
        while not worker.ready():
            assert time.monotonic() < deadline, "the physics worker did not start"
            time.sleep(0.1)
        for i, spec in enumerate(specs):
            worker.submit(i, spec)
        settled = [worker.result(i) for i in range(3)]
    finally:
        worker.close()
    renderer = Renderer(cfg.render)
    for spec, poses in zip(specs, settled, strict=True):
        here = renderer.build(spec)  # simulated in this process
        assert here.settled == poses
        placed = renderer.build(spec, poses)  # placed, not simulated
        for index, matrix in here.poses_world.items():
            assert np.array_equal(placed.poses_world[index], matrix)
        moved = [abs(loc[2] - o.location[2]) for (loc, _), o in zip(poses.values(), spec.objects, strict=True)]
        assert max(moved) > 1e-3  # the objects did drop
