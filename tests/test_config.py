"""Config composition and bad-config errors (no rendering happens)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simvision.dataset.job_config import ConfigError, validate_job_config


def test_default_config_composes_and_validates(compose_cfg) -> None:
    cfg = compose_cfg("output_dir=/tmp/x")
    table = validate_job_config(cfg)
    assert cfg.scene.name == "tabletop"
    assert table["cup"] == 1 and table["car"] == 10
    assert set(cfg.scene.classes) <= set(table)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("render.resolution=[-64,48]", "render.resolution"),
        ("render.resolution=[64]", "render.resolution"),
        ("render.samples=0", "render.samples"),
        ("render.device=tpu", "render.device"),
        ("render.denoising_prefilter=SHARP", "render.denoising_prefilter"),
        ("render.denoising_quality=ULTRA", "render.denoising_quality"),
        ("render.noise_threshold=-0.1", "render.noise_threshold"),
        ("render.adaptive_min_samples=-4", "render.adaptive_min_samples"),
        ("render.physics_worker=maybe", "render.physics_worker"),
        ("num_frames=0", "num_frames"),
        ("scene.classes=[cup,unicorn]", "scene.classes[1]"),
        ("scene.num_objects=[5,2]", "scene.num_objects"),
        ("scene.camera.hfov_deg=[40,200]", "scene.camera.hfov_deg"),
        ("+scene.extra_assets=[{path:/nonexistent/mug.glb,class_name:cup}]", "scene.extra_assets[0].path"),
        ("+scene.extra_assets=[{path:/etc/hostname,class_name:dragon}]", "scene.extra_assets[0].class_name"),
    ],
)
def test_bad_values_name_the_field(compose_cfg, override: str, field: str) -> None:
    cfg = compose_cfg("output_dir=/tmp/x", override.replace("+scene.extra_assets", "scene.extra_assets"))
    with pytest.raises(ConfigError) as info:
        validate_job_config(cfg)
    assert str(info.value).startswith(field)
    assert "\n" not in str(info.value)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simvision.cli.render", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_cli_stops_before_rendering_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    proc = _cli(f"output_dir={out}", "scene.classes=[cup,unicorn]", cwd=tmp_path)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert errors == ["simvision-render: error: scene.classes[1]: unknown class 'unicorn' (not in the class table)"]
    assert not (out / "images").exists()


def test_cli_unknown_scene_is_refused(tmp_path: Path) -> None:
    proc = _cli(f"output_dir={tmp_path / 'ds'}", "scene=moon_base", cwd=tmp_path)
    assert proc.returncode != 0
    assert "scene" in proc.stderr and "moon_base" in proc.stderr


def test_cli_corrupt_mesh_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.obj"
    bad.write_text("v 0 0 nonsense\nf 1 2\n")
    proc = _cli(f"output_dir={tmp_path / 'ds'}", f"scene.extra_assets=[{{path:{bad},class_name:cup}}]", cwd=tmp_path)
    assert proc.returncode == 2
    assert str(bad) in proc.stderr
    assert not (tmp_path / "ds" / "images").exists()


def test_unwritable_output_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = _cli(f"output_dir={blocker / 'ds'}", cwd=tmp_path)
    assert proc.returncode == 2
    assert "output_dir" in proc.stderr
