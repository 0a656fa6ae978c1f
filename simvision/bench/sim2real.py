"""The sim-to-real benchmark (``scripts/benchmark_sim2real.py``): one committed config per track
(``conf/benchmark/sim2real_<track>.yaml``), two settings (``cpu``: small and short, ``cuda``: the full
schedule), results merged into ``benchmarks/sim2real.json`` and reported in ``docs/sim2real_results.md``.

A run renders (or reuses, the render job resumes) the track's synthetic set through the normal render job,
or takes a carried copy of it (``export_jpeg``: JPEG images + labels, for a GPU machine without Blender),
runs the ablation of ``simvision.sim2real.ablation`` (every arm keeps its per-image predictions on the
real test set) and writes one record per (arm, k, seed) with a percentile bootstrap interval of AP50 over
test images. Test images are resampled with the same indices for every record of a track, so the report
can bootstrap the mean over seeds and paired differences between arms.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from PIL import Image

from simvision.config import CONF_DIR
from simvision.config.checks import ConfigError
from simvision.metrics.device import device_name

log = logging.getLogger(__name__)

__all__ = [
    "SCHEMA",
    "SETTINGS",
    "analysis_lines",
    "bootstrap_ap50",
    "export_jpeg",
    "headline",
    "load_track",
    "merge_analysis",
    "merge_records",
    "results_markdown",
    "run_benchmark",
    "run_error_analysis",
    "write_report",
]

SCHEMA = "simvision.bench.sim2real/1"
SETTINGS = ("cpu", "cuda")
BENCHMARK_DIR = CONF_DIR / "benchmark"
REAL_ROOT = "../shared/data/real"  # relative to the directory the script runs from (the repo root)
RECORD_KEYS = ("track", "arm", "k", "seed", "ap50", "map", "per_class", "ece")
MERGE_KEY = ("track", "arm", "k", "seed", "setting")


# ------------------------------------------------------------------ configs


def load_track(track: str, setting: str, *, conf_dir: Path = BENCHMARK_DIR) -> dict[str, Any]:
    """The track's config (``conf/benchmark/sim2real_<track>.yaml``) with the setting's overrides appended:
    ``{"track", "description", "report_only", "goals", "render": [...], "sim2real": [...], "k": [...]}``."""
    path = conf_dir / f"sim2real_{track}.yaml"
    if not path.is_file():
        known = sorted(p.stem.removeprefix("sim2real_") for p in conf_dir.glob("sim2real_*.yaml"))
        raise ConfigError(f"track: unknown track {track!r}; choose one of {known}")
    if setting not in SETTINGS:
        raise ConfigError(f"setting: unknown setting {setting!r}; choose one of {list(SETTINGS)}")
    raw = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    assert isinstance(raw, dict)
    settings = raw.get("settings") or {}
    if setting not in settings:
        raise ConfigError(f"settings.{setting}: missing in {path}")
    s = settings[setting] or {}
    out = {
        "track": raw.get("track", track),
        "description": raw.get("description", ""),
        "report_only": bool(raw.get("report_only", False)),
        "goals": bool(raw.get("goals", not raw.get("report_only", False))),
        "render": [*raw.get("render", []), *s.get("render", [])],
        "sim2real": [*raw.get("sim2real", []), *s.get("sim2real", [])],
        "k": list(s.get("k", raw.get("k", [8, "all"]))),
        "bootstrap": int(s.get("bootstrap", raw.get("bootstrap", 200))),
        "export_quality": int(raw.get("export_quality", 90)),
        "analysis": _analysis_block(raw.get("analysis")),
    }
    for i, k in enumerate(out["k"]):
        if k != "all" and (not isinstance(k, int) or k < 1):
            raise ConfigError(f"settings.{setting}.k[{i}]: a positive integer or 'all', got {k!r}")
    return out


def _analysis_block(raw: Any) -> dict[str, Any] | None:
    """The track's ``analysis`` block: a separate synthetic validation set (the track's and the setting's
    render overrides, then ``render``, ``num_frames=frames`` and ``seed``: scenes never trained on), and the
    seeds of the ``synthetic_only`` runs analysed on it. None when the track has none."""
    if not raw:
        return None
    frames, seed = raw.get("frames", 60), raw.get("seed")
    if not isinstance(frames, int) or frames < 1:
        raise ConfigError(f"analysis.frames: a positive integer, got {frames!r}")
    if not isinstance(seed, int):
        raise ConfigError(f"analysis.seed: an integer (a render seed the training set does not use), got {seed!r}")
    seeds = list(raw.get("seeds", [0]))
    if not seeds or not all(isinstance(v, int) for v in seeds):
        raise ConfigError(f"analysis.seeds: a non-empty list of integers, got {seeds!r}")
    return {
        "render": [*raw.get("render", []), f"num_frames={frames}", f"seed={seed}"],
        "seeds": seeds,
        "frames": frames,
        "seed": seed,
    }


def _compose(config_name: str, overrides: Sequence[str]) -> DictConfig:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides))


def _subst(overrides: Sequence[str], real_root: str) -> list[str]:
    return [str(o).replace("{real}", real_root.rstrip("/")) for o in overrides]


def render_config(track: dict[str, Any], out: Path, extra: Sequence[str] = ()) -> DictConfig:
    from simvision.dataset.job_config import register_configs

    register_configs()
    return _compose("render", [*track["render"], *extra, f"output_dir={out}"])


def sim2real_config(
    track: dict[str, Any], synthetic: Path, out: Path, *, real_root: str = REAL_ROOT, extra: Sequence[str] = ()
) -> DictConfig:
    from simvision.sim2real.config import register_sim2real_configs

    register_sim2real_configs()
    return _compose(
        "sim2real",
        [*_subst(track["sim2real"], real_root), *extra, f"synthetic.path={synthetic}", f"output_dir={out}"],
    )


# ------------------------------------------------------------------ carrying the synthetic set

CARRY_LIMIT = 64 * 2**20  # what a device run carries with the working tree
EXPORT_FRAME_KEYS = ("frame_id", "file_name", "seed", "scene_index", "camera_index", "shard", "conditions", "camera")
EXPORT_OBJECT_KEYS = ("instance_id", "class_name", "category_id", "distance_m", "visible_fraction", "truncation")


def export_jpeg(src: str | Path, dst: str | Path, *, quality: int = 90, masks: bool = False) -> dict[str, Any]:
    """Copy a simvision dataset as JPEG images + its labels: what a GPU machine needs to train and validate
    on it, without Blender. ``annotations/instances.json`` with the new file names (segmentations only with
    ``masks``: box detectors do not need them), and a slim ``metadata/frames.jsonl`` (per frame its ids,
    seed, scene, conditions and camera; per object only ``EXPORT_OBJECT_KEYS``: what the validation split
    and the error analysis read). Returns ``{"images", "bytes", "path"}``."""
    from simvision.io.folder import COCO_PATH, FRAMES_PATH

    src, dst = Path(src), Path(dst)
    coco_file = src / COCO_PATH
    if not coco_file.is_file():
        raise FileNotFoundError(f"{coco_file} not found: not a simvision dataset")
    coco = json.loads(coco_file.read_text())
    (dst / "images").mkdir(parents=True, exist_ok=True)
    renamed: dict[str, str] = {}
    for image in coco["images"]:
        name = Path(image["file_name"])
        new = (name.parent / (name.stem + ".jpg")).as_posix()
        target = dst / new
        target.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(src / name) as im:
            im.convert("RGB").save(target, "JPEG", quality=quality)
        renamed[image["file_name"]] = new
        image["file_name"] = new
    if not masks:
        for ann in coco.get("annotations", []):
            ann.pop("segmentation", None)
    (dst / COCO_PATH).parent.mkdir(parents=True, exist_ok=True)
    (dst / COCO_PATH).write_text(json.dumps(coco))
    frames = src / FRAMES_PATH
    if frames.is_file():
        (dst / FRAMES_PATH).parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for line in frames.read_text().splitlines():
            if line.strip():
                frame = json.loads(line)
                slim = {k: frame[k] for k in EXPORT_FRAME_KEYS if k in frame}
                slim["file_name"] = renamed.get(frame.get("file_name"), frame.get("file_name"))
                slim["objects"] = [{k: o[k] for k in EXPORT_OBJECT_KEYS if k in o} for o in frame.get("objects") or []]
                lines.append(json.dumps(slim))
        (dst / FRAMES_PATH).write_text("".join(x + "\n" for x in lines))
    size = sum(p.stat().st_size for p in dst.rglob("*") if p.is_file())
    return {"images": len(coco["images"]), "bytes": size, "path": str(dst)}


# ------------------------------------------------------------------ bootstrap over test images


def _matched(preds: Sequence[dict[str, torch.Tensor]], gts: Sequence[dict[str, torch.Tensor]], iou: float) -> Any:
    from simvision.sim2real.analysis import _Image

    return [_Image(p, g, iou, 1.0) for p, g in zip(preds, gts, strict=True)]


def resample_weights(n_images: int, resamples: int, seed: int = 0) -> np.ndarray:
    """(resamples, n_images) counts of each test image in each bootstrap resample; the same for every run
    of a track (same test set, same seed), so resamples can be paired across runs."""
    rng = np.random.default_rng(seed)
    w = np.zeros((resamples, n_images))
    for r in range(resamples):
        np.add.at(w[r], rng.integers(0, n_images, n_images), 1.0)
    return w


def bootstrap_ap50(
    preds: Sequence[dict[str, torch.Tensor]],
    gts: Sequence[dict[str, torch.Tensor]],
    n_classes: int,
    *,
    resamples: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    iou_threshold: float = 0.5,
) -> dict[str, Any]:
    """AP50 (101-point COCO interpolation, mean over classes with objects) of per-image predictions and its
    percentile bootstrap interval over test images: ``{"ap50", "interval": [lo, hi], "samples": [...]}``
    (``samples``: AP50 of each resample, image weights from :func:`resample_weights`)."""
    from simvision.sim2real.analysis import _ap

    images = _matched(preds, gts, iou_threshold)
    n = len(images)
    n_gt = np.zeros((n, n_classes + 1))
    dets = []
    for i, im in enumerate(images):
        np.add.at(n_gt[i], im.gt_class, 1)
        dets.append((im.det_class, im.det_score, im.det_gt >= 0))
    point = _ap(dets, n_gt, np.ones(n))
    samples: list[float] = []
    if point is not None and resamples > 0:
        for w in resample_weights(n, resamples, seed):
            v = _ap(dets, n_gt, w)
            samples.append(float("nan") if v is None else v)
    interval = _percentiles(samples, confidence)
    return {"ap50": point, "interval": interval, "samples": samples}


def _percentiles(samples: Sequence[float], confidence: float = 0.95) -> list[float] | None:
    vals = np.asarray([s for s in samples if s is not None and not math.isnan(s)], float)
    if not len(vals):
        return None
    a = (1 - confidence) / 2
    return [float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a))]


# ------------------------------------------------------------------ running a track


def _resolve_k(ks: Sequence[Any], pool: int) -> list[int]:
    out: list[int] = []
    for k in ks:
        v = pool if k == "all" else min(int(k), pool)
        if v not in out:
            out.append(v)
    return out


def run_benchmark(
    track_name: str,
    setting: str,
    *,
    work_dir: str | Path = "out/benchmark",
    results: str | Path | None = "benchmarks/sim2real.json",
    report: str | Path | None = "docs/sim2real_results.md",
    synthetic: str | Path | None = None,
    real_root: str = REAL_ROOT,
    render_overrides: Sequence[str] = (),
    overrides: Sequence[str] = (),
    export: str | Path | None = None,
    render_only: bool = False,
    k: Sequence[int | str] | None = None,
    analysis: bool = True,
    analyse_only: bool = False,
    val: str | Path | None = None,
) -> dict[str, Any]:
    """Render (or reuse / take ``synthetic``), run the ablation and the error analysis (``analysis``; the
    track's ``analysis`` block), merge the records into ``results`` and regenerate ``report``.
    ``overrides`` go to the sim2real config after the track's (tests: tiny sizes); ``k`` replaces the
    setting's list of k (ints or ``"all"``: the whole real pool). ``analyse_only``: only the error analysis,
    of runs already trained. The analysis set is ``val``, else ``<synthetic>_val`` when that exists (a
    carried export), else rendered into ``<work_dir>/<track>_<setting>/val``.
    Returns ``{"records", "results", "report", "headline", "wall_s", "export", "analysis"}``."""
    from simvision.dataset.card import git_commit
    from simvision.sim2real.ablation import PREDICTIONS_FILE, Sim2RealRunner, load_data, load_predictions, run_ablation
    from simvision.sim2real.config import plain_config

    t0 = time.perf_counter()
    track = load_track(track_name, setting)
    base = Path(work_dir) / f"{track['track']}_{setting}"
    out: dict[str, Any] = {
        "records": [],
        "results": None,
        "report": None,
        "headline": None,
        "export": None,
        "analysis": None,
    }
    syn = Path(synthetic) if synthetic is not None else base / "synthetic"
    if val is None and synthetic is not None and Path(f"{synthetic}_val").is_dir():
        val = Path(f"{synthetic}_val")
    analysed = analysis and track["analysis"] is not None
    if analyse_only:
        if not analysed:
            raise ConfigError(f"analysis: track {track['track']!r} has no analysis block")
        return _analysis_only(
            track, setting, base, out, t0, results, report, real_root, overrides, render_overrides, val
        )
    if synthetic is None:
        from simvision.dataset.job import run as render

        render(render_config(track, syn, render_overrides))
    if export is not None and analysed:
        if val is None:
            val = render_analysis_set(track, base, render_overrides)
        out["export_val"] = export_jpeg(val, f"{export}_val", quality=track["export_quality"])
    if export is not None:
        out["export"] = export_jpeg(syn, export, quality=track["export_quality"])
        if out["export"]["bytes"] > CARRY_LIMIT:
            log.warning(
                "the JPEG copy is %.1f MiB, above the %d MiB a device run carries: lower export_quality or num_frames",
                out["export"]["bytes"] / 2**20,
                CARRY_LIMIT // 2**20,
            )
        log.info(
            "exported %d JPEG frames to %s (%.1f MiB)", out["export"]["images"], export, out["export"]["bytes"] / 2**20
        )
    if render_only:
        out["wall_s"] = time.perf_counter() - t0
        return out
    composed = sim2real_config(track, syn, base / "sim2real", real_root=real_root, extra=overrides)
    cfg, args = plain_config(composed)
    pool = load_data(cfg, need_synthetic=False).real_pool
    cfg.ablation.k = _resolve_k(track["k"] if k is None else list(k), len(pool))
    args["ablation"]["k"] = list(cfg.ablation.k)
    ablation = run_ablation(cfg, args)
    classes = list(cfg.class_names)
    runner: Sim2RealRunner | None = None
    records = []
    for row in ablation.rows:
        run_dir = Path(cfg.output_dir) / "runs" / row["run"]
        saved = load_predictions(run_dir / PREDICTIONS_FILE, row.get("fingerprints"))
        if saved is None:  # a run cached before predictions were kept: predict again with its weights
            from simvision.sim2real.checkpoint import load_checkpoint

            if runner is None:
                runner = Sim2RealRunner(cfg, load_data(cfg, need_synthetic=False), args)
            model = runner.new_model(row["seed"])
            load_checkpoint(runner.weights(row["run"]), model=model)
            saved = runner.evaluate(model, return_predictions=True)["predictions"]
        boot = bootstrap_ap50(
            saved["preds"],
            saved["gts"],
            len(classes),
            resamples=track["bootstrap"],
            iou_threshold=cfg.eval.iou_threshold,
        )
        synthetic_only = row["arm"] == "synthetic_only"
        records.append(
            {
                "track": track["track"],
                "arm": row["arm"],
                "k": None if synthetic_only else row["k"],
                "seed": row["seed"],
                "setting": setting,
                "ap50": row["map_50"],
                "map": row["map"],
                "per_class": row["per_class"],
                "ece": row["calibration"]["ece"],
                "ap50_interval": boot["interval"],  # percentile bootstrap over test images (this run)
                "ap50_101pt": boot["ap50"],  # the bootstrap's own point estimate (101-point AP50)
                "ap50_bootstrap": [round(v, 5) for v in boot["samples"]],
                "n_test_images": row.get("n_images"),
                "n_test_instances": row.get("n_instances"),
                "real_images": row.get("real_images"),
                "synthetic_images": row.get("synthetic_images"),
                "epochs_run": row.get("epochs_run"),
                "best_epoch": row.get("best_epoch"),
                "best_val_map50": row.get("best_val_map50"),
                "train_s": row.get("train_s"),
                "run_dir": str(run_dir),
            }
        )
    wall = time.perf_counter() - t0
    meta = {
        "track": track["track"],
        "setting": setting,
        "description": track["description"],
        "report_only": track["report_only"],
        "goals": track["goals"],
        "classes": classes,
        "config": args,
        "render_overrides": [*track["render"], *render_overrides] if synthetic is None else None,
        "synthetic": str(syn),
        "synthetic_images": max((r.get("synthetic_images") or 0 for r in ablation.rows), default=0),
        "real_pool": len(pool),
        "git_commit": git_commit(),
        "device": device_name(ablation_device(cfg)),
        "wall_s": wall,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "bootstrap": {"resamples": track["bootstrap"], "seed": 0, "confidence": 0.95, "unit": "test images"},
    }
    if analysed:
        out["analysis"] = run_error_analysis(
            track, setting, base, real_root=real_root, overrides=overrides, render_overrides=render_overrides, val=val
        )
    wall = time.perf_counter() - t0
    meta["wall_s"] = wall
    out.update(records=records, wall_s=wall)
    if results is not None:
        doc = merge_records(_read_json(Path(results)), records, meta)
        if out["analysis"] is not None:
            doc = merge_analysis(doc, out["analysis"])
        _write_results(doc, results, report, out)
    return out


def render_analysis_set(track: dict[str, Any], base: Path, render_overrides: Sequence[str] = ()) -> Path:
    """Render (or resume) the track's analysis set into ``base/val``; returns the folder."""
    from simvision.dataset.job import run as render

    val = base / "val"
    render(render_config(track, val, [*render_overrides, *track["analysis"]["render"]]))
    return val


def run_error_analysis(
    track: dict[str, Any],
    setting: str,
    base: Path,
    *,
    real_root: str = REAL_ROOT,
    overrides: Sequence[str] = (),
    render_overrides: Sequence[str] = (),
    val: str | Path | None = None,
) -> dict[str, Any] | None:
    """Issue 14 item 4: each configured seed's ``synthetic_only`` weights (``base/sim2real/runs``) on the
    track's separate synthetic validation set (rendered into ``base/val``, resumable, or ``val``), broken
    down by condition, size, distance and visibility (``simvision.sim2real.analysis``); written to
    ``base/analysis/s<seed>``. None when the track has no ``analysis`` block."""
    from simvision.sim2real.ablation import analyse_checkpoint, run_weights
    from simvision.sim2real.config import plain_config

    spec = track.get("analysis")
    if spec is None:
        return None
    val_dir = Path(val) if val is not None else render_analysis_set(track, base, render_overrides)
    runs = base / "sim2real" / "runs"
    seeds: dict[str, Any] = {}
    for seed in spec["seeds"]:
        run_dir = runs / f"synthetic_s{seed}"
        ckpt = run_weights(run_dir)
        if not ckpt.is_file():
            raise FileNotFoundError(f"analysis.seeds: no synthetic_only weights for seed {seed} in {run_dir}")
        out = base / "analysis" / f"s{seed}"
        extra = [
            *overrides,
            "mode=analyse",
            "train.val_fraction=0",  # every frame of the analysis set
            "train.early_stopping_patience=0",  # (needs a split; nothing is trained here)
            f"seed={seed}",
            f"checkpoint={ckpt}",
        ]
        cfg, args = plain_config(sim2real_config(track, val_dir, out, real_root=real_root, extra=extra))
        result, _ = analyse_checkpoint(cfg, ckpt, args, seed=seed)
        seeds[str(seed)] = {
            "checkpoint": str(ckpt),
            "n_images": result["n_images"],
            "n_objects": result["n_objects"],
            "score_threshold": result["score_threshold"],
            "iou_threshold": result["iou_threshold"],
            "ap50_interval_method": result["ap50_interval_method"],
            "strata": result["strata"],
        }
    return {
        "track": track["track"],
        "setting": setting,
        "val": str(val_dir),
        "frames": spec["frames"],
        "render_seed": spec["seed"],
        "render_overrides": [*track["render"], *render_overrides, *spec["render"]] if val is None else None,
        "seeds": seeds,
    }


def _write_results(doc: dict[str, Any], results: str | Path, report: str | Path | None, out: dict[str, Any]) -> None:
    Path(results).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(results).with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(results)
    out["results"] = str(results)
    if report is not None:
        write_report(doc, report)
        out["report"] = str(report)
    out["headline"] = headline(doc)


def _analysis_only(
    track: dict[str, Any],
    setting: str,
    base: Path,
    out: dict[str, Any],
    t0: float,
    results: str | Path | None,
    report: str | Path | None,
    real_root: str,
    overrides: Sequence[str],
    render_overrides: Sequence[str],
    val: str | Path | None,
) -> dict[str, Any]:
    out["analysis"] = run_error_analysis(
        track, setting, base, real_root=real_root, overrides=overrides, render_overrides=render_overrides, val=val
    )
    out["wall_s"] = time.perf_counter() - t0
    if results is not None:
        doc = _read_json(Path(results))
        if doc is None:
            raise FileNotFoundError(f"--results: {results} does not exist; run the benchmark first")
        _write_results(merge_analysis(doc, out["analysis"]), results, report, out)
    return out


def ablation_device(cfg: Any) -> torch.device:
    from simvision.metrics.device import resolve_device

    return resolve_device(cfg.train.device)


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def merge_records(
    doc: dict[str, Any] | None, records: Sequence[dict[str, Any]], meta: dict[str, Any]
) -> dict[str, Any]:
    """``doc`` with ``records`` replacing those of the same (track, arm, k, seed, setting), the others
    kept; ``runs["<track>/<setting>"]`` = ``meta``; top-level config / git commit / device / wall time of
    this (latest) run."""
    doc = dict(doc or {})
    new_keys = {tuple(r.get(k) for k in MERGE_KEY) for r in records}
    kept = [r for r in doc.get("records", []) if tuple(r.get(k) for k in MERGE_KEY) not in new_keys]
    runs = dict(doc.get("runs", {}))
    runs[f"{meta['track']}/{meta['setting']}"] = meta
    out = {
        "schema": SCHEMA,
        "records": sorted([*kept, *records], key=_record_order),
        "config": meta["config"],
        "git_commit": meta["git_commit"],
        "device": meta["device"],
        "wall_s": meta["wall_s"],
        "runs": runs,
    }
    if doc.get("analysis"):
        out["analysis"] = doc["analysis"]
    return out


def merge_analysis(doc: dict[str, Any], analysis: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with ``analysis["<track>/<setting>"]`` replaced by ``analysis`` (``run_error_analysis``)."""
    doc = dict(doc)
    doc["analysis"] = {**doc.get("analysis", {}), f"{analysis['track']}/{analysis['setting']}": analysis}
    return doc


ARM_ORDER = ("real_only", "synthetic_only", "synthetic_then_real", "mixed")


def _record_order(r: dict[str, Any]) -> tuple[Any, ...]:
    arm = ARM_ORDER.index(r["arm"]) if r["arm"] in ARM_ORDER else 99
    return (r["track"], r.get("setting", ""), arm, r["k"] if r["k"] is not None else -1, r["seed"])


# ------------------------------------------------------------------ report


def _groups(records: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[tuple[str, int | None], list[dict]]]:
    out: dict[tuple[str, str], dict[tuple[str, int | None], list[dict]]] = {}
    for r in sorted(records, key=_record_order):
        out.setdefault((r["track"], r.get("setting", "")), {}).setdefault((r["arm"], r["k"]), []).append(r)
    return out


def _seed_mean_samples(rs: Sequence[dict[str, Any]]) -> np.ndarray | None:
    """Bootstrap samples of the mean over seeds of AP50 (resamples paired by index)."""
    samples = [np.asarray(r.get("ap50_bootstrap") or [], float) for r in rs]
    if not samples or any(len(s) == 0 for s in samples) or len({len(s) for s in samples}) != 1:
        return None
    return np.nanmean(np.stack(samples), axis=0)


def arm_summary(rs: Sequence[dict[str, Any]], confidence: float = 0.95) -> dict[str, Any]:
    ap50 = [r["ap50"] for r in rs if r["ap50"] is not None]
    samples = _seed_mean_samples(rs)
    return {
        "n": len(rs),
        "ap50": float(np.mean(ap50)) if ap50 else None,
        "ap50_std": float(np.std(ap50, ddof=1)) if len(ap50) > 1 else None,
        "ap50_interval": _percentiles(list(samples), confidence) if samples is not None else None,
        "map": float(np.mean([r["map"] for r in rs])),
        "ece": float(np.mean([r["ece"] for r in rs])),
        "samples": samples,
    }


def _f(v: float | None, digits: int = 3) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _interval(iv: Sequence[float] | None) -> str:
    return f"[{iv[0]:.3f}, {iv[1]:.3f}]" if iv else "-"


def _paired_difference(s: dict[str, Any], ref: dict[str, Any], factor: float = 1.0) -> list[float] | None:
    """Bootstrap interval of ``s - factor x ref`` (two arm summaries), resamples paired by index."""
    if s["samples"] is None or ref["samples"] is None or len(s["samples"]) != len(ref["samples"]):
        return None
    return _percentiles(list(s["samples"] - factor * ref["samples"]))


def _side_of_zero(iv: Sequence[float] | None) -> int | None:
    """1 when an interval of a difference lies above 0, -1 below, 0 when it includes 0, None without one."""
    if iv is None:
        return None
    return 1 if iv[0] > 0 else -1 if iv[1] < 0 else 0


def gain_checks(groups: dict[tuple[str, int | None], list[dict]]) -> list[dict[str, Any]]:
    """Does the synthetic data help? For every k with a real_only run: synthetic_then_real and mixed minus
    real_only at the same k (mean over seeds), with the paired bootstrap interval of the difference."""
    gains = []
    for k in sorted(k for a, k in groups if a == "real_only" and k is not None):
        ref = arm_summary(groups[("real_only", k)])
        for arm in ("synthetic_then_real", "mixed"):
            if (arm, k) not in groups:
                continue
            s = arm_summary(groups[(arm, k)])
            if s["ap50"] is None or ref["ap50"] is None:
                continue
            iv = _paired_difference(s, ref)
            verdict = {None: "no interval", 1: "helps", -1: "hurts", 0: "no measurable difference"}[_side_of_zero(iv)]
            gains.append(
                {
                    "arm": arm,
                    "k": k,
                    "value": s["ap50"],
                    "reference": ref["ap50"],
                    "difference": s["ap50"] - ref["ap50"],
                    "difference_interval": iv,
                    "verdict": verdict,
                }
            )
    return gains


def goal_checks(groups: dict[tuple[str, int | None], list[dict]]) -> list[dict[str, Any]]:
    """The issue's goals: synthetic_then_real at k = 8 >= real_only at the largest k; synthetic_only >=
    0.5 x real_only at the largest k. Each with the paired bootstrap interval of the difference."""
    ro_ks = sorted(k for a, k in groups if a == "real_only" and k is not None)
    if not ro_ks:
        return []
    k_all = ro_ks[-1]
    ref = arm_summary(groups[("real_only", k_all)])
    checks = []
    for arm, k, factor in (("synthetic_then_real", 8, 1.0), ("synthetic_only", None, 0.5)):
        if (arm, k) not in groups:
            continue
        s = arm_summary(groups[(arm, k)])
        diff_iv = _paired_difference(s, ref, factor)
        met = s["ap50"] is not None and ref["ap50"] is not None and s["ap50"] >= factor * ref["ap50"]
        side = _side_of_zero(diff_iv)
        if side is None:
            verdict = "met" if met else "not met"
        elif side > 0:
            verdict = "met (interval of the difference above 0)"
        elif side < 0:
            verdict = "not met (interval of the difference below 0)"
        else:
            verdict = ("met on the mean" if met else "not met on the mean") + ", but the interval includes 0"
        name = f"{arm}" + (f" at k = {k}" if k is not None else "")
        target = f"{'' if factor == 1 else f'{factor:g} x '}real_only at k = {k_all}"
        checks.append(
            {
                "goal": f"{name} >= {target}",
                "value": s["ap50"],
                "target": None if ref["ap50"] is None else factor * ref["ap50"],
                "difference_interval": diff_iv,
                "verdict": verdict,
            }
        )
    return checks


def plot_ap50_vs_k(doc: dict[str, Any], path: str | Path) -> Path:
    """AP50 (mean over seeds, bootstrap interval as error bars) vs k for real_only and synthetic_then_real,
    synthetic_only as a horizontal line; one panel per (track, setting)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    groups = _groups(doc.get("records", []))
    n = max(1, len(groups))
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4), squeeze=False)
    for ax, ((track, setting), g) in zip(axes[0], groups.items(), strict=False):
        for arm, colour in (("real_only", "tab:blue"), ("synthetic_then_real", "tab:orange")):
            ks = sorted(k for a, k in g if a == arm and k is not None)
            if not ks:
                continue
            summ = [arm_summary(g[(arm, k)]) for k in ks]
            y = np.array([s["ap50"] if s["ap50"] is not None else np.nan for s in summ])
            lo = np.array([y[i] - s["ap50_interval"][0] if s["ap50_interval"] else 0 for i, s in enumerate(summ)])
            hi = np.array([s["ap50_interval"][1] - y[i] if s["ap50_interval"] else 0 for i, s in enumerate(summ)])
            ax.errorbar(
                ks,
                y,
                yerr=np.vstack([np.maximum(lo, 0), np.maximum(hi, 0)]),
                marker="o",
                capsize=3,
                color=colour,
                label=arm,
            )
        if ("synthetic_only", None) in g:
            s = arm_summary(g[("synthetic_only", None)])
            if s["ap50"] is not None:
                ax.axhline(s["ap50"], color="tab:green", linestyle="--", label="synthetic_only")
        ax.set_title(f"{track} ({setting})")
        ax.set_xlabel("real training images k")
        ax.set_ylabel("AP50 on real test")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def results_markdown(doc: dict[str, Any], plot_name: str | None = None) -> str:
    """The report: per (track, setting) a table (mean ± std over seeds, bootstrap interval of the seed mean
    over test images, per class AP50, ECE), the goals checked and the run's device and commit."""
    lines = [
        "# Sim-to-real benchmark results",
        "",
        "Generated by `scripts/benchmark_sim2real.py` from `benchmarks/sim2real.json` (do not edit by hand;",
        "commands in docs/sim2real_benchmark.md). AP50: torchmetrics COCO mAP@0.5 on the real test split;",
        "± is the standard deviation over seeds; the interval is a 95% percentile bootstrap of the seed mean",
        "over test images (the same resamples for every run of a track; the bootstrap recomputes a 101-point",
        "AP50, so its interval can sit slightly off the torchmetrics value).",
        "",
    ]
    runs = doc.get("runs", {})
    for (track, setting), g in _groups(doc.get("records", [])).items():
        meta = runs.get(f"{track}/{setting}", {})
        classes = meta.get("classes") or sorted({c for rs in g.values() for r in rs for c in r["per_class"]})
        lines += [f"## {track} ({setting})" + (" — report only" if meta.get("report_only") else ""), ""]
        if meta.get("description"):
            lines += [meta["description"], ""]
        header = [
            "arm",
            "k real",
            "seeds",
            "AP50 mean ± std",
            "AP50 95% CI (test images)",
            "mAP",
            *[f"AP50 {c}" for c in classes],
            "ECE",
        ]
        lines += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        for (arm, k), rs in g.items():
            s = arm_summary(rs)
            per_class = []
            for c in classes:
                vals = [r["per_class"].get(c, {}).get("ap50") for r in rs]
                vals = [v for v in vals if v is not None]
                per_class.append(_f(float(np.mean(vals))) if vals else "-")
            ap = _f(s["ap50"]) + (f" ± {s['ap50_std']:.3f}" if s["ap50_std"] is not None else "")
            lines.append(
                "| "
                + " | ".join(
                    [
                        arm,
                        "-" if k is None else str(k),
                        str(s["n"]),
                        ap,
                        _interval(s["ap50_interval"]),
                        _f(s["map"]),
                        *per_class,
                        _f(s["ece"]),
                    ]
                )
                + " |"
            )
        lines.append("")
        gains = gain_checks(g)
        if gains:
            lines += ["Against the same real photos alone (difference in AP50, paired bootstrap interval):", ""]
            lines += [
                f"- {x['arm']} at k = {x['k']}: {x['difference']:+.3f} ({_f(x['value'])} vs {_f(x['reference'])}), "
                f"{_interval(x['difference_interval'])}: **{x['verdict']}**"
                for x in gains
            ]
            lines.append("")
        if meta.get("goals", True):
            checks = goal_checks(g)
            if checks:
                lines += ["Goals of issue 14:", ""]
                for c in checks:
                    lines.append(
                        f"- {c['goal']}: {_f(c['value'])} vs {_f(c['target'])}; paired bootstrap interval of the "
                        f"difference {_interval(c['difference_interval'])}: **{c['verdict']}**"
                    )
                lines.append("")
        an = doc.get("analysis", {}).get(f"{track}/{setting}")
        if an:
            lines += analysis_lines(an)
        if meta:
            lines += [
                f"Device: {meta.get('device')}; git commit `{meta.get('git_commit')}`; wall time "
                f"{meta.get('wall_s', 0) / 60:.1f} min; finished {meta.get('finished')}; synthetic images "
                f"{meta.get('synthetic_images')}; real pool {meta.get('real_pool')}.",
                "",
            ]
    if plot_name:
        lines += [f"![AP50 vs k]({plot_name})", ""]
    h = headline(doc)
    if h:
        lines += ["Headline: " + h, ""]
    return "\n".join(lines)


