"""``scene.infinigen.surfaces``: which material a class's Infinigen variants are made of (Infinigen's own draw
gives bowls and cups of glass, metal and plastic; the photos' are mostly ceramic)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from simvision.config.checks import ConfigError
from simvision.scene.infinigen_library import SURFACE_MATERIALS, surface_of, variants
from tests.conftest import TINY
from tests.label_checks import assert_annotations_match_instance_maps


def _cfg(tmp_path: Path, surfaces: dict, count: int = 4) -> SimpleNamespace:
    return SimpleNamespace(cache_dir=str(tmp_path), seed=0, variants=count, max_triangles=30000, surfaces=surfaces)


def test_each_variant_is_made_of_one_of_the_choices_in_turn(tmp_path: Path) -> None:
    choices = ["ceramic.Ceramic", "ceramic.VaseCeramic", "plastic.PlasticRough"]
    chosen = variants(["bowl", "cup"], _cfg(tmp_path, {"bowl": choices}, count=6))
    bowls = [v.surface for v in chosen["bowl"]]
    assert set(bowls) == set(choices) and all(bowls.count(c) == 2 for c in choices)  # every choice, in turn
    assert bowls == [surface_of("BowlFactory", s, choices) for s in range(6)]  # the seed decides
    for v in chosen["bowl"]:  # the material is part of the cache key and of the frame's record
        assert f".m{v.surface}." in v.npz and f".m{v.surface}." in v.blend
        assert v.asset_record()["surface"] == v.surface
    # a class not named keeps Infinigen's own draw: the files and records of before
    plain = variants(["cup"], _cfg(tmp_path, {}, count=6))["cup"]
    assert [v.npz for v in chosen["cup"]] == [v.npz for v in plain]
    assert all(v.surface == "" and ".m" not in Path(v.npz).name and "surface" not in v.asset_record() for v in plain)
    assert surface_of("BowlFactory", 3, []) == ""


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("++scene.infinigen.surfaces={bowl:[ceramic.Porcelain]}", r"^scene\.infinigen\.surfaces\.bowl\[0\]: unknown"),
        ("++scene.infinigen.surfaces={fruit:[ceramic.Ceramic]}", r"^scene\.infinigen\.surfaces\.fruit: not a class"),
        ("++scene.infinigen.surfaces={teapot:[ceramic.Ceramic]}", r"^scene\.infinigen\.surfaces\.teapot: not a class"),
        ("scene.infinigen.bowl_fill.dish_probability=2", r"^scene\.infinigen\.bowl_fill\.dish_probability: must be"),
        ("scene.infinigen.bowl_fill.dish_level=[0.5,1.5]", r"^scene\.infinigen\.bowl_fill\.dish_level: a share"),
        ("scene.infinigen.bowl_fill.dishes=[rice,pizza]", r"^scene\.infinigen\.bowl_fill\.dishes\[1\]: unknown dish"),
        ("scene.infinigen.bowl_fill.probability=-1", r"^scene\.infinigen\.bowl_fill\.probability: must be"),
        ("scene.infinigen.cup_fill.drinks=[coffee,soda]", r"^scene\.infinigen\.cup_fill\.drinks\[1\]: unknown drink"),
        ("scene.infinigen.cup_fill.level=[0.5,2]", r"^scene\.infinigen\.cup_fill\.level: a share"),
        ("scene.infinigen.cup_fill.probability=1.5", r"^scene\.infinigen\.cup_fill\.probability: must be"),
    ],
)
def test_bad_surfaces_and_fills_are_named(compose_cfg, tmp_path: Path, override: str, message: str) -> None:
    from simvision.dataset.job_config import validate_job_config

    base = [f"output_dir={tmp_path}", "scene=tabletop", "scene.assets=infinigen"]
    with pytest.raises(ConfigError, match=message):
        validate_job_config(compose_cfg(*base, override))


def test_the_lived_in_table_is_set_with_ceramic_bowls_and_cups_holding_food(compose_cfg, tmp_path: Path) -> None:
    from simvision.dataset.job_config import validate_job_config

    cfg = compose_cfg(f"output_dir={tmp_path}", "+experiment=lived_in")
    validate_job_config(cfg)
    surfaces = cfg.scene.infinigen.surfaces
    assert {"bowl", "cup"} <= set(surfaces) and all(s in SURFACE_MATERIALS for c in surfaces.values() for s in c)
    assert all(any(s.startswith("ceramic.") and "Glass" not in s for s in surfaces[c]) for c in ("bowl", "cup"))
    fill = cfg.scene.infinigen.bowl_fill
    assert fill.count[1] > 0 and fill.probability > 0.5 and cfg.scene.upright_probability > 0.5  # bowls hold food
    assert 0 < fill.dish_probability < 1 and fill.dishes  # dishes and pieces
    assert 0 < cfg.scene.infinigen.cup_fill.probability < 1  # drinks in most cups


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("set_table_cache")


def _job_overrides(out: Path, cache: Path) -> list[str]:
    return [
        f"output_dir={out}",
        "num_frames=3",
        "seed=3",
        *TINY,
        "render.resolution=[96,72]",
        "scene.container=table",
        "scene.classes=[bowl]",
        "scene.num_objects=[2,3]",
        "scene.distractors=[0,0]",
        "scene.physics_max_time=2",
        "scene.camera.cameras_per_scene=1",
        "scene.camera.distance=[0.6,0.8]",
        "scene.use_asset_manifest=false",
        "scene.assets=infinigen",
        "scene.infinigen.variants=1",
        "scene.infinigen.room_materials=false",
        f"scene.infinigen.cache_dir={cache}",
        "++scene.infinigen.surfaces={bowl:[ceramic.Ceramic]}",
        "scene.upright_probability=1",
        "scene.infinigen.bowl_fill.kinds=[strawberry]",
        "scene.infinigen.bowl_fill.count=[2,2]",
        "scene.infinigen.bowl_fill.probability=1",
    ]


def _job(tmp_path_factory, compose_cfg, cache: Path, name: str, *extra: str) -> Path:
    from simvision.dataset.job import run

    out = tmp_path_factory.mktemp(name)
    overrides = [o for o in _job_overrides(out, cache) if not any(o.startswith(e.split("=")[0]) for e in extra)]
    assert run(compose_cfg(*overrides, *extra)).frames == 3
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, compose_cfg, cache) -> Path:
    """Standing ceramic bowls, each holding two strawberries."""
    return _job(tmp_path_factory, compose_cfg, cache, "set_table")


@pytest.fixture(scope="module")
def empty(tmp_path_factory, compose_cfg, cache) -> Path:
    """The same scenes with the fill off."""
    return _job(tmp_path_factory, compose_cfg, cache, "set_table_empty", "scene.infinigen.bowl_fill.count=[0,0]")


@pytest.fixture(scope="module")
def dishes(tmp_path_factory, compose_cfg, cache) -> Path:
    """The same scenes, each bowl holding a dish (rice, soup, ...) instead of pieces."""
    return _job(
        tmp_path_factory, compose_cfg, cache, "set_table_dishes", "scene.infinigen.bowl_fill.dish_probability=1"
    )


def _records(dataset: Path) -> list[dict]:
    return [json.loads(line) for line in (dataset / "metadata" / "frames.jsonl").read_text().splitlines()]


def _tilt_deg(pose: list[list[float]]) -> float:
    return float(np.degrees(np.arccos(np.clip(pose[2][2], -1.0, 1.0))))


@pytest.mark.blender
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("infinigen") is None, reason="infinigen is not installed")
def test_ceramic_bowls_render_standing_with_exact_labels(dataset: Path) -> None:
    """A real job: bowls made of ceramic, set down standing, labelled exactly, their material recorded."""
    from pycocotools.coco import COCO

    bowls = [o for r in _records(dataset) for o in r["objects"] if o["class_name"] == "bowl"]
    assert bowls and all(o["asset"]["surface"] == "ceramic.Ceramic" for o in bowls)
    assert all(".mceramic.Ceramic." in o["asset"]["path"] for o in bowls)
    tilts = [_tilt_deg(o["pose_world"]) for o in bowls]
    assert np.mean(np.array(tilts) <= 30) >= 0.8, tilts  # set down standing, they stand
    coco = COCO(str(dataset / "annotations" / "instances.json"))
    anns = coco.loadAnns(coco.getAnnIds())
    assert anns and {a["category_id"] for a in anns} == {bowls[0]["category_id"]}  # the fruit is not labelled
    assert_annotations_match_instance_maps(dataset, coco, anns)


@pytest.mark.blender
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("infinigen") is None, reason="infinigen is not installed")
def test_standing_bowls_hold_their_food(dataset: Path, cache: Path) -> None:
    """bowl_fill: two strawberries lie in each standing bowl, unlabelled, and ride on it through the drop."""
    from simvision.scene.infinigen_library import load_variant_mesh
    from simvision.scene.tabletop.sampler import euler_xyz

    pieces = 0
    for record in _records(dataset):
        bowls = {o["instance_id"]: o for o in record["objects"] if o["class_name"] == "bowl"}
        food = [o for o in record["objects"] if o["asset"].get("role") == "bowl_fill"]
        for piece in food:
            assert piece["instance_id"] == 0 and piece["class_name"] is None and "visible_pixels" not in piece
            assert piece["asset"]["kind_name"] == "strawberry" and piece["parent_instance_id"] in bowls
            bowl = bowls[piece["parent_instance_id"]]
            local = np.eye(4)
            local[:3, :3], local[:3, 3] = euler_xyz(piece["rotation_euler"]), piece["location"]
            # where it ends: the bowl's final pose times its place in the bowl (it moved with it)
            np.testing.assert_allclose(piece["pose_world"], np.array(bowl["pose_world"]) @ local, atol=1e-5)
            # in the bowl: centred within its rim, its lowest point above the bowl's base and under its rim
            vertices = load_variant_mesh(piece["asset"]["path"].replace(".blend", ".npz"))[0]
            size = bowl["bbox3d"]["size"]
            lowest = float((vertices @ local[:3, :3].T)[:, 2].min() + local[2, 3])
            assert np.linalg.norm(local[:2, 3]) < min(size[:2]) / 2
            assert 0.0 < lowest < size[2], (lowest, size)
            pieces += 1
        assert len(food) == 2 * len(bowls) or record["physics"].get("removed")  # two pieces a bowl
    assert pieces >= 4


@pytest.mark.blender
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("infinigen") is None, reason="infinigen is not installed")
def test_the_fill_changes_nothing_else(
    dataset: Path, empty: Path, dishes: Path, cache: Path, compose_cfg, tmp_path: Path
) -> None:
    """Switching bowl_fill off changes no other object, pose or camera (same seed): the food is drawn last and
    has no physics of its own, so the bowls settle exactly where they settle empty, pieces or dishes."""
    from simvision.dataset.job_config import validate_job_config
    from simvision.scene.base import load_scene

    for filled in (dataset, dishes):
        for full, bare in zip(_records(filled), _records(empty), strict=True):
            kept = [o for o in full["objects"] if o["asset"].get("role") != "bowl_fill"]
            assert [o["pose_world"] for o in kept] == [o["pose_world"] for o in bare["objects"]]
            assert full["camera"] == bare["camera"]
    overrides = [o for o in _job_overrides(tmp_path, cache) if "bowl_fill.count" not in o]
    specs = {}
    for count in ("[2,2]", "[0,0]"):
        cfg = compose_cfg(*overrides, f"scene.infinigen.bowl_fill.count={count}")
        scene = load_scene(cfg.scene, validate_job_config(cfg), (96, 72))
        specs[count] = [scene.sample(i, [3, i], 1, rng=np.random.default_rng([3, i])) for i in range(6)]
    for on, off in zip(specs["[2,2]"], specs["[0,0]"], strict=True):
        food = [o for o in on.objects if o.asset.get("role") == "bowl_fill"]
        assert len(food) == 2 * len(off.objects)  # every bowl starts standing, each gets two pieces
        assert [o.location for o in on.objects if o not in food] == [o.location for o in off.objects]
        assert [c.cam_to_world for c in on.cameras] == [c.cam_to_world for c in off.cameras]


@pytest.mark.blender
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("infinigen") is None, reason="infinigen is not installed")
def test_a_chosen_surface_changes_the_material_and_not_the_shape(cache: Path) -> None:
    """Real Infinigen in its helper: bowl seed 0 (glass by Infinigen's draw) made of ceramic keeps its mesh."""
    from simvision.render.infinigen_assets import prepare

    own = variants(["bowl"], _cfg(cache, {}, count=1))["bowl"][0]
    ceramic = variants(["bowl"], _cfg(cache, {"bowl": ["ceramic.Ceramic"]}, count=1))["bowl"][0]
    prepare([own, ceramic], helpers=1)  # the ceramic one may be cached by the job above
    assert Path(own.npz).is_file() and Path(ceramic.npz).is_file()
    assert own.object_name == "BowlFactory_0" and ceramic.object_name == "BowlFactory_0_ceramic.Ceramic"
    with np.load(own.npz) as a, np.load(ceramic.npz) as b:
        assert "shader_ceramic" not in list(a["materials"])
        assert set(b["materials"]) == {"shader_ceramic"}  # outside and inside
        # the same mesh: the same counts and bounds; the decimation to the budget may order the vertices and
        # collapse a few edges differently between processes (2 of 15,000 vertices a few mm apart)
        assert a["vertices"].shape == b["vertices"].shape and a["faces"].shape == b["faces"].shape
        np.testing.assert_allclose(a["vertices"].min(axis=0), b["vertices"].min(axis=0), atol=1e-4)
        np.testing.assert_allclose(a["vertices"].max(axis=0), b["vertices"].max(axis=0), atol=1e-4)
        apart = np.abs(np.sort(a["vertices"], axis=0) - np.sort(b["vertices"], axis=0)) > 1e-3
        assert apart.mean() < 0.005, apart.sum(axis=0)


def test_food_rests_on_the_inside_of_a_bowl_and_on_the_food_before_it() -> None:
    """The heightfield the fill is placed with (no Blender): a ball rests on a bowl's inside, a second on it."""
    from simvision.scene.tabletop.food import Heightfield

    # a bowl: a spherical cap shell of radius 0.1 m, 6 cm deep, its inside 5 mm above its outside
    r, t = np.meshgrid(np.linspace(0, 0.08, 60), np.linspace(0, 2 * np.pi, 120))
    sag = 0.1 - np.sqrt(0.1**2 - r**2)  # the cap's height over its lowest point
    outer = np.stack([r * np.cos(t), r * np.sin(t), sag], axis=-1).reshape(-1, 3)
    bowl = np.concatenate([outer, outer + [0, 0, 0.005]])
    theta, phi = np.meshgrid(np.linspace(0, np.pi, 30), np.linspace(0, 2 * np.pi, 60))
    ball = 0.02 * np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], -1).reshape(-1, 3)
    field = Heightfield.of(bowl)
    lift = field.rest(ball[:, :2], ball[:, 2])
    # the inside at the middle is 5 mm up; a 2 cm ball touches the curved inside a little above that
    assert 0.005 + 0.02 <= lift <= 0.005 + 0.02 + 0.006, lift
    field.add(ball[:, :2], ball[:, 2] + lift)
    second = field.rest(ball[:, :2] + [0.01, 0], ball[:, 2])
    assert second > lift + 0.02  # on top of the first ball, not inside it
    assert Heightfield.of(bowl).rest(ball[:, :2] + [1.0, 1.0], ball[:, 2]) == 0.0  # nothing under it


