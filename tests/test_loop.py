"""The closed loop (simvision-loop) at tiny scale with real Blender: two rounds end to end on the tabletop
(one class kept out of the seed set on purpose, so the detector fails on it), the weights moving toward it,
resume after a kill, the report, and bad config as one-line errors. The real test set is a stand-in (the
synthetic validation folder): what is checked is the plumbing, not the numbers."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from simvision.loop.benchmark import SETTINGS, benchmark_document, load_benchmark, run_benchmark
from simvision.loop.config import LoopConfig, RuleConfig, check_loop
from simvision.loop.run import RECORD_KEYS, LoopRunner, compose_config, launcher_command, run_loop, summarise

ROOT = Path(__file__).resolve().parents[1]
RENDER = [
    "scene=tabletop",
    "render.resolution=[64,48]",
    "render.samples=1",
    "render.device=cpu",
    "render.denoiser=none",
    "scene.physics_max_time=0",
    "scene.classes=[cup,bottle,bowl]",
    "scene.num_objects=[2,4]",
    "scene.distractors=[0,0]",
    "output.card=false",
]
SIM2REAL = [
    "class_names=[cup,bottle,bowl]",
    "model.min_size=64",
    "model.max_size=64",
    "model.anchor_sizes=[8,16,32,64]",
    "train.batch_size=4",
    "train.warmup_iters=2",
    "real_test.format=auto",
    "real_test.labels=null",
    "real_test.names=null",
    "analysis.score_threshold=0.05",
    "analysis.bootstrap=0",
]
RULE = RuleConfig(min_count=1, floor=0.05)


def _cfg(out: Path, rounds: int) -> LoopConfig:
    return LoopConfig(
        render=RENDER,
        seed_render=["++scene.class_weights={bowl:0}"],  # round 0 never shows a bowl: the failure on purpose
        sim2real=[*SIM2REAL, f"real_test.path={out / 'val'}", "real_test.max_images=4"],
        frames_per_round=6,
        val_frames=6,
        rounds=rounds,
        epochs=1,
        rule=RULE,
        output_dir=str(out),
    )


def _classes(frames: Path) -> Counter:
    coco = json.loads((frames / "annotations" / "instances.json").read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    return Counter(names[a["category_id"]] for a in coco["annotations"])


@pytest.mark.slow
def test_two_rounds_move_weights_to_the_failing_class_and_resume_after_a_kill(tmp_path: Path) -> None:
    out = tmp_path / "loop"
    first = run_loop(_cfg(out, 1))
    assert [(r["arm"], r["round"]) for r in first["records"]] == [("loop", 0), ("uniform", 0)]
    r0 = out / "shared" / "s0" / "round_0"
    assert _classes(r0 / "frames")["bowl"] == 0 and _classes(out / "val")["bowl"] > 0
    ckpt0 = r0 / "runs" / "train" / "checkpoint.pt"
    mtime0 = ckpt0.stat().st_mtime_ns
    w0 = json.loads((r0 / "weights.json").read_text())
    assert w0["weights"]["class"] == {"cup": 0.5, "bottle": 0.5, "bowl": 0.0}
    strata = {(s["key"], s["level"]): s for s in json.loads((r0 / "eval.json").read_text())["strata"]}
    assert strata[("class", "bowl")]["n_objects"] > 0 and strata[("class", "bowl")]["recall"] == 0.0
    after = w0["next_weights"]["loop"]["class"]
    assert after["bowl"] > 2 * RULE.floor  # more than the floor alone would give it
    assert after["cup"] < 0.5 and after["bottle"] < 0.5 and sum(after.values()) == pytest.approx(1.0)

    second = run_loop(_cfg(out, 2))  # one more round: round 0 is read back, not trained again
    assert ckpt0.stat().st_mtime_ns == mtime0
    records = second["records"]
    assert [(r["arm"], r["round"], r["frames"]) for r in records] == [
        ("loop", 0, 6),
        ("loop", 1, 12),
        ("uniform", 0, 6),
        ("uniform", 1, 12),
    ]
    for r in records:
        assert set(RECORD_KEYS) <= set(r) and r["seed"] == 0
        assert isinstance(r["real_ap50"], float) and isinstance(r["synthetic_val_ap50"], float)
        assert r["train_images"] == r["frames"] and r["val_images"] == 6 and r["real_test_images"] == 4
    loop1 = out / "loop" / "s0" / "round_1"
    w1 = json.loads((loop1 / "weights.json").read_text())
    assert w1["weights"]["class"] == pytest.approx(after)  # round 1 rendered with round 0's next weights
    assert any(o.startswith("++scene.class_weights={") for o in w1["render_overrides"])
    assert _classes(loop1 / "frames")["bowl"] > 0  # and the render followed them
    uniform1 = json.loads((out / "uniform" / "s0" / "round_1" / "weights.json").read_text())
    assert uniform1["weights"]["class"] == pytest.approx({"cup": 1 / 3, "bottle": 1 / 3, "bowl": 1 / 3})
    assert not any("class_weights" in o for o in uniform1["render_overrides"])
    # the report
    doc = json.loads((out / "loop.json").read_text())
    assert doc["schema"] == "simvision.loop/1" and len(doc["records"]) == 4
    assert "| loop | 0 | 1 | 12 |" in (out / "loop.md").read_text()
    page = (out / "loop.html").read_text()
    assert page.startswith("<!doctype html>") and "<td>loop</td><td>0</td><td>1</td><td>12</td>" in page
    assert "<img src='loop.png'" in page
    with Image.open(out / "loop.png") as im:
        assert im.size[0] > 400

    # a kill after round 1 trained but before it was evaluated: its eval.json is missing
    ckpt1 = loop1 / "runs" / "train" / "checkpoint.pt"
    mtimes = {p: p.stat().st_mtime_ns for p in (ckpt1, loop1 / "frames" / "loop_render.json")}
    before = json.loads((loop1 / "eval.json").read_text())
    (loop1 / "eval.json").unlink()
    again = run_loop(_cfg(out, 2))
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes  # not rendered or trained again
    redone = json.loads((loop1 / "eval.json").read_text())
    assert redone["synthetic_val_ap50"] == pytest.approx(before["synthetic_val_ap50"])
    assert redone["real_ap50"] == pytest.approx(before["real_ap50"])
    assert [r["round"] for r in again["records"]] == [0, 1, 0, 1]
    # finished rounds made with another config are refused, not mixed in (rounds / arms may change)
    with pytest.raises(ValueError, match=r"eval\.json was made with another loop or sim2real config"):
        run_loop(dataclasses.replace(_cfg(out, 2), epochs=2))
    assert len(run_loop(dataclasses.replace(_cfg(out, 2), arms=["uniform"]))["records"]) == 2


@pytest.fixture(scope="module")
def in_process_frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 frames of RENDER, render seed 5, rendered in process (what every launcher must reproduce)."""
    out = tmp_path_factory.mktemp("in_process")
    return LoopRunner(_cfg(out, 1)).render_set(RENDER, out / "frames", 4, 5)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("launcher", "plugin"),
    [
        ("local", "hydra_plugins.hydra_joblib_launcher"),  # joblib processes
        ("slurm_local", "hydra_plugins.hydra_submitit_launcher"),  # the SLURM launcher's code path, no cluster
    ],
)
def test_render_through_a_launcher_gives_the_frames_of_an_in_process_render(
    tmp_path: Path, in_process_frames: Path, launcher: str, plugin: str
) -> None:
    """hydra/launcher=<launcher>, 2 shards of one scene each, merged; then the same set in process."""
    pytest.importorskip(plugin)
    sharded = LoopRunner(dataclasses.replace(_cfg(tmp_path, 1), render_launcher=launcher, render_shards=2))
    merged = sharded.render_set(RENDER, tmp_path / "a" / "frames", 4, 5)
    plain = in_process_frames

    def boxes(root: Path) -> list:
        coco = json.loads((root / "annotations" / "instances.json").read_text())
        files = {i["id"]: Path(i["file_name"]).name for i in coco["images"]}
        return sorted(
            (files[a["image_id"]], a["category_id"], [round(v, 3) for v in a["bbox"]]) for a in coco["annotations"]
        )

    assert len(json.loads((merged / "annotations" / "instances.json").read_text())["images"]) == 4
    assert boxes(merged) == boxes(plain) and boxes(plain)
    assert sorted(p.name for p in (tmp_path / "a" / "frames_shards").glob("shard_*")) == ["shard_0", "shard_1"]
    marker = (merged / "loop_render.json").stat().st_mtime_ns
    sharded.render_set(RENDER, tmp_path / "a" / "frames", 4, 5)  # finished: kept, not rendered again
    assert (merged / "loop_render.json").stat().st_mtime_ns == marker


