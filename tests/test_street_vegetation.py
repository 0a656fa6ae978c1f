"""scene=street with scene.assets=infinigen: trees, grass and rocks from Infinigen on the verges,
unlabelled, instanced, recorded, and the labels of the street's objects still exact."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import TINY
from tests.label_checks import assert_annotations_match_instance_maps

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(importlib.util.find_spec("infinigen") is None, reason="infinigen is not installed"),
]

# the lightest factories (scripts/probe_vegetation.py: grass tuft ~7 s, boulder ~9 s), one variant each; trees
# and bushes take minutes to generate here and go through the same helper and builder code
LIGHT = "{tree:'',bush:'',grass:grassland.GrassTuftFactory,rock:rocks.BoulderFactory}"


def _overrides(out: Path, cache: Path, assets: str = "infinigen") -> list[str]:
    return [
        f"output_dir={out}",
        "scene=street",
        "num_frames=2",
        "seed=5",
        *TINY,
        "render.resolution=[128,48]",
        "output.card=false",
        "scene.road=[straight]",
        "scene.conditions.weather={clear:1.0,overcast:0.0,fog:0.0,rain:0.0}",
        "scene.conditions.time_of_day={day:1.0,low_sun:0.0,dusk:0.0,night:0.0}",
        "scene.pedestrians=[4,6]",
        "scene.camera_hfov_deg=[80,80]",
        f"scene.assets={assets}",
        "scene.infinigen.variants=1",
        f"scene.infinigen.cache_dir={cache}",
        f"scene.vegetation.factories={LIGHT}",
        "scene.vegetation.max_triangles={grass:1000,rock:1000}",
        "scene.vegetation.grass_per_m=1.0",
        "scene.vegetation.grass_reach_m=30",
        "scene.vegetation.rocks=[4,4]",
    ]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("vegetation_cache")


@pytest.fixture(scope="module")
def street(tmp_path_factory, compose_cfg, cache) -> Path:
    from simvision.dataset.job import run

    out = tmp_path_factory.mktemp("veg_street")
    assert run(compose_cfg(*_overrides(out, cache))).frames == 2
    return out


def _records(dataset: Path) -> list[dict]:
    return [json.loads(line) for line in (dataset / "metadata" / "frames.jsonl").read_text().splitlines()]


def _cached_files(cache: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in sorted(cache.rglob("*")) if p.suffix in (".blend", ".npz")}


@pytest.mark.slow
def test_vegetation_is_placed_on_the_verge_and_recorded(street: Path, cache: Path) -> None:
    kinds = set()
    for record in _records(street):
        items = record["container"]["vegetation"]
        kinds |= {item["kind"] for item in items}
        assert record["scenery"]["grass"] == sum(i["kind"] == "grass" for i in items) > 5
        road = record["container"]
        edge = _half_width(record) + road["sidewalk_width"]
        for item in items:
            assert item["factory"] in ("grassland.GrassTuftFactory", "rocks.BoulderFactory")
            assert item["seed"] == 0 and item["scale"] > 0 and len(item["rotation"]) == 3
            x, y, z = item["position"]
            assert abs(y) > edge, item  # beyond the sidewalk's outer edge: never on the road or the sidewalk
            assert z < 0  # on the ground beside the raised sidewalk
    assert kinds == {"grass", "rock"}, kinds
    assert {Path(p).suffix for p in _cached_files(cache)} == {".blend", ".npz"}


def _half_width(record: dict) -> float:
    """Centre line to kerb: the lanes and a parking strip each side (scenes/street.yaml)."""
    import yaml

    from simvision.config.paths import SCENES_DIR

    parking = float(yaml.safe_load((SCENES_DIR / "street.yaml").read_text())["road"]["parking_width"])
    c = record["container"]
    return c["lanes"] * c["lane_width"] / 2 + parking


@pytest.mark.slow
def test_labels_stay_exact_with_vegetation(street: Path) -> None:
    from pycocotools.coco import COCO

    coco = COCO(str(street / "annotations" / "instances.json"))
    anns = coco.loadAnns(coco.getAnnIds())
    assert anns
    for record in _records(street):
        inst = cv2.imread(str(street / "instance" / f"{record['frame_id']:06d}.png"), cv2.IMREAD_UNCHANGED)
        labelled = {o["instance_id"] for o in record["objects"] if o["instance_id"] > 0}
        assert set(np.unique(inst).tolist()) <= labelled | {0}  # vegetation is background (0)
    assert_annotations_match_instance_maps(street, coco, anns)


@pytest.mark.slow
def test_same_seed_same_vegetation_from_the_cache(street: Path, cache: Path, tmp_path: Path, compose_cfg) -> None:
    from simvision.dataset.job import run

    before = _cached_files(cache)
    run(compose_cfg(*_overrides(tmp_path / "again", cache)))
    assert _cached_files(cache) == before  # nothing generated again
    again = tmp_path / "again"
    assert [r["container"]["vegetation"] for r in _records(street)] == [
        r["container"]["vegetation"] for r in _records(again)
    ]
    for sub in ("instance", "semantic"):
        for a in sorted((street / sub).glob("*.png")):
            assert a.read_bytes() == (again / sub / a.name).read_bytes(), f"{sub}/{a.name}"


@pytest.mark.slow
def test_procedural_street_grows_nothing_and_keeps_its_objects(
    street: Path, cache: Path, tmp_path: Path, compose_cfg
) -> None:
    from simvision.dataset.job import run

    bare = tmp_path / "bare"
    run(compose_cfg(*_overrides(bare, cache, assets="procedural")))
    for veg, plain in zip(_records(street), _records(bare), strict=True):
        assert "vegetation" not in plain["container"] and "grass" not in plain["scenery"]
        # the same road users, poses and cameras: vegetation draws from its own generator
        assert [(o["instance_id"], o["location"]) for o in veg["objects"]] == [
            (o["instance_id"], o["location"]) for o in plain["objects"]
        ]
        assert veg["camera"]["cam_to_world"] == plain["camera"]["cam_to_world"]
        # vegetation only adds occluders: no labelled object shows more pixels with it than without
        a = {o["instance_id"]: o.get("visible_pixels", 0) for o in veg["objects"]}
        b = {o["instance_id"]: o.get("visible_pixels", 0) for o in plain["objects"]}
        assert all(a[i] <= b[i] for i in a), (a, b)


def test_vegetation_shares_one_mesh_per_variant(street: Path, cache: Path, compose_cfg) -> None:
    """Built in Blender, all items of one variant are linked duplicates of one mesh datablock."""
    from simvision.dataset.job_config import validate_job_config
    from simvision.render.builder import Renderer
    from simvision.scene.base import load_scene

    cfg = compose_cfg(*_overrides(street / "unused", cache))
    scene = load_scene(cfg.scene, validate_job_config(cfg), (128, 48))
    seed = [5, 0]
    spec = scene.sample(0, seed, 1, rng=np.random.default_rng(np.random.SeedSequence(seed)))
    renderer = Renderer(cfg.render)
    renderer.build(spec)
    import bpy

    trees = [o for o in bpy.data.objects if o.name.startswith("scenery_") and o.data.get("sv_source")]
    n_items = sum(1 for o in spec.scenery if o.asset.get("instanced"))
    assert len(trees) == n_items > 3  # one Blender object per item...
    meshes = {o.data.name for o in trees}  # ...and one mesh per variant (grass, rock), shared by its items
    assert len(meshes) == len({o.asset["path"] for o in spec.scenery if o.asset.get("instanced")}) == 2
    assert sum(bpy.data.meshes[m].users for m in meshes) == n_items
