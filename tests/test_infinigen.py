"""scene.assets=infinigen: Infinigen's tableware, generated offline into a cache, rendered with exact labels."""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from simvision.scene.infinigen_library import MATERIALS_DIR
from tests.conftest import TINY
from tests.label_checks import assert_annotations_match_instance_maps

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(importlib.util.find_spec("infinigen") is None, reason="infinigen is not installed"),
]

# the noise Infinigen's import makes when left alone: an add-on install from extensions.blender.org and
# matplotlib's font lookups
NOISE = ("antlandscape", "extensions.blender.org", "online install", "findfont", "Traceback", "FATAL_ERROR")
CLASSES = ["cup", "bowl", "bottle", "can"]


def _overrides(out: Path, cache: Path) -> list[str]:
    return [
        f"output_dir={out}",
        "num_frames=2",
        "seed=7",
        *TINY,
        "render.resolution=[96,72]",
        "scene.container=table",
        f"scene.classes=[{','.join(CLASSES)}]",
        "scene.num_objects=[3,3]",
        "scene.distractors=[0,0]",
        "scene.physics_max_time=1.5",
        "scene.camera.cameras_per_scene=2",
        "scene.camera.distance=[0.5,0.7]",
        "scene.use_asset_manifest=false",  # Infinigen only (manifest meshes stay in the pool otherwise)
        "scene.assets=infinigen",
        "scene.infinigen.variants=1",
        "scene.infinigen.room_shading=full",  # the full trees here; the baked test asks for baked
        f"scene.infinigen.cache_dir={cache}",
    ]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("infinigen_cache")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, compose_cfg, cache) -> Path:
    from simvision.dataset.job import run

    out = tmp_path_factory.mktemp("ig_ds")
    result = run(compose_cfg(*_overrides(out, cache)))
    assert result.frames == 2
    return out


def _cached_files(cache: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in sorted(cache.rglob("*")) if p.suffix in (".blend", ".npz")}


@pytest.mark.slow
def test_generation_is_offline_and_quiet(tmp_path: Path, capfd, caplog) -> None:
    """Generating variants reaches for no network (the helpers' own output says so) and prints nothing but its
    progress; two helper processes share two variants."""
    from types import SimpleNamespace

    from simvision.render.infinigen_assets import prepare
    from simvision.scene.infinigen_library import load_variant_mesh, variants

    wanted = variants(["can"], SimpleNamespace(variants=2, seed=3, cache_dir=str(tmp_path)))["can"]
    with caplog.at_level(logging.INFO, logger="simvision"):
        assert [v.object_name for v in prepare(wanted, helpers=2)] == ["CanFactory_3", "CanFactory_4"]
    assert prepare(wanted) == []  # cached: nothing to do the second time
    for variant in wanted:
        vertices, faces = load_variant_mesh(variant.npz)
        assert len(faces) > 100 and vertices[:, 2].min() == 0.0
        assert abs(vertices[:, 0].min() + vertices[:, 0].max()) < 1e-6  # centred on its axis
    helper_output = next(tmp_path.rglob("generate.log")).read_text()
    # one section per helper, each with its own variant
    sections = helper_output.split("== ")[1:]
    assert len(sections) == 2 and all(" 1 variants, exit code 0" in section for section in sections)
    assert "generated CanFactory_3" in helper_output and "generated CanFactory_4" in helper_output
    shown = capfd.readouterr()
    for text in (helper_output, shown.out, shown.err, caplog.text):
        assert not [word for word in NOISE if word in text], text[-2000:]
    # what the user sees: what is generated where, in how many helpers, and a bar that reaches 2 of 2
    assert "Infinigen: generating 2 assets not in the cache yet (CanFactory) in 2 helper process(es)" in caplog.text
    assert "Infinigen assets (first run): 100%" in shown.err and "2/2 assets, last CanFactory_" in shown.err


