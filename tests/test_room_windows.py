"""Windows in the tabletop room (``scene.infinigen.windows``): Infinigen window frames set into openings cut in
the walls, daylight outside; checked on the sampled records and, by ray casts, on the built Blender scene
(real Blender, tiny renders, a temporary cache)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from simvision.config.checks import ConfigError
from tests.conftest import TINY
from tests.label_checks import scenery_rect

infinigen = pytest.mark.skipif(importlib.util.find_spec("infinigen") is None, reason="infinigen is not installed")
ROOM = (6.0, 6.0, 3.0)  # scenes/tabletop.yaml
FLOOR_Z = -0.75  # under the table top


def _overrides(out: Path, cache: Path, windows: int) -> list[str]:
    return [
        f"output_dir={out}",
        "num_frames=2",
        "seed=3",
        *TINY,
        "render.resolution=[64,48]",
        "scene.container=table",
        "scene.classes=[cup,bowl]",
        "scene.num_objects=[2,3]",
        "scene.distractors=[0,0]",
        "scene.physics_max_time=2",
        "scene.camera.cameras_per_scene=1",
        "scene.camera.eye_level.probability=1",
        "scene.use_asset_manifest=false",
        "scene.assets=infinigen",
        "scene.infinigen.variants=1",
        "scene.infinigen.room_materials=false",
        "scene.infinigen.clutter.kinds=[cabinet]",
        "scene.infinigen.clutter.count=[2,2]",
        "scene.infinigen.wall_decor.kinds=[wall_art]",
        "scene.infinigen.wall_decor.count=[1,1]",
        f"scene.infinigen.windows.count=[{windows},{windows}]",
        f"scene.infinigen.cache_dir={cache}",
    ]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("windows_cache")


@pytest.fixture(scope="module")
def without(tmp_path_factory, compose_cfg, cache) -> Path:
    from simvision.dataset.job import run

    out = tmp_path_factory.mktemp("no_windows")
    assert run(compose_cfg(*_overrides(out, cache, 0))).frames == 2
    return out


@pytest.fixture(scope="module")
def with_windows(tmp_path_factory, compose_cfg, cache, without) -> Path:
    from simvision.dataset.job import run

    out = tmp_path_factory.mktemp("windows")
    assert run(compose_cfg(*_overrides(out, cache, 2))).frames == 2  # built last: its scene stays in Blender
    return out


def _records(dataset: Path) -> list[dict]:
    return [json.loads(line) for line in (dataset / "metadata" / "frames.jsonl").read_text().splitlines()]


# -- config, no Blender ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("scene.infinigen.windows.count=[0,4]", r"scene\.infinigen\.windows\.count: at most one window a wall"),
        ("scene.infinigen.windows.sill_m=[0.5,2.6]", r"scene\.infinigen\.windows\.sill_m: .*no room for a window"),
        ("scene.infinigen.windows.daylight=[-1,2]", r"scene\.infinigen\.windows\.daylight"),
        ("scene.infinigen.windows.daylight_kelvin=[500,9000]", r"scene\.infinigen\.windows\.daylight_kelvin"),
        ("scene.infinigen.windows.kinds=[door]", r"scene\.infinigen\.windows\.kinds\[0\]: unknown kind 'door'"),
    ],
)
def test_bad_window_fields_are_named(compose_cfg, tmp_path: Path, override: str, field: str) -> None:
    from simvision.dataset.job_config import validate_job_config

    cfg = compose_cfg(f"output_dir={tmp_path}", "scene=tabletop", "scene.use_asset_manifest=false", override)
    with pytest.raises(ConfigError, match=field):
        validate_job_config(cfg)


# -- real Blender ------------------------------------------------------------------------------------
@pytest.mark.blender
@pytest.mark.slow
@infinigen
def test_windows_sit_in_the_walls_clear_of_the_furniture(with_windows: Path) -> None:
    for record in _records(with_windows):
        windows = record["background"]["infinigen_windows"]
        # two asked for; one finding no stretch of wall clear of the (tall) cabinets is left out; one a wall
        assert 1 <= len(windows) <= 2 and len({w["wall"] for w in windows}) == len(windows)
        assert record["scenery"]["infinigen:window"] == len(windows)
        for w in windows:
            o, wall = w["opening"], w["wall"]
            length = ROOM[1] if wall < 2 else ROOM[0]
            assert abs(o["along_m"]) + o["width_m"] / 2 <= length / 2 - 0.3 + 1e-9  # off the corners
            assert 0.6 <= o["bottom_m"] <= 1.0 and o["bottom_m"] + o["height_m"] <= ROOM[2] - 0.15 + 1e-9
            assert 0 < w["scale"] <= 1 and o["height_m"] == pytest.approx(w["size"][2])  # scaled, never up
            x, y, z = w["location"]
            plane = {0: x + ROOM[0] / 2, 1: x - ROOM[0] / 2, 2: y - ROOM[1] / 2}[wall]
            assert plane == pytest.approx(0.0) and z == pytest.approx(FLOOR_Z + o["bottom_m"])  # in the wall
            assert 3.0 <= w["daylight"] <= 12.0 and 5500 <= w["daylight_kelvin"] <= 9000
            # furniture standing in the half metre in front of the window stays below its sill
            along, across = (1, 0) if wall < 2 else (0, 1)
            front_lo, front_hi = np.zeros(2), np.zeros(2)
            front_lo[along], front_hi[along] = o["along_m"] - o["width_m"] / 2, o["along_m"] + o["width_m"] / 2
            inner = ROOM[0] / 2 - 0.5  # the zone reaches 0.5 m into the room from the wall's plane
            front_lo[across], front_hi[across] = (-ROOM[0] / 2, -inner) if wall == 0 else (inner, ROOM[0] / 2)
            for c in record["background"]["infinigen_clutter"]:
                lo, hi = scenery_rect(c)
                if np.all(lo < front_hi) and np.all(front_lo < hi):
                    assert FLOOR_Z + c["size"][2] < z, (c, w)


@pytest.mark.blender
@pytest.mark.slow
@infinigen
def test_openings_are_cut_and_daylight_shows_through(with_windows: Path) -> None:
    """Ray casts into the last built scene from just outside each wall: through the middle of an opening a ray
    meets the window (or passes into the room), never the wall; below the sill and beside the opening, the wall."""
    import bpy
    from mathutils import Vector

    depsgraph = bpy.context.evaluated_depsgraph_get()
    scene = bpy.context.scene

    def first_hit(wall: int, along: float, height: float) -> str:
        outward = {0: Vector((-1, 0, 0)), 1: Vector((1, 0, 0)), 2: Vector((0, 1, 0))}[wall]
        on_wall = {0: (-3.0, along), 1: (3.0, along), 2: (along, 3.0)}[wall]
        origin = Vector((on_wall[0], on_wall[1], FLOOR_Z + height)) + 0.3 * outward  # between wall and daylight
        hit, _loc, _normal, _index, obj, _matrix = scene.ray_cast(depsgraph, origin, -outward)
        return obj.name if hit else ""

    (last,) = _records(with_windows)[-1:]
    for w in last["background"]["infinigen_windows"]:
        o = w["opening"]
        middle = first_hit(w["wall"], o["along_m"], o["bottom_m"] + o["height_m"] / 2)
        assert not middle.startswith("wall"), middle
        assert first_hit(w["wall"], o["along_m"], o["bottom_m"] - 0.2).startswith("wall")
        beside = o["along_m"] + o["width_m"] / 2 + 0.15
        assert first_hit(w["wall"], beside, o["bottom_m"] + o["height_m"] / 2).startswith("wall")
        # the daylight plane outside, seen from the room's side of the wall
        plane = bpy.data.objects[f"daylight_{w['wall']}"]
        emission = plane.data.materials[0].node_tree.nodes["Emission"]
        assert emission.inputs["Strength"].default_value == pytest.approx(w["daylight"])
        assert list(emission.inputs["Color"].default_value)[:3] == pytest.approx(w["daylight_color"])
    assert {o.name for o in bpy.data.objects if o.name.startswith("daylight_")} == {
        f"daylight_{w['wall']}" for w in last["background"]["infinigen_windows"]
    }


@pytest.mark.blender
@pytest.mark.slow
@infinigen
def test_windows_change_the_light_not_the_labels(without: Path, with_windows: Path) -> None:
    plain, lit = _records(without), _records(with_windows)
    assert all("infinigen_windows" not in r["background"] for r in plain)
    for a, b in zip(plain, lit, strict=True):
        assert [o["asset"]["id"] for o in a["objects"]] == [o["asset"]["id"] for o in b["objects"]]
        assert [o["pose_world"] for o in a["objects"]] == [o["pose_world"] for o in b["objects"]]
        assert a["background"]["infinigen_clutter"] == b["background"]["infinigen_clutter"]
        assert a["camera"]["cam_to_world"] == b["camera"]["cam_to_world"]
    differ = 0
    for path in sorted((without / "instance").glob("*.png")):
        assert path.read_bytes() == (with_windows / "instance" / path.name).read_bytes(), path.name
        rgb_a = cv2.imread(str(without / "images" / path.name)).astype(int)
        rgb_b = cv2.imread(str(with_windows / "images" / path.name)).astype(int)
        differ += int(np.abs(rgb_a - rgb_b).mean() > 1.0)
    assert differ == 2  # the daylight changes every frame
