"""Bad assets are refused before rendering, in one line naming the file, entry or field (no Blender)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from simvision.config.checks import ConfigError
from simvision.dataset.job_config import validate_job_config
from simvision.scene.assets import AssetError, load_manifest, load_mesh
from simvision.scene.base import load_scene
from tests.render_cli import error_lines, render_cli

CUBE_FACES = [(1, 2, 3), (1, 3, 4), (5, 7, 6), (5, 8, 7), (1, 5, 6), (1, 6, 2)]
CUBE_FACES += [(2, 6, 7), (2, 7, 3), (3, 7, 8), (3, 8, 4), (4, 8, 5), (4, 5, 1)]


def _box_obj(path: Path, size: tuple[float, float, float]) -> Path:
    """An OBJ box of ``size`` (x, y, z); a zero size flattens it, all zeros put every vertex at one point."""
    corners = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]
    lines = [f"v {x * size[0]!r} {y * size[1]!r} {z * size[2]!r}" for x, y, z in corners]
    lines += [f"f {a} {b} {c}" for a, b, c in CUBE_FACES]
    path.write_text("\n".join(lines) + "\n")
    return path


def _scene(compose_cfg, tmp_path: Path, *overrides: str):
    cfg = compose_cfg(f"output_dir={tmp_path / 'ds'}", *overrides)
    return load_scene(cfg.scene, validate_job_config(cfg), (64, 48))


def _one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("size", "scale"),
    [((0.0, 0.0, 0.0), 1.0), ((0.1, 0.1, 0.0), 1.0), ((0.1, 0.0, 0.1), 1.0)],
    ids=["all-at-one-point", "flat-in-z", "flat-in-y"],
)
def test_flat_mesh_is_refused(tmp_path: Path, size, scale: float) -> None:
    path = _box_obj(tmp_path / "flat.obj", size)
    with pytest.raises(AssetError) as info:
        load_mesh(str(path), scale)
    assert _one_line(info).startswith(f"{path}: mesh is flat")


def test_non_finite_vertices_are_refused(tmp_path: Path) -> None:
    nan = _box_obj(tmp_path / "nan.obj", (0.1, 0.1, float("nan")))
    with pytest.raises(AssetError, match="non-finite vertex"):
        load_mesh(str(nan), 1.0)
    huge = _box_obj(tmp_path / "huge.obj", (1e300, 1e300, 1e300))  # finite, but not once scaled
    with pytest.raises(AssetError, match="non-finite vertex coordinates \\(after scale 1e\\+10\\)"):
        load_mesh(str(huge), 1e10)


def test_faces_naming_missing_vertices_are_refused(tmp_path: Path) -> None:
    """trimesh reads a PLY whose face names vertex 9 of 4 without complaint; the rasteriser would not."""
    path = tmp_path / "tetra.ply"
    header = "ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
    header += "element face 4\nproperty list uchar int vertex_indices\nend_header\n"
    path.write_text(header + "0 0 0\n0.1 0 0\n0 0.1 0\n0 0 0.1\n3 0 1 2\n3 0 1 3\n3 0 2 3\n3 1 2 9\n")
    with pytest.raises(AssetError) as info:
        load_mesh(str(path), 1.0)
    assert _one_line(info) == f"{path}: mesh faces refer to vertices it does not have"


@pytest.mark.parametrize(
    ("size", "scale", "across"),
    [((1e30, 1e30, 1e30), 1.0, "1e+30 m"), ((0.1, 0.08, 0.12), 1e-9, "1.2e-10 m"), ((0.1, 0.1, 3.0), 1.0, "3 m")],
    ids=["1e30-mesh", "scale-1e-9", "3-metres"],
)
def test_extra_asset_outside_tabletop_size_is_refused(compose_cfg, tmp_path: Path, size, scale, across) -> None:
    path = _box_obj(tmp_path / "mug.obj", size)
    with pytest.raises(AssetError) as info:
        _scene(compose_cfg, tmp_path, f"scene.extra_assets=[{{path:{path},class_name:cup,scale:{scale}}}]")
    message = _one_line(info)
    assert message.startswith(f"{path}: asset 'extra-0' is {across} across after scale {scale:g}")
    assert "0.005-2 m" in message


def test_extra_asset_of_tabletop_size_is_drawn(compose_cfg, tmp_path: Path) -> None:
    """The bounds keep real objects: a 12 cm mesh (given in millimetres, scale 0.001) is placed."""
    path = _box_obj(tmp_path / "mug.obj", (100.0, 80.0, 120.0))
    scene = _scene(
        compose_cfg, tmp_path, "scene.classes=[cup]", f"scene.extra_assets=[{{path:{path},class_name:cup,scale:0.001}}]"
    )
    assert any(a.path == str(path) for a in scene.sampler.pool["cup"])
    spec = scene.sample(0, [0, 0], 1, rng=np.random.default_rng(0))
    heights = {round(float(o.vertices[:, 2].max()), 6) for o in spec.objects if o.asset.get("path") == str(path)}
    assert heights == {0.12}


@pytest.mark.parametrize("weight", ["-1", "nan", "0", "inf"])
def test_extra_asset_weight_must_be_finite_and_positive(compose_cfg, tmp_path: Path, weight: str) -> None:
    path = _box_obj(tmp_path / "mug.obj", (0.1, 0.1, 0.1))
    with pytest.raises(ConfigError) as info:
        _scene(compose_cfg, tmp_path, f"scene.extra_assets=[{{path:{path},class_name:cup,weight:{weight}}}]")
    assert _one_line(info).startswith("scene.extra_assets[0].weight: must be a finite number > 0")


def test_extra_asset_scale_nan_is_refused(compose_cfg, tmp_path: Path) -> None:
    path = _box_obj(tmp_path / "mug.obj", (0.1, 0.1, 0.1))
    with pytest.raises(ConfigError) as info:
        _scene(compose_cfg, tmp_path, f"scene.extra_assets=[{{path:{path},class_name:cup,scale:nan}}]")
    assert _one_line(info) == "scene.extra_assets[0].scale: must be a finite number > 0, got nan"


def _manifest(tmp_path: Path, entry: str) -> Path:
    path = tmp_path / "manifest.yaml"
    path.write_text(
        "assets:\n"
        "  - {id: proc-cup, class: cup, kind: procedural, generator: cup, licence: GPL-3.0-or-later}\n"
        f"  - {{id: bad, class: cup, licence: CC0-1.0, {entry}}}\n"
    )
    return path


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("kind: procedural, generator: cup, weight: -1", "assets[1].weight: must be a finite number > 0, got -1"),
        ("kind: procedural, generator: cup, weight: nan", "assets[1].weight: must be a finite number > 0, got nan"),
        ("kind: procedural, generator: cup, weight: heavy", "assets[1].weight: must be a number > 0, got 'heavy'"),
        ("kind: mesh, path: m.obj, scale: 0", "assets[1].scale: must be a finite number > 0, got 0"),
        ("kind: procedural, generator: person", "assets[1].generator: no procedural shape named 'person'"),
        ("kind: mesh", "assets[1] lacks the field 'path'"),
        ("kind: lathe", "assets[1].kind: 'lathe' is not procedural or mesh"),
    ],
)
def test_bad_manifest_entry_names_the_file_and_entry(tmp_path: Path, entry: str, problem: str) -> None:
    path = _manifest(tmp_path, entry)
    with pytest.raises(AssetError) as info:
        load_manifest(path)
    assert _one_line(info).startswith(f"{path}: {problem}")


def test_shipped_manifest_loads() -> None:
    assets = load_manifest()
    assert assets and all(a.weight > 0 and a.scale > 0 for a in assets)


def test_class_without_shape_or_mesh_is_refused(compose_cfg, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _scene(compose_cfg, tmp_path, "scene.classes=[cup,person]")
    assert _one_line(info) == (
        "scene.classes[1]: class 'person' has no procedural shape and no mesh asset "
        "(add one to scene.extra_assets or assets/manifest.yaml)"
    )


def test_class_without_shape_is_placed_from_its_mesh(compose_cfg, tmp_path: Path) -> None:
    path = _box_obj(tmp_path / "person.obj", (0.05, 0.05, 0.18))  # a figurine
    scene = _scene(
        compose_cfg, tmp_path, "scene.classes=[person]", f"scene.extra_assets=[{{path:{path},class_name:person}}]"
    )
    spec = scene.sample(0, [0, 0], 1, rng=np.random.default_rng(0))
    assert spec.objects and {o.class_name for o in spec.objects if o.class_name} == {"person"}


def test_extra_asset_of_an_unplaced_class_is_a_warning_naming_it(compose_cfg, tmp_path: Path, caplog) -> None:
    path = _box_obj(tmp_path / "bowl.obj", (0.1, 0.1, 0.05))
    with caplog.at_level(logging.WARNING, logger="simvision"):
        scene = _scene(
            compose_cfg,
            tmp_path,
            "scene.classes=[cup]",
            f"scene.extra_assets=[{{path:{path},class_name:cup}},{{path:{path},class_name:bowl}}]",
        )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"scene.extra_assets[1] ({path}): class 'bowl' is not in scene.classes, so this asset is never placed"
    ]
    assert list(scene.sampler.pool) == ["cup"]


def test_cli_refuses_a_tiny_scale_in_one_line_before_rendering(tmp_path: Path) -> None:
    path = _box_obj(tmp_path / "mug.obj", (0.1, 0.08, 0.12))
    out = tmp_path / "ds"
    proc = render_cli(
        f"output_dir={out}", f"scene.extra_assets=[{{path:{path},class_name:cup,scale:1e-9}}]", cwd=tmp_path
    )
    assert proc.returncode == 2
    errors = error_lines(proc)
    assert errors == [
        f"simvision-render: error: {path}: asset 'extra-0' is 1.2e-10 m across after scale 1e-09; "
        "a tabletop object must be 0.005-2 m (fix its scale)"
    ]
    assert not (out / "images").exists()
    assert "Blender" not in proc.stderr
