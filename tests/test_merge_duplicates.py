"""Overlapping shards (the same seed, scene and camera under the same config) must not merge into a dataset
holding a frame twice, where it would land in both a training and an evaluation split (no Blender)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from simvision.cli import merge as merge_cli
from simvision.dataset.merge import merge_shards
from simvision.dataset.validate import validate_dataset
from simvision.io.folder import DatasetError
from tests.test_dataset_tools import coco_of, frames_of, make_shard


def set_config(root: Path, **changes: Any) -> None:
    """Edit the shard's resolved config (config.yaml), as a different run would have written it."""
    config = yaml.safe_load((root / "config.yaml").read_text())
    config.update(changes)
    (root / "config.yaml").write_text(yaml.safe_dump(config))


def test_merge_refuses_a_shard_merged_twice_under_two_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_shard(tmp_path / "a", n_frames=2, seed=1)
    b = tmp_path / "a_again"
    shutil.copytree(a, b)
    out = tmp_path / "merged"
    with pytest.raises(DatasetError) as err:
        merge_shards([a, b], out, card=False, progress=False)
    msg = str(err.value)
    assert "\n" not in msg and f"shards {a} and {b} both hold the frame of seed [1, 0], scene 0, camera 0" in msg
    assert "--dedupe" in msg and not out.exists()
    assert merge_cli.main([str(a), str(b), "-o", str(out), "--no-progress"]) == 2
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1 and err_lines[0].startswith("simvision-merge: error: shards ")
    assert not out.exists()


def test_dedupe_keeps_the_first_copy_and_counts_the_dropped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_shard(tmp_path / "a", n_frames=3, seed=1)
    b = make_shard(tmp_path / "b", n_frames=4, seed=1)  # a longer run of the same sweep: frames 0-2 again
    c = make_shard(tmp_path / "c", n_frames=1, seed=2)
    out = tmp_path / "merged"
    assert merge_cli.main([str(a), str(b), str(c), "-o", str(out), "--no-progress", "--dedupe"]) == 0
    assert "5 frames, 10 annotations, dropped 3 duplicate frames (kept the first copy)" in capsys.readouterr().out
    out2 = tmp_path / "merged_api"
    result = merge_shards([a, b, c], out2, card=False, progress=False, dedupe=True)
    assert (result.n_frames, result.n_duplicates) == (5, 3)
    sources = [(Path(f["source"]["shard"]).name, f["source"]["frame_id"]) for f in frames_of(out2)]
    assert sources == [("a", 0), ("a", 1), ("a", 2), ("b", 3), ("c", 0)]
    assert [img["source"]["frame_id"] for img in coco_of(out2)["images"]] == [0, 1, 2, 3, 0]
    manifest = json.loads((out2 / "merge_manifest.json").read_text())["shards"]
    assert [s["duplicates_dropped"] for s in manifest] == [[], [0, 1, 2], []]
    assert validate_dataset(out2).ok
    assert len(coco_of(out2)["annotations"]) == 2 * 5  # two visible objects a frame, the dropped ones gone


def test_the_same_seed_under_another_config_is_another_frame(tmp_path: Path) -> None:
    a = make_shard(tmp_path / "a", n_frames=2, seed=1)
    b = make_shard(tmp_path / "b", n_frames=2, seed=1)
    set_config(b, scene={"name": "tabletop"})
    result = merge_shards([a, b], tmp_path / "merged", card=False, progress=False)
    assert (result.n_frames, result.n_duplicates) == (4, 0)


def test_config_json_is_the_identity_minus_where_and_which_shard(tmp_path: Path) -> None:
    base = {"seed": 1, "scene": {"name": "street"}, "render": {"samples": 8}}
    a = make_shard(tmp_path / "a", n_frames=2, seed=1)
    b = make_shard(tmp_path / "b", n_frames=2, seed=1)
    set_config(b, scene={"name": "other"})  # config.yaml differs, but config.json is what counts
    shards = {"a": (a, "/sweep/a", 0), "b": (b, "/sweep/b", 1)}
    for root, output_dir, index in shards.values():
        fingerprint = {**base, "output_dir": output_dir, "shard": {"index": index, "count": 2}}
        (root / "config.json").write_text(json.dumps(fingerprint))
    with pytest.raises(DatasetError, match="both hold the frame"):
        merge_shards([a, b], tmp_path / "merged", card=False, progress=False)
    (b / "config.json").write_text(json.dumps({**base, "render": {"samples": 64}}))
    assert merge_shards([a, b], tmp_path / "merged", card=False, progress=False).n_duplicates == 0


def test_a_merged_dataset_remembers_its_frames_configs(tmp_path: Path) -> None:
    a = make_shard(tmp_path / "a", n_frames=2, seed=1)
    b = make_shard(tmp_path / "b", n_frames=2, seed=1)
    set_config(b, scene={"name": "tabletop"})  # same seeds, another config: distinct frames
    merged = tmp_path / "merged"
    merge_shards([a, b], merged, card=False, progress=False)
    assert merge_shards([merged], tmp_path / "again", card=False, progress=False).n_frames == 4
    with pytest.raises(DatasetError, match=f"shards {merged} and {b} both hold the frame of seed"):
        merge_shards([merged, b], tmp_path / "twice", card=False, progress=False)
    result = merge_shards([merged, b], tmp_path / "once", card=False, progress=False, dedupe=True)
    assert (result.n_frames, result.n_duplicates) == (4, 2)
