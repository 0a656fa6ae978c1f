"""Sharding, resume, crash safety and real Hydra launchers (real Blender, tiny frames)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from tests.conftest import TINY

pytestmark = [pytest.mark.blender, pytest.mark.slow]

ONE_VIEW = [
    *TINY,
    "scene.camera.cameras_per_scene=1",
    "scene.num_objects=[2,4]",
    "scene.distractors=[0,1]",
    "scene.physics_min_time=0.5",
    "scene.physics_max_time=1.5",
    "output.card=false",
]


def sidecars(folder: Path) -> dict[str, dict]:
    """Per-frame COCO image + annotations, keyed by file name (frame ids are global)."""
    return {p.name: json.loads(p.read_text()) for p in sorted((folder / "annotations" / "frames").glob("*.json"))}


def all_sidecars(*folders: Path) -> dict[str, dict]:
    merged: dict[str, dict] = {}
    for folder in folders:
        merged.update(sidecars(folder))
    return merged


def cli(*args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "simvision.cli.render", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def plain(tmp_path_factory, compose_cfg) -> Path:
    """The reference: 4 frames rendered by one plain job."""
    from simvision.dataset.job import run

    out = tmp_path_factory.mktemp("plain")
    run(compose_cfg(f"output_dir={out}", "num_frames=4", "seed=11", *ONE_VIEW))
    return out


def test_shards_together_equal_one_plain_run(plain: Path, tmp_path: Path, compose_cfg) -> None:
    from simvision.dataset.job import run

    shards = []
    for index in range(2):
        out = tmp_path / f"shard_{index}"
        result = run(
            compose_cfg(
                f"output_dir={out}", "num_frames=4", "seed=11", "shard.count=2", f"shard.index={index}", *ONE_VIEW
            )
        )
        assert result.frames == 2
        shards.append(out)
    assert all_sidecars(*shards) == sidecars(plain)


def test_rerun_skips_finished_frames_and_repairs_missing_ones(plain: Path, tmp_path: Path, compose_cfg) -> None:
    from simvision.dataset.job import run

    out = tmp_path / "resume"
    cfg = compose_cfg(f"output_dir={out}", "num_frames=4", "seed=11", *ONE_VIEW)
    run(cfg)
    again = run(cfg)
    assert again.frames == 0 and again.skipped == 4
    # damage frame 2: corrupt its image; the checksum catches it and only that frame is redone
    (out / "images" / "000002.png").write_bytes(b"garbage")
    repaired = run(cfg)
    assert repaired.frames == 1 and repaired.skipped == 3
    assert cv2.imread(str(out / "images" / "000002.png")) is not None
    assert sidecars(out) == sidecars(plain)
    lines = (out / "metadata" / "frames.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["frame_id"] for line in lines) == [0, 1, 2, 3]


def test_a_different_config_is_refused_in_the_same_folder(plain: Path, compose_cfg) -> None:
    from simvision.config import ConfigError
    from simvision.dataset.job import run

    with pytest.raises(ConfigError, match=r"^output_dir: .*seed differs"):
        run(compose_cfg(f"output_dir={plain}", "num_frames=4", "seed=12", *ONE_VIEW))


@pytest.mark.parametrize("damage", ["deleted", "corrupt"])
def test_without_config_json_the_frames_still_refuse_another_seed(
    plain: Path, tmp_path: Path, compose_cfg, damage: str
) -> None:
    """Deleting config.json let another seed adopt the frames; a corrupt one gave a JSONDecodeError."""
    import shutil

    from simvision.config import ConfigError
    from simvision.dataset.job import run

    out = tmp_path / "no_config"
    shutil.copytree(plain, out)
    if damage == "deleted":
        (out / "config.json").unlink()
    else:
        (out / "config.json").write_text('{"seed": 11,')
    with pytest.raises(ConfigError, match=r"^output_dir: .*the config fingerprint in metadata/frames.jsonl differs"):
        run(compose_cfg(f"output_dir={out}", "num_frames=4", "seed=12", *ONE_VIEW))
    resumed = run(compose_cfg(f"output_dir={out}", "num_frames=4", "seed=11", *ONE_VIEW))
    assert (resumed.frames, resumed.skipped) == (0, 4)
    assert json.loads((out / "config.json").read_text())["seed"] == 11  # rewritten from the matching config


def test_a_run_that_fails_before_its_first_frame_leaves_its_folder_free(
    plain: Path, tmp_path: Path, compose_cfg
) -> None:
    """A GPU missing at Blender's start left config.json behind, and the fixed rerun was refused."""
    from simvision.dataset.job import run
    from simvision.render.runtime import RenderDeviceError

    out = tmp_path / "retry"
    common = [f"output_dir={out}", "num_frames=4", "seed=11", *(o for o in ONE_VIEW if "render.device" not in o)]
    try:
        run(compose_cfg(*common, "render.device=cuda"))
    except RenderDeviceError:
        pass
    else:
        pytest.skip("this machine has a CUDA device")
    assert (out / "config.json").is_file()  # what used to lock the folder to the failed config
    result = run(compose_cfg(*common, "render.device=cpu"))
    assert result.frames == 4
    assert sidecars(out) == sidecars(plain)


