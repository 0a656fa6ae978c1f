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
    ],
)
def test_bad_surfaces_are_named(compose_cfg, tmp_path: Path, override: str, message: str) -> None:
    from simvision.dataset.job_config import validate_job_config

    base = [f"output_dir={tmp_path}", "scene=tabletop", "scene.assets=infinigen"]
    with pytest.raises(ConfigError, match=message):
        validate_job_config(compose_cfg(*base, override))


def test_the_lived_in_table_is_set_with_ceramic_bowls_and_cups(compose_cfg, tmp_path: Path) -> None:
    from simvision.dataset.job_config import validate_job_config

    cfg = compose_cfg(f"output_dir={tmp_path}", "+experiment=lived_in")
    validate_job_config(cfg)
    surfaces = cfg.scene.infinigen.surfaces
    assert {"bowl", "cup"} <= set(surfaces) and all(s in SURFACE_MATERIALS for c in surfaces.values() for s in c)
    assert all(any(s.startswith("ceramic.") and "Glass" not in s for s in surfaces[c]) for c in ("bowl", "cup"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("infinigen_surfaces_cache")


@pytest.mark.blender
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("infinigen") is None, reason="infinigen is not installed")
def test_ceramic_bowls_render_standing_with_exact_labels(cache: Path, tmp_path: Path, compose_cfg) -> None:
    """A real job: bowls made of ceramic, dropped standing, labelled exactly, their material recorded."""
    from pycocotools.coco import COCO

    from simvision.dataset.job import run

    out = tmp_path / "ds"
    overrides = [
        f"output_dir={out}",
        "num_frames=2",
        "seed=3",
        *TINY,
        "render.resolution=[96,72]",
        "scene.container=table",
        "scene.classes=[bowl]",
        "scene.num_objects=[3,3]",
        "scene.distractors=[0,0]",
        "scene.physics_max_time=1.5",
        "scene.camera.distance=[0.6,0.8]",
        "scene.use_asset_manifest=false",
        "scene.assets=infinigen",
        "scene.infinigen.variants=1",
        "scene.infinigen.room_materials=false",
        f"scene.infinigen.cache_dir={cache}",
        "++scene.infinigen.surfaces={bowl:[ceramic.Ceramic]}",
        "scene.upright_probability=1",
    ]
    assert run(compose_cfg(*overrides)).frames == 2
    records = [json.loads(line) for line in (out / "metadata" / "frames.jsonl").read_text().splitlines()]
    objects = [o for r in records for o in r["objects"]]
    assert objects and all(o["asset"]["surface"] == "ceramic.Ceramic" for o in objects)
    assert all(".mceramic.Ceramic." in o["asset"]["path"] for o in objects)
    tilts = [np.degrees(np.arccos(np.clip(o["pose_world"][2][2], -1, 1))) for o in objects]
    assert np.mean(np.array(tilts) <= 30) >= 0.8, tilts  # dropped standing, they stand
    coco = COCO(str(out / "annotations" / "instances.json"))
    anns = coco.loadAnns(coco.getAnnIds())
    assert anns
    assert_annotations_match_instance_maps(out, coco, anns)


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