def test_launcher_command_renders_one_shard_per_job(tmp_path: Path) -> None:
    cmd = launcher_command(["scene=tabletop", "++scene.class_weights={cup:2}"], tmp_path / "s", "local", 3)
    assert cmd[:5] == [sys.executable, "-m", "simvision.cli.render", "-m", "hydra/launcher=local"]
    assert "++scene.class_weights={cup:2}" in cmd and "shard.count=3" in cmd and "shard.index=range(0,3)" in cmd
    assert f"output_dir={tmp_path / 's'}/shard_${{shard.index}}" in cmd


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"frames_per_round": 0}, "frames_per_round: must be an integer >= 1, got 0"),
        ({"arms": ["loop", "greedy"]}, "arms[1]: unknown arm 'greedy'"),
        ({"patience": -1}, "patience: must be an integer >= 0"),
        ({"render": ["scene=tabletop", "num_frames=9"]}, "render[1]: num_frames is set by the loop"),
        ({"rule": RuleConfig(floor=1.5)}, "rule.floor: must be in [0, 1)"),
        ({"seeds": [0, 0]}, "seeds: needs distinct seeds"),
    ],
)
def test_bad_config_is_one_line_naming_the_field(change: dict, message: str) -> None:
    cfg = dataclasses.replace(_cfg(Path("unused"), 2), **change)
    with pytest.raises(ValueError) as info:
        check_loop(cfg)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_a_group_the_scene_lacks_is_refused(tmp_path: Path) -> None:
    cfg = dataclasses.replace(_cfg(tmp_path, 2), groups=["class", "weather"])
    with pytest.raises(ValueError, match=r"^groups\[1\]: 'weather' is not a knob of this scene"):
        LoopRunner(cfg)