def test_disk_full_gives_a_clear_error_and_keeps_finished_frames(tmp_path: Path, compose_cfg, monkeypatch) -> None:
    import errno

    from simvision.dataset.job import OutputError, run
    from simvision.io import frames

    real = frames.atomic_write_bytes
    calls = {"n": 0}

    def failing(path, data):
        calls["n"] += 1
        if calls["n"] > 5:  # the first frame's 5 files succeed, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(frames, "atomic_write_bytes", failing)
    out = tmp_path / "full"
    # the injected failure lives in this process, so the frames are written here, not by the writer process
    cfg = compose_cfg(f"output_dir={out}", "num_frames=3", "seed=11", *ONE_VIEW, "output.background_writes=false")
    with pytest.raises(OutputError, match=r"^output_dir: disk full .* run the same command again to resume"):
        run(cfg)
    monkeypatch.setattr(frames, "atomic_write_bytes", real)
    result = run(cfg)
    assert result.skipped == 1 and result.frames == 2


def test_a_write_error_in_the_writer_process_stops_the_job_and_keeps_finished_frames(
    plain: Path, tmp_path: Path, compose_cfg
) -> None:
    from simvision.dataset.job import OutputError, run

    out = tmp_path / "blocked"
    cfg = compose_cfg(f"output_dir={out}", "num_frames=4", "seed=11", *ONE_VIEW)
    blocker = out / "images" / "000002.png"
    blocker.mkdir(parents=True)  # frame 2's image cannot be written: a folder is in the way
    with pytest.raises(OutputError, match=r"^output_dir: cannot write to .*finished frames are kept"):
        run(cfg)
    assert len((out / "metadata" / "frames.jsonl").read_text().splitlines()) == 2  # frames 0 and 1 committed
    blocker.rmdir()
    result = run(cfg)
    assert result.skipped == 2 and result.frames == 2
    assert sidecars(out) == sidecars(plain)


def test_edited_labels_fail_validation_and_a_rerun_renders_those_frames_again(
    plain: Path, tmp_path: Path, compose_cfg
) -> None:
    """Edits to a manifest line or a COCO sidecar used to pass validation and survive a rerun."""
    import shutil

    from simvision.cli import validate as validate_cli
    from simvision.dataset.job import run
    from simvision.dataset.validate import validate_dataset

    out = tmp_path / "edited"
    shutil.copytree(plain, out)
    manifest = out / "metadata" / "frames.jsonl"
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    lines[1]["objects"][0]["class_name"] = "unicorn"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in lines))
    sidecar = out / "annotations" / "frames" / "000002.json"
    part = json.loads(sidecar.read_text())
    part["annotations"][0]["category_id"] = 3 if part["annotations"][0]["category_id"] != 3 else 4
    sidecar.write_text(json.dumps(part))
    assert validate_cli.main([str(out)]) == 1
    report = "\n".join(map(str, validate_dataset(out).violations))
    assert "checksum_mismatch: frame 1 (images/000001.png): " in report
    assert "checksum_mismatch: frame 2 (images/000002.png): " in report
    result = run(compose_cfg(f"output_dir={out}", "num_frames=4", "seed=11", *ONE_VIEW))
    assert (result.frames, result.skipped) == (2, 2)
    assert sidecars(out) == sidecars(plain)
    coco, clean = (json.loads((d / "annotations" / "instances.json").read_text()) for d in (out, plain))
    assert coco["annotations"] == clean["annotations"]
    assert validate_cli.main([str(out)]) == 0