@pytest.mark.blender
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("infinigen") is None, reason="infinigen is not installed")
def test_dishes_fill_the_bowls_and_hide_their_insides(dishes: Path, empty: Path) -> None:
    """dish_probability=1: every filled bowl holds one dish, a surface in the bowl's frame (riding on it), and
    the bowls show fewer pixels than empty ones while their unoccluded masks are the same."""
    from pycocotools.coco import COCO

    from simvision.scene.tabletop.food import DISHES

    served = 0
    for full, bare in zip(_records(dishes), _records(empty), strict=True):
        bowls = {o["instance_id"]: o for o in full["objects"] if o["class_name"] == "bowl"}
        food = [o for o in full["objects"] if o["asset"].get("role") == "bowl_fill"]
        for o in food:
            assert o["asset"]["shape"] == "dish" and o["asset"]["kind_name"] in DISHES and o["instance_id"] == 0
            assert o["parent_instance_id"] in bowls and o["location"] == [0.0, 0.0, 0.0]
            np.testing.assert_allclose(o["pose_world"], bowls[o["parent_instance_id"]]["pose_world"], atol=1e-6)
            level = o["asset"]["params"]["level_m"]
            assert 0 < level < bowls[o["parent_instance_id"]]["bbox3d"]["size"][2]
        assert len({o["parent_instance_id"] for o in food}) == len(food)  # one dish a bowl
        served += len(food)
        empty_bowls = {o["instance_id"]: o for o in bare["objects"]}
        for iid, bowl in bowls.items():
            assert bowl["unoccluded_pixels"] == empty_bowls[iid]["unoccluded_pixels"]
            assert bowl["visible_pixels"] <= empty_bowls[iid]["visible_pixels"]
    assert served >= 4
    seen = sum(o["visible_pixels"] for r in _records(dishes) for o in r["objects"] if o["class_name"] == "bowl")
    seen_empty = sum(o["visible_pixels"] for r in _records(empty) for o in r["objects"])
    assert seen < 0.95 * seen_empty  # the dishes cover the bowls' insides
    coco = COCO(str(dishes / "annotations" / "instances.json"))
    assert_annotations_match_instance_maps(dishes, coco, coco.loadAnns(coco.getAnnIds()))


