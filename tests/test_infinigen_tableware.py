"""More Infinigen tabletop content: new tableware classes, unlabelled distractors on the table, clutter along
the walls, objects kept on the table, bin scenes (real Blender, tiny renders, a temporary cache)."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from simvision.config.checks import ConfigError
from simvision.scene.tabletop.sampler import CLUTTER_KEEP_OUT_M
from tests.conftest import TINY
from tests.label_checks import assert_annotations_match_instance_maps, scenery_rect

infinigen = pytest.mark.skipif(importlib.util.find_spec("infinigen") is None, reason="infinigen is not installed")

CLASSES = {"plate": 7, "food_box": 9, "fruit": 22}  # ids from conf/classes/default.yaml


def _overrides(out: Path, cache: Path) -> list[str]:
    return [
        f"output_dir={out}",
        "num_frames=4",
        "seed=5",
        *TINY,
        "render.resolution=[96,72]",
        "scene.container=table",
        f"scene.classes=[{','.join(CLASSES)}]",
        "scene.num_objects=[3,4]",
        "scene.distractors=[0,0]",
        "scene.physics_max_time=2",
        "scene.camera.cameras_per_scene=2",
        "scene.camera.distance=[1.2,1.6]",
        "scene.use_asset_manifest=false",
        "scene.assets=infinigen",
        "scene.infinigen.variants=1",
        "scene.infinigen.room_materials=false",
        "scene.infinigen.distractors.kinds=[book_stack,plate]",
        "scene.infinigen.distractors.count=[2,2]",
        "scene.infinigen.clutter.kinds=[kitchen,fridge]",
        "scene.infinigen.clutter.count=[2,2]",
        "scene.infinigen.wall_decor.kinds=[wall_art]",
        "scene.infinigen.wall_decor.count=[1,1]",
        "scene.infinigen.table_chairs.count=[2,2]",
        f"scene.infinigen.cache_dir={cache}",
    ]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("infinigen_tableware_cache")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, compose_cfg, cache) -> Path:
    from simvision.dataset.job import run

    out = tmp_path_factory.mktemp("ig_tableware")
    assert run(compose_cfg(*_overrides(out, cache))).frames == 4
    return out


def _records(dataset: Path) -> list[dict]:
    return [json.loads(line) for line in (dataset / "metadata" / "frames.jsonl").read_text().splitlines()]


def _instance(dataset: Path, frame_id: int) -> np.ndarray:
    return cv2.imread(str(dataset / "instance" / f"{frame_id:06d}.png"), cv2.IMREAD_UNCHANGED)


# -- config, no Blender ----------------------------------------------------------------------------
def test_object_sizes_are_drawn_per_seed_within_their_range(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from simvision.scene.infinigen_library import SIZE_RANGE, TARGET_SIZE, target_size, variants

    for factory, (lo, hi) in SIZE_RANGE.items():
        sizes = [target_size(factory, seed) for seed in range(40)]
        assert sizes == [target_size(factory, seed) for seed in range(40)]  # the same seed, the same size
        assert all(lo <= s <= hi for s in sizes) and max(sizes) - min(sizes) > (hi - lo) / 2  # spread over it
        assert all(round(s, 3) == s for s in sizes)  # millimetres: the cache name is exact
    assert target_size("VaseFactory", 7) == TARGET_SIZE["VaseFactory"] and target_size("PlateFactory", 7) == 0.0
    cfg = SimpleNamespace(cache_dir=str(tmp_path), seed=0, variants=3, max_triangles=30000)
    for v in variants(["bowl", "plate"], cfg)["bowl"] + variants(["bowl", "plate"], cfg)["plate"]:
        size = target_size(v.factory, v.seed)
        assert v.size_m == size and (f".s{round(size * 1000)}mm.t30000.npz" in v.npz) == (size > 0)


def test_new_classes_need_infinigen_and_extras_are_checked(compose_cfg, tmp_path: Path) -> None:
    from simvision.dataset.job_config import validate_job_config
    from simvision.scene.base import load_scene

    base = [f"output_dir={tmp_path}", "scene=tabletop", "scene.use_asset_manifest=false"]
    cfg = compose_cfg(*base, "scene.classes=[cup,plate]")
    with pytest.raises(ConfigError, match=r"^scene\.classes\[1\]: class 'plate' has no procedural shape .*infinigen"):
        load_scene(cfg.scene, validate_job_config(cfg), (64, 48))
    for override, field in (
        ("scene.infinigen.distractors.kinds=[plate,teapot]", r"scene\.infinigen\.distractors\.kinds\[1\]"),
        ("scene.infinigen.clutter.kinds=[sofa]", r"scene\.infinigen\.clutter\.kinds\[0\]"),
        ("scene.infinigen.clutter.count=[3,1]", r"scene\.infinigen\.clutter\.count"),
        ("scene.keep_on_table=maybe", r"scene\.keep_on_table"),
    ):
        with pytest.raises(ConfigError, match=f"^{field}"):
            validate_job_config(compose_cfg(*base, "scene.assets=infinigen", override))


def test_objects_off_the_top_are_found_and_removed() -> None:
    """The rule the render job applies after the drop (simvision/scene/tabletop/settle.py)."""
    from types import SimpleNamespace

    from simvision.scene.tabletop.settle import off_container, remove_fallen

    table = {"kind": "table", "top_size": [1.0, 0.8]}
    box = np.array([[x, y, z] for x in (-0.05, 0.05) for y in (-0.05, 0.05) for z in (0.0, 0.1)])

    def at(x: float, y: float, z: float) -> np.ndarray:
        pose = np.eye(4)
        pose[:3, 3] = [x, y, z]
        return pose

    assert not off_container(table, box, at(0.3, 0.2, 0.0))  # resting on the top
    assert off_container(table, box, at(0.3, 0.2, -0.75))  # on the floor under the table
    assert off_container(table, box, at(0.52, 0.0, 0.0))  # centre beyond the edge: tipping off
    objects = [SimpleNamespace(instance_id=i, class_name="cup", asset={"id": f"a{i}"}, vertices=box) for i in (1, 2, 3)]
    spec = SimpleNamespace(container=table, objects=objects, physics={})
    gone, poses = remove_fallen(spec, {0: at(0, 0, 0), 1: at(0.1, 0.9, -0.75), 2: at(0.2, 0, 0)})
    assert gone == [1] and [o.instance_id for o in spec.objects] == [1, 3]
    assert poses[1][0, 3] == 0.2 and spec.physics["removed"][0]["instance_id"] == 2
    # what rides on a removed object (food in a bowl) goes with it, even where its own pose looks kept
    food = SimpleNamespace(instance_id=0, class_name=None, asset={"id": "f"}, vertices=box, parent=2)
    spec = SimpleNamespace(container=table, objects=[*objects, food], physics={})
    gone, poses = remove_fallen(spec, {0: at(0, 0, 0), 1: at(0.1, 0.9, -0.75), 2: at(0.2, 0, 0), 3: at(0.1, 0.3, 0)})
    assert gone == [1, 3] and [o.instance_id for o in spec.objects] == [1, 3] and sorted(poses) == [0, 1]


def test_drops_start_inside_the_top_and_apart() -> None:
    """keep_on_table: every footprint fits the top in any orientation; no object starts inside the top or
    inside another one's box."""
    from simvision.scene.tabletop.sampler import _footprint_area, _stacked_height, euler_xyz

    pan = np.array([[x, y, z] for x in (-0.29, 0.29) for y in (-0.17, 0.17) for z in (0.0, 0.11)])
    table = {"kind": "table", "top_size": [1.0, 0.8], "drop_area": [0.38, 0.28]}
    half = _footprint_area(table, pan)
    radius = np.linalg.norm(pan - pan.mean(axis=0), axis=1).max()
    assert all(h + radius <= s / 2 for h, s in zip(half, table["top_size"], strict=True))
    rng = np.random.default_rng(0)
    stack: list = []
    boxes = []
    for _ in range(8):
        drop = [float(rng.uniform(-h, h)) for h in half] + [0.0]
        rotation = rng.uniform(0, 2 * np.pi, size=3).tolist()
        z = _stacked_height(drop, rotation, pan, 0.05, stack)
        world = pan @ euler_xyz(rotation).T + [drop[0], drop[1], z]
        assert world[:, 2].min() == pytest.approx(0.05, abs=1e-9) or world[:, 2].min() > 0.05
        for lo, hi in boxes:  # boxes that overlap in xy are apart in z
            if np.all(world.min(axis=0)[:2] < hi[:2]) and np.all(lo[:2] < world.max(axis=0)[:2]):
                assert world[:, 2].min() > hi[2] or world[:, 2].max() < lo[2]
        boxes.append((world.min(axis=0), world.max(axis=0)))


