"""Config composition and bad-config errors (no rendering happens)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simvision.dataset.job_config import ConfigError, validate_job_config
from tests.render_cli import error_lines, render_cli


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
        ("render.view_transform=Log", "render.view_transform"),
        ("render.look=Punchy", "render.look"),  # an AgX look; the default view transform is Filmic
        ("num_frames=0", "num_frames"),
        ("scene.classes=[cup,unicorn]", "scene.classes[1]"),
        ("scene.num_objects=[5,2]", "scene.num_objects"),
        ("scene.camera.hfov_deg=[40,200]", "scene.camera.hfov_deg"),
        ("scene.infinigen.indirect_shading=cheap", "scene.infinigen.indirect_shading"),
        ("scene.infinigen.max_triangles=-1", "scene.infinigen.max_triangles"),
        ("scene.infinigen.room_shading=painted", "scene.infinigen.room_shading"),
        ("scene.infinigen.bake_px=4", "scene.infinigen.bake_px"),
        ("scene.infinigen.bake_m=0", "scene.infinigen.bake_m"),
        ("scene.infinigen.bake_normal_strength=-1", "scene.infinigen.bake_normal_strength"),
        ("scene.infinigen.bake_normal_blur=-0.5", "scene.infinigen.bake_normal_blur"),
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


def test_cli_stops_before_rendering_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    proc = render_cli(f"output_dir={out}", "scene.classes=[cup,unicorn]", cwd=tmp_path)
    assert proc.returncode == 2
    errors = error_lines(proc)
    assert errors == ["simvision-render: error: scene.classes[1]: unknown class 'unicorn' (not in the class table)"]
    assert not (out / "images").exists()


def test_cli_unknown_scene_is_refused(tmp_path: Path) -> None:
    proc = render_cli(f"output_dir={tmp_path / 'ds'}", "scene=moon_base", cwd=tmp_path)
    assert proc.returncode != 0
    assert "scene" in proc.stderr and "moon_base" in proc.stderr


def test_cli_corrupt_mesh_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.obj"
    bad.write_text("v 0 0 nonsense\nf 1 2\n")
    proc = render_cli(
        f"output_dir={tmp_path / 'ds'}", f"scene.extra_assets=[{{path:{bad},class_name:cup}}]", cwd=tmp_path
    )
    assert proc.returncode == 2
    assert str(bad) in proc.stderr
    assert not (tmp_path / "ds" / "images").exists()


def test_unwritable_output_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = render_cli(f"output_dir={blocker / 'ds'}", cwd=tmp_path)
    assert proc.returncode == 2
    assert "output_dir" in proc.stderr


def _schema_defaults(schema: type) -> dict:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.structured(schema))  # type: ignore[return-value]


def _restated(values: dict, defaults: dict, prefix: str = "") -> list[str]:
    """Keys whose value in a YAML file equals the schema's default (written twice)."""
    found = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        if key == "defaults" or key not in defaults:
            continue
        if isinstance(value, dict) and isinstance(defaults[key], dict) and not _is_weights(defaults[key]):
            found += _restated(value, defaults[key], f"{name}.")
        elif value == defaults[key]:
            found.append(name)
    return found


def _is_weights(d: dict) -> bool:
    return bool(d) and all(isinstance(v, int | float) for v in d.values())


def test_defaults_are_written_once_in_the_schemas() -> None:
    """Config group files hold only what differs from their schema's defaults."""
    import yaml

    from simvision.config import CONF_DIR
    from simvision.dataset.job_config import RenderAppConfig
    from simvision.polish.config import PolishConfig
    from simvision.scene.registry import builtin_scene_types

    scene_schemas = {t.name: t.schema for t in builtin_scene_types()}
    files = {CONF_DIR / "render.yaml": _schema_defaults(RenderAppConfig)}
    for path in (CONF_DIR / "polish").glob("*.yaml"):
        files[path] = _schema_defaults(PolishConfig)
    for path in (CONF_DIR / "scene").glob("*.yaml"):
        text = yaml.safe_load(path.read_text()) or {}
        base = next(str(d).removesuffix("_schema") for d in text.get("defaults", []) if isinstance(d, str))
        schema = scene_schemas[base]  # scene/<type>_schema, or a scene file built on one (bin_picking)
        files[path] = _schema_defaults(schema)
    assert len(files) >= 7
    restated = {
        str(p.relative_to(CONF_DIR)): _restated(yaml.safe_load(p.read_text()) or {}, d) for p, d in files.items()
    }
    assert not {k: v for k, v in restated.items() if v}, restated


def test_shipped_presets_name_every_entry_of_the_weights_they_set() -> None:
    from simvision.config import CONF_DIR
    from simvision.dataset.job_config import check_preset

    presets = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
    assert len(presets) >= 5
    for name in presets:
        check_preset(name)


def test_a_preset_naming_part_of_a_weight_table_is_refused(tmp_path: Path) -> None:
    """Hydra merges a preset's weights into the defaults key by key: {fog: 1.0} would keep every
    other weather at its default weight. Such a preset is refused, naming the table and the gap."""
    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "foggy.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /scene: street\n\nscene:\n  conditions:\n"
        "    weather: {fog: 1.0}\n"
    )
    proc = render_cli(
        f"hydra.searchpath=[file://{tmp_path}]",
        "+experiment=foggy",
        f"output_dir={tmp_path / 'ds'}",
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    errors = error_lines(proc)
    assert len(errors) == 1
    assert errors[0].startswith("simvision-render: error: +experiment=foggy: scene.conditions.weather:")
    assert "missing clear, overcast, rain" in errors[0]
    assert not (tmp_path / "ds" / "images").exists()


def test_users_default_assets_are_infinigen_and_saved_resolved(compose_cfg, monkeypatch, tmp_path: Path) -> None:
    """scene.assets defaults to infinigen for users (tabletop and bin picking, room materials baked); the tests
    run with SIMVISION_ASSETS=procedural (conftest); config.yaml / config.json record the resolved choice; the
    street keeps procedural (its dressed content is over the speed budget)."""
    from simvision.dataset.resume import write_config

    assert compose_cfg("output_dir=/tmp/x").scene.assets == "procedural"  # what CI renders (conftest)
    monkeypatch.delenv("SIMVISION_ASSETS")
    for scene in ("tabletop", "bin_picking"):
        cfg = compose_cfg("output_dir=/tmp/x", f"scene={scene}")
        assert cfg.scene.assets == "infinigen" and cfg.scene.infinigen.room_shading == "baked"
        write_config(tmp_path, cfg)
        saved = (tmp_path / "config.yaml").read_text()
        assert "  assets: infinigen\n" in saved and "${" not in saved
        assert json.loads((tmp_path / "config.json").read_text())["scene"]["assets"] == "infinigen"
    assert compose_cfg("output_dir=/tmp/x", "scene=street").scene.assets == "procedural"
    monkeypatch.setenv("SIMVISION_ASSETS", "procedural")
    assert compose_cfg("output_dir=/tmp/x", "scene=bin_picking").scene.assets == "procedural"
