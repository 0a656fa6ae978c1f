"""Where the street's vegetation goes (plain data, no Blender): stand-in meshes in a temporary cache, the real
sampler and placement rules: off the road and the sidewalk, clear of buildings, poles and labelled objects."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from omegaconf import OmegaConf

from simvision.config.checks import ConfigError
from simvision.config.paths import SCENES_DIR
from simvision.scene.street.config import StreetSceneConfig, validate_street
from simvision.scene.street.scene import StreetScene
from simvision.scene.street.vegetation import vegetation_variants

CLASSES = {"car": 1, "person": 2, "cyclist": 3, "traffic_cone": 4, "barrier": 5, "obstacle": 6}
CLASSES |= {"traffic_light": 7, "bus": 8, "truck": 9, "van": 10}
LAYOUT = yaml.safe_load((SCENES_DIR / "street.yaml").read_text())
PARKING, KERB = float(LAYOUT["road"]["parking_width"]), float(LAYOUT["sidewalk"]["kerb_height"])
SIZES = {"tree": (5.0, 8.0), "bush": (1.2, 1.0), "grass": (0.3, 0.12), "rock": (1.0, 0.6)}  # width, height


def _cfg(cache: Path, assets: str = "infinigen") -> object:
    cfg = OmegaConf.structured(StreetSceneConfig)
    cfg.assets = assets
    cfg.infinigen.variants = 2
    cfg.infinigen.cache_dir = str(cache)
    return cfg


# a leafy tree's cached mesh is its trunk and branches; its crown of instances is in the recorded bounds, off
# centre (the mesh is centred on the trunk)
CROWN_SHIFT = 0.6


def _fake_cache(cfg: object) -> None:
    """A square pyramid per variant, as wide and tall as the kind's real meshes roughly are; a tree's is a
    narrow trunk with its crown's bounds recorded, as the helper writes a tree whose foliage stays instanced."""
    for kind, found in vegetation_variants(cfg.vegetation, cfg.infinigen).items():
        for v in found:
            w, h = SIZES[kind]
            Path(v.npz).parent.mkdir(parents=True, exist_ok=True)
            extra = {}
            if kind == "tree":
                extra["bounds"] = np.array([[CROWN_SHIFT - w / 2, -w / 2, 0.0], [CROWN_SHIFT + w / 2, w / 2, h]])
                w, h = 0.4, 0.6 * h
            verts = np.array(
                [[-w / 2, -w / 2, 0], [w / 2, -w / 2, 0], [w / 2, w / 2, 0], [-w / 2, w / 2, 0], [0, 0, h]]
            )
            faces = np.array([[0, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]])
            np.savez(v.npz, vertices=verts, faces=faces, **extra)
            Path(v.blend).write_bytes(b"")


def _sample(cfg: object, index: int):
    scene = StreetScene(cfg, CLASSES, (320, 96))
    seed = [9, index]
    return scene.sample(index, seed, 1, rng=np.random.default_rng(np.random.SeedSequence(seed)))


