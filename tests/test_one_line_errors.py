"""Bad input and failed writes in validate, merge and the card give one line, never a traceback (no Blender
except the last test); what was written before the failure is kept."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import pytest

from simvision.cli import merge as merge_cli
from simvision.cli import validate as validate_cli
from simvision.dataset import card, merge, preview
from simvision.dataset.validate import validate_dataset
from simvision.io.folder import DatasetError, load_coco
from tests.conftest import TINY
from tests.test_dataset_tools import edit_coco, frames_of, make_shard


def disk_full(*_: Any, **__: Any) -> Any:
    raise OSError(errno.ENOSPC, "No space left on device")


def error_line(capsys: pytest.CaptureFixture[str], tool: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"simvision-{tool}: error: "), err
    return err[0]


# --------------------------------------------------------------------------- wrongly typed COCO fields

TYPE_FAULTS: dict[str, tuple[Any, str]] = {  # edit of the COCO dict, text of the violation
    "width": (lambda c: c["images"][0].__setitem__("width", "wide"), "images[0] (id 0): 'width' must be"),
    "image_id": (lambda c: c["annotations"][1].__setitem__("image_id", "zero"), "annotations[1] (id 2): 'image_id'"),
    "image_id_list": (lambda c: c["images"][1].__setitem__("id", [1]), "images[1] (id [1]): 'id' must be"),
    "category_id": (lambda c: c["categories"][0].__setitem__("id", "one"), "categories[0] (id 'one'): 'id'"),
    "bbox": (lambda c: c["annotations"][0].__setitem__("bbox", ["a", 1, 2, 3]), "annotations[0] (id 1): 'bbox'"),
    "area": (lambda c: c["annotations"][2].__setitem__("area", "big"), "annotations[2] (id 3): 'area'"),
    "instance_id": (lambda c: c["annotations"][3].__setitem__("instance_id", 1.5), "(id 4): 'instance_id'"),
}


@pytest.mark.parametrize("fault", sorted(TYPE_FAULTS))
def test_validate_reports_a_wrongly_typed_coco_field_as_a_violation(
    tmp_path: Path, fault: str, capsys: pytest.CaptureFixture[str]
) -> None:
    edit, text = TYPE_FAULTS[fault]
    root = make_shard(tmp_path / "s", n_frames=2)
    edit_coco(root, edit)
    result = validate_dataset(root)
    bad = [str(v) for v in result.violations if v.kind == "bad_field"]
    assert len(bad) == 1 and text in bad[0], [str(v) for v in result.violations]
    assert validate_cli.main([str(root), "--no-pixels"]) == 1
    out = capsys.readouterr()
    assert any(line.startswith("bad_field: ") and text in line for line in out.out.splitlines())
    assert "FAILED" in out.err


def test_validate_reports_a_wrongly_typed_frame_id(tmp_path: Path) -> None:
    root = make_shard(tmp_path / "s", n_frames=2)
    lines = (root / "metadata/frames.jsonl").read_text().splitlines()
    lines[1] = json.dumps({**json.loads(lines[1]), "frame_id": "zero"})
    (root / "metadata/frames.jsonl").write_text("\n".join(lines) + "\n")
    result = validate_dataset(root)
    assert [v.kind for v in result.violations] == ["bad_file"]
    assert "frames.jsonl:2: 'frame_id' must be an integer, got 'zero'" in result.violations[0].message


def test_merge_refuses_a_wrongly_typed_coco_field_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_shard(tmp_path / "s", n_frames=2)
    edit_coco(root, TYPE_FAULTS["width"][0])
    with pytest.raises(DatasetError, match=r"instances\.json: images\[0\] \(id 0\): 'width' must be a positive"):
        load_coco(root)
    assert merge_cli.main([str(root), "-o", str(tmp_path / "m"), "--no-progress"]) == 2
    assert "'width' must be a positive integer, got 'wide'" in error_line(capsys, "merge")
    assert not (tmp_path / "m").exists()


# ------------------------------------------------------------------------------------ merge output path


def test_merge_refuses_an_output_whose_parent_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shard = make_shard(tmp_path / "s", n_frames=1)
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    assert merge_cli.main([str(shard), "-o", str(blocker / "merged"), "--no-progress"]) == 2
    line = error_line(capsys, "merge")
    assert f"{blocker} is a file, not a folder" in line
    assert blocker.read_text() == "mine"


def test_merge_refuses_an_output_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shard = make_shard(tmp_path / "s", n_frames=1)
    blocker = tmp_path / "merged"
    blocker.write_text("mine")
    assert merge_cli.main([str(shard), "-o", str(blocker), "--no-progress"]) == 2
    assert f"{blocker}: output exists and is a file, not a folder" in error_line(capsys, "merge")
    assert blocker.read_text() == "mine"


def test_merge_refuses_an_output_folder_it_cannot_create(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shard = make_shard(tmp_path / "s", n_frames=1)
    out = tmp_path / ("x" * 300)  # longer than any filesystem allows a name to be, even for root
    assert merge_cli.main([str(shard), "-o", str(out), "--no-progress"]) == 2
    assert "cannot create the output folder (File name too long)" in error_line(capsys, "merge")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


# ------------------------------------------------------------------------------------------ disk full

CARD_WRITES = {  # the write function monkeypatched, the file that then fails
    "plots": (card, "atomic_write_bytes", "plots/box_size_hist.png"),
    "contact_sheet": (preview, "atomic_write_bytes", "contact_sheet.png"),
    "card_json": (card, "atomic_write_json", "dataset_card.json"),
    "card_markdown": (card, "atomic_write_text", "dataset_card.md"),
}


@pytest.mark.parametrize("target", sorted(CARD_WRITES))
def test_merge_disk_full_while_writing_the_card_is_one_line_and_keeps_the_merge(
    tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module, name, failing = CARD_WRITES[target]
    shards = [make_shard(tmp_path / "a", n_frames=2, seed=1), make_shard(tmp_path / "b", n_frames=1, seed=2)]
    out = tmp_path / "merged"
    monkeypatch.setattr(module, name, disk_full)
    assert merge_cli.main([*map(str, shards), "-o", str(out), "--no-progress"]) == 2
    line = error_line(capsys, "merge")
    assert f"cannot write {out / failing}: disk full" in line and "merged frames" in line
    monkeypatch.undo()
    assert validate_dataset(out).ok and len(frames_of(out)) == 3  # the merged dataset itself is complete


def test_merge_disk_full_while_staging_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shard = make_shard(tmp_path / "a", n_frames=2)
    monkeypatch.setattr(merge, "atomic_write_json", disk_full)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert merge_cli.main([str(shard), "-o", str(tmp_path / "merged"), "--no-progress"]) == 2
    assert f"cannot write {tmp_path / 'merged'}: disk full" in error_line(capsys, "merge")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no merged folder, no staging folder


def test_validate_json_report_on_a_full_disk_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_shard(tmp_path / "s", n_frames=1)
    monkeypatch.setattr(validate_cli, "atomic_write_json", disk_full)
    assert validate_cli.main([str(root), "--json", str(tmp_path / "v.json")]) == 2
    assert f"cannot write {tmp_path / 'v.json'}: disk full" in error_line(capsys, "validate")


@pytest.mark.blender
def test_render_job_disk_full_while_writing_the_card_is_an_output_error(
    tmp_path: Path, compose_cfg, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simvision.dataset.job import OutputError, run

    out = tmp_path / "shard"
    overrides = [*TINY, "scene.camera.cameras_per_scene=1", "scene.num_objects=[2,3]", "scene.physics_max_time=1.0"]
    cfg = compose_cfg(f"output_dir={out}", "num_frames=1", "seed=4", *overrides, "scene.physics_min_time=0.5")
    monkeypatch.setattr(card, "atomic_write_json", disk_full)
    with pytest.raises(OutputError, match=r"^output_dir: disk full .* run the same command again to resume"):
        run(cfg)
    assert (out / "images/000000.png").is_file() and not (out / "dataset_card.json").exists()
    monkeypatch.undo()
    result = run(cfg)  # space freed: the finished frame is kept, only the end of the shard is redone
    assert result.skipped == 1 and result.frames == 0 and (out / "dataset_card.json").is_file()