# -- real Blender ----------------------------------------------------------------------------------
@pytest.mark.blender
@pytest.mark.slow
@infinigen
def test_new_classes_render_with_exact_labels(dataset: Path) -> None:
    from pycocotools.coco import COCO

    coco = COCO(str(dataset / "annotations" / "instances.json"))
    names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    assert {names[i] for i in CLASSES.values()} == set(CLASSES)
    anns = coco.loadAnns(coco.getAnnIds())
    assert anns and {names[a["category_id"]] for a in anns} <= set(CLASSES)
    seen = set()
    for record in _records(dataset):
        inst = _instance(dataset, record["frame_id"])
        labelled = {o["instance_id"] for o in record["objects"] if o["instance_id"] > 0}
        assert set(np.unique(inst).tolist()) - {0} <= labelled  # distractors and clutter stay 0
        for o in record["objects"]:
            if o["instance_id"] > 0:
                assert o["category_id"] == CLASSES[o["class_name"]] and o["asset"]["library"] == "infinigen"
                assert o["visible_pixels"] == int((inst == o["instance_id"]).sum())
                seen.add(o["class_name"])
    assert len(seen) >= 2
    assert_annotations_match_instance_maps(dataset, coco, anns)


@pytest.mark.blender
@pytest.mark.slow
@infinigen
def test_distractors_and_clutter_are_unlabelled_and_recorded(dataset: Path, cache: Path) -> None:
    import bpy
    from pycocotools.coco import COCO

    coco = COCO(str(dataset / "annotations" / "instances.json"))
    assert all(a["instance_id"] > 0 for a in coco.loadAnns(coco.getAnnIds()))
    for record in _records(dataset):
        distractors = [o for o in record["objects"] if o["asset"].get("role") == "distractor"]
        removed = [r for r in record["physics"].get("removed", []) if r["instance_id"] == 0]
        assert len(distractors) + len(removed) == 2  # scene.infinigen.distractors.count=[2,2]
        for o in distractors:
            assert o["instance_id"] == 0 and o["class_name"] is None and o["category_id"] == 0
            assert o["asset"]["kind_name"] in ("book_stack", "plate") and len(o["pose_world"]) == 4
            assert "visible_pixels" not in o  # not labelled
        clutter = record["background"]["infinigen_clutter"]
        assert len(clutter) == 2 and {c["kind"] for c in clutter} <= {"kitchen", "fridge"}
        keep_out = np.array(record["container"]["top_size"]) / 2 + CLUTTER_KEEP_OUT_M
        feet = [scenery_rect(c) for c in clutter]
        for c, (lo, hi) in zip(clutter, feet, strict=True):
            assert Path(c["path"]).is_relative_to(cache) and c["location"][2] == -0.75  # on the floor
            assert max(abs(c["location"][0]), abs(c["location"][1])) > 2.0  # along a wall, away from the table
            assert np.all(lo > [-3.0, -3.0]) and np.all(hi < [3.0, 3.0])  # inside the room's walls
            assert np.any((lo > keep_out) | (hi < -keep_out))  # clear of the table by the keep-out
        (lo_a, hi_a), (lo_b, hi_b) = feet
        assert np.any((lo_a >= hi_b) | (lo_b >= hi_a))  # the two pieces do not overlap
        # a picture hung flat on one of the three walls, its centre 1.3-1.7 m above the floor, clear of the
        # furniture (which stands 3-25 cm out from the walls)
        (art,) = record["background"]["infinigen_wall_decor"]
        depth, width, tall = art["size"]
        x, y, bottom = art["location"]
        assert art["kind"] == "wall_art" and Path(art["path"]).is_relative_to(cache) and depth < 0.05
        assert 3.0 - 0.01 - depth - 0.01 < max(abs(x), y) < 3.0 - 0.01 and y > -2.9  # the open side (-y) has no wall
        assert 1.3 - 1e-9 <= bottom + tall / 2 + 0.75 <= 1.7 + 1e-9  # the floor is 0.75 m under the top
        lo_art, hi_art = scenery_rect(art)
        for c, (lo, hi) in zip(clutter, feet, strict=True):
            apart = np.any((lo_art >= hi) | (lo >= hi_art))
            assert apart or bottom > c["location"][2] + c["size"][2]
        # chairs at the table's sides, facing it, their footprint outside the top (a chair whose every place
        # crosses a camera's line of sight to the table is left out)
        chairs = record["background"]["infinigen_table_chairs"]
        top = np.array(record["container"]["top_size"]) / 2
        for c in chairs:
            (cx, cy, cz), yaw = c["location"], c["rotation_euler"][2]
            assert c["kind"] == "chair" and cz == -0.75
            facing = np.round([np.cos(yaw), np.sin(yaw)], 9)  # the chair's front (+x) after its turn
            axis = int(np.argmax(np.abs(facing)))  # the axis of its side of the table
            centre = np.array([cx, cy])
            assert abs(facing[axis]) == 1 and facing[axis] * centre[axis] < 0  # it faces the table
            out = abs(centre[axis]) - top[axis]  # its centre beyond that edge: the footprint stays outside
            assert c["size"][0] / 2 - 1e-9 <= out <= c["size"][0] / 2 + 0.35 + 1e-9
            assert abs(centre[1 - axis]) <= top[1 - axis] + 1e-9  # along the side, not past its end
        kinds = Counter(f"infinigen:{c['kind']}" for c in clutter)
        kinds.update({"infinigen:wall_art": 1, "infinigen:chair": len(chairs)})
        assert record["scenery"] == {k: v for k, v in kinds.items() if v}
        n_scenery = 3 + len(chairs)
    # a 4 m kitchen run fits along a wall (its footprint is a strip, not the circle round it)
    assert any(c["kind"] == "kitchen" for r in _records(dataset) for c in r["background"]["infinigen_clutter"])
    # the last built scene holds the clutter, the picture and the chairs as unlabelled static meshes (no rigid body)
    scenery = [o for o in bpy.data.objects if o.name.startswith("scenery_")]
    assert len(scenery) == n_scenery
    assert all(o["sv_instance"] == 0 and o["category_id"] == 0 and o.rigid_body is None for o in scenery)


