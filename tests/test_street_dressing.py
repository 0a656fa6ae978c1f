"""scene.assets=infinigen on the street: real surface materials, window frames, dressed vehicles (paint, glass,
plates with text) and clothing; recorded per frame, labels exact, reproducible; procedural streets untouched."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from simvision.scene.street.config import GROUND_SURFACES, ROAD_SURFACES
from tests.conftest import TINY
from tests.label_checks import assert_annotations_match_instance_maps

VEHICLES = ("car", "van", "truck", "bus")
LIGHT = ["scene.moving_vehicles=[3,4]", "scene.parked_vehicles=[2,3]", "scene.pedestrians=[3,4]"]


CLASS_IDS = {
    "car": 10, "van": 11, "truck": 12, "bus": 13, "person": 14, "cyclist": 15,
    "traffic_cone": 16, "traffic_light": 17, "barrier": 18, "obstacle": 19,
}  # fmt: skip


def _sample(
    cache: Path | None,
    indirect: str = "mean",
    time_of_day: str | None = None,
    road_surface: dict[str, float] | None = None,
    seed: int = 21,
    ground_surface: dict[str, float] | None = None,
    cone_wear: object = "default",
):
    """A street scene (seed 21) as the sampler draws it: procedural, or dressed with a cache at ``cache``."""
    from omegaconf import OmegaConf

    from simvision.scene.street.config import StreetSceneConfig
    from simvision.scene.street.scene import StreetScene

    cfg = OmegaConf.structured(StreetSceneConfig)
    cfg.moving_vehicles, cfg.parked_vehicles, cfg.pedestrians = [3, 4], [2, 3], [3, 4]
    if cache is not None:
        cfg.assets, cfg.infinigen.cache_dir = "infinigen", str(cache)
        cfg.vegetation.enabled = False  # the dressing alone (vegetation has its own tests)
        cfg.props.enabled = False  # and without street props (tests/test_street_props.py)
        cfg.shop_fronts.enabled = False  # nor shop fronts (tests/test_street_shop_fronts.py)
        cfg.infinigen.indirect_shading = indirect
    if time_of_day is not None:
        cfg.conditions.time_of_day = {k: float(k == time_of_day) for k in ("day", "low_sun", "dusk", "night")}
    if road_surface is not None:
        cfg.road_surface = road_surface
    if ground_surface is not None:
        cfg.ground_surface = ground_surface
    if cone_wear != "default":
        cfg.lane_cones, cfg.traffic_cones, cfg.construction_zone_probability = [3, 4], [2, 3], 1.0
        cfg.cone_wear = cone_wear
    scene = StreetScene(cfg, CLASS_IDS, (96, 72))
    return scene, scene.sample(0, [seed, 0], 1, rng=np.random.default_rng(np.random.SeedSequence([seed, 0])))


def test_procedural_street_is_not_dressed_and_infinigen_keeps_every_placement(tmp_path: Path) -> None:
    """Same seed: the dressed street has the same objects, classes, ids, poses and unlabelled parts; only
    materials, plates and window frames are added (after every procedural draw)."""
    scene_p, plain = _sample(None)
    scene_i, dressed = _sample(tmp_path)
    # tile, concrete, brick, plaster: material_variants (2) seeds each
    assert scene_p.asset_requests() == [] and len(scene_i.asset_requests()) == 8
    assert "street_materials" not in plain.background and "infinigen_materials" not in plain.background
    assert not [o for o in [*plain.objects, *plain.scenery] if "materials" in o.asset]
    key = [(o.instance_id, o.class_name, o.location, o.rotation_euler) for o in plain.objects]
    assert key == [(o.instance_id, o.class_name, o.location, o.rotation_euler) for o in dressed.objects]
    assert [o.asset.get("part") or o.asset.get("shape") for o in plain.scenery] == [
        o.asset.get("part") or o.asset.get("shape") for o in dressed.scenery
    ]
    assert plain.cameras[0].cam_to_world == dressed.cameras[0].cam_to_world
    plated = 0
    for before, after in zip(plain.objects, dressed.objects, strict=True):
        shape = after.asset["shape"]
        if shape in VEHICLES:
            mats = after.asset["materials"]
            assert mats["body"]["kind"] == "car_paint" and mats["body"]["coat"] == 1.0
            assert mats["glass"]["kind"] == "tinted_glass" and mats["tyre"]["kind"] == "rubber"
            # the original mesh is kept, the plates are extra faces of the same mesh (one instance) in their slots
            n = len(before.faces)
            assert np.array_equal(after.faces[:n], before.faces) and np.array_equal(
                after.vertices[: len(before.vertices)], before.vertices
            )
            slots = list(after.slot_materials)
            for side in ("plate_front", "plate_rear"):
                if side not in mats:
                    continue
                plated += 1
                assert mats[side]["text"] == after.asset["plate"] and len(after.asset["plate"]) >= 4
                faces = after.faces[after.face_slots == slots.index(side)]
                assert len(faces) == 12
                p = after.vertices[faces.ravel()]
                lo, hi = before.vertices.min(axis=0), before.vertices.max(axis=0)
                assert (p.min(axis=0) >= lo - [0.02, 0, 0]).all() and (p.max(axis=0) <= hi + [0.02, 0, 0]).all()
        elif shape == "person":
            mats = after.asset["materials"]
            assert mats["top"]["pattern"] in ("plain", "stripes", "checks") and mats["skin"]["kind"] == "skin"
            assert after.slot_materials["top"].base_color == mats["top"]["color"]
        elif shape == "traffic_cone":  # worn by default (tests below)
            assert {m["kind"] for m in after.asset["materials"].values()} <= {"worn_plastic", "reflective_sheeting"}
        else:
            assert "materials" not in after.asset
    assert plated >= 4
    surfaces = dressed.background["street_materials"]
    assert surfaces["road"]["kind"] == "asphalt" and surfaces["markings"]["kind"] == "road_paint"
    assert surfaces["sidewalk"]["class"] == "Tile" and surfaces["kerb"]["class"] == "Concrete"
    buildings = [o for o in dressed.scenery if o.asset.get("shape") == "building"]
    assert len(buildings) == len(surfaces["buildings"]) > 0
    for obj, rec in zip(buildings, surfaces["buildings"], strict=True):
        assert rec["facade"]["class"] in ("Brick", "Plaster") and rec["windows"]["panes"] > 0
        frames = obj.faces[obj.face_slots == list(obj.slot_materials).index("frame")]
        assert len(frames) >= 4 * 12 * rec["windows"]["panes"]  # head, rail and two jambs per pane at least
    # the same seed dresses the same way
    _, again = _sample(tmp_path)
    assert json.dumps(again.record(), sort_keys=True, default=str) == json.dumps(
        dressed.record(), sort_keys=True, default=str
    )


def test_indirect_shading_of_street_surfaces_is_a_recorded_choice(tmp_path: Path) -> None:
    """scene.infinigen.indirect_shading picks what indirect rays see of the sidewalk, kerb, facades and road; the
    choice is recorded with every Infinigen surface; anything else is a one-line error naming the field."""
    from omegaconf import OmegaConf

    from simvision.config.checks import ConfigError
    from simvision.scene.street.config import StreetSceneConfig, validate_street

    for choice in ("mean", "full"):
        background = _sample(tmp_path, choice)[1].background
        infinigen = background["infinigen_materials"]
        assert infinigen and {m["indirect"] for m in infinigen.values()} == {choice}
        # the road and its markings too (street_materials.flat_mean: what other rays see of them with "mean")
        assert {background["street_materials"][s]["indirect"] for s in ("road", "markings")} == {choice}
    cfg = OmegaConf.structured(StreetSceneConfig)
    cfg.infinigen.indirect_shading = "half"
    with pytest.raises(ConfigError, match=r"^scene\.infinigen\.indirect_shading: 'half' is not one of mean, full$"):
        validate_street(cfg, CLASS_IDS)


# dressed surface -> kind -> keys its record must carry; the scenery parts that wear it
SURFACE_KEYS = {
    "road": {
        "asphalt": {"aggregate_scale", "crack_coverage", "patch_coverage"},
        "concrete": {"slab_m", "joint_m", "stain_coverage"},
        "pavers": {"style", "size_m", "bond"},
    },
    "ground": {
        "lawn": {"colors", "dry_coverage", "bare_coverage", "blade_scale", "stripe_m", "stripe_contrast"},
        "gravel": {"colors", "stone_scale", "weed_coverage"},
        "soil": {"colors", "clod_scale", "weed_coverage"},
        "pavers": {"style", "size_m", "bond"},  # a car park, a plaza: the road's patterns
        "concrete": {"slab_m", "joint_m", "stain_coverage"},
    },
}
SURFACE_PARTS = {"road": ("road", "cross_road"), "ground": ("ground",)}


@pytest.mark.parametrize("surface", sorted(SURFACE_KEYS))
def test_road_and_ground_surfaces_are_drawn_from_their_weights_and_change_nothing_else(
    tmp_path: Path, surface: str
) -> None:
    """scene.road_surface picks the road's material per scene (asphalt, concrete slabs, pavers) and
    scene.ground_surface the open ground's (lawn, gravel, soil), recorded with the parameters the pattern needs;
    every other draw of the street is the same whatever the road or the ground is made of; a bad entry is a
    one-line error naming it."""
    from omegaconf import OmegaConf

    from simvision.config.checks import ConfigError
    from simvision.scene.street import dressing
    from simvision.scene.street.config import StreetSceneConfig, validate_street
    from simvision.scene.street.draws import tagged_rng, weighted_choice

    def without(spec):
        record = json.loads(json.dumps(spec.record(), default=str))
        record["background"]["street_materials"].pop(surface)
        return record

    kinds = SURFACE_KEYS[surface]
    first = None
    for kind, keys in kinds.items():
        _, spec = _sample(tmp_path, time_of_day="day", **{f"{surface}_surface": {kind: 1.0}})
        record = spec.background["street_materials"][surface]
        assert record["kind"] == kind and keys <= set(record)
        if kind != "asphalt":  # patterns laid along the road, darker when wet
            assert record["curvature"] == spec.container["curvature"]
            assert record["wetness"] == pytest.approx(spec.conditions["wetness"], abs=1e-6)
        parts = [o for o in spec.scenery if o.asset.get("part") in SURFACE_PARTS[surface]]
        assert parts and all(o.asset["materials"]["surface"] is record for o in parts)
        rest = without(spec)
        first = first or rest
        assert rest == first
    # the default mix, drawn per scene seed by a generator of its own: each kind at about its share, and the
    # sampled scene wears the kind its seed draws
    tag = {"road": dressing.ROAD_SURFACE_TAG, "ground": dressing.GROUND_SURFACE_TAG}[surface]
    weights = dict(getattr(StreetSceneConfig(), f"{surface}_surface"))
    drawn = [weighted_choice(weights, tagged_rng([s, 0], tag)) for s in range(1000)]
    for kind, weight in weights.items():
        assert drawn.count(kind) / 1000 == pytest.approx(weight / sum(weights.values()), abs=0.04), kind
    assert [_sample(tmp_path, seed=s)[1].background["street_materials"][surface]["kind"] for s in range(4)] == drawn[:4]
    cfg = OmegaConf.structured(StreetSceneConfig)
    cfg[f"{surface}_surface"] = {next(iter(kinds)): 1.0, "marble": 1.0}
    choices = ", ".join(sorted(kinds))
    with pytest.raises(ConfigError, match=rf"^scene\.{surface}_surface\.marble: unknown entry; choose from {choices}$"):
        validate_street(cfg, CLASS_IDS)


def test_house_windows_glow_at_night(tmp_path: Path) -> None:
    """At night a recorded share of each building's panes moves to a lit slot (frames stay round every pane);
    by day none does."""
    _, day = _sample(tmp_path, time_of_day="day")
    _, night = _sample(tmp_path, time_of_day="night")
    assert night.conditions["sun_elevation_deg"] < -3 < day.conditions["sun_elevation_deg"]
    assert all(b["lit_windows"] is None for b in day.background["street_materials"]["buildings"])
    buildings = [o for o in night.scenery if o.asset.get("shape") == "building"]
    records = night.background["street_materials"]["buildings"]
    lit_total = panes_total = 0
    for obj, rec in zip(buildings, records, strict=True):
        slots = list(obj.slot_materials)
        glass = int((obj.face_slots == slots.index("glass")).sum()) // 12
        lit = int((obj.face_slots == slots.index("window_lit")).sum()) // 12 if "window_lit" in slots else 0
        assert glass + lit == rec["windows"]["panes"]  # every pane framed, lit or not
        if rec["lit_windows"] is None:
            assert lit == 0
            continue
        mat = obj.asset["materials"]["window_lit"]
        assert mat == rec["lit_windows"] and mat["kind"] == "lit_window" and mat["panes"] == lit > 0
        assert 0.1 <= mat["share"] <= 0.45 and mat["strength"] > 0
        lit_total, panes_total = lit_total + lit, panes_total + glass + lit
    assert 0.1 < lit_total / panes_total < 0.45


def test_cone_wear_is_drawn_per_cone_in_its_range_recorded_and_changes_nothing_else(tmp_path: Path) -> None:
    """scene.cone_wear: every cone's PVC is soiled and scuffed by a wear drawn in the range, its bands are
    retroreflective sheeting over the same PVC colour; the records say so, and every other draw of the street
    (objects, poses, the other materials, the surfaces) is the same as with clean cones (``null``)."""
    from simvision.scene.street.furniture import CONE_STYLES

    _, clean = _sample(tmp_path, cone_wear=None)
    _, worn = _sample(tmp_path, cone_wear=[0.2, 0.6])
    cones = [o for o in worn.objects if o.asset["shape"] == "traffic_cone"]
    assert len(cones) >= 5
    assert all("materials" not in o.asset for o in clean.objects if o.asset["shape"] == "traffic_cone")
    wear = []
    for cone in cones:
        mats = cone.asset["materials"]
        _, body, band, _ = CONE_STYLES[cone.asset["params"]["style"]]
        pvc = mats[body]
        assert pvc["kind"] == "worn_plastic" and pvc["color"] == pytest.approx(
            cone.slot_materials[body].base_color, abs=1e-6
        )
        assert 0.2 <= pvc["wear"] <= 0.6 and 0 < pvc["grime_height_m"] < cone.asset["params"]["height"]
        wear.append(pvc["wear"])
        if band is None:
            assert set(mats) == {body}
            continue
        sheeting = mats[band]
        assert sheeting["kind"] == "reflective_sheeting" and sheeting["body_color"] == pvc["color"]
        assert sheeting["wear"] == pvc["wear"] and 0 <= sheeting["worn_through"] <= 0.3 * pvc["wear"]
        assert max(sheeting["color"]) <= max(cone.slot_materials[band].base_color)  # silver-grey to white
    assert len(set(wear)) == len(wear)  # drawn per cone
    # nothing else moved: the other objects' records and the street's surfaces are those of clean cones
    others = [json.dumps(o.record(), sort_keys=True, default=str) for o in clean.objects]
    assert others == [
        json.dumps(
            {**o.record(), "asset": {k: v for k, v in o.record()["asset"].items() if k != "materials"}},
            sort_keys=True,
            default=str,
        )
        if o.asset["shape"] == "traffic_cone"
        else json.dumps(o.record(), sort_keys=True, default=str)
        for o in worn.objects
    ]
    assert worn.background == clean.background
    # a fixed wear is that wear on every cone
    _, fixed = _sample(tmp_path, cone_wear=[0.5, 0.5])
    assert {
        m["wear"] for o in fixed.objects if o.asset["shape"] == "traffic_cone" for m in o.asset["materials"].values()
    } == {0.5}


@pytest.mark.parametrize("value", [[0.5, 1.5], [-0.1, 0.5], [0.6, 0.2], [0.5]])
def test_bad_cone_wear_names_the_field(value: list[float]) -> None:
    from omegaconf import OmegaConf

    from simvision.config.checks import ConfigError
    from simvision.scene.street.config import StreetSceneConfig, validate_street

    cfg = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig), {"cone_wear": value})
    with pytest.raises(ConfigError, match=r"^scene\.cone_wear: "):
        validate_street(cfg, CLASS_IDS)


def test_vehicle_paint_colours_follow_the_world_shares() -> None:
    from simvision.scene.street.dressing import CAR_PAINTS, _weighted

    rng = np.random.default_rng(0)
    names = [_weighted(CAR_PAINTS, rng)[0] for _ in range(4000)]
    neutral = np.mean([n in ("white", "black", "grey", "silver") for n in names])
    assert 0.78 < neutral < 0.86  # 82 % of the shares
    assert 0.05 < np.mean([n == "red" for n in names]) < 0.09


def _renders_infinigen(test):
    """A test that renders a dressed street with Blender (slow; skipped without infinigen)."""
    skip = pytest.mark.skipif(importlib.util.find_spec("infinigen") is None, reason="infinigen is not installed")
    return pytest.mark.blender(pytest.mark.slow(skip(test)))


@pytest.fixture(scope="module")
def dressed_dataset(tmp_path_factory, compose_cfg) -> tuple[Path, Path]:
    from simvision.dataset.job import run

    cache = tmp_path_factory.mktemp("street_ig_cache")
    out = tmp_path_factory.mktemp("street_dressed")
    run(compose_cfg(*_render_overrides(out, cache)))
    return out, cache


def _only(key: str, kinds: tuple[str, ...], kind: str) -> str:
    """The override that makes every draw of ``key`` ``kind`` (every kind named: a dict override merges into the
    default weights)."""
    return f"{key}={{" + ",".join(f"{k}:{float(k == kind)}" for k in kinds) + "}"


def _render_overrides(
    out: Path, cache: Path, road: str = "asphalt", ground: str = "lawn", time_of_day: str = "night"
) -> list[str]:
    return [
        _only("scene.road_surface", ROAD_SURFACES, road),
        _only("scene.ground_surface", GROUND_SURFACES, ground),
        "scene=street",
        f"output_dir={out}",
        "num_frames=1",
        "seed=4",
        *TINY,
        "render.resolution=[96,64]",
        *LIGHT,
        "scene.assets=infinigen",
        "scene.infinigen.material_variants=1",
        "scene.vegetation.enabled=false",  # the dressing alone (tests/test_street_vegetation.py grows plants)
        f"scene.infinigen.cache_dir={cache}",
        # at night (the default): lit house windows and shop windows are built too (shop fronts are on with
        # infinigen)
        _only("scene.conditions.time_of_day", ("day", "low_sun", "dusk", "night"), time_of_day),
    ]


@_renders_infinigen
def test_dressed_street_renders_with_recorded_materials_exact_labels_and_reproducibly(
    dressed_dataset: tuple[Path, Path], compose_cfg, tmp_path: Path
) -> None:
    import bpy
    from pycocotools.coco import COCO

    from simvision.dataset.job import run

    out, cache = dressed_dataset
    records = [json.loads(line) for line in (out / "metadata" / "frames.jsonl").read_text().splitlines()]
    for record in records:
        surfaces = record["background"]["street_materials"]
        for surface in ("sidewalk", "kerb"):
            m = surfaces[surface]
            assert m["kind"] == "infinigen" and m["licence"] == "BSD-3-Clause"
            assert Path(m["path"]).is_relative_to(cache) and Path(m["path"]).is_file()
        assert surfaces["road"]["kind"] == "asphalt"
        vehicles = [o for o in record["objects"] if o["asset"]["shape"] in VEHICLES]
        assert vehicles and all(o["asset"]["materials"]["body"]["kind"] == "car_paint" for o in vehicles)
        assert any(o["asset"].get("plate") for o in vehicles)
    card = json.loads((out / "dataset_card.json").read_text())
    rows = {r["asset"]: r for r in card["assets"]}
    assert rows["infinigen:ceramic.Tile:0"]["licence"] == "BSD-3-Clause"
    assert rows["infinigen:ceramic.Concrete:0"]["licence"] == "BSD-3-Clause"
    # every labelled object's mask is its instance's pixels and its box the mask's box
    coco = COCO(str(out / "annotations" / "instances.json"))
    anns = coco.loadAnns(coco.getAnnIds())
    assert anns
    assert_annotations_match_instance_maps(out, coco, anns)
    # the last built scene: plates are faces of their vehicle's own object (one pass index, one instance id),
    # with the plate string drawn into their image; sidewalks carry the cached Infinigen material
    plated = [
        o
        for o in bpy.data.objects
        if o.type == "MESH" and any(m and m.name.split(".")[0].endswith("_plate_front") for m in o.data.materials)
    ]
    assert plated
    for obj in plated:
        assert obj["sv_instance"] > 0 or obj["category_id"] == 0
        mat = next(m for m in obj.data.materials if m.name.split(".")[0].endswith("_plate_front"))
        image = next(n.image for n in mat.node_tree.nodes if n.bl_idname == "ShaderNodeTexImage")
        pixels = np.asarray(image.pixels[:]).reshape(image.size[1], image.size[0], 4)
        assert pixels[..., :3].min() < 0.2 and pixels[..., :3].max() > 0.8  # dark characters on a light plate
    # shop signs carry the shop's name in their image; lit house windows glow
    materials = {m.name.split(".")[0]: m for o in bpy.data.objects if o.type == "MESH" for m in o.data.materials if m}
    signs = [m for name, m in materials.items() if "_shop_sign_" in name]
    lit = [m for name, m in materials.items() if name.endswith("_window_lit")]
    assert signs and lit
    for mat in signs:
        image = next(n.image for n in mat.node_tree.nodes if n.bl_idname == "ShaderNodeTexImage")
        pixels = np.asarray(image.pixels[:]).reshape(image.size[1], image.size[0], 4)[..., :3]
        assert np.ptp(pixels.mean(axis=2)) > 0.3  # lettering on the sign's colour
    assert all(m.node_tree.nodes["Principled BSDF"].inputs["Emission Strength"].default_value > 0 for m in lit)
    walks = [
        o for o in bpy.data.objects if o.type == "MESH" and o.name.startswith("scenery_") and len(o.data.materials) == 2
    ]
    cached = [m for o in walks for m in o.data.materials if str(m.get("sv_source", "")).startswith("sv_infinigen:")]
    # scene.infinigen.indirect_shading=mean (the default): the full node tree for camera rays only, the
    # displacement (bump-mapped by Cycles for every ray) moved onto it; the road and its markings the same
    assert cached and all("sv_camera_only_mix" in m.node_tree.nodes for m in cached)
    assert all(not _output(m).inputs["Displacement"].is_linked for m in cached)
    assert any("sv_camera_only_bump" in m.node_tree.nodes for m in cached)
    road = bpy.data.objects["scenery_0"].data.materials[0]
    assert "sv_camera_only_mix" in road.node_tree.nodes and road["sv_mean_roughness"] > 0
    assert all(r["background"]["street_materials"]["sidewalk"]["indirect"] == "mean" for r in records)
    assert all(
        r["background"]["street_materials"][s]["indirect"] == "mean" for r in records for s in ("road", "markings")
    )
    # the road's textures are read in its plane; the tyres' (on a round, upright surface) in 3D
    assert _texture_dimensions(bpy.data.objects["scenery_0"]) == {"2D"}
    tyres = {
        n.noise_dimensions
        for m in materials.values()
        if m.name.split(".")[0].endswith("_tyre")
        for n in m.node_tree.nodes
        if n.bl_idname == "ShaderNodeTexNoise"
    }
    assert tyres == {"3D"}
    # the same seed (and the same cache, nothing regenerated) gives the same frame, pixels and labels
    again = tmp_path / "again"
    run(compose_cfg(*_render_overrides(again, cache)))
    for sub in ("images", "instance", "semantic"):
        assert (again / sub / "000000.png").read_bytes() == (out / sub / "000000.png").read_bytes(), sub


def _output(mat: Any) -> Any:
    return mat.node_tree.get_output_node("CYCLES")


def _render_plate(bpy: Any, mat: Any, path: Path) -> np.ndarray:
    """A 1 m plate of ``mat`` (box UVs in metres) seen from above in a scene of its own, lit by a low sun, with no
    bounce (every shaded point is a camera ray's): 96x96 RGB."""
    import math

    from simvision.render.infinigen_assets import box_uvs

    scene = bpy.data.scenes.new("sv_relief")
    try:
        scene.render.engine = "CYCLES"
        scene.cycles.device = "CPU"
        scene.cycles.samples, scene.cycles.max_bounces, scene.cycles.seed = 8, 0, 0
        scene.cycles.use_denoising = False
        scene.render.resolution_x = scene.render.resolution_y = 96
        scene.render.resolution_percentage = 100
        scene.render.image_settings.file_format = "PNG"
        scene.render.filepath = str(path)
        mesh = bpy.data.meshes.new("sv_relief_plate")
        mesh.from_pydata([(-0.5, -0.5, 0), (0.5, -0.5, 0), (0.5, 0.5, 0), (-0.5, 0.5, 0)], [], [(0, 1, 2, 3)])
        mesh.materials.append(mat)
        box_uvs(bpy, mesh)
        camera = bpy.data.objects.new("sv_relief_camera", bpy.data.cameras.new("sv_relief_camera"))
        camera.location, camera.data.angle = (0, 0, 1.5), 2 * math.atan(0.5 / 1.5)
        sun = bpy.data.objects.new("sv_relief_sun", bpy.data.lights.new("sv_relief_sun", "SUN"))
        sun.data.energy, sun.rotation_euler = 3.0, (math.radians(60), 0, math.radians(30))
        for obj in (bpy.data.objects.new("sv_relief_plate", mesh), camera, sun):
            scene.collection.objects.link(obj)
        scene.camera = camera
        bpy.ops.render.render(write_still=True, scene=scene.name)
        return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    finally:
        for obj in list(scene.collection.objects):
            bpy.data.objects.remove(obj)
        bpy.data.scenes.remove(scene)


@_renders_infinigen
def test_the_displacement_moved_onto_camera_rays_shows_the_camera_the_same_relief(
    dressed_dataset: tuple[Path, Path], tmp_path: Path
) -> None:
    """camera_only moves a cached material's displacement onto the camera rays' branch as a Bump node (through
    node groups, as in Infinigen's concrete): lit directly only, each street material renders as with its
    displacement, and measurably unlike the same material without relief."""
    import bpy

    from simvision.render.infinigen_assets import camera_only

    _, cache = dressed_dataset
    blends = sorted((cache / "1.15.5" / "materials").rglob("*.blend"))
    assert len(blends) >= 3  # sidewalk, kerb and facade materials
    compared = 0
    for blend in blends:
        with bpy.data.libraries.load(str(blend), link=False) as (src, dst):  # as cached, whatever the scene did
            dst.materials = [f"{blend.parent.name.split('.')[1]}_{blend.stem}"]
        full = dst.materials[0]
        if not _output(full).inputs["Displacement"].is_linked:
            continue
        moved, flat = full.copy(), full.copy()
        camera_only(bpy, moved)
        assert not _output(moved).inputs["Displacement"].is_linked and "sv_camera_only_bump" in moved.node_tree.nodes
        flat.node_tree.links.remove(_output(flat).inputs["Displacement"].links[0])
        a, b, c = (
            _render_plate(bpy, m, tmp_path / f"{blend.parent.name}_{k}.png") for k, m in enumerate((full, moved, flat))
        )
        relief = np.abs(a - c).mean()
        if relief > 0.05:  # grey levels: the relief shows at this scale
            compared += 1
            assert np.abs(a - b).mean() < 0.3 * relief, blend.parent.name
    assert compared >= 3


@_renders_infinigen
def test_concrete_and_paved_roads_render_and_leave_the_labels_as_they_were(
    dressed_dataset: tuple[Path, Path], compose_cfg, tmp_path: Path
) -> None:
    """The same frame with its road in concrete slabs and in pavers: the recorded surface is what the builder
    made (a brick texture laying the pavers), the picture changes and the instance and semantic maps do not."""
    import bpy

    from simvision.dataset.job import run

    asphalt, cache = dressed_dataset
    for kind in ("concrete", "pavers"):
        out = tmp_path / kind
        run(compose_cfg(*_render_overrides(out, cache, kind)))
        record = json.loads((out / "metadata" / "frames.jsonl").read_text().splitlines()[0])
        assert record["background"]["street_materials"]["road"]["kind"] == kind
        for sub in ("instance", "semantic"):
            assert (out / sub / "000000.png").read_bytes() == (asphalt / sub / "000000.png").read_bytes(), sub
        assert (out / "images" / "000000.png").read_bytes() != (asphalt / "images" / "000000.png").read_bytes()
        road = bpy.data.objects["scenery_0"]  # the road is the street's first piece of scenery
        nodes = {n.bl_idname for m in road.data.materials for n in m.node_tree.nodes}
        # pavers laid by a brick texture; concrete's joints measured along the road (its coordinates split)
        assert ("ShaderNodeTexBrick" in nodes) == (kind == "pavers")
        assert kind == "pavers" or "ShaderNodeSeparateXYZ" in nodes
        assert _texture_dimensions(road) == {"2D"}  # level ground: its noise read in the road's plane


def _texture_dimensions(obj: Any) -> set[str]:
    """How an object's materials read their noise and Voronoi textures ("2D" or "3D")."""
    return {
        getattr(n, "noise_dimensions", None) or n.voronoi_dimensions
        for m in obj.data.materials
        for n in m.node_tree.nodes
        if n.bl_idname in ("ShaderNodeTexNoise", "ShaderNodeTexVoronoi")
    }


@_renders_infinigen
def test_the_ground_renders_as_lawn_or_gravel_and_leaves_the_labels_as_they_were(
    dressed_dataset: tuple[Path, Path], compose_cfg, tmp_path: Path
) -> None:
    """The same day frame, looking along the right-hand verge, with the open ground in lawn and in gravel: the
    pixels whose depth puts them on the ground plane (5 cm below the road) are green on the lawn and not on the
    gravel, the builder gave the ground the recorded kind, and the instance and semantic maps are the same."""
    import bpy

    from simvision.dataset.job import run
    from simvision.labels.geometry import world_points

    _, cache = dressed_dataset
    view = [
        "scene.rig_yaw_deg=[-50.0]",
        "scene.camera_pitch_deg=[-14.0,-10.0]",
        "scene.camera_height=[1.6,1.7]",
        _only("scene.conditions.weather", ("clear", "overcast", "fog", "rain"), "clear"),
    ]
    green = {}
    for kind in ("lawn", "gravel"):
        out = tmp_path / kind
        run(compose_cfg(*_render_overrides(out, cache, ground=kind, time_of_day="day"), *view))
        record = json.loads((out / "metadata" / "frames.jsonl").read_text().splitlines()[0])
        assert record["background"]["street_materials"]["ground"]["kind"] == kind
        cam = record["camera"]
        points = world_points(np.load(out / "depth" / "000000.npy"), np.array(cam["K"]), np.array(cam["cam_to_world"]))
        instance = np.asarray(Image.open(out / "instance" / "000000.png"))
        on_ground = (np.abs(points[..., 2] + 0.05) < 0.01) & (instance == 0)
        assert on_ground.sum() >= 40, kind  # the verge is in view
        srgb = np.asarray(Image.open(out / "images" / "000000.png").convert("RGB"), dtype=np.float64)[on_ground] / 255
        rgb = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)  # linear light
        green[kind] = rgb[:, 1].mean() / rgb[:, 0].mean()
        ground = next(  # the ground: one quad, 5 cm below the road
            o
            for o in bpy.data.objects
            if o.type == "MESH"
            and len(o.data.vertices) == 4
            and all(abs(v.co.z + 0.05) < 1e-6 for v in o.data.vertices)
        )
        nodes = {n.bl_idname for m in ground.data.materials for n in m.node_tree.nodes}
        assert "ShaderNodeTexVoronoi" in nodes  # blades of grass, stones
        assert _texture_dimensions(ground) == {"2D"}
        if kind == "lawn":
            lawn = out
        else:
            for sub in ("instance", "semantic"):
                assert (out / sub / "000000.png").read_bytes() == (lawn / sub / "000000.png").read_bytes(), sub
    # a distant verge in a 96 x 64 frame, hazed by the sky: the lawn's green shows, weakly (1.07 vs 0.98 here)
    assert green["lawn"] > 1.03 and green["lawn"] > green["gravel"] + 0.05, green


