"""Shop fronts (scene.shop_fronts) on the street's road-facing ground floors: display windows, a fascia sign with
the shop's name, a glazed door, awnings people walk under; recorded, reproducible, on by default only with
scene.assets=infinigen, never moving a road user; (real Blender) lit at night, labels exact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from simvision.config.checks import ConfigError
from simvision.scene.street.config import StreetSceneConfig, validate_street
from simvision.scene.street.props import enabled_with_library
from simvision.scene.street.scene import StreetScene
from simvision.scene.street.shop_fronts import AWNING_CLEARANCE_M, MIN_GLASS_TOP_M, _ground_floor
from tests.conftest import TINY
from tests.label_checks import assert_annotations_match_instance_maps

CLASS_IDS = {
    "car": 10, "van": 11, "truck": 12, "bus": 13, "person": 14, "cyclist": 15,
    "traffic_cone": 16, "traffic_light": 17, "barrier": 18, "obstacle": 19,
}  # fmt: skip


def _cfg(enabled: bool | None, **fields: object) -> object:
    cfg = OmegaConf.structured(StreetSceneConfig)
    cfg.shop_fronts.enabled = enabled
    for key, value in fields.items():
        cfg.shop_fronts[key] = value
    return cfg


def _sample(cfg: object, index: int = 0, seed: int = 21):
    s = [seed, index]
    return StreetScene(cfg, CLASS_IDS, (96, 72)).sample(
        index, s, 1, rng=np.random.default_rng(np.random.SeedSequence(s))
    )


def _panes(obj) -> np.ndarray:
    """Centres of the building's window panes (boxes of 12 triangles in the glass slot)."""
    glass = list(obj.slot_materials).index("glass")
    chunks = obj.faces[obj.face_slots == glass].reshape(-1, 12, 3)
    return np.array([obj.vertices[c.ravel()].mean(axis=0) for c in chunks]).reshape(-1, 3)


def test_shop_fronts_replace_ground_floor_windows_and_move_no_road_user() -> None:
    plain, shops = _sample(_cfg(False)), _sample(_cfg(True, awning_probability=0.7))
    assert "shop_fronts" not in plain.container
    key = [(o.instance_id, o.class_name, o.location, o.rotation_euler) for o in plain.objects]
    assert key == [(o.instance_id, o.class_name, o.location, o.rotation_euler) for o in shops.objects]
    assert plain.cameras[0].cam_to_world == shops.cameras[0].cam_to_world
    records = shops.container["shop_fronts"]
    buildings = [o for o in shops.scenery if o.asset.get("shape") == "building"]
    before = [o for o in plain.scenery if o.asset.get("shape") == "building"]
    assert len(records) >= 5 and {r["building"] for r in records} <= set(range(len(buildings)))
    assert any(r["awning"] for r in records) and any(not r["awning"] for r in records)
    assert len({r["text"] for r in records}) >= 4  # shops have their own names
    for r in records:
        obj, old = buildings[r["building"]], before[r["building"]]
        p = obj.asset["params"]
        floor_h, width = p["floor_height"], p["width"]
        a, b = r["span"]
        assert -width / 2 < a < b < width / 2 and b - a >= 3.0 / 2  # within the facade (a long stretch is split)
        door = r["door"]
        assert a < door[0] < door[1] < b and door[1] - door[0] == pytest.approx(1.0, abs=1e-3)
        lo, hi = r["fascia"]
        assert MIN_GLASS_TOP_M <= r["glass_top"] < lo < hi <= min(floor_h + 0.25, p["height"] - 0.2) + 1e-3
        # the house windows of the shop's stretch of ground floor are gone, the first floor's are kept
        face_x = _ground_floor(old, floor_h)[0]  # the facade plane facing the road
        now, was = _panes(obj), _panes(old)
        now, was = (p[(p[:, 0] > face_x - 0.2) & (p[:, 1] >= a) & (p[:, 1] <= b)] for p in (now, was))
        assert not (now[:, 2] < floor_h).any() and (now[:, 2] > floor_h).sum() == (was[:, 2] > floor_h).sum()
        k = r["shop"]
        mats = obj.asset["materials"]
        sign, window = mats[f"shop_sign_{k}"], mats[f"shop_window_{k}"]
        assert (
            sign["kind"] == "shop_sign"
            and sign["text"] == r["text"]
            and sign["size"][0] == pytest.approx(b - a, abs=1e-3)
        )
        assert window["kind"] == "shop_window" and window["lit"] == 0.0 and not r["lit"]  # a day street
        parts = {s: obj.vertices[obj.faces[obj.face_slots == i].ravel()] for i, s in enumerate(obj.slot_materials)}
        for slot in (f"shopfront_{k}", f"shop_window_{k}", f"shop_sign_{k}"):
            v = parts[slot]
            assert len(v) and v[:, 1].min() >= a - 1e-3 and v[:, 1].max() <= b + 1e-3 and v[:, 2].min() >= 0.0
            assert v[:, 2].max() <= hi + 1e-3 and v[:, 0].max() <= face_x + 0.2 + 1e-6  # flat on the facade
        if r["awning"]:
            v = parts[f"awning_{k}"]
            assert mats[f"awning_{k}"]["kind"] == "fabric" and mats[f"awning_{k}"]["stripe_axis"] == "Y"
            assert v[:, 2].min() == pytest.approx(r["awning"]["lowest_m"], abs=1e-3)
            assert v[:, 2].min() >= AWNING_CLEARANCE_M - 1e-3  # people walk under it
            assert v[:, 0].max() - face_x == pytest.approx(r["awning"]["reach_m"] + 0.02, abs=0.01)
    # the same seed builds the same shops; another seed other ones
    again = _sample(_cfg(True, awning_probability=0.7))
    assert json.dumps(again.record(), sort_keys=True, default=str) == json.dumps(
        shops.record(), sort_keys=True, default=str
    )
    assert _sample(_cfg(True), seed=22).container["shop_fronts"] != records


