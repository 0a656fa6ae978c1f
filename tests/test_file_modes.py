"""Dataset files and folders get the modes the umask asks for (``0o666 & ~umask``, ``0o777 & ~umask``),
not ``mkstemp``'s private 0600 or ``mkdtemp``'s 0700: datasets live on shared filesystems."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from simvision.dataset.merge import merge_shards
from simvision.io import atomic
from simvision.io.atomic import atomic_write_json, current_umask
from tests.conftest import TINY
from tests.test_dataset_tools import make_shard


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def wrong_modes(root: Path, mask: int) -> list[str]:
    """Every file and folder under ``root`` (itself included) whose mode is not the umask's."""
    wrong = []
    for path in [root, *sorted(root.rglob("*"))]:
        want = (0o777 if path.is_dir() else 0o666) & ~mask
        got = stat.S_IMODE(path.lstat().st_mode)
        if got != want:
            wrong.append(f"{path.relative_to(root.parent)}: {got:o} != {want:o}")
    return wrong


def test_current_umask_reads_without_changing_it(umask: int) -> None:
    assert current_umask() == umask
    assert atomic._umask_by_swap.__wrapped__() == umask  # the fallback where /proc is missing
    assert os.umask(umask) == umask  # neither left another value behind


def test_atomic_write_gives_the_umask_mode(tmp_path: Path, umask: int) -> None:
    atomic_write_json(tmp_path / "ds" / "meta" / "x.json", {"a": 1})
    assert wrong_modes(tmp_path / "ds", umask) == []


def test_a_rewritten_file_gets_the_umask_mode_too(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "x.json"
    path.write_text("{}")
    path.chmod(0o600)
    atomic_write_json(path, {"a": 1})  # the replacement is a new file: the umask's mode, like open()
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_merged_dataset_gets_the_umask_modes(tmp_path: Path, umask: int) -> None:
    a = make_shard(tmp_path / "a", n_frames=2, seed=1)
    b = make_shard(tmp_path / "b", n_frames=1, seed=2)
    out = tmp_path / "merged"
    merge_shards([a, b], out, formats=["coco", "yolo", "kitti", "bop"], progress=False)
    assert (out / "dataset_card.json").is_file() and (out / "bop").is_dir()
    assert wrong_modes(out, umask) == []


@pytest.mark.blender
def test_rendered_shard_gets_the_umask_modes(tmp_path: Path, compose_cfg) -> None:
    from simvision.dataset.job import run

    old = os.umask(0o022)  # the shared-cluster default: everyone may read, only the owner writes
    try:
        out = tmp_path / "shard"
        cfg = compose_cfg(
            f"output_dir={out}",
            "num_frames=1",
            "seed=5",
            *TINY,
            "scene.camera.cameras_per_scene=1",
            "scene.num_objects=[2,3]",
            "scene.distractors=[0,1]",
            "scene.physics_min_time=0.5",
            "scene.physics_max_time=1.0",
            "output.formats=[coco,yolo]",
        )
        run(cfg)
    finally:
        os.umask(old)
    assert (out / "images/000000.png").is_file() and (out / "dataset_card.md").is_file()
    assert wrong_modes(out, 0o022) == []
