"""A crafted dataset folder must not make any tool read or write outside it (no Blender).

Each test plants the attack (a ``..`` name, an absolute name or a symlink to elsewhere), shows what it
aims at, and checks the tool stops with one line naming the frame or file while the target is untouched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simvision.cli import merge as merge_cli
from simvision.dataset.card import write_card
from simvision.dataset.merge import merge_shards
from simvision.dataset.validate import validate_dataset
from simvision.formats import read_dataset
from simvision.formats.bop import write_bop
from simvision.formats.coco import read_coco
from simvision.formats.kitti import write_kitti
from simvision.formats.yolo import write_yolo
from simvision.io.folder import COCO_PATH, FRAMES_PATH, DatasetError, load_coco, path_inside
from tests.test_dataset_tools import edit_coco, make_shard

SECRET = b"\x89PNG not yours"


def set_frame(root: Path, frame_id: int, fn: Any) -> None:
    """Rewrite one line of ``metadata/frames.jsonl`` through ``fn(frame)``."""
    path = root / FRAMES_PATH
    frames = [json.loads(line) for line in path.read_text().splitlines()]
    for f in frames:
        if f["frame_id"] == frame_id:
            fn(f)
    path.write_text("".join(json.dumps(f) + "\n" for f in frames))


def plant(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def symlink_out(link: Path, target: Path) -> None:
    """Replace ``link`` (a file or folder of the dataset) by a symlink to ``target`` outside it."""
    if link.is_dir():
        for p in sorted(link.iterdir()):
            plant(target / p.name, p.read_bytes())
            p.unlink()
        link.rmdir()
    else:
        plant(target, link.read_bytes())
        link.unlink()
    link.symlink_to(target)


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


# ------------------------------------------------------------------------------------------- the helper


@pytest.mark.parametrize(
    "name", ["images/../../x.png", "../x.png", "/etc/passwd", "a/../../x", "images/\x00.png", "link/x.png"]
)
def test_path_inside_refuses_names_that_leave_the_root(tmp_path: Path, name: str) -> None:
    root = tmp_path / "ds"
    (root / "images").mkdir(parents=True)
    (root / "link").symlink_to(tmp_path)  # a folder symlink pointing at the dataset's parent
    with pytest.raises(DatasetError, match=r"^frame 7 files\.rgb: ") as err:
        path_inside(root, name, "frame 7 files.rgb")
    assert repr(name) in one_line(err)


def test_path_inside_keeps_names_inside_and_normalises_them(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    (root / "cache").mkdir(parents=True)
    (root / "images").symlink_to(root / "cache")  # a symlink that stays inside is fine
    assert path_inside(root, "images/./a/../000001.png", "x") == root / "images/000001.png"
    assert path_inside(root, Path("depth/000001.npy"), "x") == root / "depth/000001.npy"


# ---------------------------------------------------------------------------------------------- merge


def test_merge_refuses_a_dotdot_file_and_writes_nothing_outside(tmp_path: Path) -> None:
    shard = make_shard(tmp_path / "shard", n_frames=2)
    payload = plant(tmp_path / "evil/payload/x.sh", b"#!/bin/sh\necho owned\n")
    existing = plant(tmp_path / "evil/payload/000000.sh", b"someone's file")
    set_frame(shard, 0, lambda f: f["files"].__setitem__("depth_mm", "images/../../evil/payload/x.sh"))
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(DatasetError) as err:
        merge_shards([shard], tmp_path / "merged", card=False, progress=False)
    assert "frame 0 files.depth_mm" in one_line(err) and "images/../../evil/payload/x.sh" in str(err.value)
    assert existing.read_bytes() == b"someone's file" and payload.exists()
    assert sorted(p.name for p in (tmp_path / "evil/payload").iterdir()) == ["000000.sh", "x.sh"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no merged folder, no staging folder left


def test_merge_cli_refuses_a_coco_file_name_that_leaves_the_shard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shard = make_shard(tmp_path / "shard", n_frames=2)
    plant(tmp_path / "outside.png", SECRET)
    edit_coco(shard, lambda c: c["images"][1].__setitem__("file_name", "../outside.png"))
    assert merge_cli.main([str(shard), "-o", str(tmp_path / "merged"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("simvision-merge: error: ") and "image 1 file_name" in err[0]
    assert not (tmp_path / "merged").exists()


@pytest.mark.parametrize(("planted", "frame"), [("images/000001.png", 1), ("depth", 0)])
def test_merge_refuses_a_symlink_out_of_the_shard(tmp_path: Path, planted: str, frame: int) -> None:
    shard = make_shard(tmp_path / "shard", n_frames=2)
    symlink_out(shard / planted, tmp_path / "elsewhere" / Path(planted).name)
    with pytest.raises(DatasetError) as err:
        merge_shards([shard], tmp_path / "merged", card=False, progress=False)
    assert "points outside the dataset" in one_line(err) and str(err.value).endswith("through a symlink")
    assert f"frame {frame} " in str(err.value)
    assert not (tmp_path / "merged").exists()


def test_merge_refuses_two_files_of_a_frame_that_would_land_on_one_name(tmp_path: Path) -> None:
    shard = make_shard(tmp_path / "shard", n_frames=1)
    plant(shard / "images/extra.png", SECRET)
    set_frame(shard, 0, lambda f: f["files"].__setitem__("semantic", "images/extra.png"))
    with pytest.raises(DatasetError, match=r"frame 0: files rgb and semantic would both be merged as images/") as err:
        merge_shards([shard], tmp_path / "merged", card=False, progress=False)
    one_line(err)


# --------------------------------------------------------------------------------------------- polish


def test_polish_cli_refuses_a_frame_whose_rgb_leaves_the_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("diffusers")
    from simvision.cli.polish import main

    root = make_shard(tmp_path / "ds", n_frames=1)
    victim = plant(tmp_path / "victim/notes.txt", (root / "images/000000.png").read_bytes())  # decodes as an image
    before = victim.read_bytes()
    (root / "a").mkdir()
    set_frame(root, 0, lambda f: f["files"].__setitem__("rgb", "a/../../victim/notes.txt"))
    rc = main([str(root), "--frames", "0", "--tiny", "--no-progress", "steps=2", "strength=0.5", "threshold=0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "frame 0 files.rgb" in err[0] and "points outside" in err[0], err
    assert victim.read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "victim").iterdir()) == ["notes.txt"]


def test_polish_refuses_an_images_raw_folder_that_points_elsewhere(tmp_path: Path) -> None:
    from simvision.polish.config import PolishConfig
    from simvision.polish.dataset import polish_dataset

    root = make_shard(tmp_path / "ds", n_frames=1)
    (tmp_path / "elsewhere").mkdir()
    (root / "images_raw").symlink_to(tmp_path / "elsewhere")  # the raw copy would be written there
    with pytest.raises(DatasetError, match="images_raw") as err:
        polish_dataset(root, PolishConfig(mode="image"), polisher=object())
    one_line(err)
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_polish_copy_refuses_a_symlink_out_of_the_dataset(tmp_path: Path) -> None:
    from simvision.polish.config import PolishConfig
    from simvision.polish.dataset import polish_dataset

    root = make_shard(tmp_path / "ds", n_frames=1)
    (root / "notes.txt").symlink_to(plant(tmp_path / "secret.txt", SECRET))
    with pytest.raises(DatasetError, match="notes.txt") as err:
        polish_dataset(root, PolishConfig(mode="image"), out_dir=tmp_path / "copy", polisher=object())
    one_line(err)
    assert not (tmp_path / "copy/notes.txt").exists()


# -------------------------------------------------------------------------------- every format's reader


def _coco_dotdot(root: Path, tmp: Path) -> Path:
    plant(tmp / "outside.png", (root / "images/000000.png").read_bytes())
    edit_coco(root, lambda c: c["images"][0].__setitem__("file_name", "../outside.png"))
    return root


def _symlink(name: str) -> Any:
    return lambda root, tmp: symlink_out(root / name, tmp / f"outside{Path(name).suffix}")


def _nothing(root: Path) -> None:
    pass


READER_ATTACKS: dict[str, tuple[Any, Any, str, str]] = {  # prepare, plant the attack, path read, format
    "coco_dotdot": (_nothing, _coco_dotdot, "annotations/instances.json", "coco"),
    "coco_symlink": (_nothing, _symlink("images/000000.png"), "annotations/instances.json", "coco"),
    "simvision_dotdot": (_nothing, _coco_dotdot, ".", "simvision"),
    "simvision_symlink": (_nothing, _symlink("images/000000.png"), ".", "simvision"),
    "folder_symlink": (_nothing, _symlink("images/000000.png"), "images", "folder"),
    "yolo_image_symlink": (write_yolo, _symlink("images/000000.png"), "images", "yolo"),
    "yolo_label_symlink": (write_yolo, _symlink("labels/000000.txt"), "images", "yolo"),
    "kitti_image_symlink": (write_kitti, _symlink("kitti/training/image_2/000000.png"), "kitti/training", "kitti"),
    "kitti_label_symlink": (write_kitti, _symlink("kitti/training/label_2/000000.txt"), "kitti/training", "kitti"),
    "bop_rgb_symlink": (write_bop, _symlink("bop/train_pbr/000000/rgb/000000.png"), "bop", "bop"),
    "bop_info_symlink": (write_bop, _symlink("bop/train_pbr/000000/scene_gt_info.json"), "bop", "bop"),
}


@pytest.mark.parametrize("attack", sorted(READER_ATTACKS))
def test_every_reader_refuses_a_path_that_leaves_the_dataset(tmp_path: Path, attack: str) -> None:
    prepare, plant_attack, path, fmt = READER_ATTACKS[attack]
    root = make_shard(tmp_path / "ds", n_frames=2)
    prepare(root)
    assert len(read_dataset(root / path, fmt)) == 2  # reads fine before the attack
    plant_attack(root, tmp_path)
    with pytest.raises(DatasetError) as err:
        read_dataset(root / path, fmt)
    assert "points outside the dataset" in one_line(err)


def test_coco_reader_names_the_image(tmp_path: Path) -> None:
    root = _coco_dotdot(make_shard(tmp_path / "ds", n_frames=2), tmp_path)
    with pytest.raises(DatasetError, match=r"instances\.json: image 0 file_name: '\.\./outside\.png' points outside"):
        read_coco(root / COCO_PATH)


@pytest.mark.parametrize("writer", [write_yolo, write_kitti, write_bop])
def test_every_exporter_refuses_a_file_name_that_leaves_the_dataset(tmp_path: Path, writer: Any) -> None:
    root = _coco_dotdot(make_shard(tmp_path / "ds", n_frames=2), tmp_path)
    set_frame(root, 0, lambda f: f.__setitem__("file_name", "../outside.png"))
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with pytest.raises(DatasetError, match="points outside the dataset") as err:
        writer(root)
    one_line(err)
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing exported


# ----------------------------------------------------------------------------- validate, card, resume


def test_validate_reports_files_outside_the_dataset_as_violations(tmp_path: Path) -> None:
    root = make_shard(tmp_path / "ds", n_frames=2)
    plant(tmp_path / "outside.npy", SECRET)
    set_frame(root, 1, lambda f: f["files"].__setitem__("depth", "../outside.npy"))
    _symlink("images/000000.png")(root, tmp_path)
    result = validate_dataset(root)
    unsafe = [v for v in result.violations if v.kind == "unsafe_path"]
    assert {v.where.split(" (")[0] for v in unsafe} == {"image 0", "image 1"}, [str(v) for v in result.violations]
    assert any("file_name" in v.message for v in unsafe if v.where.startswith("image 0"))
    assert any("files.depth: '../outside.npy'" in v.message for v in unsafe if v.where.startswith("image 1"))
    assert not result.ok


def test_card_and_contact_sheet_refuse_an_image_outside_the_dataset(tmp_path: Path) -> None:
    root = _coco_dotdot(make_shard(tmp_path / "ds", n_frames=2), tmp_path)
    with pytest.raises(DatasetError, match="image 0 file_name") as err:
        write_card(root, assets_manifest=None)
    one_line(err)


def test_metadata_and_coco_files_must_not_be_symlinks_out(tmp_path: Path) -> None:
    root = make_shard(tmp_path / "ds", n_frames=1)
    symlink_out(root / "metadata", tmp_path / "metadata")
    with pytest.raises(DatasetError, match="'metadata/frames.jsonl' points outside") as err:
        merge_shards([root], tmp_path / "merged", card=False, progress=False)
    one_line(err)
    symlink_out(root / "annotations", tmp_path / "annotations")
    with pytest.raises(DatasetError, match="'annotations/instances.json' points outside"):
        load_coco(root)


def test_resume_refuses_a_manifest_line_that_leaves_the_folder(tmp_path: Path) -> None:
    from simvision.config import ConfigError
    from simvision.dataset.resume import recover

    out = make_shard(tmp_path / "ds", n_frames=2)
    secret = plant(tmp_path / "secret.bin", SECRET)
    set_frame(out, 1, lambda f: f.update(files={"rgb": "../secret.bin"}, checksums={"rgb": "0" * 64}))
    lines = (out / FRAMES_PATH).read_text()
    with pytest.raises(ConfigError, match=r"^output_dir: .*frame 1 files\.rgb: '\.\./secret\.bin' points outside"):
        recover(out)
    assert (out / FRAMES_PATH).read_text() == lines and secret.read_bytes() == SECRET  # nothing rewritten


@pytest.mark.parametrize("tool", ["gap", "sim2real"])
def test_gap_and_sim2real_clis_print_a_reader_refusal_in_one_line(
    tmp_path: Path, tool: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib
    import sys

    root = _coco_dotdot(make_shard(tmp_path / "ds", n_frames=2), tmp_path)
    cli = importlib.import_module(f"simvision.cli.{tool}")
    hydra_dir = f"hydra.run.dir={tmp_path / 'hydra'}"
    monkeypatch.setattr(sys, "argv", [tool, f"synthetic.path={root}", "synthetic.format=simvision", hydra_dir])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(err) == 1, err
    assert err[0].startswith(f"simvision-{tool}: error: ") and "image 0 file_name" in err[0]


def test_a_config_or_names_file_that_is_a_symlink_out_is_never_read(tmp_path: Path) -> None:
    secret = plant(tmp_path / "secret.yaml", b"names: [stolen]\nkey: private\n")
    root = make_shard(tmp_path / "ds", n_frames=1)
    (root / "config.yaml").unlink()
    (root / "config.yaml").symlink_to(secret)  # would be copied into merge_manifest.json and the card
    with pytest.raises(DatasetError, match="'config.yaml' points outside") as err:
        merge_shards([root], tmp_path / "merged", progress=False)
    one_line(err)
    with pytest.raises(DatasetError, match="'config.yaml' points outside"):
        write_card(root, assets_manifest=None)
    (root / "config.yaml").unlink()
    (root / "data.yaml").symlink_to(secret)  # YOLO's class names, looked up beside the images folder
    with pytest.raises(DatasetError, match="'data.yaml' points outside"):
        read_dataset(root / "images", "yolo")
