"""Faults a render folder must survive, without Blender: a second job on the folder, a killed lock
holder, labels edited after the render. (The same faults against real renders: tests/test_sweeps.py.)"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest

from simvision.dataset.merge import merge_shards
from simvision.dataset.validate import validate_dataset
from simvision.io.folder import (
    FRAMES_PATH,
    DatasetError,
    annotations_by_image,
    frame_labels_path,
    frame_path,
    load_coco,
    load_frames,
)
from simvision.io.frames import seal_holds
from simvision.io.lock import LOCK_NAME, LockedError, lock_folder
from tests.test_dataset_tools import make_shard

HOLD_LOCK = (
    "import sys, time; from simvision.io.lock import lock_folder; "
    "lock_folder(sys.argv[1]); print('held', flush=True); time.sleep(60)"
)


def _hold_lock(folder: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_a_locked_folder_refuses_a_second_holder_and_names_the_first(tmp_path: Path) -> None:
    holder = _hold_lock(tmp_path)
    try:
        with pytest.raises(LockedError) as caught:
            lock_folder(tmp_path)
        assert caught.value.holder == f"PID {holder.pid} on host {socket.gethostname()}"
    finally:
        holder.kill()
        holder.wait()


def test_a_sigkilled_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = _hold_lock(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (tmp_path / LOCK_NAME).exists()  # the file stays; the lock went with the process
    started = time.monotonic()
    with lock_folder(tmp_path):
        assert time.monotonic() - started < 1.0
        assert (tmp_path / LOCK_NAME).read_text().split()[0] == str(os.getpid())
    with lock_folder(tmp_path):  # released on exit, so this process can take it again
        pass


# ------------------------------------------------------------------------------- tamper-evident labels


def written_shard(root: Path, n_frames: int = 2, seed: int = 0) -> Path:
    """make_shard's frames written again by the render job's ShardWriter (sealed manifest lines, COCO
    sidecars with their labels checksums) and instances.json assembled from the sidecars, as a render
    shard ends; no Blender involved."""
    from simvision.dataset.shard_writer import ShardWriter
    from simvision.formats.coco import CocoWriter

    src = make_shard(root.with_name(f"{root.name}-pixels"), n_frames=n_frames, seed=seed)
    coco = load_coco(src)
    anns = annotations_by_image(coco)
    writer = ShardWriter(root, {"depth_png": True, "write_instance": True, "write_semantic": True})
    assembled = CocoWriter(root / "annotations" / "instances.json", coco["categories"], coco["info"])
    for image, frame in zip(coco["images"], load_frames(src), strict=True):
        fid = image["id"]
        view = SimpleNamespace(
            depth=np.load(frame_path(src, "depth", fid)),
            instance=cv2.imread(str(frame_path(src, "instance", fid)), cv2.IMREAD_UNCHANGED),
            semantic=cv2.imread(str(frame_path(src, "semantic", fid)), cv2.IMREAD_UNCHANGED),
        )
        rgb = cv2.imread(str(frame_path(src, "rgb", fid)))[..., ::-1]
        labels = [{k: v for k, v in a.items() if k != "id"} for a in anns.get(fid, [])]
        writer.write(fid, view, rgb, image, labels, {k: v for k, v in frame.items() if k != "files"})
        assembled.add(image, labels)
    writer.close()
    assembled.write()
    return root


def _edit_line(root: Path, frame_id: int, edit: Callable[[dict[str, Any]], None]) -> None:
    lines = [json.loads(line) for line in (root / FRAMES_PATH).read_text().splitlines()]
    edit(next(r for r in lines if r["frame_id"] == frame_id))
    (root / FRAMES_PATH).write_text("".join(json.dumps(r) + "\n" for r in lines))


def _edit_json(path: Path, edit: Callable[[Any], None]) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def _obj(record: dict[str, Any]) -> dict[str, Any]:
    return record["objects"][0]


TAMPERING: dict[str, Callable[[Path], None]] = {  # each edits frame 1 only
    "class_name in the manifest": lambda r: _edit_line(r, 1, lambda f: _obj(f).__setitem__("class_name", "cup")),
    "visible_fraction in the manifest": lambda r: _edit_line(
        r, 1, lambda f: _obj(f).__setitem__("visible_fraction", 0.5)
    ),
    "a pose in the manifest": lambda r: _edit_line(r, 1, lambda f: _obj(f)["pose_cam"][0].__setitem__(3, 9.0)),
    "category_id in the sidecar": lambda r: _edit_json(
        frame_labels_path(r, 1), lambda d: d["annotations"][0].__setitem__("category_id", 1)
    ),
    "category_id in instances.json": lambda r: _edit_json(
        r / "annotations" / "instances.json",
        lambda c: next(a for a in c["annotations"] if a["image_id"] == 1).__setitem__("category_id", 1),
    ),
    "a label pixel": lambda r: cv2.imwrite(str(frame_path(r, "instance", 1)), np.zeros((48, 64), np.uint16)),
}


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_validate_names_the_frame_whose_labels_were_edited(tmp_path: Path, name: str) -> None:
    root = written_shard(tmp_path / "shard")
    assert validate_dataset(root).ok, validate_dataset(root).summary()
    TAMPERING[name](root)
    result = validate_dataset(root)
    hits = [str(v) for v in result.violations if v.kind == "checksum_mismatch"]
    assert hits and all(h.startswith("checksum_mismatch: frame 1 (images/000001.png): ") for h in hits), hits


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_recover_counts_an_edited_frame_as_unfinished(tmp_path: Path, name: str) -> None:
    from simvision.dataset.resume import recover

    root = written_shard(tmp_path / "shard")
    assert sorted(recover(root)) == [0, 1]
    TAMPERING[name](root)
    if name == "category_id in instances.json":  # a rerun rebuilds instances.json from the sidecars
        assert sorted(recover(root)) == [0, 1]
        return
    assert sorted(recover(root)) == [0]  # the rerun renders frame 1 again
    assert [json.loads(line)["frame_id"] for line in (root / FRAMES_PATH).read_text().splitlines()] == [0]


def test_a_line_whose_seal_was_stripped_is_reported_and_redone(tmp_path: Path) -> None:
    from simvision.dataset.resume import recover

    root = written_shard(tmp_path / "shard")
    _edit_line(root, 1, lambda f: (f.pop("line_sha256"), _obj(f).__setitem__("class_name", "cup")))
    assert [v.kind for v in validate_dataset(root).violations] == ["checksum_missing"]
    assert sorted(recover(root)) == [0]


def test_merged_shards_keep_valid_checksums_and_edits_show(tmp_path: Path) -> None:
    shards = [written_shard(tmp_path / f"s{i}", seed=i) for i in range(2)]
    merged = tmp_path / "merged"
    merge_shards(shards, merged, formats=("coco",), card=False, progress=False)
    assert validate_dataset(merged).ok, [str(v) for v in validate_dataset(merged).violations]
    assert all(seal_holds(f) for f in load_frames(merged))  # renumbered lines, resealed
    _edit_line(merged, 3, lambda f: _obj(f).__setitem__("class_name", "cup"))
    _edit_json(merged / "annotations" / "instances.json", lambda c: c["annotations"][0].__setitem__("category_id", 1))
    where = {v.where for v in validate_dataset(merged).violations if v.kind == "checksum_mismatch"}
    assert where == {"frame 3 (images/000003.png)", "frame 0 (images/000000.png)"}


def test_merge_refuses_a_shard_with_an_edited_line(tmp_path: Path) -> None:
    shards = [written_shard(tmp_path / f"s{i}", seed=i) for i in range(2)]
    TAMPERING["class_name in the manifest"](shards[1])
    with pytest.raises(DatasetError, match=r"s1/metadata/frames.jsonl: frame 1: the line was edited after it was"):
        merge_shards(shards, tmp_path / "merged", formats=("coco",), card=False, progress=False)
    assert not (tmp_path / "merged").exists()


# ------------------------------------------------------------------------------------ folder identity


@pytest.fixture
def seed0_folder(tmp_path: Path, compose_cfg: Callable[..., Any]) -> tuple[Path, Any, Any]:
    """A folder holding one finished frame of seed 0 (its sealed line with the config fingerprint)."""
    from simvision.dataset.resume import config_sha256, write_config
    from simvision.io.frames import MetadataLog

    out = tmp_path / "out"
    seed0, seed1 = (compose_cfg(f"output_dir={out}", f"seed={s}") for s in (0, 1))
    write_config(out, seed0)
    log = MetadataLog(out / FRAMES_PATH)
    log.append({"frame_id": 0, "seed": [0, 0], "config_sha256": config_sha256(seed0)})
    log.close()
    return out, seed0, seed1


DIFFERENT = r"^output_dir: .* already holds frames rendered with a different config \("


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda p: p.unlink(), "config.json is missing"),
        (lambda p: p.write_text('{"seed": 0,'), r"config.json is corrupt \(Expecting property name .*\)"),
        (lambda p: p.write_text("[]"), r"config.json is corrupt \(not a JSON object\)"),
    ],
)
def test_without_a_sound_config_json_the_frames_own_fingerprint_refuses_another_seed(
    seed0_folder: tuple[Path, Any, Any], damage: Callable[[Path], None], why: str
) -> None:
    from simvision.config import ConfigError
    from simvision.dataset.resume import check_same_config

    out, seed0, seed1 = seed0_folder
    damage(out / "config.json")
    expected = f"{DIFFERENT}the config fingerprint in metadata/frames.jsonl differs; {why}\\); use another"
    with pytest.raises(ConfigError, match=expected) as caught:
        check_same_config(out, seed1)
    assert "\n" not in str(caught.value)
    check_same_config(out, seed0)  # the frames prove it: the same config resumes (and rewrites config.json)


def test_a_config_json_swapped_for_another_one_does_not_fool_the_frames(seed0_folder: tuple[Path, Any, Any]) -> None:
    from simvision.config import ConfigError
    from simvision.dataset.resume import check_same_config, write_config

    out, _, seed1 = seed0_folder
    write_config(out, seed1)
    with pytest.raises(ConfigError, match=f"{DIFFERENT}.*differs; config.json does not match its frames"):
        check_same_config(out, seed1)


def test_a_named_field_is_reported_when_config_json_is_sound(seed0_folder: tuple[Path, Any, Any]) -> None:
    from simvision.config import ConfigError
    from simvision.dataset.resume import check_same_config

    out, _, seed1 = seed0_folder
    with pytest.raises(ConfigError, match=f"{DIFFERENT}seed differs\\)"):
        check_same_config(out, seed1)


def test_frames_nothing_vouches_for_are_not_adopted(seed0_folder: tuple[Path, Any, Any]) -> None:
    from simvision.config import ConfigError
    from simvision.dataset.resume import check_same_config

    out, seed0, _ = seed0_folder
    _edit_line(out, 0, lambda f: f.pop("line_sha256"))  # an unsealed line (older render or stripped)
    (out / "config.json").unlink()
    with pytest.raises(ConfigError, match=r"config.json is missing and no intact line of metadata/frames.jsonl names"):
        check_same_config(out, seed0)


def test_a_folder_without_a_finished_frame_takes_a_new_config(seed0_folder: tuple[Path, Any, Any]) -> None:
    from simvision.dataset.resume import check_same_config

    out, _, seed1 = seed0_folder
    (out / FRAMES_PATH).unlink()  # config.json of a run that failed before its first frame
    check_same_config(out, seed1)


# ------------------------------------------------------------------------------------- scratch folders

MAKE_SCRATCH = (
    "import sys, time; from simvision.io.scratch import process_scratch; "
    "print(process_scratch('simvision', sys.argv[1]), flush=True); time.sleep(float(sys.argv[2]))"
)


def _scratch_owner(parent: Path, seconds: float) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", MAKE_SCRATCH, str(parent), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_a_process_removes_its_scratch_folder_when_it_exits(tmp_path: Path) -> None:
    proc, folder = _scratch_owner(tmp_path, 0)
    assert folder.name.startswith(f"simvision-{proc.pid}-")
    assert proc.wait() == 0
    assert not folder.exists()


def test_scratch_folders_of_dead_processes_are_swept_and_live_ones_kept(tmp_path: Path) -> None:
    from simvision.io.scratch import sweep_stale

    live, live_folder = _scratch_owner(tmp_path, 60)
    killed, killed_folder = _scratch_owner(tmp_path, 60)
    os.kill(killed.pid, signal.SIGKILL)  # no exit handler runs: its folder stays behind
    killed.wait()
    legacy = tmp_path / f"simvision-{killed.pid}-oldstyle"  # from before the owner locks: no lock file
    legacy_alive = tmp_path / f"simvision-{os.getpid()}-oldstyle"
    other_kind = tmp_path / f"simvision-physics-{killed.pid}-x"
    for folder in (legacy, legacy_alive, other_kind):
        folder.mkdir()
        os.utime(folder, (time.time() - 3600, time.time() - 3600))
    try:
        assert killed_folder.is_dir()
        assert sorted(sweep_stale(tmp_path, "simvision")) == sorted([killed_folder, legacy])
        assert live_folder.is_dir() and legacy_alive.is_dir() and other_kind.is_dir()
        assert not killed_folder.exists() and not legacy.exists()
    finally:
        live.kill()
        live.wait()
