"""The "where to add X" recipes of docs/architecture.md, proved: a scene type and a label format
defined only in tests/plugins/ (one module + one config each) render, write, merge and validate
with no edit anywhere in simvision."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TINY

TINY_SCENE_YAML = """\
# a scene type simvision does not ship: its _target_ is all the wiring it needs
_target_: tests.plugins.tiny_scene.TinyScene
name: tiny
cubes: [2, 3]
"""
REPO = Path(__file__).resolve().parents[1]
CSV_BOXES = "tests.plugins.csv_boxes.CsvBoxes"  # a label format simvision does not ship


@pytest.fixture
def plugin_conf(tmp_path: Path) -> Path:
    conf = tmp_path / "plugin_conf"
    (conf / "scene").mkdir(parents=True)
    (conf / "scene" / "tiny.yaml").write_text(TINY_SCENE_YAML)
    return conf


@pytest.mark.blender
def test_scene_type_from_outside_renders_merges_and_validates(compose_cfg, plugin_conf: Path, tmp_path: Path) -> None:
    from simvision.dataset.job import run
    from simvision.dataset.merge import merge_shards
    from simvision.dataset.validate import validate_dataset
    from simvision.io.folder import load_coco, load_frames

    shards = []
    for index in range(2):
        out = tmp_path / f"shard{index}"
        cfg = compose_cfg(
            f"hydra.searchpath=[file://{plugin_conf}]",
            "scene=tiny",
            f"output_dir={out}",
            "num_frames=2",
            "shard.count=2",
            f"shard.index={index}",
            f"output.formats=[coco,{CSV_BOXES}]",
            *TINY,
        )
        result = run(cfg)
        assert result.frames == 1
        frames = load_frames(out)
        assert frames[0]["conditions"]["scene"] == "tiny" and frames[0]["conditions"]["colour"] in ("red", "blue")
        stats = json.loads((out / "stats.json").read_text())
        assert set(stats["conditions"]["colour"]) == {"red", "blue"}  # the scene type's own targets
        assert stats["conditions"]["colour"]["red"]["target"] == pytest.approx(0.5)
        assert validate_dataset(out).ok
        assert len((out / "labels.csv").read_text().splitlines()) == len(load_coco(out)["annotations"])
        shards.append(out)
    merged = tmp_path / "merged"
    result = merge_shards(shards, merged, formats=["coco", CSV_BOXES], progress=False)
    assert result.n_frames == 2
    assert result.exports[CSV_BOXES]["boxes"] == len(load_coco(merged)["annotations"])
    coco = load_coco(merged)
    assert {c["name"] for c in coco["categories"]} >= {"box"}
    boxes = [a for a in coco["annotations"] if a["category_id"] == 5]
    assert len(boxes) >= 4  # 2-3 cubes a frame, all in view
    assert validate_dataset(merged).ok


def test_scene_type_from_outside_is_typed_and_validated_by_its_schema(compose_cfg, plugin_conf: Path) -> None:
    from simvision.config import ConfigError
    from simvision.dataset.job_config import validate_job_config

    base = (f"hydra.searchpath=[file://{plugin_conf}]", "scene=tiny", "output_dir=/tmp/unused")
    cfg = compose_cfg(*base)
    validate_job_config(cfg)
    with pytest.raises(ConfigError, match=r"^scene\.class_name: unknown class 'unicorn'"):
        validate_job_config(compose_cfg(*base, "+scene.class_name=unicorn"))
    with pytest.raises(ConfigError, match=r"^scene\.size"):  # a default from the plug-in's schema, checked
        validate_job_config(compose_cfg(*base, "+scene.size=[0.5,0.1]"))
    with pytest.raises(ConfigError, match=r"^scene\.colour_weights"):  # not in the schema: refused, named
        validate_job_config(compose_cfg(*base, "+scene.colour_weights=1"))


def test_scene_without_a_type_or_with_a_bad_target_is_one_line(compose_cfg, plugin_conf: Path) -> None:
    from simvision.config import ConfigError
    from simvision.dataset.job_config import validate_job_config

    base = (f"hydra.searchpath=[file://{plugin_conf}]", "scene=tiny", "output_dir=/tmp/unused")
    for target, expected in (
        ("tests.plugins.nowhere.Scene", "cannot import"),
        ("simvision.scene.spec.SceneSpec", "is not a simvision.scene.base.SceneType"),
    ):
        with pytest.raises(ConfigError) as info:
            validate_job_config(compose_cfg(*base, f"scene._target_={target}"))
        assert str(info.value).startswith("scene._target_:") and expected in str(info.value)
        assert "\n" not in str(info.value)


@pytest.mark.blender
def test_render_cli_finds_a_scene_type_through_the_search_path(plugin_conf: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    proc = subprocess.run(
        [sys.executable, "-m", "simvision.cli.render", f"hydra.searchpath=[file://{plugin_conf}]", "scene=tiny"]
        + [f"output_dir={out}", "num_frames=1", "output.card=false", *TINY],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((out / "annotations" / "instances.json").read_text())["annotations"]