def test_a_dish_meets_the_bowl_at_its_level() -> None:
    """The dish surface (no Blender) on a spherical-cap bowl: its rim ring lies on the bowl's inside at the
    level, its middle heaped, nothing under the inside; no dish above the rim."""
    from simvision.scene.tabletop.food import RINGS, SECTORS, Heightfield, dish

    r, t = np.meshgrid(np.linspace(0, 0.08, 80), np.linspace(0, 2 * np.pi, 160))
    sag = 0.1 - np.sqrt(0.1**2 - r**2)
    inside = np.stack([r * np.cos(t), r * np.sin(t), sag + 0.005], axis=-1).reshape(-1, 3)
    field = Heightfield.of(inside, cell=0.003)
    level, mound = 0.02, 0.01
    vertices, faces = dish(field, 0.09, level, mound, 0.0, np.random.default_rng(0))
    assert faces.max() == len(vertices) - 1 and len(vertices) == 2 * (1 + RINGS * SECTORS) - SECTORS
    # a closed body (every edge between two triangles, wound consistently): it fills a glass, not a lid on air
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    assert np.all(np.unique(edges, axis=0, return_counts=True)[1] == 2)
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    assert len(np.unique(directed, axis=0)) == len(directed)
    under = vertices[1 + RINGS * SECTORS :]
    assert np.all(under[:, 2] <= vertices[: len(under), 2] + 1e-12)  # the underside is never above the top
    vertices = vertices[: 1 + RINGS * SECTORS]  # the top
    rim = vertices[1 + (RINGS - 1) * SECTORS :]
    wall = np.sqrt(0.1**2 - (0.1 - (level - 0.005)) ** 2)  # where the inside is at the level
    assert np.all(rim[:, 2] == level)
    assert np.all(np.abs(np.linalg.norm(rim[:, :2], axis=1) - wall) < 0.008)  # within two cells of the wall
    assert vertices[0, 2] == pytest.approx(level + mound)
    assert np.all(vertices[:-SECTORS, 2] >= field.near(vertices[:-SECTORS, :2]) + 0.001 - 1e-9)
    assert dish(field, 0.09, 0.2, 0.0, 0.0, np.random.default_rng(0)) is None  # above the rim: no wall holds it


