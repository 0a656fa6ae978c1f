"""The sim-to-real ablation: does synthetic data help on real images, and for which classes?

Arms, each evaluated on the same held-out real set:
- ``real_only``: train on k real images;
- ``synthetic_only``: train on the synthetic set, test on real (the raw domain gap);
- ``synthetic_then_real``: the synthetic model fine-tuned on the same k real images;
- ``mixed``: one training run on synthetic plus the k real images (repeated to a set share).
For one seed the k real images of a smaller k are a subset of those of a larger k. Every run keeps its
checkpoint and its evaluation JSON under ``runs/``, so an interrupted ablation resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import ConcatDataset, Dataset

from simvision.formats import LabelledImage
from simvision.formats.classes import ClassMapping
from simvision.formats.select import read_source
from simvision.metrics.device import resolve_device
from simvision.sim2real.augment import check_train
from simvision.sim2real.checkpoint import load_checkpoint
from simvision.sim2real.config import ARMS, DataConfig, ModelConfig, Sim2RealConfig, TrainConfig
from simvision.sim2real.data import DetectionDataset, describe, records_subset, scene_groups, validation_split
from simvision.sim2real.engine import evaluate, fit
from simvision.sim2real.models import build_detector

log = logging.getLogger(__name__)

__all__ = ["AblationResult", "Sim2RealData", "Sim2RealRunner", "ablation_table", "load_data", "run_ablation"]


def read_split(dc: DataConfig, *, seed: int = 0, name: str = "data") -> list[LabelledImage]:
    return read_source(dc, seed=seed, field=name)


@dataclass
class Sim2RealData:
    """Every record list the ablation needs, with a class mapping per source."""

    classes: list[str]
    synthetic: list[LabelledImage]
    real_pool: list[LabelledImage]
    real_test: list[LabelledImage]
    synthetic_mapping: ClassMapping
    real_mapping: ClassMapping
    synthetic_val: list[LabelledImage] = field(default_factory=list)  # held out of ``synthetic`` (by scene)


def synthetic_sets(cfg: Sim2RealConfig) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """(train, validation) synthetic records: with ``train.val_fraction`` > 0 whole scenes (``scene_index``
    in ``metadata/frames.jsonl``; single images for other formats) are held out, fixed by ``split_seed``."""
    check_train(cfg.train)
    synthetic = read_split(cfg.synthetic, name="synthetic")
    if cfg.train.val_fraction <= 0:
        return synthetic, []
    groups = scene_groups(cfg.synthetic.path, synthetic)
    if groups is None:
        log.warning("synthetic set has no scene_index per frame: validation split by image")
    train, val = validation_split(synthetic, cfg.train.val_fraction, cfg.split_seed, groups)
    log.info("synthetic validation split: %d images held out, %d to train", len(val), len(train))
    return train, val


def load_data(cfg: Sim2RealConfig, *, need_synthetic: bool = True) -> Sim2RealData:
    """Every record list; with ``train.val_fraction`` the synthetic set loses its validation scenes (the
    split is fixed by ``split_seed``, the same for every seed and arm)."""
    check_train(cfg.train)
    classes = list(cfg.class_names)
    base = ClassMapping(classes)
    synthetic, synthetic_val = synthetic_sets(cfg) if need_synthetic else ([], [])
    pool = read_split(cfg.real_train, seed=cfg.split_seed, name="real_train")
    if cfg.real_test is not None:
        test = read_split(cfg.real_test, seed=cfg.split_seed, name="real_test")
    else:  # hold out a fixed share of the pool; fixed seed so every arm and seed sees the same test set
        order = np.random.default_rng(cfg.split_seed).permutation(len(pool))
        n_test = max(1, int(round(len(pool) * cfg.real_test_fraction)))
        test = [pool[i] for i in sorted(order[:n_test])]
        pool = [pool[i] for i in sorted(order[n_test:])]
    real_aliases = {**(cfg.real_train.aliases or {}), **((cfg.real_test.aliases if cfg.real_test else None) or {})}
    data = Sim2RealData(
        classes,
        synthetic,
        pool,
        test,
        base.with_aliases(cfg.synthetic.aliases or {}),
        base.with_aliases(real_aliases),
        synthetic_val,
    )
    if cfg.positive_only:  # "k real images" means k images that show at least one of the classes
        data.real_pool = [r for r in pool if any(data.real_mapping.index(n) is not None for n in r.labels)]
        pool = data.real_pool
    for name, recs, mapping in (
        ("synthetic", synthetic, data.synthetic_mapping),
        ("real pool", pool, data.real_mapping),
        ("real test", test, data.real_mapping),
    ):
        if recs:
            info = describe(recs, mapping)
            log.info("%s: %d images, instances %s", name, info["images"], info["instances"])
            if not any(info["instances"].get(c, 0) for c in classes):
                raise ValueError(
                    f"{name} has no instance of the classes {classes}: check classes / aliases "
                    f"(source names seen: {sorted(k[1:] for k in info['instances'] if k[0] == '!')[:10]})"
                )
    return data


def run_weights(run_dir: Path) -> Path:
    """The weights a finished run in ``run_dir`` hands on: ``best.pt`` (its best validation epoch) when it
    has one, else ``checkpoint.pt``."""
    best = run_dir / "best.pt"
    return best if best.is_file() else run_dir / "checkpoint.pt"


def analyse_checkpoint(
    cfg: Sim2RealConfig, checkpoint: str | Path, args: dict[str, Any] | None = None, *, seed: int | None = None
) -> tuple[dict[str, Any], int]:
    """Error analysis of ``checkpoint`` on ``cfg.synthetic`` (its validation split when
    ``train.val_fraction`` > 0, else every image), written to ``cfg.output_dir``. Returns the result
    and the number of images analysed."""
    train_recs, val_recs = synthetic_sets(cfg)
    records = val_recs or train_recs
    mapping = ClassMapping(list(cfg.class_names)).with_aliases(cfg.synthetic.aliases or {})
    data = Sim2RealData(list(cfg.class_names), [], [], [], mapping, mapping, list(records))
    runner = Sim2RealRunner(cfg, data, args)
    model = runner.new_model(cfg.seed if seed is None else seed)
    load_checkpoint(checkpoint, model=model)
    return runner.analyse(model, out_dir=Path(cfg.output_dir)), len(records)


@dataclass
class AblationResult:
    rows: list[dict[str, Any]]  # one per (arm, k, seed)
    summary: list[dict[str, Any]]  # aggregated over seeds
    table: str  # markdown
    output_dir: Path
    files: dict[str, Path] = field(default_factory=dict)


def _fingerprint(obj: Any) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


_LATER_TRAIN_KEYS = ("augment", "augment_real", "val_fraction", "eval_every", "early_stopping_patience")
_LATER_MODEL_KEYS = ("box_batch_size_per_image",)


def config_fingerprints(cfg: Sim2RealConfig) -> dict[str, str]:
    """Hashes of what a checkpoint (``train``) and a result (``eval``) depend on; settings that do not change
    the numbers (device, workers, logging) are left out, so a run may resume on another machine."""
    # keys added after the first release count only when set, so older run folders keep their fingerprints
    later = dataclasses.asdict(TrainConfig())
    later_model = dataclasses.asdict(ModelConfig())
    model = {
        k: v for k, v in dataclasses.asdict(cfg.model).items() if not (k in _LATER_MODEL_KEYS and v == later_model[k])
    }
    train = {
        k: v
        for k, v in dataclasses.asdict(cfg.train).items()
        if k not in ("device", "num_workers", "log_every") and not (k in _LATER_TRAIN_KEYS and v == later[k])
    }
    data = {
        k: {f: x for f, x in dataclasses.asdict(v).items() if not (f == "with_any_of" and x is None)}
        if v is not None
        else None
        for k, v in (("synthetic", cfg.synthetic), ("real_train", cfg.real_train), ("real_test", cfg.real_test))
    }
    trained = {
        "model": model,
        "train": train,
        "data": data,
        "classes": list(cfg.class_names),
        "split": [cfg.split_seed, cfg.real_test_fraction, cfg.positive_only],
    }
    return {"train": _fingerprint(trained), "eval": _fingerprint([trained, dataclasses.asdict(cfg.eval)])}


class Sim2RealRunner:
    """Builds datasets and models from one config, trains/evaluates named runs, caches their results.

    A cached result or checkpoint made with a different config is an error (not silently reused): start a
    new ``output_dir`` or set ``resume=false``. A result whose evaluation settings changed is re-evaluated.
    """

    def __init__(self, cfg: Sim2RealConfig, data: Sim2RealData, args: dict[str, Any] | None = None) -> None:
        self.cfg = cfg
        self.data = data
        self.args = args or {}
        self.device = resolve_device(cfg.train.device)
        self.out = Path(cfg.output_dir)
        self.runs = self.out / "runs"
        self.fingerprints = config_fingerprints(cfg)

    def dataset(
        self,
        records: Sequence[LabelledImage],
        mapping: ClassMapping,
        *,
        train: bool,
        seed: int,
        synthetic: bool = False,
    ) -> DetectionDataset:
        """Training sets are augmented (``train.augment``) when synthetic, real ones only with
        ``train.augment_real``."""
        t = self.cfg.train
        augment = t.augment if train and t.augment.enabled and (synthetic or t.augment_real) else None
        return DetectionDataset(
            records,
            mapping,
            train=train,
            hflip=self.cfg.train.hflip,
            masks=self.cfg.model.arch == "maskrcnn",
            max_side=self.cfg.model.max_size,
            seed=seed,
            augment=augment,
        )

    def weights(self, name: str) -> Path:
        """The weights a finished run hands on: its best validation checkpoint when it had one."""
        return run_weights(self.runs / name)

    def new_model(self, seed: int) -> nn.Module:
        # nn init draws from torch's global RNG; fork it so seeding here leaves the caller's state alone
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return build_detector(self.cfg.model, len(self.data.classes) + 1)

    def train_set(self, source: str, k: int, seed: int) -> tuple[Dataset, dict[str, Any]]:
        d = self.data
        real = records_subset(d.real_pool, k, seed) if source in ("real", "mixed") else []
        parts: list[Dataset] = []
        if source in ("synthetic", "mixed"):
            parts.append(self.dataset(d.synthetic, d.synthetic_mapping, train=True, seed=seed, synthetic=True))
        repeat = 1
        if source == "mixed" and real:
            f = min(max(self.cfg.train.mixed_real_fraction, 0.0), 0.95)
            repeat = max(1, round(f / (1 - f) * len(d.synthetic) / len(real)))
        if real:
            parts += [self.dataset(real, d.real_mapping, train=True, seed=seed + 7919 * r) for r in range(repeat)]
        if not parts:
            raise ValueError(f"empty training set for source={source!r} k={k}")
        info: dict[str, Any] = {
            "synthetic_images": len(d.synthetic) if source in ("synthetic", "mixed") else 0,
            "real_images": len(real),
            "real_repeat": repeat if real else 0,
        }
        return (parts[0] if len(parts) == 1 else ConcatDataset(parts)), info

    def train(
        self, name: str, source: str, *, k: int, seed: int, epochs: int, lr: float, init_from: Path | None = None
    ) -> tuple[nn.Module, dict[str, Any]]:
        """Train (or resume, or just load a finished) run ``name``; returns the model and run info."""
        run_dir = self.runs / name
        ckpt = run_dir / "checkpoint.pt"
        if self.cfg.resume and ckpt.is_file():
            found = torch.load(ckpt, map_location="cpu", weights_only=True)["args"].get("fingerprint")
            if found != self.fingerprints["train"]:
                raise ValueError(
                    f"{ckpt} was trained with another config (fingerprint {found} != "
                    f"{self.fingerprints['train']}); use a new output_dir or resume=false"
                )
        model = self.new_model(seed)
        if init_from is not None and not ckpt.is_file():
            load_checkpoint(init_from, model=model)
        dataset, info = self.train_set(source, k, seed)
        # validation on the held-out synthetic scenes, for runs that train on synthetic images; runs on
        # real images only (real_only, the fine-tune) train their fixed epochs: k real images are too few
        # to split, and the real test set is never used for choosing anything
        validate = None
        if source in ("synthetic", "mixed") and self.data.synthetic_val:
            val = self.dataset(self.data.synthetic_val, self.data.synthetic_mapping, train=False, seed=0)

            def validate(m: nn.Module) -> float:
                return float(evaluate(m, val, self.device, self.data.classes, self.cfg.eval, progress=False)["map_50"])

        t0 = time.perf_counter()
        history = fit(
            model,
            dataset,
            self.cfg.train,
            epochs=epochs,
            lr=lr,
            device=self.device,
            checkpoint_path=ckpt,
            resume=self.cfg.resume,
            seed=seed,
            args={
                **self.args,
                "run": name,
                "source": source,
                "k": k,
                "seed": seed,
                "fingerprint": self.fingerprints["train"],
            },
            progress=self.cfg.progress,
            desc=name,
            validate=validate,
            best_path=run_dir / "best.pt",
            curve_path=run_dir / "curve.json",
        )
        vals = [(i, h["val_map50"]) for i, h in enumerate(history) if h.get("val_map50") is not None]
        best = max(vals, key=lambda v: (v[1], -v[0])) if vals else None
        info.update(
            {
                "epochs": epochs,
                "epochs_run": len(history),
                "stopped_early": len(history) < epochs,
                "val_images": len(self.data.synthetic_val) if validate is not None else 0,
                "best_epoch": best[0] + 1 if best else None,
                "best_val_map50": best[1] if best else None,
                "curve": str(run_dir / "curve.json"),
                "train_s": time.perf_counter() - t0,
                "checkpoint": str(ckpt),
                "final_loss": history[-1]["loss"] if history else None,
            }
        )
        return model, info

    def analyse(
        self, model: nn.Module, records: Sequence[LabelledImage] | None = None, out_dir: Path | None = None
    ) -> dict[str, Any]:
        """Error analysis (``simvision.sim2real.analysis``) on ``records`` (default: the synthetic
        validation split); written to ``out_dir`` when given."""
        from simvision.sim2real.analysis import analyse, write_analysis

        result = analyse(
            model,
            self.data.synthetic_val if records is None else records,
            self.data.synthetic_mapping,
            self.data.classes,
            self.device,
            root=self.cfg.synthetic.path,
            cfg=self.cfg.analysis,
            max_side=self.cfg.model.max_size,
            batch_size=self.cfg.eval.batch_size,
            progress=self.cfg.progress,
        )
        if out_dir is not None:
            write_analysis(result, out_dir)
        return result

    def evaluate(self, model: nn.Module, *, return_predictions: bool = False) -> dict[str, Any]:
        test = self.dataset(self.data.real_test, self.data.real_mapping, train=False, seed=0)
        return evaluate(
            model.to(self.device),
            test,
            self.device,
            self.data.classes,
            self.cfg.eval,
            progress=self.cfg.progress,
            return_predictions=return_predictions,
        )

    def run(
        self,
        name: str,
        arm: str,
        source: str,
        *,
        k: int,
        seed: int,
        epochs: int,
        lr: float,
        init_from: Path | None = None,
    ) -> dict[str, Any]:
        """Train + evaluate a run once; a finished run's cached ``result.json`` is reused on resume."""
        result_file = self.runs / name / "result.json"
        if self.cfg.resume and result_file.is_file():
            cached = json.loads(result_file.read_text())
            # runs from before predictions were kept are evaluated again (the training is reused)
            if cached.get("fingerprints") == self.fingerprints and (self.runs / name / PREDICTIONS_FILE).is_file():
                log.info("%s: cached result %s", name, result_file)
                return cached
        model, info = self.train(name, source, k=k, seed=seed, epochs=epochs, lr=lr, init_from=init_from)
        metrics = self.evaluate(model, return_predictions=True)
        # per-image predictions on the real test set, for bootstrap intervals over test images
        save_predictions(self.runs / name / PREDICTIONS_FILE, metrics.pop("predictions"), self.fingerprints)
        row = {"run": name, "arm": arm, "k": k, "seed": seed, **info, **metrics, "fingerprints": self.fingerprints}
        result_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = result_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(row, indent=2))
        tmp.replace(result_file)
        log.info("%s: mAP %.4f mAP50 %.4f ECE %.4f", name, row["map"], row["map_50"], row["calibration"]["ece"])
        return row