def test_cli_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "simvision.cli.loop", f"output_dir={tmp_path}", "rounds=0", f"hydra.run.dir={tmp_path}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "simvision-loop: error: rounds: must be an integer >= 1, got 0"


def test_summary_means_over_seeds_and_pairs_loop_with_uniform() -> None:
    def rec(arm: str, seed: int, real: float, syn: float) -> dict:
        return {"arm": arm, "seed": seed, "round": 1, "frames": 20, "real_ap50": real, "synthetic_val_ap50": syn}

    rows = summarise([rec("loop", 0, 0.5, 0.4), rec("loop", 1, 0.7, 0.6), rec("uniform", 0, 0.4, 0.4),
                      rec("uniform", 1, 0.4, 0.3)])  # fmt: skip
    by = {e["arm"]: e for e in rows}
    assert by["loop"]["real_ap50"] == pytest.approx(0.6) and by["loop"]["real_ap50_std"] == pytest.approx(0.1414, 1e-3)
    assert by["loop - uniform"]["real_ap50"] == pytest.approx(0.2) and by["loop - uniform"]["seeds"] == [0, 1]
    assert by["loop - uniform"]["synthetic_val_ap50"] == pytest.approx(0.15)


def test_benchmark_settings_compose_to_valid_loop_configs(tmp_path: Path) -> None:
    from simvision.dataset.job_config import register_configs

    register_configs()
    for setting in SETTINGS:
        cfg = load_benchmark(setting, tmp_path / setting, real_root="/data/real/")
        assert cfg.arms == ["loop", "uniform"] and cfg.seeds == [0, 1, 2] and cfg.output_dir == str(tmp_path / setting)
        assert "real_test.path=/data/real/traffic_cones/test/images" in cfg.sim2real
        assert cfg.render[0] == "scene=street" and any("resolution" in o for o in cfg.render[1:])
        render = compose_config("render", cfg.render)  # the overrides compose into a valid street scene
        assert list(render.scene.lane_cones) == [2, 5] and render.scene.placement.distance_m.traffic_cone.median == 5.0
    with pytest.raises(ValueError, match=r"^setting: unknown setting 'tpu'"):
        load_benchmark("tpu", tmp_path)
    doc = {"records": [{k: 0 for k in RECORD_KEYS} | {"arm": "loop", "weights": {}, "train_images": 4}]}
    out = benchmark_document(doc, "cpu", 1.0, {"git_commit": "x"})
    assert out["schema"] == "simvision.bench.closed_loop/1" and set(RECORD_KEYS) <= set(out["records"][0])


def test_benchmark_report_is_written_from_the_results_and_loop_json(tmp_path: Path) -> None:
    """--report-only: the committed report from benchmarks/closed_loop.json and the run's loop.json, limited to
    the rounds the results hold (loop.json may be further on); nothing run, one-line error without results."""
    stratum = {"key": "time_of_day", "level": "night", "n_objects": 9, "ap50": None, "recall": 0.25}
    records = [
        {k: 0 for k in RECORD_KEYS}
        | {"arm": arm, "seed": 0, "round": r, "frames": 24 * (r + 1), "real_ap50": 0.1 * r + (arm == "loop") * 0.05}
        | {"synthetic_val_ap50": 0.2, "weights": {"time_of_day": {"night": 0.5, "day": 0.5}}, "strata": [stratum]}
        for arm in ("loop", "uniform")
        for r in (0, 1)
    ]
    out = tmp_path / "work" / "closed_loop_cpu"
    out.mkdir(parents=True)
    (out / "loop.json").write_text(json.dumps({"records": records}))
    result = benchmark_document({"records": records[:1] + records[2:3]}, "cpu", 90.0, {"git_commit": "abc"})
    (tmp_path / "closed_loop.json").write_text(json.dumps(result))
    report = tmp_path / "docs" / "results.md"
    kwargs = {"work_dir": tmp_path / "work", "results": tmp_path / "closed_loop.json", "report": report}
    again = run_benchmark("cpu", report_only=True, **kwargs)
    assert again["records"] == result["records"]
    text = report.read_text()
    assert text.startswith("# Closed-loop benchmark results") and "git commit abc" in text and "1.5 min" in text
    assert "| loop | 0 | 0 | 24 | 0.050 | 0.200 |" in text and "| loop | 0 | 1 | 48 |" not in text
    assert "![AP50 vs frames rendered](results.png)" in text and (tmp_path / "docs" / "results.png").stat().st_size
    (tmp_path / "closed_loop.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"closed_loop.json: no benchmark results to report"):
        run_benchmark("cpu", report_only=True, **kwargs)