@pytest.mark.blender
@pytest.mark.slow
@infinigen
def test_cached_tableware_is_one_light_metric_mesh(dataset: Path, cache: Path) -> None:
    import bpy

    from simvision.render.infinigen_assets import append_variant
    from simvision.scene.infinigen_library import load_variant_mesh

    sizes = {"PlateFactory": (0.15, 0.35), "FoodBoxFactory": (0.05, 0.35), "FruitFactoryApple": (0.05, 0.12)}
    sizes["BookStackFactory"] = (0.1, 0.5)
    sizes["KitchenSpaceFactory"] = (3.0, 4.5)  # a run of cabinets with its counter, ~4 m long
    sizes["BeverageFridgeFactory"] = (0.85 - 1e-3, 0.85 + 1e-3)  # scaled to TARGET_SIZE (built ~1 unit a side)
    sizes["WallArtFactory"] = (0.3, 1.6)
    sizes["ChairFactory"] = (0.4, 1.3)
    blends = sorted(p for p in cache.rglob("*.blend") if "materials" not in p.parts)
    assert {p.parent.name for p in blends} == set(sizes)
    for blend in blends:
        vertices, faces = load_variant_mesh(str(blend.with_suffix(".npz")))
        extent = vertices.max(axis=0) - vertices.min(axis=0)
        lo, hi = sizes[blend.parent.name]
        assert lo <= extent.max() <= hi, (blend, extent)
        assert vertices[:, 2].min() == 0.0 and len(faces) <= 30_000  # base at z = 0; decimated to the budget
        seed = blend.name.split(".")[0]  # <seed>.t<budget>.blend holds the object <Factory>_<seed>
        obj = append_variant(bpy, str(blend), f"{blend.parent.name}_{seed}", f"probe_{blend.parent.name}")
        assert len(obj.children) == 0 and [m for m in obj.data.materials if m is not None]
        bpy.data.objects.remove(obj)


