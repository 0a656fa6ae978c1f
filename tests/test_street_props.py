"""Street props (scene.props): fences, bollards, poles, bins and parked bicycles as unlabelled distractors on the
sidewalks and verges: recorded, reproducible, clear of everything, on by default only with scene.assets=infinigen,
and (real Blender) occluding labelled objects without changing their ids, with exact masks and boxes."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from omegaconf import OmegaConf

from simvision.config.checks import ConfigError
from simvision.config.paths import SCENES_DIR
from simvision.scene.street.config import StreetSceneConfig, validate_street
from simvision.scene.street.placement import _footprint
from simvision.scene.street.prop_shapes import PROP_SHAPES, make_fence
from simvision.scene.street.scene import StreetScene
from tests.conftest import TINY
from tests.label_checks import assert_annotations_match_instance_maps

CLASS_IDS = {
    "car": 10, "van": 11, "truck": 12, "bus": 13, "person": 14, "cyclist": 15,
    "traffic_cone": 16, "traffic_light": 17, "barrier": 18, "obstacle": 19,
}  # fmt: skip
PARKING = float(yaml.safe_load((SCENES_DIR / "street.yaml").read_text())["road"]["parking_width"])
KINDS = ("fence", "bollard", "pole", "bin", "bicycle")
DENSE = {"fences": [3, 3], "bollards": [6, 6], "poles": [3, 3], "bins": [4, 4], "bicycles": [4, 4]}


def _cfg(assets: str = "procedural", cache: Path | None = None, **props: object) -> object:
    cfg = OmegaConf.structured(StreetSceneConfig)
    cfg.assets = assets
    cfg.vegetation.enabled = False  # props alone (vegetation has its own tests)
    if cache is not None:
        cfg.infinigen.cache_dir = str(cache)
    for key, value in props.items():
        cfg.props[key] = value
    return cfg


def _sample(cfg: object, index: int = 0, seed: int = 21):
    scene = StreetScene(cfg, CLASS_IDS, (96, 72))
    s = [seed, index]
    return scene.sample(index, s, 1, rng=np.random.default_rng(np.random.SeedSequence(s)))


def _dump(spec: object) -> str:
    return json.dumps(spec.record(), sort_keys=True, default=str)


def test_prop_shapes_are_reproducible_recorded_and_stand_on_the_ground() -> None:
    for kind, make in PROP_SHAPES.items():
        variants = set()
        for seed in range(12):
            a, b = make(rng=np.random.default_rng(seed)), make(rng=np.random.default_rng(seed))
            assert np.array_equal(a.vertices, b.vertices) and a.params == b.params, kind
            json.dumps(a.params)  # recorded as plain JSON
            lo, hi = a.vertices.min(axis=0), a.vertices.max(axis=0)
            assert lo[2] == pytest.approx(0.0, abs=1e-9) and np.allclose((lo + hi)[:2], 0.0, atol=1e-9), kind
            assert a.faces.max() < len(a.vertices) and len(a.face_slots) == len(a.faces)
            assert set(np.unique(a.face_slots)) <= set(range(len(a.slots)))
            variants.add(a.params.get("variant") or a.params.get("stand"))
        assert len(variants) >= 2, (kind, variants)  # every kind comes in more than one form
    bike = PROP_SHAPES["bicycle"](rng=np.random.default_rng(3))
    p = bike.params
    assert 1.0 < bike.size[0] < 2.0 and 0.8 < bike.size[2] < 1.3 and p["bike"] in ("road", "city", "mtb")
    assert 24 <= p["spokes"] <= 36 and p["stand"] in ("kickstand", "hoop") and "bar_width" in p
    assert "rider" not in json.dumps(p) and len(bike.slot_faces("tyre")) > 0 and len(bike.slot_faces("rim")) > 0
    # spokes: thin 4-sided cylinders in the rim slot, two wheels' worth
    assert len(bike.slot_faces("rim")) >= 2 * p["spokes"] * 8
    fence = make_fence(rng=np.random.default_rng(0), variant="railing", length=3.0, height=1.2)
    assert fence.size[0] == pytest.approx(3.0) and fence.size[2] == pytest.approx(1.2, abs=0.04)
    assert fence.params["variant"] == "railing" and fence.params["length"] == 3.0


def test_props_follow_the_asset_library_and_leave_the_street_unchanged(tmp_path: Path) -> None:
    """Off by default with procedural (the record is that of props.enabled=false), on by default with infinigen;
    forced on, the labelled objects, their ids and poses, and the cameras are those of the bare street."""
    plain = _sample(_cfg())
    assert "props" not in plain.container
    assert _dump(plain) == _dump(_sample(_cfg(enabled=False)))
    assert not [o for o in plain.scenery if o.asset.get("shape") in KINDS]
    dressed = _sample(_cfg("infinigen", tmp_path))
    assert dressed.container["props"], "props are on by default with scene.assets=infinigen"
    assert "props" not in _sample(_cfg("infinigen", tmp_path, enabled=False)).container
    forced = _sample(_cfg(enabled=True))
    key = [(o.instance_id, o.class_name, o.category_id, o.location, o.rotation_euler) for o in plain.objects]
    assert key == [(o.instance_id, o.class_name, o.category_id, o.location, o.rotation_euler) for o in forced.objects]
    assert [c.cam_to_world for c in plain.cameras] == [c.cam_to_world for c in forced.cameras]
    props = [o for o in forced.scenery if o.asset.get("shape") in KINDS]
    assert len(props) == len(forced.container["props"]) > 0
    for obj in props:  # unlabelled scenery: no class, no instance id
        assert obj.class_name is None and obj.category_id == 0 and obj.instance_id == 0
    # same seed, same props (and the same record); another seed, other props
    assert _dump(forced) == _dump(_sample(_cfg(enabled=True)))
    assert forced.container["props"] != _sample(_cfg(enabled=True), seed=22).container["props"]


def _discs(obj: object) -> list[tuple[np.ndarray, float]]:
    return _footprint(SimpleNamespace(vertices=obj.vertices), np.array(obj.location[:2]), obj.rotation_euler[2])


def test_props_stand_on_sidewalks_and_verges_clear_of_everything() -> None:
    kinds: dict[str, int] = {}
    grouped = 0
    for index in range(6):
        spec = _sample(_cfg(enabled=True, **DENSE), index)
        c = spec.container
        half = c["lanes"] * c["lane_width"] / 2 + PARKING
        edge = half + c["sidewalk_width"]
        props = [o for o in spec.scenery if o.asset.get("shape") in KINDS]
        others = [o for o in [*spec.objects, *spec.scenery] if o.asset.get("shape") not in (*KINDS, "building")]
        others = [o for o in others if o.asset.get("kind") == "procedural"]  # placed assets (not road or ground)
        buildings = [o for o in spec.scenery if o.asset.get("shape") == "building"]
        assert len(props) == len(c["props"])
        for obj, rec in zip(props, c["props"], strict=True):
            kinds[rec["kind"]] = kinds.get(rec["kind"], 0) + 1
            assert rec["kind"] == obj.asset["shape"] and rec["params"] == obj.asset["params"]
            assert rec["position"] == pytest.approx(obj.location, abs=1e-3)
            t = abs(rec["t"])
            assert half < t < edge + 0.6, rec  # never on the carriageway (lanes, parking strips)
            if rec["zone"] == "verge":
                assert t > edge and obj.location[2] < 0  # on the ground beyond the sidewalk
            else:
                assert t < edge and obj.location[2] == pytest.approx(0.15)  # on the sidewalk (kerb height)
            if c["intersection_at"] is not None:
                assert abs(rec["s"] - c["intersection_at"]) > half + c["sidewalk_width"]
            mine = _discs(obj)
            for other in [*others, *(p for p in props if p is not obj)]:
                for a, ra in mine:
                    for b, rb in _discs(other):
                        assert np.hypot(*(a - b)) > ra + rb - 1e-9, (rec["kind"], other.asset.get("shape"))
            for b in buildings:  # every footprint disc outside each building's footprint
                lo, hi = b.vertices.min(axis=0), b.vertices.max(axis=0)
                cb, sb = math.cos(b.rotation_euler[2]), math.sin(b.rotation_euler[2])
                for p, r in mine:
                    dx, dy = p[0] - b.location[0], p[1] - b.location[1]
                    lx, ly = cb * dx + sb * dy, -sb * dx + cb * dy
                    assert not (lo[0] - r < lx < hi[0] + r and lo[1] - r < ly < hi[1] + r), rec
        runs: dict[tuple, list] = {}  # the segments of a fence run, the bollards of a row: one style, one look
        for obj in props:
            if "style_seed" in obj.asset["params"]:
                look = tuple((k, tuple(m.base_color), m.roughness) for k, m in obj.slot_materials.items())
                runs.setdefault((obj.asset["shape"], obj.asset["params"]["style_seed"]), []).append(look)
        assert all(len(set(looks)) == 1 for looks in runs.values())
        grouped += sum(len(looks) > 1 for looks in runs.values())
    assert set(kinds) == set(KINDS) and kinds["fence"] >= 12 and kinds["bicycle"] >= 6, kinds
    assert grouped >= 6  # runs and rows of two or more


def test_vegetation_keeps_clear_of_the_props(tmp_path: Path) -> None:
    """Props are placed before the vegetation: tree trunks, bushes and rocks keep their footprints off every prop's
    footprint discs, and tree crowns keep clear of the props' poles (stand-in vegetation meshes, no Blender)."""
    from tests.test_street_vegetation_placement import SIZES, _fake_cache

    cfg = _cfg("infinigen", tmp_path, enabled=True, **DENSE)
    cfg.vegetation.enabled = True
    cfg.infinigen.variants = 1
    _fake_cache(cfg)
    checked = 0
    for index in range(3):
        spec = _sample(cfg, index)
        props = [o for o in spec.scenery if o.asset.get("shape") in KINDS]
        poles = [o for o in props if o.asset["shape"] == "pole"]
        assert props and poles
        for rec in spec.container["vegetation"]:
            if rec["kind"] == "grass":  # tufts take no footprint
                continue
            xy = np.array(rec["position"][:2])
            half = 0.5 * SIZES[rec["kind"]][0] * rec["scale"]
            foot = 0.5 if rec["kind"] == "tree" else half  # a tree's trunk, a bush's or rock's whole base
            for prop in props:
                for c, r in _discs(prop):
                    assert np.hypot(*(xy - c)) > foot + r - 1e-9, (rec["kind"], prop.asset["shape"])
            if rec["kind"] == "tree":
                for pole in poles:
                    assert np.hypot(*(xy - np.array(pole.location[:2]))) > half + 0.3 - 1e-9
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("bins", [-1, 2], "scene.props.bins"),
        ("bicycles", [3, 1], "scene.props.bicycles"),
        ("poles", [-2, -1], "scene.props.poles"),
        ("fence_segment_m", [0.1, 2.0], "scene.props.fence_segment_m"),
        ("fence_gap_m", [2.0, 1.0], "scene.props.fence_gap_m"),
        ("within_m", 0.0, "scene.props.within_m"),
    ],
)
def test_bad_props_config_names_the_field_in_one_line(key: str, value: object, field: str) -> None:
    cfg = _cfg()
    cfg.props[key] = value
    with pytest.raises(ConfigError) as info:
        validate_street(cfg, CLASS_IDS)
    assert str(info.value).startswith(field + ":") and "\n" not in str(info.value)


