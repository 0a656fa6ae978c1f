"""End to end through the Hydra config and real Blender: files, COCO readers, determinism."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import TINY
from tests.label_checks import assert_annotations_match_instance_maps

pytestmark = [pytest.mark.blender, pytest.mark.slow]

SMALL = [*TINY, "scene.num_objects=[3,5]", "scene.distractors=[1,1]", "scene.physics_max_time=1.5"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, compose_cfg) -> Path:
    from simvision.dataset.job import run

    out = tmp_path_factory.mktemp("ds")
    result = run(compose_cfg(f"output_dir={out}", "num_frames=3", "seed=5", *SMALL))
    assert result.frames == 3
    return out


def test_every_frame_has_all_files(dataset: Path) -> None:
    for stem in ("000000", "000001", "000002"):
        rgb = cv2.imread(str(dataset / "images" / f"{stem}.png"))
        assert rgb.shape == (48, 64, 3)
        depth = np.load(dataset / "depth" / f"{stem}.npy")
        assert depth.dtype == np.float32 and depth.shape == (48, 64)
        assert np.isfinite(depth).all() and (depth > 0).mean() > 0.9  # the room surrounds the scene
        mm = cv2.imread(str(dataset / "depth_mm" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        assert mm.dtype == np.uint16
        assert np.abs(mm.astype(np.float64) - np.round(depth * 1000)).max() <= 1
        inst = cv2.imread(str(dataset / "instance" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        sem = cv2.imread(str(dataset / "semantic" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        assert inst.dtype == np.uint16 and sem.dtype == np.uint16
    assert (dataset / "config.yaml").is_file()


def test_pycocotools_reads_the_dataset_and_masks_match(dataset: Path) -> None:
    from pycocotools.coco import COCO

    coco = COCO(str(dataset / "annotations" / "instances.json"))
    assert sorted(coco.getImgIds()) == [0, 1, 2]
    names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    assert names[1] == "cup" and names[5] == "box"  # ids from the class table
    anns = coco.loadAnns(coco.getAnnIds())
    assert anns, "expected visible objects"
    assert len({a["id"] for a in anns}) == len(anns)
    assert_annotations_match_instance_maps(dataset, coco, anns)


def test_metadata_records_every_object_including_hidden_ones(dataset: Path) -> None:
    records = [json.loads(line) for line in (dataset / "metadata" / "frames.jsonl").read_text().splitlines()]
    assert [r["frame_id"] for r in records] == [0, 1, 2]
    coco = json.loads((dataset / "annotations" / "instances.json").read_text())
    for record in records:
        assert record["seed"] == [5, record["scene_index"]]
        labelled = [o for o in record["objects"] if o["instance_id"] > 0]
        assert 3 <= len(labelled) <= 5
        assert any(o["instance_id"] == 0 for o in record["objects"])  # the distractor
        visible = {o["instance_id"] for o in labelled if o["visible_pixels"] > 0}
        annotated = {a["instance_id"] for a in coco["annotations"] if a["image_id"] == record["frame_id"]}
        assert annotated == visible
        for o in labelled:
            assert np.asarray(o["pose_cam"]).shape == (4, 4)
            assert len(o["bbox3d"]["corners_cam"]) == 8
            assert o["material"]["roughness"] >= 0 and "location" in o and "rotation_euler" in o
        assert np.asarray(record["camera"]["K"]).shape == (3, 3)
        assert record["lights"] and record["background"]["world_strength"] >= 0


def test_torchvision_coco_detection_loads_the_dataset(dataset: Path) -> None:
    torchvision = pytest.importorskip("torchvision")
    ds = torchvision.datasets.CocoDetection(str(dataset), str(dataset / "annotations" / "instances.json"))
    image, target = ds[0]
    assert image.size == (64, 48)
    assert all("bbox" in t for t in target)


def test_same_seed_gives_identical_labels(dataset: Path, tmp_path: Path, compose_cfg) -> None:
    from simvision.dataset.job import run

    again = tmp_path / "again"
    run(compose_cfg(f"output_dir={again}", "num_frames=3", "seed=5", *SMALL))
    first = json.loads((dataset / "annotations" / "instances.json").read_text())
    second = json.loads((again / "annotations" / "instances.json").read_text())
    assert first["annotations"] == second["annotations"]
    for stem in ("000000", "000001", "000002"):
        a = cv2.imread(str(dataset / "instance" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        b = cv2.imread(str(again / "instance" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        assert (a == b).all()
    other = tmp_path / "other"
    run(compose_cfg(f"output_dir={other}", "num_frames=3", "seed=6", *SMALL))
    third = json.loads((other / "annotations" / "instances.json").read_text())
    assert third["annotations"] != first["annotations"]


def test_cli_renders_and_exits_cleanly(tmp_path: Path) -> None:
    """The console script end to end, including a clean interpreter exit after Blender ran."""
    import subprocess
    import sys

    out = tmp_path / "cli"
    proc = subprocess.run(
        [sys.executable, "-m", "simvision.cli.render", f"output_dir={out}", "num_frames=2", *SMALL],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"shard 0/1: 2 frames in [0-9.]+ s \([0-9.]+ frames/s\)", proc.stdout)  # Hydra logs to stdout
    assert len(list((out / "images").glob("*.png"))) == 2
