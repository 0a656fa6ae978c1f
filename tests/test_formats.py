"""Label formats: the registry, write -> read round trips per format, and a format defined only in a test module."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from simvision.cli import merge as merge_cli
from simvision.dataset.job_config import ConfigError, validate_job_config
from simvision.dataset.merge import merge_shards
from simvision.formats import (
    LabelFormat,
    LabelledImage,
    UnknownFormatError,
    detect_format,
    format_names,
    get_format,
    read_dataset,
    register,
    registry,
)
from simvision.formats.coco import CocoWriter, read_coco
from simvision.formats.kitti import kitti_type_name
from simvision.formats.simvision import read_simvision
from simvision.io.folder import COCO_PATH, load_coco
from tests.plugins.csv_boxes import CsvBoxes
from tests.test_dataset_tools import CATEGORIES, make_shard

BUILT_IN = ["bop", "coco", "folder", "kitti", "simvision", "yolo"]
CSV_BOXES = "tests.plugins.csv_boxes.CsvBoxes"
CSV_INSTANCE = CsvBoxes()  # resolvable as tests.test_formats.CSV_INSTANCE


@pytest.fixture
def shard(tmp_path: Path) -> Path:
    return make_shard(tmp_path / "shard", n_frames=2, seed=3)


def assert_same_boxes(
    got: list[LabelledImage], want: list[LabelledImage], atol: float, names: dict[str, str] | None = None
) -> None:
    """Same images in the same order, same boxes (to ``atol`` pixels), labels renamed by ``names``."""
    assert [r.path.stem for r in got] == [r.path.stem for r in want]
    for g, w in zip(got, want, strict=True):
        assert (g.width, g.height) == (w.width, w.height)
        assert g.labels == [(names or {}).get(n, n) for n in w.labels]
        np.testing.assert_allclose(g.boxes, w.boxes, atol=atol)


# ------------------------------------------------------------------------------------------ registry


def test_registry_names_and_lookup() -> None:
    assert format_names() == BUILT_IN
    for name in BUILT_IN:
        fmt = get_format(name)
        assert isinstance(fmt, LabelFormat) and fmt.name == name


def test_dotted_path_resolves_a_class_or_an_instance() -> None:
    fmt = get_format(CSV_BOXES)
    assert isinstance(fmt, CsvBoxes) and fmt.name == "csv_boxes"
    assert get_format("tests.test_formats.CSV_INSTANCE") is CSV_INSTANCE
    assert "csv_boxes" not in format_names()  # resolving does not register


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("voc", ""),
        ("no_such_module.Fmt", "No module named 'no_such_module'"),
        ("tests.plugins.csv_boxes.Nothing", "has no attribute 'Nothing'"),
        ("simvision.formats.base.image_size", "not a LabelFormat"),
    ],
)
def test_unknown_format_is_a_one_line_error_listing_the_known_ones(name: str, reason: str) -> None:
    with pytest.raises(UnknownFormatError) as err:
        get_format(name)
    msg = str(err.value)
    assert msg.startswith(f"unknown format {name!r}") and reason in msg and "\n" not in msg
    assert f"choose from {', '.join(BUILT_IN)}" in msg


def test_register_adds_a_name_and_refuses_a_second_format_under_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_FORMATS", dict(registry._FORMATS))
    fmt = register(CsvBoxes())
    assert get_format("csv_boxes") is fmt and "csv_boxes" in format_names()
    assert register(fmt) is fmt  # the same object again is fine
    with pytest.raises(ValueError, match="already registered"):
        register(CsvBoxes())


def test_detect_format_on_written_layouts(shard: Path) -> None:
    for name in ("yolo", "kitti", "bop"):
        get_format(name).write(shard)
    assert detect_format(shard) == "simvision"  # although it holds labels/, kitti/ and bop/ too
    assert detect_format(shard / COCO_PATH) == "coco"
    assert detect_format(shard / "kitti/training") == "kitti"
    assert detect_format(shard / "bop") == "bop"
    assert detect_format(shard / "yolo_seg") == "yolo"
    assert detect_format(shard / "depth") == "folder"


# --------------------------------------------------------------------------------------- round trips


def test_yolo_round_trip(shard: Path) -> None:
    assert get_format("yolo").write(shard)["detection_files"] == 2
    assert_same_boxes(read_dataset(shard / "images", "yolo"), read_simvision(shard), atol=1e-3)


def test_kitti_round_trip(shard: Path) -> None:
    assert get_format("kitti").write(shard) == {"frames": 2, "objects": 4}
    types = {c["name"]: kitti_type_name(c) for c in CATEGORIES}
    got = read_dataset(shard / "kitti/training", "kitti")
    assert_same_boxes(got, read_simvision(shard), atol=0.01, names=types)


def test_bop_round_trip(shard: Path) -> None:
    assert get_format("bop").write(shard)["gt"] == 2 * 3  # the hidden cup is a GT entry too
    got = read_dataset(shard / "bop", "bop")
    assert_same_boxes(got, read_simvision(shard), atol=0)  # bbox_visib is the mask's tight box, like COCO
    assert_same_boxes(read_dataset(shard / "bop/train_pbr", "bop"), read_simvision(shard), atol=0)
    by_id = read_dataset(shard / "bop", "bop", names={10: "auto", 16: "cone"})
    assert by_id[0].labels == ["auto", "cone"]


def test_coco_round_trip(shard: Path, tmp_path: Path) -> None:
    before = (shard / COCO_PATH).read_bytes()
    assert get_format("coco").write(shard) == {}  # the dataset's own instances.json is the export
    assert (shard / COCO_PATH).read_bytes() == before
    coco = load_coco(shard)
    writer = CocoWriter(tmp_path / "copy.json", coco["categories"], {"description": "copy"})
    for img in coco["images"]:
        anns = [a for a in coco["annotations"] if a["image_id"] == img["id"]]
        writer.add(img, [{k: v for k, v in a.items() if k != "id"} for a in anns])
    writer.write()
    got = read_dataset(shard, "coco", annotations=tmp_path / "copy.json")  # images stay in the shard
    want = read_coco(shard / COCO_PATH)
    assert_same_boxes(got, want, atol=0)
    assert [g.segmentations for g in got] == [w.segmentations for w in want]


# ------------------------------------------------------------------- a format that lives in tests/plugins


def test_plugin_format_merges_validates_and_reads_with_no_edit_to_simvision(tmp_path: Path, compose_cfg) -> None:
    from simvision.cli.gap import load_source
    from simvision.dataset.job import export_formats
    from simvision.metrics.config import SourceConfig
    from simvision.sim2real.ablation import read_split
    from simvision.sim2real.config import DataConfig

    a = make_shard(tmp_path / "a", n_frames=2, seed=1)
    b = make_shard(tmp_path / "b", n_frames=1, seed=2)
    out = tmp_path / "merged"
    result = merge_shards([a, b], out, formats=["coco", CSV_BOXES], card=False, progress=False)
    n_boxes = len(load_coco(out)["annotations"])
    assert result.exports == {CSV_BOXES: {"boxes": n_boxes}}
    assert len((out / "labels.csv").read_text().splitlines()) == n_boxes

    want = read_simvision(out)
    assert_same_boxes(read_dataset(out, CSV_BOXES), want, atol=1e-4)
    assert_same_boxes(load_source(SourceConfig(path=str(out), format=CSV_BOXES)), want, atol=1e-4)  # gap
    assert_same_boxes(read_split(DataConfig(path=str(out), format=CSV_BOXES)), want, atol=1e-4)  # sim2real

    assert merge_cli.parse_formats(f"COCO,{CSV_BOXES}") == ["coco", CSV_BOXES]
    cli_out = tmp_path / "cli"
    argv = [str(a), "-o", str(cli_out), "--formats", f"coco,{CSV_BOXES}", "--no-progress", "--no-card"]
    assert merge_cli.main(argv) == 0
    assert (cli_out / "labels.csv").is_file()

    export_formats(a, SimpleNamespace(formats=["coco", CSV_BOXES], card=False), "test")  # a render job's end
    assert (a / "labels.csv").is_file()

    validate_job_config(compose_cfg("output_dir=/tmp/x", f"output.formats=[coco,{CSV_BOXES}]"))
    with pytest.raises(ConfigError) as err:
        validate_job_config(compose_cfg("output_dir=/tmp/x", "output.formats=[coco,voc]"))
    assert str(err.value).startswith("output.formats[1]: unknown format 'voc'; choose from bop, coco,")
    assert "\n" not in str(err.value)