@pytest.mark.slow
def test_a_failing_helper_names_its_variant_and_the_others_keep_their_work(tmp_path: Path) -> None:
    import psutil

    from simvision.render.infinigen_assets import InfinigenAssetError, prepare
    from simvision.scene.infinigen_library import Variant

    root = tmp_path / "1.15.5"
    good = Variant("can", "CanFactory", 5, str(root / "CanFactory" / "5.blend"), str(root / "CanFactory" / "5.npz"))
    bad = Variant("can", "NoSuchFactory", 0, str(root / "NoSuch" / "0.blend"), str(root / "NoSuch" / "0.npz"))
    with pytest.raises(InfinigenAssetError) as failed:
        prepare([good, bad], helpers=2)
    message = str(failed.value)
    assert message.startswith("generating Infinigen assets failed (exit code 1; missing: NoSuchFactory_0):")
    assert "NoSuchFactory" in message.splitlines()[-1]  # the helper's own last line says what went wrong
    assert Path(good.npz).is_file() and Path(good.blend).is_file()  # the other helper's variant is cached
    assert prepare([good]) == []
    # past the timeout every helper is stopped and the error says so
    slow = Variant("can", "CanFactory", 6, str(root / "CanFactory" / "6.blend"), str(root / "CanFactory" / "6.npz"))
    with pytest.raises(InfinigenAssetError, match=r"^generating 1 Infinigen assets took over 0.5 s$"):
        prepare([slow], timeout_s=0.5)
    assert not [p for p in psutil.Process().children(recursive=True) if p.is_running() and p.status() != "zombie"]


@pytest.mark.slow
def test_infinigen_labels_are_exact(dataset: Path, cache: Path) -> None:
    from pycocotools.coco import COCO

    coco = COCO(str(dataset / "annotations" / "instances.json"))
    anns = coco.loadAnns(coco.getAnnIds())
    assert anns, "expected visible Infinigen objects"
    records = [json.loads(line) for line in (dataset / "metadata" / "frames.jsonl").read_text().splitlines()]
    for record in records:
        inst = cv2.imread(str(dataset / "instance" / f"{record['frame_id']:06d}.png"), cv2.IMREAD_UNCHANGED)
        ids = {o["instance_id"] for o in record["objects"]}
        assert set(np.unique(inst).tolist()) - {0} <= ids  # every id in the mask is one placed object
        for o in record["objects"]:
            asset = o["asset"]
            assert asset["kind"] == "blend" and asset["library"] == "infinigen" and asset["licence"] == "BSD-3-Clause"
            assert Path(asset["path"]).is_relative_to(cache) and "material" not in o
            assert o["visible_pixels"] == int((inst == o["instance_id"]).sum())
    assert_annotations_match_instance_maps(dataset, coco, anns)
    card = json.loads((dataset / "dataset_card.json").read_text())
    rows = {r["asset"]: r for r in card["assets"]}
    assert any(k.startswith("infinigen:") and r["licence"] == "BSD-3-Clause" for k, r in rows.items())


@pytest.mark.slow
def test_same_seed_reuses_the_cache_and_gives_identical_labels(
    dataset: Path, cache: Path, tmp_path: Path, compose_cfg
) -> None:
    from simvision.dataset.job import run

    before = _cached_files(cache)
    run(compose_cfg(*_overrides(tmp_path / "again", cache)))
    assert _cached_files(cache) == before  # nothing generated again
    for sub in ("instance", "semantic", "images"):
        for a in sorted((dataset / sub).glob("*.png")):
            assert a.read_bytes() == (tmp_path / "again" / sub / a.name).read_bytes(), f"{sub}/{a.name}"
    assert (dataset / "annotations" / "instances.json").read_bytes() == (
        tmp_path / "again" / "annotations" / "instances.json"
    ).read_bytes()


@pytest.mark.slow
def test_infinigen_objects_carry_their_own_materials(dataset: Path, cache: Path) -> None:
    """Not one flat Principled BSDF (our MaterialSpec): several materials, or node/image materials."""
    import bpy

    from simvision.render.infinigen_assets import append_variant

    blends = sorted(p for p in cache.rglob("*.blend") if MATERIALS_DIR not in p.parts)
    assert {p.parent.name for p in blends} == {"CupFactory", "BowlFactory", "BottleFactory", "CanFactory"}
    for blend in blends:
        seed = blend.name.split(".")[0]  # <seed>.t<budget>.blend
        obj = append_variant(bpy, str(blend), f"{blend.parent.name}_{seed}", f"probe_{blend.parent.name}")
        materials = [m for m in obj.data.materials if m is not None]
        kinds = {n.bl_idname for m in materials for n in m.node_tree.nodes}
        rich = kinds - {"ShaderNodeBsdfPrincipled", "ShaderNodeOutputMaterial"}
        assert len(materials) > 1 or rich, f"{blend}: {[m.name for m in materials]} {kinds}"
        assert len(obj.children) == 0  # one object: one instance, one class
        bpy.data.objects.remove(obj)


def _full_material_files(cache: Path) -> list[Path]:
    """The cached full room materials (``<seed>.blend``; baked ones are ``<seed>.bake<tag>-<px>px-<mm>mm.blend``)."""
    return sorted(p for p in (cache / "1.15.5" / MATERIALS_DIR).rglob("*.blend") if ".bake" not in p.name)