def analysis_lines(an: dict[str, Any], weakest: int = 10) -> list[str]:
    """The error-analysis paragraph of a track: per analysed seed, the ``weakest`` strata (lowest recall)
    and the ``all`` row; the full list stays in the JSON."""
    lines = []
    for seed, a in an["seeds"].items():
        strata = a["strata"]
        everything = [x for x in strata if x["key"] == "all"]
        shown = [x for x in strata if x["key"] != "all"][:weakest]
        lines += [
            f"Error analysis (issue 14 item 4): the synthetic_only model of seed {seed} on {a['n_images']} "
            f"separate synthetic validation frames ({a['n_objects']} objects; render seed {an['render_seed']}, "
            f"not trained on). Recall at score >= {a['score_threshold']} and IoU >= {a['iou_threshold']} "
            f"(Wilson 95% interval); AP50 with {a['ap50_interval_method'] or 'no interval'}. The {len(shown)} "
            "weakest strata (every stratum: `analysis` in benchmarks/sim2real.json):",
            "",
            "| stratum | level | objects | images | recall | AP50 |",
            "|---|---|---|---|---|---|",
        ]
        for x in [*everything, *shown]:
            ap = _f(x["ap50"]) + (" " + _interval(x["ap50_interval"]) if x["ap50_interval"] else "")
            lines.append(
                f"| {x['key']} | {x['level']} | {x['n_objects']} | {x['n_images']} | {_f(x['recall'])} "
                f"{_interval(x['recall_interval'])} | {ap} |"
            )
        lines.append("")
    return lines