@_renders_infinigen
def test_worn_cones_render_soiled_and_leave_the_labels_as_they_were(
    dressed_dataset: tuple[Path, Path], compose_cfg, tmp_path: Path
) -> None:
    """The same day frame of near lane cones with clean cones (``scene.cone_wear=null``) and fully worn ones:
    the builder gave the cones' PVC and bands the recorded worn materials (noise grime, the sheeting's cells),
    the cones' pixels are darker, and the instance and semantic maps are the same."""
    import bpy
    from pycocotools.coco import COCO

    from simvision.dataset.job import run

    _, cache = dressed_dataset
    near_cones = [
        "scene.lane_cones=[4,5]",
        "scene.ego_clearance_m=0.6",
        "++scene.placement.box_height_px.traffic_cone={median: 131, p10: 79, p90: 300}",
        "scene.camera_hfov_deg=[50,55]",
        "scene.camera_height=[0.8,0.9]",
        "scene.camera_pitch_deg=[-25.0,-20.0]",
        _only("scene.conditions.weather", ("clear", "overcast", "fog", "rain"), "clear"),
    ]
    cone_light = {}
    for name, wear in (("clean", "null"), ("worn", "[1.0,1.0]")):
        out = tmp_path / name
        run(compose_cfg(*_render_overrides(out, cache, time_of_day="day"), *near_cones, f"scene.cone_wear={wear}"))
        record = json.loads((out / "metadata" / "frames.jsonl").read_text().splitlines()[0])
        cones = [o for o in record["objects"] if o["asset"]["shape"] == "traffic_cone"]
        assert cones
        kinds = {m["kind"] for o in cones for m in o["asset"].get("materials", {}).values()}
        assert kinds == (set() if wear == "null" else {"worn_plastic", "reflective_sheeting"}) or (
            wear != "null" and kinds == {"worn_plastic"}  # only plain cones (no bands) in view
        )
        built = [o for o in bpy.data.objects if o.type == "MESH" and o.get("category_id") == cones[0]["category_id"]]
        nodes = {n.bl_idname for o in built for m in o.data.materials for n in m.node_tree.nodes}
        assert ("ShaderNodeTexNoise" in nodes) == (wear != "null")
        coco = COCO(str(out / "annotations" / "instances.json"))
        cone_id = coco.getCatIds(catNms=["traffic_cone"])[0]
        semantic = np.asarray(Image.open(out / "semantic" / "000000.png"))
        on_cone = semantic == cone_id
        assert on_cone.sum() >= 100, on_cone.sum()  # near cones fill part of the 96 x 64 frame
        srgb = np.asarray(Image.open(out / "images" / "000000.png").convert("RGB"), dtype=np.float64)[on_cone] / 255
        cone_light[name] = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4).mean()
    for sub in ("instance", "semantic"):
        assert (tmp_path / "worn" / sub / "000000.png").read_bytes() == (
            tmp_path / "clean" / sub / "000000.png"
        ).read_bytes(), sub
    assert cone_light["worn"] < 0.9 * cone_light["clean"], cone_light


