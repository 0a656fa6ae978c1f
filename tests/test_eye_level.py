"""Eye-level tabletop cameras (``scene.camera.eye_level``) and the checks of the lived-in room's config
(no Blender: the sampler alone)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simvision.config.checks import ConfigError

BASE = ["scene=tabletop", "scene.use_asset_manifest=false", "scene.container=table", "scene.num_objects=[2,3]"]


def _scene(compose_cfg, tmp_path: Path, *overrides: str):
    from simvision.dataset.job_config import validate_job_config
    from simvision.scene.base import load_scene

    cfg = compose_cfg(f"output_dir={tmp_path}", *BASE, *overrides)
    return load_scene(cfg.scene, validate_job_config(cfg), (320, 240))


def _specs(scene, n: int = 12, views: int = 2) -> list:
    return [scene.sample(i, [11, i], views, rng=np.random.default_rng([11, i])) for i in range(n)]


def test_eye_level_cameras_stand_in_the_room_at_eye_height_facing_a_wall(compose_cfg, tmp_path: Path) -> None:
    scene = _scene(compose_cfg, tmp_path, "scene.camera.eye_level.probability=1")
    room_x, room_y, _ = scene.sampler.layout["room"]["size"]
    floor_z = -scene.sampler.layout["table"]["height"]
    cameras = [c for spec in _specs(scene) for c in spec.cameras]
    assert len(cameras) == 24
    for c in cameras:
        pose = np.asarray(c.cam_to_world)
        s = c.sampled
        assert s["view"] == "eye_level"
        assert pose[2, 3] - floor_z == pytest.approx(s["height_m"]) and 1.1 <= s["height_m"] <= 1.7
        assert abs(pose[0, 3]) < room_x / 2 - 0.3 and abs(pose[1, 3]) < room_y / 2 - 0.3  # inside the walls
        look = np.asarray(s["look_at"])
        assert 1.0 <= np.hypot(*(pose[:2, 3] - look[:2])) <= 2.2
        assert s["distance"] == pytest.approx(np.linalg.norm(pose[:3, 3] - look))
        forward = pose[:3, 2]  # OpenCV axes: the camera looks along its +z
        assert np.allclose(forward, (look - pose[:3, 3]) / s["distance"], atol=1e-9)
        # the room is open at -y: an eye-level camera always looks towards +y (the back wall is ahead)
        assert forward[1] > 0
        assert 0 < s["elevation_deg"] < 60 and forward[2] < 0  # above the table, looking down at it


def test_eye_level_is_drawn_after_objects_and_lights_and_off_draws_nothing(compose_cfg, tmp_path: Path) -> None:
    default = _specs(_scene(compose_cfg, tmp_path))
    off = _specs(_scene(compose_cfg, tmp_path, "scene.camera.eye_level.probability=0"))
    half = _specs(_scene(compose_cfg, tmp_path, "scene.camera.eye_level.probability=0.5"))
    views = [c.sampled.get("view") for spec in half for c in spec.cameras]
    assert 0 < views.count("eye_level") < len(views) and views.count("cap") + views.count("eye_level") == len(views)
    for a, b, c in zip(default, off, half, strict=True):
        assert [x.cam_to_world for x in a.cameras] == [x.cam_to_world for x in b.cameras]
        assert all("view" not in x.sampled for x in a.cameras)  # records of frames without it stay as they were
        # the same objects, poses and lights: the cameras are drawn after them
        assert [(o.class_name, o.location, o.rotation_euler) for o in a.objects] == [
            (o.class_name, o.location, o.rotation_euler) for o in c.objects
        ]
        assert [light.location for light in a.lights] == [light.location for light in c.lights]


def test_close_ups_look_at_a_labelled_object_from_near_it(compose_cfg, tmp_path: Path) -> None:
    """``scene.camera.close_up``: a camera a short way from one labelled object, a little above the top, aimed
    at it (its start, where a set-down object stays): it projects at the middle of the frame."""
    scene = _scene(compose_cfg, tmp_path, "scene.camera.close_up.probability=1", "scene.upright_probability=1")
    for spec in _specs(scene):
        subjects = {o.instance_id: o for o in spec.objects if o.class_name}
        for c in spec.cameras:
            s, pose = c.sampled, np.asarray(c.cam_to_world)
            assert s["view"] == "close_up" and s["subject_instance_id"] in subjects
            subject = subjects[s["subject_instance_id"]]
            look = np.asarray(s["look_at"])
            assert np.hypot(*(look[:2] - subject.location[:2])) <= 0.06 / 3 * np.sqrt(2) + 1e-9
            assert 0.35 <= np.hypot(*(pose[:2, 3] - look[:2])) == pytest.approx(s["horizontal_distance"])
            assert 0.15 <= pose[2, 3] <= 0.5
            # where a person sits: past the table top's edge (moved back along its bearing when drawn over it)
            half = np.asarray(spec.container["top_size"]) / 2
            assert np.max(np.abs(pose[:2, 3]) - half) >= 0.05 - 1e-9
            # the subject's middle lands near the image centre (within the look-at jitter)
            middle = np.array([*subject.location[:2], look[2]])
            cam = np.linalg.inv(pose) @ np.append(middle, 1.0)
            u, v = (np.asarray(c.K) @ cam[:3])[:2] / cam[2]
            assert abs(u - c.width / 2) < 0.25 * c.width and abs(v - c.height / 2) < 0.25 * c.height


def test_close_ups_off_draw_nothing(compose_cfg, tmp_path: Path) -> None:
    base = ("scene.camera.eye_level.probability=0.5",)
    off = _specs(_scene(compose_cfg, tmp_path, *base))
    zero = _specs(_scene(compose_cfg, tmp_path, *base, "scene.camera.close_up.probability=0"))
    some = _specs(_scene(compose_cfg, tmp_path, *base, "scene.camera.close_up.probability=0.5"))
    views = [c.sampled.get("view") for spec in some for c in spec.cameras]
    assert 0 < views.count("close_up") < len(views)
    for a, b, c in zip(off, zero, some, strict=True):
        assert [x.cam_to_world for x in a.cameras] == [x.cam_to_world for x in b.cameras]
        assert [(o.location, o.rotation_euler) for o in a.objects] == [
            (o.location, o.rotation_euler) for o in c.objects
        ]


@pytest.mark.blender
def test_close_ups_show_tableware_larger(renderer, compose_cfg, tmp_path: Path) -> None:
    """Rendered (real Cycles, tiny): the close-up's subject covers more of the frame than the objects of the
    same scenes seen by eye-level cameras."""
    share = {}
    for view in ("eye_level", "close_up"):
        scene = _scene(
            compose_cfg,
            tmp_path,
            "scene.upright_probability=1",
            "scene.camera.eye_level.probability=1",
            f"scene.camera.close_up.probability={int(view == 'close_up')}",
            "scene.camera.cameras_per_scene=1",
        )
        covered = []
        for spec in _specs(scene, n=4, views=1):
            renderer.build(spec)
            view_ = renderer.render(spec)[0]
            ids = [spec.cameras[0].sampled.get("subject_instance_id")] if view == "close_up" else []
            ids = ids or [o.instance_id for o in spec.objects if o.class_name]
            covered.append(max(float(np.mean(view_.instance == i)) for i in ids))
        share[view] = float(np.median(covered))
    assert share["close_up"] > 3 * share["eye_level"], share


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("scene.camera.close_up.probability=2", r"scene\.camera\.close_up\.probability: must be within"),
        ("scene.camera.close_up.distance=[0.8,0.3]", r"scene\.camera\.close_up\.distance"),
        ("scene.camera.eye_level.probability=1.5", r"scene\.camera\.eye_level\.probability: must be in \[0, 1\]"),
        ("scene.camera.eye_level.distance=[1.0,3.5]", r"scene\.camera\.eye_level\.distance: must stay inside"),
        ("scene.camera.eye_level.height_m=[1.7,1.1]", r"scene\.camera\.eye_level\.height_m"),
        ("scene.camera.eye_level.height_m=[1.0,3.2]", r"scene\.camera\.eye_level\.height_m: must stay below"),
        ("scene.infinigen.wall_decor.kinds=[wall_art,poster]", r"scene\.infinigen\.wall_decor\.kinds\[1\]: unknown"),
        ("scene.infinigen.wall_decor.count=[2,1]", r"scene\.infinigen\.wall_decor\.count"),
    ],
)
def test_bad_eye_level_and_wall_decor_fields_are_named(compose_cfg, tmp_path: Path, override: str, field: str) -> None:
    from simvision.dataset.job_config import validate_job_config

    with pytest.raises(ConfigError, match=f"^{field}"):
        validate_job_config(compose_cfg(f"output_dir={tmp_path}", *BASE, "scene.assets=infinigen", override))


def test_lived_in_preset_composes(compose_cfg, tmp_path: Path) -> None:
    """``+experiment=lived_in``: the furnished-room settings in one switch, valid as composed."""
    from simvision.dataset.job_config import validate_job_config

    cfg = compose_cfg(f"output_dir={tmp_path}", "+experiment=lived_in")
    validate_job_config(cfg)
    scene = cfg.scene
    assert scene.name == "tabletop" and scene.assets == "infinigen" and scene.container == "table"
    assert 0 < scene.camera.eye_level.probability <= 1 and 0 < scene.camera.close_up.probability < 1
    assert scene.infinigen.clutter.count[1] > 0 and scene.infinigen.wall_decor.count[1] > 0
    assert scene.infinigen.windows.count[1] > 0 and scene.infinigen.table_chairs.count[1] > 0
    assert scene.upright_probability > 0.5  # a set table: most tableware stands