PREDICTIONS_FILE = "predictions.pt"


def save_predictions(path: Path, predictions: dict[str, Any], fingerprints: dict[str, str]) -> None:
    """Per-image predictions and targets of a run on the real test set (atomic write)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".pt.tmp")
    torch.save({**predictions, "fingerprints": fingerprints}, tmp)
    tmp.replace(path)


def load_predictions(path: Path, fingerprints: dict[str, str] | None = None) -> dict[str, Any] | None:
    """``{"preds", "gts"}`` saved by a run, or None when missing or made with another config."""
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if fingerprints is not None and state.get("fingerprints") != fingerprints:
        return None
    return state


def _mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not vals:
        return None, None
    return float(np.mean(vals)), float(np.std(vals)) if len(vals) > 1 else None


def summarise(rows: Sequence[dict[str, Any]], classes: Sequence[str]) -> list[dict[str, Any]]:
    """Mean (and std over seeds) per (arm, k), in arm order."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["arm"], r["k"] if r["arm"] != "synthetic_only" else 0), []).append(r)
    out = []
    for (arm, k), rs in sorted(groups.items(), key=lambda g: (ARMS.index(g[0][0]) if g[0][0] in ARMS else 99, g[0][1])):
        entry: dict[str, Any] = {"arm": arm, "k": k, "seeds": [r["seed"] for r in rs]}
        for key in ("map", "map_50"):
            entry[key], entry[f"{key}_std"] = _mean_std([r[key] for r in rs])
        entry["ece"], entry["ece_std"] = _mean_std([r["calibration"]["ece"] for r in rs])
        entry["per_class"] = {
            c: {m: _mean_std([r["per_class"][c][m] for r in rs])[0] for m in ("ap", "ap50")} for c in classes
        }
        out.append(entry)
    return out


