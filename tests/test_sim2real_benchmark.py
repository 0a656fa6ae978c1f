"""The sim-to-real benchmark runner (scripts/benchmark_sim2real.py, simvision.bench.sim2real): bootstrap
intervals over test images, the JPEG copy of a synthetic set, and the runner end to end at tiny scale
(results JSON schema and merging, the generated report and its plot). Results go to tmp, never to
benchmarks/ or docs/."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from simvision.bench.sim2real import (
    RECORD_KEYS,
    _groups,
    bootstrap_ap50,
    export_jpeg,
    gain_checks,
    load_track,
    merge_records,
    results_markdown,
    run_benchmark,
    sim2real_config,
)
from simvision.config.checks import ConfigError
from simvision.formats import read_dataset
from simvision.sim2real.data import scene_groups
from tests.test_sim2real import CONES, needs_cones
from tests.toy_data import write_toy_dataset


def _image(boxes: list[list[float]], labels: list[int], scores: list[float] | None = None) -> dict[str, torch.Tensor]:
    out = {"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), "labels": torch.tensor(labels).long()}
    if scores is not None:
        out["scores"] = torch.tensor(scores, dtype=torch.float32)
    return out


def test_bootstrap_ap50_perfect_detector_and_interval_contains_the_estimate() -> None:
    rng = np.random.default_rng(3)
    gts, perfect, noisy = [], [], []
    for _ in range(30):
        n = int(rng.integers(1, 4))
        xy = rng.uniform(0, 200, (n, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(10, 40, (n, 2))], 1).tolist()
        labels = rng.integers(1, 3, n).tolist()
        gts.append(_image(boxes, labels))
        perfect.append(_image(boxes, labels, [0.9] * n))
        # a detector that misses some objects and adds confident false positives
        keep = [b for b in boxes if rng.uniform() < 0.7]
        fp = [[300.0, 300.0, 330.0, 330.0]] * int(rng.integers(0, 2))
        noisy.append(
            _image(keep + fp, [1] * (len(keep) + len(fp)), rng.uniform(0.1, 1.0, len(keep) + len(fp)).tolist())
        )
    p = bootstrap_ap50(perfect, gts, 2, resamples=100)
    assert p["ap50"] == pytest.approx(1.0) and p["interval"] == pytest.approx([1.0, 1.0])
    n = bootstrap_ap50(noisy, gts, 2, resamples=100)
    lo, hi = n["interval"]
    assert 0.0 < lo < n["ap50"] < hi < 1.0 and len(n["samples"]) == 100
    # same test set, same resamples: the samples pair up across runs (and a rerun reproduces them)
    assert bootstrap_ap50(noisy, gts, 2, resamples=100)["samples"] == n["samples"]


def test_export_jpeg_is_readable_and_keeps_the_boxes(tmp_path: Path) -> None:
    src = write_toy_dataset(tmp_path / "toy", n=4, size=64, objects=2, frames_per_scene=2)
    info = export_jpeg(src, tmp_path / "jpeg", quality=90)
    assert info["images"] == 4 and 0 < info["bytes"] < 64 * 2**20
    before, after = read_dataset(src), read_dataset(tmp_path / "jpeg")
    assert [r.path.suffix for r in after] == [".jpg"] * 4
    for a, b in zip(before, after, strict=True):
        assert a.labels == b.labels and np.allclose(a.boxes, b.boxes) and a.conditions == b.conditions
        with Image.open(b.path) as im:
            assert im.format == "JPEG" and im.size == (64, 64)
    assert scene_groups(tmp_path / "jpeg", after) == [0, 0, 1, 1]  # the validation split still groups scenes


def test_track_configs_compose_and_bad_names_are_one_line_errors() -> None:
    for track in ("cones", "tabletop", "street"):
        for setting in ("cpu", "cuda"):
            t = load_track(track, setting)
            assert t["render"] and t["sim2real"] and t["k"]
            cfg = sim2real_config(t, Path("syn"), Path("out"), real_root="real")  # every override composes
            assert list(cfg.ablation.seeds) == [0, 1, 2] and cfg.model.anchor_sizes == [16, 32, 64, 128, 256]
            if track == "cones":  # the arms, on every setting
                assert set(cfg.ablation.arms) == {"real_only", "synthetic_only", "synthetic_then_real", "mixed"}
    with pytest.raises(ConfigError, match="^track: unknown track 'nope'"):
        load_track("nope", "cpu")
    with pytest.raises(ConfigError, match="^setting: "):
        load_track("cones", "tpu")


TINY = [
    "model.min_size=64",
    "model.max_size=64",
    "model.anchor_sizes=[8,16,32,64]",
    "train.batch_size=2",
    "train.epochs_synthetic=1",
    "train.epochs_real=1",
    "train.epochs_finetune=1",
    "train.val_fraction=0.5",
    "train.early_stopping_patience=0",
    "train.warmup_iters=2",
    "ablation.analyse=false",
    "real_train.max_images=4",
    "real_test.max_images=4",
]


@needs_cones
@pytest.mark.slow
def test_runner_end_to_end_writes_merges_and_reports(tmp_path: Path) -> None:
    """The cones track on a toy synthetic set (its traffic_cone rectangles) and 4 + 4 real cone photos."""
    toy = write_toy_dataset(tmp_path / "toy", n=4, size=64, objects=2, frames_per_scene=2)
    # the error analysis reads <synthetic>_val when it exists (a carried export): another toy set
    val = write_toy_dataset(tmp_path / "toy_val", n=4, size=64, objects=3, frames_per_scene=1, seed=5)
    results, report = tmp_path / "bench" / "sim2real.json", tmp_path / "docs" / "results.md"
    common = dict(
        work_dir=tmp_path / "work", results=results, report=report, synthetic=toy, real_root=str(CONES.parent)
    )
    out = run_benchmark(
        "cones",
        "cpu",
        **common,
        k=[2],
        overrides=[
            *TINY,
            "ablation.seeds=[0]",
            "ablation.arms=[real_only,synthetic_only,synthetic_then_real]",
            "train.early_stopping_patience=1",  # as the tracks: the analysis must not trip over it
        ],
    )
    # item 4: the synthetic_only model of seed 0 broken down on the separate validation set
    an = json.loads(results.read_text())["analysis"]["cones/cpu"]
    assert an["val"] == str(val) and list(an["seeds"]) == ["0"]
    a0 = an["seeds"]["0"]
    assert a0["checkpoint"].endswith(("synthetic_s0/best.pt", "synthetic_s0/checkpoint.pt"))
    n_cones = sum(r.labels.count("traffic_cone") for r in read_dataset(val))
    everything = next(x for x in a0["strata"] if x["key"] == "all")
    assert a0["n_images"] == 4 and everything["n_objects"] == n_cones > 0
    assert {x["key"] for x in a0["strata"]} >= {"all", "class", "height_px"}
    uppers = [x["recall_interval"][1] if x["recall_interval"] else x["recall"] for x in a0["strata"]]
    assert uppers == sorted(uppers)  # weakest first: by the upper end of the recall interval
    assert out["analysis"]["seeds"]["0"]["strata"] == a0["strata"]
    doc = json.loads(results.read_text())
    assert {"records", "config", "git_commit", "device", "wall_s", "runs"} <= set(doc)
    assert doc["device"].startswith("cpu: ") and doc["wall_s"] > 0
    records = doc["records"]
    assert sorted((r["arm"], r["k"]) for r in records) == [
        ("real_only", 2),
        ("synthetic_only", None),
        ("synthetic_then_real", 2),
    ]
    for r in records:
        assert set(RECORD_KEYS) <= set(r) and r["track"] == "cones" and r["seed"] == 0 and r["setting"] == "cpu"
        assert set(r["per_class"]) == {"traffic_cone"} and 0 <= r["ap50"] <= 1 and r["n_test_images"] == 4
        lo, hi = r["ap50_interval"]
        assert 0 <= lo <= hi <= 1 and len(r["ap50_bootstrap"]) == 200
        assert (Path(r["run_dir"]) / "predictions.pt").is_file()
    key = lambda r: (r["arm"], str(r["k"]))  # noqa: E731
    assert json.loads(json.dumps(sorted(out["records"], key=key))) == sorted(records, key=key)
    # a second run (another seed, one arm) keeps the first run's records
    run_benchmark(
        "cones",
        "cpu",
        **common,
        k=[2],
        overrides=[*TINY, "ablation.seeds=[1]", "ablation.arms=[real_only]"],
        analysis=False,
    )
    doc2 = json.loads(results.read_text())
    assert doc2["analysis"]["cones/cpu"] == an  # kept by the merge
    # --analyse-only on the trained runs reproduces the breakdown (same weights, same frames)
    again = run_benchmark(
        "cones", "cpu", **common, overrides=[*TINY, "train.early_stopping_patience=1"], analyse_only=True
    )
    assert again["records"] == [] and again["analysis"]["seeds"]["0"]["strata"] == a0["strata"]
    with pytest.raises(FileNotFoundError, match="^analysis.seeds: no synthetic_only weights for seed 0"):
        run_benchmark("cones", "cpu", **{**common, "work_dir": tmp_path / "empty"}, overrides=TINY, analyse_only=True)
    keys = sorted((r["arm"], r["k"], r["seed"]) for r in doc2["records"])
    assert keys == [
        ("real_only", 2, 0),
        ("real_only", 2, 1),
        ("synthetic_only", None, 0),
        ("synthetic_then_real", 2, 0),
    ]
    assert [r for r in doc2["records"] if r["seed"] == 0] == records
    md = report.read_text()
    assert "## cones (cpu)" in md and "AP50 95% CI (test images)" in md
    row = next(line for line in md.splitlines() if line.startswith("| real_only | 2 | 2 |"))
    assert row.count("[") == 1  # mean ± std over the 2 seeds and the bootstrap interval
    assert "±" in row
    assert "synthetic_then_real at k = 8" not in md  # no k = 8 run: that goal is not claimed
    assert "Error analysis (issue 14 item 4): the synthetic_only model of seed 0 on 4 separate" in md
    assert f"| all | all | {n_cones} | 4 |" in md
    plot = report.with_name("results_ap50_vs_k.png")
    with Image.open(plot) as im:
        assert im.format == "PNG" and im.size[0] > 100


def test_gain_over_real_alone_is_paired_and_says_helps_hurts_or_no_difference() -> None:
    """Per k: synthetic_then_real and mixed minus real_only at the same k, with the paired bootstrap interval."""
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.4, 200)  # the test-image resamples shared by every run of the track

    def rec(arm: str, k: int | None, seed: int, shift: float, noise: float) -> dict:
        samples = (base + shift + rng.normal(0, noise, 200)).tolist()
        return {
            "track": "t", "arm": arm, "k": k, "seed": seed, "setting": "cpu", "ap50": float(np.mean(samples)),
            "map": 0.1, "ece": 0.1, "per_class": {}, "ap50_bootstrap": samples,
        }  # fmt: skip

    records = [
        *(rec("real_only", 8, s, 0.0, 0.01) for s in range(3)),
        *(rec("synthetic_then_real", 8, s, 0.2, 0.01) for s in range(3)),  # clearly better
        *(rec("mixed", 8, s, 0.0, 0.05) for s in range(3)),  # the same, noisier
        *(rec("real_only", 40, s, 0.4, 0.01) for s in range(3)),
        *(rec("synthetic_then_real", 40, s, 0.3, 0.01) for s in range(3)),  # worse
        *(rec("synthetic_only", None, s, 0.1, 0.01) for s in range(3)),  # no k: not compared
    ]
    gains = gain_checks(_groups(records)[("t", "cpu")])
    got = {(x["arm"], x["k"]): x for x in gains}
    assert list(got) == [("synthetic_then_real", 8), ("mixed", 8), ("synthetic_then_real", 40)]
    assert got[("synthetic_then_real", 8)]["verdict"] == "helps"
    assert got[("synthetic_then_real", 8)]["difference"] == pytest.approx(0.2, abs=0.01)
    lo, hi = got[("synthetic_then_real", 8)]["difference_interval"]
    assert 0.15 < lo < 0.2 < hi < 0.25
    assert got[("mixed", 8)]["verdict"] == "no measurable difference"
    assert got[("synthetic_then_real", 40)]["verdict"] == "hurts"
    md = results_markdown({"records": records})
    assert "- synthetic_then_real at k = 8: +0.200" in md and "**helps**" in md and "**hurts**" in md


def test_merge_replaces_records_with_the_same_key_only() -> None:
    def rec(arm: str, k: int | None, seed: int, ap: float, setting: str = "cpu") -> dict:
        return {"track": "t", "arm": arm, "k": k, "seed": seed, "setting": setting, "ap50": ap}

    meta = {"track": "t", "setting": "cpu", "config": {}, "git_commit": "x", "device": "cpu: y", "wall_s": 1.0}
    doc = merge_records(None, [rec("real_only", 8, 0, 0.1), rec("synthetic_only", None, 0, 0.2)], meta)
    doc = merge_records(doc, [rec("real_only", 8, 0, 0.3), rec("real_only", 8, 0, 0.4, "cuda")], meta)
    got = sorted((r["arm"], r["setting"], r["ap50"]) for r in doc["records"])
    assert got == [("real_only", "cpu", 0.3), ("real_only", "cuda", 0.4), ("synthetic_only", "cpu", 0.2)]


def test_with_any_of_keeps_images_labelling_a_class_and_names_the_field(tmp_path: Path) -> None:
    from simvision.sim2real.ablation import read_split
    from simvision.sim2real.config import DataConfig

    toy = write_toy_dataset(tmp_path / "toy", n=4, size=64, objects=1)  # one traffic_cone per frame, no box
    assert len(read_split(DataConfig(path=str(toy), with_any_of=["Traffic-Cone"]))) == 4
    aliased = DataConfig(path=str(toy), with_any_of=["cone"], aliases={"traffic_cone": "cone"})
    assert len(read_split(aliased)) == 4
    with pytest.raises(ConfigError, match=r"^real_train.with_any_of: no image of .* labels any of \['box'\]"):
        read_split(DataConfig(path=str(toy), with_any_of=["box"]), name="real_train")