def _records(dataset: Path) -> list[dict]:
    return [json.loads(line) for line in (dataset / "metadata" / "frames.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_room_materials_are_infinigen_and_change_no_label(
    dataset: Path, cache: Path, tmp_path: Path, compose_cfg
) -> None:
    """Table, floor and walls in Infinigen's materials (recorded per frame, cached, node materials);
    the same seed with scene.infinigen.room_materials=false has the same instance and class maps."""
    import bpy

    from simvision.dataset.job import run
    from simvision.render.infinigen_assets import append_material
    from simvision.scene.infinigen_library import ROOM_MATERIALS

    for record in _records(dataset):
        chosen = record["background"]["infinigen_materials"]
        assert set(chosen) == {"container", "floor", "walls"}
        for surface, m in chosen.items():
            assert m["kind"] == "infinigen" and m["licence"] == "BSD-3-Clause"
            assert (m["module"].rsplit(".", 1)[-1], m["class"]) in ROOM_MATERIALS[surface]
            assert Path(m["path"]).is_relative_to(cache) and Path(m["path"]).is_file()
    # the built scene (the last one rendered in this process) carries them on its room meshes
    surfaces = [o for o in bpy.data.objects if o.name.split(".")[0] in ("table_top", "floor", "wall")]
    assert surfaces
    for obj in surfaces:
        mat = obj.data.materials[0]
        assert str(mat.get("sv_source", "")).startswith("sv_infinigen:"), (obj.name, mat.name)
        assert "UVMap" in obj.data.uv_layers
    for blend in _full_material_files(cache):
        mat = append_material(bpy, str(blend), f"{blend.parent.name.split('.')[1]}_{blend.stem}")
        kinds = {n.bl_idname for n in mat.node_tree.nodes}
        assert kinds - {"ShaderNodeBsdfPrincipled", "ShaderNodeOutputMaterial"}, (blend, kinds)
        assert mat.displacement_method == "BUMP"  # silhouettes unchanged: labels exact
    log = (cache / "1.15.5" / "generate.log").read_text()
    assert not [word for word in NOISE if word in log], log[-2000:]

    off = tmp_path / "off"
    run(compose_cfg(*_overrides(off, cache), "scene.infinigen.room_materials=false"))
    assert all("infinigen_materials" not in r["background"] for r in _records(off))
    for sub in ("instance", "semantic"):
        for a in sorted((dataset / sub).glob("*.png")):
            assert a.read_bytes() == (off / sub / a.name).read_bytes(), f"{sub}/{a.name}"
    changed = [
        a.name
        for a in sorted((dataset / "images").glob("*.png"))
        if a.read_bytes() != (off / "images" / a.name).read_bytes()
    ]
    assert changed, "room materials should change the pictures"
    on_objects = [[(o["instance_id"], o["location"]) for o in r["objects"]] for r in _records(dataset)]
    assert on_objects == [[(o["instance_id"], o["location"]) for o in r["objects"]] for r in _records(off)]


@pytest.mark.slow
def test_heavy_variants_are_decimated_to_the_budget(dataset: Path, cache: Path) -> None:
    """scene.infinigen.max_triangles (default 30000) caps every cached variant; the budget is in the cache
    key; the rendered object is the cached triangles (mask == box is checked in test_infinigen_labels_are_exact)."""
    import bpy

    from simvision.render.infinigen_assets import append_variant
    from simvision.scene.infinigen_library import InfinigenConfig

    budget = InfinigenConfig().max_triangles
    npzs = sorted(p for p in cache.rglob("*.npz"))
    assert npzs and all(p.name.endswith(f".t{budget}.npz") for p in npzs), npzs
    counts = {}
    for npz in npzs:
        with np.load(npz) as data:
            counts[npz.parent.name] = len(data["faces"])
        blend = npz.with_suffix(".blend")
        obj = append_variant(bpy, str(blend), f"{npz.parent.name}_{npz.name.split('.')[0]}", "probe_decimated")
        obj.data.calc_loop_triangles()
        assert len(obj.data.loop_triangles) == counts[npz.parent.name]  # what renders is what is labelled
        bpy.data.objects.remove(obj)
    assert max(counts.values()) <= budget, counts
    assert counts["CupFactory"] > budget // 2, counts  # the cup (over 100k as spawned) was cut near the budget


@pytest.mark.slow
def test_cups_and_bowls_are_scaled_to_their_seeds_size(dataset: Path, cache: Path) -> None:
    """Cups and bowls come in their SIZE_RANGE (Infinigen's bowls are 17-37 cm serving bowls as spawned): each
    cached variant's largest extent is the size its seed draws, and that size is in the cache file's name."""
    from simvision.scene.infinigen_library import SIZE_RANGE, target_size

    for factory in ("CupFactory", "BowlFactory"):
        npzs = sorted((cache / "1.15.5" / factory).glob("*.npz"))
        assert npzs, factory
        for npz in npzs:
            seed = int(npz.name.split(".")[0])
            size = target_size(factory, seed)
            lo, hi = SIZE_RANGE[factory]
            assert lo <= size <= hi and f".s{round(size * 1000)}mm." in npz.name
            with np.load(npz) as data:
                extent = data["vertices"].max(axis=0) - data["vertices"].min(axis=0)
            assert extent.max() == pytest.approx(size, abs=1e-4), (npz.name, extent)


@pytest.mark.slow
def test_camera_only_room_materials_change_no_label(dataset: Path, cache: Path, tmp_path: Path, compose_cfg) -> None:
    """indirect_shading=mean (default): the room materials carry their baked mean colour and roughness and a
    camera-ray switch; the same seed with indirect_shading=full renders identical instance and class maps."""
    import bpy

    from simvision.dataset.job import run
    from simvision.render.infinigen_assets import append_material, camera_only

    records = _records(dataset)
    assert all(m["indirect"] == "mean" for r in records for m in r["background"]["infinigen_materials"].values())
    blends = _full_material_files(cache)
    assert blends
    for blend in blends:
        mat = append_material(bpy, str(blend), f"{blend.parent.name.split('.')[1]}_{blend.stem}").copy()
        colour, roughness = list(mat["sv_mean_color"]), float(mat["sv_mean_roughness"])
        assert len(colour) == 3 and all(0 <= c <= 1 for c in colour) and max(colour) > 0.01, (blend, colour)
        assert 0 <= roughness <= 1, (blend, roughness)
        camera_only(bpy, mat)
        camera_only(bpy, mat)  # once per material
        mixes = [n for n in mat.node_tree.nodes if n.bl_idname == "ShaderNodeMixShader" and n.name.startswith("sv_")]
        assert len(mixes) == 1 and mixes[0].inputs["Fac"].links[0].from_socket.name == "Is Camera Ray"
        proxy = mixes[0].inputs[1].links[0].from_node
        assert list(proxy.inputs["Base Color"].default_value)[:3] == pytest.approx(colour, abs=1e-6)
        bpy.data.materials.remove(mat)

    full = tmp_path / "full"
    run(compose_cfg(*_overrides(full, cache), "scene.infinigen.indirect_shading=full"))
    # the last built scene (full): no camera-ray switch in its room materials
    surfaces = [o for o in bpy.data.objects if o.name.split(".")[0] in ("table_top", "floor", "wall")]
    assert surfaces and not any("sv_camera_only_mix" in o.data.materials[0].node_tree.nodes for o in surfaces)
    assert all(m["indirect"] == "full" for r in _records(full) for m in r["background"]["infinigen_materials"].values())
    for sub in ("instance", "semantic"):
        for a in sorted((dataset / sub).glob("*.png")):
            assert a.read_bytes() == (full / sub / a.name).read_bytes(), f"{sub}/{a.name}"
    assert [r["objects"] for r in records] == [r["objects"] for r in _records(full)]
    changed = [
        a.name
        for a in sorted((dataset / "images").glob("*.png"))
        if a.read_bytes() != (full / "images" / a.name).read_bytes()
    ]
    assert changed, "indirect rays see the mean material: the lighting should change a little"


@pytest.mark.slow
def test_baked_room_materials_change_no_label(dataset: Path, cache: Path, tmp_path: Path, compose_cfg) -> None:
    """room_shading=baked: each room material is baked once (tiny images here) into its own cached file and
    the scene's surfaces get a light image-texture material; same seed as full: identical instance and
    class maps and objects, different RGB."""
    import bpy

    from simvision.dataset.job import run

    baked = tmp_path / "baked"
    run(
        compose_cfg(
            *_overrides(baked, cache),
            "scene.infinigen.room_shading=baked",
            "scene.infinigen.bake_px=32",
            "scene.infinigen.bake_normal_strength=0.5",
        )
    )
    records = _records(baked)
    for record in records:
        for m in record["background"]["infinigen_materials"].values():
            assert m["shading"] == "baked" and m["bake_px"] == 32 and m["bake_m"] == 2.0
            assert m["normal_strength"] == 0.5 and m["normal_blur"] == 1.0  # the default smoothing
            name = f"{m['seed']}.bake1-32px-2000mm-blur1.blend"
            assert Path(m["baked_path"]).is_file() and Path(m["baked_path"]).name == name
            assert Path(m["path"]).is_file()  # the full material stays cached beside it (room_shading=full)
    assert all(
        m["shading"] == "full" for r in _records(dataset) for m in r["background"]["infinigen_materials"].values()
    )
    # the last built scene (baked): its room surfaces read three packed 32 px images through the UVMap, and
    # none of Infinigen's texture nodes or node groups
    surfaces = [o for o in bpy.data.objects if o.name.split(".")[0] in ("table_top", "floor", "wall")]
    assert surfaces
    for obj in surfaces:
        mat = obj.data.materials[0]
        assert mat.name.split(".")[0].endswith("_baked"), mat.name
        kinds = {n.bl_idname for n in mat.node_tree.nodes}
        assert "ShaderNodeGroup" not in kinds and not any(
            k.startswith("ShaderNodeTex") and k != "ShaderNodeTexImage" for k in kinds
        )
        images = [n.image for n in mat.node_tree.nodes if n.bl_idname == "ShaderNodeTexImage"]
        assert len(images) == 3 and all(i.packed_file is not None and tuple(i.size) == (32, 32) for i in images)
        assert all(n.extension == "MIRROR" for n in mat.node_tree.nodes if n.bl_idname == "ShaderNodeTexImage")
        normal = mat.node_tree.nodes["Principled BSDF"].inputs["Normal"].links[0].from_node  # the baked bump
        assert normal.bl_idname == "ShaderNodeNormalMap" and normal.inputs["Strength"].default_value == 0.5
        pixels = np.array(images[0].pixels[:]).reshape(-1, 4)[:, :3]
        assert pixels.max() > 0.02, (mat.name, "baked base colour is black")
        assert "UVMap" in obj.data.uv_layers
    for sub in ("instance", "semantic"):
        for a in sorted((dataset / sub).glob("*.png")):
            assert a.read_bytes() == (baked / sub / a.name).read_bytes(), f"{sub}/{a.name}"
    assert [r["objects"] for r in _records(dataset)] == [r["objects"] for r in records]
    changed = [
        a.name
        for a in sorted((dataset / "images").glob("*.png"))
        if a.read_bytes() != (baked / "images" / a.name).read_bytes()
    ]
    assert changed, "baked 32 px images should not render exactly like the full node trees"
    log = (cache / "1.15.5" / "generate.log").read_text()
    assert "simvision: baked " in log and not [word for word in NOISE if word in log], log[-2000:]


def test_smooth_normal_map_takes_out_speckle_and_keeps_flat_and_slanted_maps() -> None:
    """scene.infinigen.bake_normal_blur: the baked normal map's per-texel noise shrinks, a constant map (flat or
    slanted) stays as it is, vectors stay unit length, alpha is untouched, and 0 is the raw map."""
    from simvision.render.infinigen_assets import smooth_normal_map

    rng = np.random.default_rng(0)
    tilt = np.array([0.3, -0.2, 1.0]) / np.linalg.norm([0.3, -0.2, 1.0])
    noisy = tilt + rng.normal(0.0, 0.25, (64, 64, 3))
    noisy /= np.linalg.norm(noisy, axis=-1, keepdims=True)
    pixels = np.concatenate([noisy * 0.5 + 0.5, np.full((64, 64, 1), 0.7)], axis=-1)

    def spread(px: np.ndarray) -> float:  # mean angle (degrees) from the tilt
        v = px[..., :3] * 2 - 1
        v = v / np.linalg.norm(v, axis=-1, keepdims=True)
        return float(np.degrees(np.arccos(np.clip(v @ tilt, -1, 1))).mean())

    smoothed = smooth_normal_map(pixels, 1.0)
    assert smoothed.shape == pixels.shape and np.allclose(smoothed[..., 3], 0.7)
    assert spread(smoothed) < 0.5 * spread(pixels)
    assert np.allclose(np.linalg.norm(smoothed[..., :3] * 2 - 1, axis=-1), 1.0, atol=1e-3)
    assert np.array_equal(smooth_normal_map(pixels, 0.0), pixels.astype(np.float32))
    constant = np.broadcast_to(np.append(tilt * 0.5 + 0.5, 1.0), (16, 16, 4))
    assert np.allclose(smooth_normal_map(constant, 2.0), constant, atol=1e-5)