def _cell(mean: float | None, std: float | None = None, digits: int = 3) -> str:
    if mean is None:
        return "-"
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if std is not None else "")


def ablation_table(summary: Sequence[dict[str, Any]], classes: Sequence[str]) -> str:
    """Markdown table: arm, k, mAP, mAP50, per-class AP50 and AP, ECE (mean ± std over seeds)."""
    header = [
        "arm",
        "k real",
        "mAP@[.5:.95]",
        "mAP@.5",
        *[f"AP50 {c}" for c in classes],
        *[f"AP {c}" for c in classes],
        "ECE",
        "seeds",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for e in summary:
        cells = [
            e["arm"],
            "-" if e["arm"] == "synthetic_only" else str(e["k"]),
            _cell(e["map"], e["map_std"]),
            _cell(e["map_50"], e["map_50_std"]),
            *[_cell(e["per_class"][c]["ap50"]) for c in classes],
            *[_cell(e["per_class"][c]["ap"]) for c in classes],
            _cell(e["ece"], e["ece_std"]),
            str(len(e["seeds"])),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_ablation(cfg: Sim2RealConfig, args: dict[str, Any] | None = None) -> AblationResult:
    """Every requested arm x k x seed; prints and writes ``ablation.md`` / ``ablation.json``."""
    unknown = set(cfg.ablation.arms) - set(ARMS)
    if unknown:
        raise ValueError(f"unknown arms {sorted(unknown)}; choose from {ARMS}")
    arms = list(cfg.ablation.arms)
    needs_syn = any(a != "real_only" for a in arms)
    data = load_data(cfg, need_synthetic=needs_syn)
    runner = Sim2RealRunner(cfg, data, args)
    t = cfg.train
    ks = [k for k in cfg.ablation.k if k > 0]
    rows: list[dict[str, Any]] = []
    for seed in cfg.ablation.seeds:
        if "synthetic_only" in arms or "synthetic_then_real" in arms:
            rows.append(
                runner.run(
                    f"synthetic_s{seed}",
                    "synthetic_only",
                    "synthetic",
                    k=0,
                    seed=seed,
                    epochs=t.epochs_synthetic,
                    lr=t.lr,
                )
            )
            run_dir = runner.runs / f"synthetic_s{seed}"
            if cfg.ablation.analyse and data.synthetic_val and not (run_dir / "analysis.json").is_file():
                model = runner.new_model(seed)
                load_checkpoint(runner.weights(f"synthetic_s{seed}"), model=model)
                runner.analyse(model, out_dir=run_dir)
        for k in ks:
            if "real_only" in arms:
                rows.append(
                    runner.run(
                        f"real_only_k{k}_s{seed}", "real_only", "real", k=k, seed=seed, epochs=t.epochs_real, lr=t.lr
                    )
                )
            if "synthetic_then_real" in arms:
                rows.append(
                    runner.run(
                        f"synthetic_then_real_k{k}_s{seed}",
                        "synthetic_then_real",
                        "real",
                        k=k,
                        seed=seed,
                        epochs=t.epochs_finetune,
                        lr=t.finetune_lr,
                        init_from=runner.weights(f"synthetic_s{seed}"),
                    )
                )
            if "mixed" in arms:
                rows.append(
                    runner.run(
                        f"mixed_k{k}_s{seed}", "mixed", "mixed", k=k, seed=seed, epochs=t.epochs_synthetic, lr=t.lr
                    )
                )
    if "synthetic_only" not in arms:
        rows = [r for r in rows if r["arm"] != "synthetic_only"]
    summary = summarise(rows, data.classes)
    table = ablation_table(summary, data.classes)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"md": out / "ablation.md", "json": out / "ablation.json"}
    notes = [
        "",
        f"Real test set: {len(data.real_test)} images; real pool: {len(data.real_pool)}; "
        f"synthetic: {len(data.synthetic)}. Model: {cfg.model.arch} / {cfg.model.backbone} "
        f"(backbone weights: {cfg.model.backbone_weights or 'random init'}), device {runner.device}.",
        "mAP / AP: torchmetrics MeanAveragePrecision (COCO protocol, pycocotools backend). "
        f"ECE: detection calibration error of scores >= {cfg.eval.ece_score_threshold} on the real test set "
        f"(correct = IoU >= {cfg.eval.iou_threshold} with an unmatched box of the same class), "
        f"{cfg.eval.ece_bins} bins.",
    ]
    files["md"].write_text("# Sim-to-real ablation\n\n" + table + "\n" + "\n".join(notes) + "\n")
    files["json"].write_text(
        json.dumps({"summary": summary, "runs": rows, "classes": data.classes, "config": args or {}}, indent=2)
    )
    return AblationResult(rows, summary, table, out, files)