def test_shop_fronts_follow_the_asset_library_and_the_probability() -> None:
    cfg = OmegaConf.structured(StreetSceneConfig)
    assert not enabled_with_library(cfg.shop_fronts, "procedural")
    assert enabled_with_library(cfg.shop_fronts, "infinigen")
    assert "shop_fronts" not in _sample(cfg).container  # the procedural default is the street it always was
    assert _sample(_cfg(True, probability=0.0)).container["shop_fronts"] == []
    every = _sample(_cfg(True, probability=1.0, min_width_m=2.0))
    some = _sample(_cfg(True, probability=0.3))
    assert len(every.container["shop_fronts"]) > len(some.container["shop_fronts"])
    narrow = _sample(_cfg(True, probability=1.0, max_width_m=4.0)).container["shop_fronts"]
    assert all(r["span"][1] - r["span"][0] <= 4.0 + 1e-3 for r in narrow)
    night = _sample(_cfg(True, probability=1.0, lit_at_night=1.0), seed=21)
    assert night.conditions["time_of_day"] != "night" or all(r["lit"] for r in night.container["shop_fronts"])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("probability", 1.5, "scene.shop_fronts.probability: must be within [0, 1], got 1.5"),
        ("awning_probability", -0.1, "scene.shop_fronts.awning_probability: must be within [0, 1], got -0.1"),
        ("min_width_m", 1.0, "scene.shop_fronts.min_width_m: must be >= 2 (metres), got 1.0"),
        ("max_width_m", 2.5, "scene.shop_fronts.max_width_m: must be >= min_width_m (3.0), got 2.5"),
    ],
)
def test_bad_shop_front_fields_name_the_field(field: str, value: object, message: str) -> None:
    cfg = _cfg(None, **{field: value})
    with pytest.raises(ConfigError) as err:
        validate_street(cfg, CLASS_IDS)
    assert str(err.value) == message


def test_sign_image_carries_the_name_in_the_lettering_colour() -> None:
    from simvision.render.street_materials import sign_image

    record = {
        "text": "ROKA TAILOR",
        "background": [0.05, 0.2, 0.12],
        "lettering": [0.95, 0.9, 0.75],
        "text_height": 0.6,
        "size": [6.0, 0.6],
    }
    img = np.asarray(sign_image(record))
    assert img.shape == (96, 960, 3)  # 160 px per metre, the sign's aspect
    ink = np.all(np.abs(img.astype(int) - [242, 230, 191]) < 30, axis=2)
    ink[:4], ink[-4:], ink[:, :4], ink[:, -4:] = False, False, False, False  # the border
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    assert 0.4 * 96 < rows[-1] - rows[0] < 0.8 * 96  # the lettering is about text_height of the sign
    assert cols[0] > 0.05 * 960 and cols[-1] < 0.95 * 960  # centred, inside the sign
    assert 0.02 < ink.mean() < 0.4  # letters, not a filled block
    long = sign_image({**record, "text": "JUNOLEOSANTO GROCERY" * 3})  # too long: shrunk to fit
    ink = np.all(np.abs(np.asarray(long).astype(int) - [242, 230, 191]) < 30, axis=2)[4:-4, 4:-4]
    assert ink.any() and not ink[:, :20].any() and not ink[:, -20:].any()


# -- real Blender: a night street of shops renders with lit windows; labels exact ---------------------------
def _job(out: Path, enabled: bool) -> list[str]:
    return [
        f"output_dir={out}",
        "scene=street",
        "num_frames=1",
        "seed=4",
        *TINY,
        "render.resolution=[128,64]",
        "output.card=false",
        "scene.conditions.time_of_day={day:0.0,low_sun:0.0,dusk:0.0,night:1.0}",
        "scene.camera_hfov_deg=[85,85]",
        f"scene.shop_fronts.enabled={str(enabled).lower()}",
        "scene.shop_fronts.probability=1.0",
        "scene.shop_fronts.lit_at_night=1.0",
        "scene.shop_fronts.awning_probability=0.5",
    ]


@pytest.mark.blender
@pytest.mark.slow
def test_lit_shop_windows_brighten_a_night_street_and_labels_stay_exact(tmp_path: Path, compose_cfg) -> None:
    from PIL import Image
    from pycocotools.coco import COCO

    from simvision.dataset.job import run

    runs = {}
    for enabled in (False, True):
        out = tmp_path / f"shops_{enabled}"
        assert run(compose_cfg(*_job(out, enabled))).frames == 1
        runs[enabled] = out
    frames = {k: json.loads((v / "metadata" / "frames.jsonl").read_text().splitlines()[0]) for k, v in runs.items()}
    shops = frames[True]["container"]["shop_fronts"]
    assert shops and all(r["lit"] for r in shops) and "shop_fronts" not in frames[False]["container"]
    assert [(o["instance_id"], o["category_id"]) for o in frames[True]["objects"]] == [
        (o["instance_id"], o["category_id"]) for o in frames[False]["objects"]
    ]
    rgb = {
        k: np.asarray(Image.open(v / "images" / "000000.png").convert("RGB"), dtype=np.float64) for k, v in runs.items()
    }
    assert rgb[True].mean() > 1.02 * rgb[False].mean()  # the shops' windows glow (unlit, they would darken it)
    api = COCO(str(runs[True] / "annotations" / "instances.json"))
    assert_annotations_match_instance_maps(runs[True], api, api.loadAnns(api.getAnnIds()))