def test_bad_props_override_stops_the_cli_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    proc = subprocess.run(
        [sys.executable, "-m", "simvision.cli.render", f"output_dir={out}", "scene=street", "scene.props.bins=[-1,2]"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert errors == ["simvision-render: error: scene.props.bins: values must be >= 0, got [-1, 2]"]
    assert not (out / "images").exists()


# -- real Blender: props occlude labelled objects; ids, amodal silhouettes and mask == box hold ----------------
SEED = 3  # frame 0: a prop hides about half of a pedestrian (38 -> 18 px); props hide little in most seeds


def _job(out: Path, enabled: bool) -> list[str]:
    return [
        f"output_dir={out}",
        "scene=street",
        "num_frames=2",
        f"seed={SEED}",
        *TINY,
        "render.resolution=[128,96]",
        "output.card=false",
        "scene.conditions.time_of_day={day:1.0,low_sun:0.0,dusk:0.0,night:0.0}",
        "scene.camera_hfov_deg=[80,80]",
        "scene.pedestrians=[8,10]",
        "scene.props.within_m=25",  # props near the camera, in front of the people farther along the sidewalks
        f"scene.props.enabled={str(enabled).lower()}",
        *(f"scene.props.{k}=[{v[0]},{v[1]}]" for k, v in DENSE.items()),
    ]


@pytest.mark.blender
@pytest.mark.slow
def test_props_occlude_labelled_objects_without_changing_their_labels(tmp_path: Path, compose_cfg) -> None:
    from pycocotools.coco import COCO

    from simvision.dataset.job import run

    runs = {}
    for enabled in (False, True):
        out = tmp_path / f"props_{enabled}"
        assert run(compose_cfg(*_job(out, enabled))).frames == 2
        runs[enabled] = out
    bare, props = runs[False], runs[True]
    records = [json.loads(line) for line in (props / "metadata" / "frames.jsonl").read_text().splitlines()]
    assert all(r["container"]["props"] for r in records)
    assert all("props" not in json.loads(line)["container"] for line in (bare / "metadata" / "frames.jsonl").open())
    coco = {k: json.loads((v / "annotations" / "instances.json").read_text()) for k, v in runs.items()}
    objects = {
        k: [(o["instance_id"], o["category_id"]) for r in _frames(v) for o in r["objects"]] for k, v in runs.items()
    }
    assert objects[True] == objects[False]  # the same labelled objects with the same ids

    def by_instance(anns: list[dict]) -> dict[tuple[int, int], dict]:
        return {(a["image_id"], a["instance_id"]): a for a in anns}

    with_props, without = by_instance(coco[True]["annotations"]), by_instance(coco[False]["annotations"])
    occluded = 0
    for key, a in with_props.items():
        b = without[key]  # nothing becomes visible that was not: props only hide
        assert a["category_id"] == b["category_id"] and a["amodal_area"] == b["amodal_area"]
        assert a["area"] <= b["area"]
        if a["area"] < b["area"]:
            occluded += 1
            assert a["visible_fraction"] < b["visible_fraction"] and a["area"] < a["amodal_area"]
    assert occluded >= 1, "no labelled object is hidden by a prop in these frames"
    # a labelled object's mask is its instance's pixels and its box the mask's box, with props in front
    api = COCO(str(props / "annotations" / "instances.json"))
    assert_annotations_match_instance_maps(props, api, api.loadAnns(api.getAnnIds()))


def _frames(dataset: Path) -> list[dict]:
    return [json.loads(line) for line in (dataset / "metadata" / "frames.jsonl").read_text().splitlines()]