def test_sigkill_mid_render_leaves_no_partial_data_and_resumes(plain: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    args = [sys.executable, "-m", "simvision.cli.render", f"output_dir={out}", "num_frames=4", "seed=11", *ONE_VIEW]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = out / "metadata" / "frames.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if manifest.exists() and len(manifest.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the render finished before it could be killed"
    import psutil

    writers = psutil.Process(proc.pid).children()  # the writer process
    assert writers, "the job has no writer process"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _, alive = psutil.wait_procs(writers, timeout=10)
    assert not alive, "the writer process outlived its killed job"
    # whatever is visible is complete data: every non-hidden image decodes
    for folder in ("images", "instance", "semantic", "depth_mm"):
        for path in (out / folder).glob("[!.]*"):
            assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED) is not None, path
    assert not (out / "annotations" / "instances.json").exists()  # no half dataset posing as a whole one
    done_before = len(manifest.read_text().splitlines())
    result = cli(f"output_dir={out}", "num_frames=4", "seed=11", *ONE_VIEW, cwd=tmp_path)
    assert f"{done_before} already done" in result.stdout or "already done" in result.stdout
    assert sidecars(out) == sidecars(plain)
    assert not list(out.rglob(".*.tmp"))


def test_a_second_job_on_a_busy_folder_is_refused_and_the_first_finishes_clean(plain: Path, tmp_path: Path) -> None:
    """Two jobs on one folder used to both exit 0, with duplicate manifest lines or mixed seeds."""
    import socket

    from simvision.dataset.validate import validate_dataset
    from simvision.io.lock import LOCK_NAME

    out = tmp_path / "busy"
    args = [sys.executable, "-m", "simvision.cli.render", f"output_dir={out}", "num_frames=4", *ONE_VIEW]
    first = subprocess.Popen([*args, "seed=11"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and first.poll() is None:
        if (out / LOCK_NAME).exists() and (out / LOCK_NAME).read_text().split()[:1] == [str(first.pid)]:
            break
        time.sleep(0.05)
    refusal = (
        f"simvision-render: error: output_dir: {out} is in use by another simvision-render job "
        f"(PID {first.pid} on host {socket.gethostname()}); wait for it to finish or use another output_dir"
    )
    for seed in (11, 12):  # the same config (duplicate lines) and another seed (mixed frames)
        second = subprocess.run([*args, f"seed={seed}"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert (second.returncode, second.stderr.strip()) == (2, refusal)
    assert first.poll() is None, "the first job ended before the second one tried"
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    lines = (out / "metadata" / "frames.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["frame_id"] for line in lines) == [0, 1, 2, 3]
    assert sidecars(out) == sidecars(plain)
    assert validate_dataset(out).ok


def test_a_render_whose_own_validation_fails_exits_non_zero(tmp_path: Path) -> None:
    """The log said FAILED and the job exited 0."""
    out = tmp_path / "invalid"
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(
        [sys.executable, "-m", "simvision.cli.render", f"output_dir={out}", "num_frames=2", "seed=11", *ONE_VIEW]
        + ["output.card=true", "output.formats=[coco,tests.plugins.clobber_depth.ClobberDepth]"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1] == (
        f"simvision-render: error: output_dir: {out} failed its own validation: 2 violations "
        f"(checksum_mismatch=1, depth_empty=1); its files are kept, run simvision-validate {out} to list them"
    )
    assert "Traceback" not in proc.stderr
    assert (out / "dataset_card.md").is_file()  # the card with the violations is written first


def test_ctrl_c_stops_after_the_frame_in_hand_cleans_up_and_a_rerun_completes(plain: Path, tmp_path: Path) -> None:
    """Ctrl-C gave a long traceback ending in 'the writer process stopped unexpectedly (exit code -2)',
    or, during a Cycles render, was swallowed and the job exited 0; temp folders were left behind."""

    import psutil

    out, scratch = tmp_path / "interrupted", tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}  # where the job's /tmp/simvision-<pid>-* folders go
    # 8 frames so that the job is still busy when the signal lands; frames 0-3 are plain's 4 frames
    args = [sys.executable, "-m", "simvision.cli.render", f"output_dir={out}", "num_frames=8", "seed=11", *ONE_VIEW]
    args.append("render.physics_worker=true")  # both helpers: the writer and the physics worker
    proc = subprocess.Popen(
        args,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    manifest = out / "metadata" / "frames.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and not (manifest.exists() and manifest.read_text()):
        time.sleep(0.05)
    assert proc.poll() is None, "the render ended before its first frame was written"
    helpers = psutil.Process(proc.pid).children(recursive=True)
    assert len(helpers) == 2, helpers
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C at a terminal does: the whole foreground group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    committed = len(manifest.read_text().splitlines())
    assert 1 <= committed < 8
    assert err.strip().splitlines()[-1] == f"simvision-render: interrupted after {committed} frames; rerun to resume"
    assert "Traceback" not in err and "stopped unexpectedly" not in err, err[-3000:]
    _, alive = psutil.wait_procs(helpers, timeout=10)
    assert not alive, "a helper process outlived the interrupted job"
    assert not list(scratch.iterdir())
    assert not list(Path("/dev/shm").glob(f"simvision-physics-{proc.pid}-*"))
    rerun = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert len(manifest.read_text().splitlines()) == 8
    assert {k: v for k, v in sidecars(out).items() if k < "000004"} == sidecars(plain)
    assert not list(scratch.iterdir())  # a finished run leaves no temp folder either


def test_ctrl_c_while_blender_starts_stops_before_the_first_frame(tmp_path: Path) -> None:
    import psutil

    out, scratch = tmp_path / "early", tmp_path / "tmp"
    scratch.mkdir()
    args = [sys.executable, "-m", "simvision.cli.render", f"output_dir={out}", "num_frames=4", "seed=11", *ONE_VIEW]
    proc = subprocess.Popen(
        args,
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )

    def writer() -> list[psutil.Process]:  # the writer, started just before Blender (not a short-lived child)
        found = []
        for child in psutil.Process(proc.pid).children():
            try:
                if "simvision.dataset.shard_writer" in " ".join(child.cmdline()):
                    found.append(child)
            except psutil.NoSuchProcess:
                continue
        return found

    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not writer():
        time.sleep(0.02)
    helpers = writer()
    assert helpers, "no writer process"
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert err.strip().splitlines()[-1] == "simvision-render: interrupted after 0 frames; rerun to resume"
    assert "Traceback" not in err
    _, alive = psutil.wait_procs(helpers, timeout=10)
    assert not alive
    assert not (out / "metadata" / "frames.jsonl").exists() or not (out / "metadata" / "frames.jsonl").read_text()
    assert not list(scratch.iterdir())


def _merge_and_validate(shards: list[Path], merged: Path) -> None:
    from simvision.dataset.merge import merge_shards
    from simvision.dataset.validate import validate_dataset

    merge_shards(shards, merged, formats=("coco", "yolo", "kitti"), card=True, progress=False)
    result = validate_dataset(merged)
    assert result.ok, result.summary()
    coco = json.loads((merged / "annotations" / "instances.json").read_text())
    assert len(coco["images"]) == 4
    assert len({a["id"] for a in coco["annotations"]}) == len(coco["annotations"])


@pytest.mark.parametrize(
    ("launcher", "plugin", "shards", "extra"),
    [
        ("local", "hydra_plugins.hydra_joblib_launcher", 4, ["hydra.launcher.n_jobs=2"]),  # joblib processes
        ("slurm_local", "hydra_plugins.hydra_submitit_launcher", 2, []),  # submitit's local executor
        ("ray_local", "hydra_plugins.hydra_ray_launcher", 2, []),  # a local Ray cluster started for the run
    ],
)
def test_real_launchers_match_a_plain_run_and_merge_clean(
    plain: Path, tmp_path: Path, launcher: str, plugin: str, shards: int, extra: list[str]
) -> None:
    pytest.importorskip(plugin)
    cli(
        "-m",
        f"hydra/launcher={launcher}",
        *extra,
        f"shard.count={shards}",
        f"shard.index=range(0,{shards})",
        f"output_dir={tmp_path}/shard_${{shard.index}}",
        "num_frames=4",
        "seed=11",
        *ONE_VIEW,
        cwd=tmp_path,
    )
    folders = [tmp_path / f"shard_{i}" for i in range(shards)]
    assert all_sidecars(*folders) == sidecars(plain)
    if launcher == "local":  # each joblib worker renders with its share of the cores
        first_lines = [json.loads((f / "metadata" / "frames.jsonl").read_text().splitlines()[0]) for f in folders]
        assert {r["render"]["threads"] for r in first_lines} == {max(1, len(os.sched_getaffinity(0)) // 2)}
    _merge_and_validate(folders, tmp_path / "merged")