def write_report(doc: dict[str, Any], md_path: str | Path) -> dict[str, Path]:
    """``md_path`` and its plot ``<stem>_ap50_vs_k.png`` next to it."""
    md_path = Path(md_path)
    plot = plot_ap50_vs_k(doc, md_path.with_name(md_path.stem + "_ap50_vs_k.png"))
    md_path.write_text(results_markdown(doc, plot.name))
    return {"md": md_path, "plot": plot}


def headline(doc: dict[str, Any]) -> str | None:
    """One line for the README, from the first track with goals (else the first track)."""
    groups = _groups(doc.get("records", []))
    runs = doc.get("runs", {})
    order = sorted(groups, key=lambda ts: (not runs.get(f"{ts[0]}/{ts[1]}", {}).get("goals", True), ts[1] != "cuda"))
    for track, setting in order:
        g = groups[(track, setting)]
        ro = sorted(k for a, k in g if a == "real_only" and k is not None)
        st = sorted(k for a, k in g if a == "synthetic_then_real" and k is not None)
        if not ro or not st:
            continue
        k = st[0]
        a = arm_summary(g[("synthetic_then_real", k)])
        b = arm_summary(g[("real_only", k)]) if ("real_only", k) in g else None
        c = arm_summary(g[("real_only", ro[-1])])
        text = (
            f"{track}: with {k} real photos, pre-training on simvision frames gives AP50 {_f(a['ap50'])} "
            f"{_interval(a['ap50_interval'])}"
        )
        if b is not None:
            text += f" vs {_f(b['ap50'])} {_interval(b['ap50_interval'])} from the real photos alone"
        text += f" (real only with {ro[-1]}: {_f(c['ap50'])}; {len(g[('synthetic_then_real', k)])} seeds, {setting})."
        return text
    return None