def _cup_scene(compose_cfg, tmp_path: Path, *extra: str):
    from simvision.dataset.job_config import validate_job_config
    from simvision.scene.base import load_scene

    cfg = compose_cfg(
        f"output_dir={tmp_path}",
        "scene=tabletop",
        "scene.assets=procedural",
        "scene.use_asset_manifest=false",
        "scene.container=table",
        "scene.classes=[cup]",
        "scene.num_objects=[3,4]",
        "scene.distractors=[0,0]",
        "scene.upright_probability=1",
        "scene.camera.distance=[0.5,0.6]",
        *extra,
    )
    return load_scene(cfg.scene, validate_job_config(cfg), (96, 72))


def test_drinks_fill_the_standing_cups(compose_cfg, tmp_path: Path) -> None:
    """cup_fill (sampler, our procedural cups): one drink a standing cup, inside it, below its rim, riding on
    it; drawn last, so with it off every other object and camera is the same."""
    from simvision.scene.tabletop.food import DRINKS

    def specs(p: float) -> list:
        scene = _cup_scene(compose_cfg, tmp_path, f"scene.infinigen.cup_fill.probability={p}")
        return [scene.sample(i, [5, i], 1, rng=np.random.default_rng([5, i])) for i in range(6)]

    for on, off in zip(specs(1.0), specs(0.0), strict=True):
        cups = {o.instance_id: o for o in on.objects if o.class_name == "cup"}
        drinks = [o for o in on.objects if o.asset.get("role") == "cup_fill"]
        assert sorted(d.parent for d in drinks) == sorted(cups)  # one drink a cup
        for d in drinks:
            cup = cups[d.parent]
            assert d.instance_id == 0 and d.asset["shape"] == "drink" and d.asset["kind_name"] in DRINKS
            lo, hi = cup.vertices.min(axis=0), cup.vertices.max(axis=0)
            assert np.all(d.vertices[:, :2] >= lo[:2]) and np.all(d.vertices[:, :2] <= hi[:2])
            assert 0 < d.asset["params"]["level_m"] < hi[2] and d.vertices[:, 2].max() <= hi[2]
        assert [(o.location, o.rotation_euler) for o in on.objects if o.parent == 0] == [
            (o.location, o.rotation_euler) for o in off.objects
        ]
        assert [c.cam_to_world for c in on.cameras] == [c.cam_to_world for c in off.cameras]


@pytest.mark.blender
def test_drinks_render_inside_the_cups_and_stay_unlabelled(renderer, compose_cfg, tmp_path: Path) -> None:
    """Rendered (real Cycles, tiny): with the drinks the cups' masks lose the pixels the drink covers and no
    pixel is labelled as anything but a cup or background."""
    scene = _cup_scene(compose_cfg, tmp_path, "scene.infinigen.cup_fill.probability=1")
    fewer = 0
    for i in range(3):
        spec = scene.sample(i, [5, i], 1, rng=np.random.default_rng([5, i]))
        renderer.build(spec)
        full = renderer.render(spec)[0].instance
        cups = [o.instance_id for o in spec.objects if o.class_name == "cup"]
        assert set(np.unique(full).tolist()) <= {0, *cups}
        spec.objects = [o for o in spec.objects if o.asset.get("role") != "cup_fill"]
        renderer.build(spec)
        bare = renderer.render(spec)[0].instance
        for iid in cups:
            assert (full == iid).sum() <= (bare == iid).sum()
            fewer += int((full == iid).sum() < (bare == iid).sum())
    assert fewer >= 2  # seen from above, a drink hides part of its cup's inside