def test_vegetation_stays_on_the_verge_clear_of_buildings_poles_and_objects(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    cfg.road = ["straight"]
    _fake_cache(cfg)
    kinds: dict[str, int] = {}
    for index in range(6):
        spec = _sample(cfg, index)
        c = spec.container
        edge = c["lanes"] * c["lane_width"] / 2 + PARKING + c["sidewalk_width"]
        buildings = [o for o in spec.scenery if o.asset.get("shape") == "building"]
        poles = [o for o in spec.scenery if o.asset.get("shape") in ("street_lamp", "traffic_sign")]
        items = [o for o in spec.scenery if o.asset.get("instanced")]
        assert len(items) == len(c["vegetation"])
        for o, rec in zip(items, c["vegetation"], strict=True):
            kinds[rec["kind"]] = kinds.get(rec["kind"], 0) + 1
            assert rec["position"][:2] == pytest.approx(o.location[:2], abs=1e-3)
            x, y = o.location[:2]
            kerb = edge - c["sidewalk_width"]
            if rec.get("pit"):  # a street tree in a pit in the sidewalk, by the kerb, with its square of soil
                kinds["pit"] = kinds.get("pit", 0) + 1
                assert rec["kind"] == "tree" and c["sidewalk_width"] >= cfg.vegetation.tree_pit_min_sidewalk_m
                lo_o, hi_o = cfg.vegetation.tree_pit_offset_m
                assert lo_o - 1e-6 <= abs(y) - kerb <= hi_o + 1e-6 and o.location[2] == pytest.approx(KERB)
                pits = [p for p in spec.scenery if p.asset.get("part") == "tree_pit"]
                assert any(p.location[:2] == pytest.approx([x, y]) for p in pits)
            else:
                assert abs(y) > edge  # off the road and the sidewalk
            w, h = SIZES[rec["kind"]]
            radius = (0.5 * w + (CROWN_SHIFT if rec["kind"] == "tree" else 0.0)) * rec["scale"]  # reach from xy
            for b in buildings:  # the whole crown (a square around it) outside every building's footprint
                lo, hi = b.vertices.min(axis=0), b.vertices.max(axis=0)
                bx, by = b.location[:2]
                c_, s_ = math.cos(b.rotation_euler[2]), math.sin(b.rotation_euler[2])
                lx, ly = c_ * (x - bx) + s_ * (y - by), -s_ * (x - bx) + c_ * (y - by)
                assert not (lo[0] - radius < lx < hi[0] + radius and lo[1] - radius < ly < hi[1] + radius), rec
            if rec["kind"] == "tree":  # sized and boxed by its crown's bounds, not by its trunk
                lo, hi = o.vertices.min(axis=0), o.vertices.max(axis=0)
                assert lo == pytest.approx([CROWN_SHIFT - w / 2, -w / 2, 0]) and hi[2] == pytest.approx(h)
                lo_h, hi_h = cfg.vegetation.tree_pit_height_m if rec.get("pit") else cfg.vegetation.tree_height_m
                assert lo_h - 1e-6 <= rec["scale"] * h <= hi_h + 1e-6
                for p in poles:
                    assert math.hypot(x - p.location[0], y - p.location[1]) > radius
            for obj in spec.objects:  # labelled objects keep their footprints
                assert math.hypot(x - obj.location[0], y - obj.location[1]) > 0.3
        trees = sorted((o.location[0], o.location[1]) for o in items if o.asset["part"] == "tree")
        for side in (-1, 1):
            xs = [x for x, y in trees if y * side > 0]
            assert all(
                b - a >= float(cfg.vegetation.tree_spacing_m[0]) - 1e-6 for a, b in zip(xs, xs[1:], strict=False)
            )
    assert set(kinds) == {"tree", "pit", "bush", "grass", "rock"} and kinds["tree"] - kinds["pit"] >= 3, kinds
    assert sum(p.asset.get("part") == "tree_pit" for p in spec.scenery) == sum(
        bool(r.get("pit")) for r in c["vegetation"]
    )


def test_procedural_street_has_no_vegetation_and_the_same_objects(tmp_path: Path) -> None:
    veg, bare = _cfg(tmp_path), _cfg(tmp_path, "procedural")
    _fake_cache(veg)
    a, b = _sample(veg, 0), _sample(bare, 0)
    assert "vegetation" not in b.container and not any(o.asset.get("instanced") for o in b.scenery)
    assert [o.location for o in a.objects] == [o.location for o in b.objects]  # vegetation has its own generator
    assert [c.cam_to_world for c in a.cameras] == [c.cam_to_world for c in b.cameras]
    assert a.container["vegetation"] == _sample(veg, 0).container["vegetation"]  # same seed, same vegetation


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("factories", {"tree": "TreeFactory"}, "scene.vegetation.factories.tree"),
        ("factories", {"rock": "rocks.BlenderRockFactory"}, "scene.vegetation.factories.rock"),
        ("factories", {"palm": "trees.TreeFactory"}, "scene.vegetation.factories.palm"),
        ("tree_spacing_m", [10.0, 5.0], "scene.vegetation.tree_spacing_m"),
        ("instance_ratio", {"tree": 2.0}, "scene.vegetation.instance_ratio.tree"),
        ("foliage_triangles", {"tree": -1}, "scene.vegetation.foliage_triangles.tree"),
        ("foliage_triangles", {"oak": 100}, "scene.vegetation.foliage_triangles.oak"),
        ("bush_probability", 1.5, "scene.vegetation.bush_probability"),
        ("tree_pit_probability", -0.1, "scene.vegetation.tree_pit_probability"),
        ("tree_pit_offset_m", [0.2, 0.3], "scene.vegetation.tree_pit_offset_m"),
        ("tree_pit_height_m", [6.0, 4.0], "scene.vegetation.tree_pit_height_m"),
        ("tree_pit_min_sidewalk_m", -1.0, "scene.vegetation.tree_pit_min_sidewalk_m"),
    ],
)
def test_bad_vegetation_config_names_the_field(tmp_path: Path, key: str, value: object, field: str) -> None:
    cfg = _cfg(tmp_path)
    cfg.vegetation[key] = value
    with pytest.raises(ConfigError) as info:
        validate_street(cfg, CLASSES)
    assert str(info.value).startswith(field) and "\n" not in str(info.value)