@pytest.mark.blender
@pytest.mark.slow
@infinigen
def test_objects_stay_on_the_table(dataset: Path) -> None:
    """No object in the labels (or among the distractors) ends off the table; what fell is recorded."""
    from simvision.scene.infinigen_library import load_variant_mesh
    from simvision.scene.tabletop.settle import off_container

    for record in _records(dataset):
        assert record["physics"]["keep_on_table"] is True
        for o in record["objects"]:
            vertices, _ = load_variant_mesh(str(Path(o["asset"]["path"]).with_suffix(".npz")))
            pose = np.asarray(o["pose_world"])
            assert not off_container(record["container"], vertices, pose), o["asset"]["id"]
            assert float((vertices @ pose[2, :3]).min() + pose[2, 3]) > -0.03  # not below the top
        for r in record["physics"].get("removed", []):
            assert r["instance_id"] not in {o["instance_id"] for o in record["objects"] if o["instance_id"] > 0}


@pytest.mark.blender
@pytest.mark.slow
@infinigen
def test_same_seed_same_objects_from_the_cache(dataset: Path, cache: Path, tmp_path: Path, compose_cfg) -> None:
    from simvision.dataset.job import run

    before = {str(p): p.stat().st_mtime_ns for p in cache.rglob("*.npz")}
    again = tmp_path / "again"
    run(compose_cfg(*_overrides(again, cache)))
    assert {str(p): p.stat().st_mtime_ns for p in cache.rglob("*.npz")} == before  # nothing generated again

    def key(records: list[dict]) -> list:
        return [
            ([(o["asset"]["id"], o["pose_world"]) for o in r["objects"]], r["background"]["infinigen_clutter"])
            for r in records
        ]

    assert key(_records(again)) == key(_records(dataset))
    for a in sorted((dataset / "instance").glob("*.png")):
        assert a.read_bytes() == (again / "instance" / a.name).read_bytes(), a.name


@pytest.mark.blender
@pytest.mark.slow
@infinigen
def test_bin_scenes_render_infinigen_objects_with_exact_labels(cache: Path, tmp_path: Path, compose_cfg) -> None:
    from pycocotools.coco import COCO

    from simvision.dataset.job import run

    out = tmp_path / "bin"
    overrides = [o for o in _overrides(out, cache) if not o.startswith(("scene.container", "scene.num_objects"))]
    run(compose_cfg("scene=bin_picking", *overrides, "scene.num_objects=[4,5]", "num_frames=2"))
    coco = COCO(str(out / "annotations" / "instances.json"))
    anns = coco.loadAnns(coco.getAnnIds())
    assert anns
    for record in _records(out):
        assert record["container"]["kind"] == "bin"
        assert all(o["asset"]["library"] == "infinigen" for o in record["objects"])
        inst = _instance(out, record["frame_id"])
        assert set(np.unique(inst).tolist()) - {0} <= {o["instance_id"] for o in record["objects"]}
    assert_annotations_match_instance_maps(out, coco, anns)