@_renders_infinigen
def test_grass_blades_on_a_verge_lawn_render_and_only_hide_what_is_behind_them(
    dressed_dataset: tuple[Path, Path], compose_cfg, tmp_path: Path
) -> None:
    """A verge scene on a lawn (scene.verge_view) rendered with and without its grass blades: the blades are built
    (one mesh of thousands of triangles), they give the ground in front of the camera a texture the lawn's material
    alone lacks, and the labels change only where a blade hides a cone: no labelled pixel appears, none moves."""
    import bpy

    from simvision.dataset.job import run

    _, cache = dressed_dataset
    verge = [
        "scene.verge_view.probability=1",
        "scene.lane_cones=[3,3]",
        "scene.ego_clearance_m=0.6",
        "++scene.placement.box_height_px.traffic_cone={median: 40, p10: 30, p90: 60}",
        "scene.camera_height=[0.6,0.7]",
        "scene.camera_pitch_deg=[-25.0,-20.0]",
        _only("scene.conditions.weather", ("clear", "overcast", "fog", "rain"), "clear"),
    ]
    frames = {}
    for name, density in (("blades", "[3000,3000]"), ("lawn", "[0,0]")):
        out = tmp_path / name
        run(
            compose_cfg(
                *_render_overrides(out, cache, time_of_day="day"), *verge, f"scene.verge_view.blades_per_m2={density}"
            )
        )
        record = json.loads((out / "metadata" / "frames.jsonl").read_text().splitlines()[0])
        assert ("grass_blades" in record["scenery"]) == (name == "blades")  # scenery: counts by part
        if name == "blades":
            built = [  # the blades' mesh: green, pale and dry blades (material slots named <object>_<slot>)
                o
                for o in bpy.data.objects
                if o.type == "MESH"
                and {m.name.rsplit("_", 1)[-1] for m in o.data.materials} == {"green", "pale", "dry"}
            ]
            assert len(built) == 1 and len(built[0].data.polygons) > 1000
        frames[name] = (
            np.asarray(Image.open(out / "instance" / "000000.png")).astype(np.int64),
            np.asarray(Image.open(out / "images" / "000000.png").convert("L"), dtype=np.float64),
        )
    (inst_b, grey_b), (inst_l, grey_l) = frames["blades"], frames["lawn"]
    changed = inst_b != inst_l
    assert np.all(inst_b[changed] == 0) and np.all(inst_l[changed] > 0)  # only labelled pixels hidden, by blades
    ground = (inst_b == 0) & (inst_l == 0)
    lower = ground.copy()
    lower[: ground.shape[0] // 2] = False  # the near ground in the lower half of the frame
    contrast = {k: float(np.abs(np.diff(g, axis=1))[lower[:, 1:]].mean()) for k, g in (("b", grey_b), ("l", grey_l))}
    assert contrast["b"] > 1.3 * contrast["l"], contrast


def test_paved_ground_kinds_named_at_weight_0_change_no_draw() -> None:
    """The default ground mix names pavers and concrete at 0 (so a dict override can set them): every scene draws
    the kind it drew from the three-kind mix, and the ground's generator is left in the same state."""
    from simvision.scene.street import dressing
    from simvision.scene.street.config import StreetSceneConfig
    from simvision.scene.street.draws import tagged_rng, weighted_choice

    default = dict(StreetSceneConfig().ground_surface)
    assert default["pavers"] == default["concrete"] == 0.0
    three = {k: default[k] for k in ("lawn", "gravel", "soil")}
    for seed in range(2000):
        a, b = tagged_rng([seed, 0], dressing.GROUND_SURFACE_TAG), tagged_rng([seed, 0], dressing.GROUND_SURFACE_TAG)
        assert weighted_choice(default, a) == weighted_choice(three, b)
        assert a.uniform() == b.uniform()
