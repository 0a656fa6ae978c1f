"""Training and evaluation engine (after torchvision's ``references/detection``): ``train_one_epoch``,
``evaluate`` (torchmetrics mAP + per-class AP + score calibration) and a resumable ``fit`` loop."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence, Sized
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import ConcatDataset, DataLoader, Dataset
from torchmetrics.detection import MeanAveragePrecision
from tqdm.auto import tqdm

from simvision.sim2real.calibration import detection_calibration
from simvision.sim2real.checkpoint import load_checkpoint, save_checkpoint
from simvision.sim2real.config import EvalConfig, TrainConfig
from simvision.sim2real.data import collate_detection

log = logging.getLogger(__name__)

__all__ = ["WarmupCosine", "evaluate", "fit", "make_optimizer", "predict", "train_one_epoch", "write_curve"]


class WarmupCosine:
    """Per-iteration LR factor: linear warm-up, then cosine decay to ``floor``. A class, not a lambda,
    so ``LambdaLR.state_dict`` stores its parameters and a resumed run continues the same curve."""

    def __init__(self, total_iters: int, warmup_iters: int, floor: float = 0.05) -> None:
        self.total_iters = max(total_iters, 1)
        self.warmup_iters = min(warmup_iters, self.total_iters // 2)
        self.floor = floor

    def __call__(self, it: int) -> float:
        if it < self.warmup_iters:
            return 0.001 + (1 - 0.001) * it / self.warmup_iters
        t = (it - self.warmup_iters) / max(self.total_iters - self.warmup_iters, 1)
        return self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))


def make_optimizer(params: Sequence[nn.Parameter], cfg: TrainConfig, lr: float) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}: use sgd or adamw")


def _to(targets: Sequence[dict[str, Tensor]], device: torch.device) -> list[dict[str, Tensor]]:
    return [{k: v.to(device) for k, v in t.items()} for t in targets]


def train_one_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loader: DataLoader,
    device: torch.device,
    *,
    epoch: int,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    scaler: torch.amp.GradScaler | None = None,
    clip_grad_norm: float | None = None,
    log_every: int = 20,
    progress: bool = True,
    desc: str = "train",
) -> dict[str, float]:
    """One pass over ``loader``; returns the mean of every loss term (and of their sum, ``loss``)."""
    model.train()
    sums: dict[str, float] = {}
    n = 0
    use_amp = scaler is not None and device.type == "cuda"
    bar = tqdm(loader, desc=f"{desc} epoch {epoch}", unit="batch", disable=not progress, leave=False)
    for step, (images, targets) in enumerate(bar):
        images = [im.to(device, non_blocking=True) for im in images]
        targets = _to(targets, device)
        with torch.autocast(device_type=device.type, enabled=use_amp):
            losses = model(images, targets)
            loss = sum(losses.values())
        if not torch.isfinite(loss):
            detail = {k: v.item() for k, v in losses.items()}
            raise FloatingPointError(f"loss is {loss.item()} at epoch {epoch} step {step} ({detail}); lower train.lr")
        optimizer.zero_grad(set_to_none=True)
        params = [p for g in optimizer.param_groups for p in g["params"]]
        if use_amp and scaler is not None:
            scaler.scale(loss).backward()
            if clip_grad_norm:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            if clip_grad_norm:
                torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        n += 1
        loss_value = loss.item()
        for k, v in losses.items():
            sums[k] = sums.get(k, 0.0) + v.item()
        sums["loss"] = sums.get("loss", 0.0) + loss_value
        if progress:
            bar.set_postfix(loss=f"{loss_value:.3f}", lr=f"{optimizer.param_groups[0]['lr']:.2g}")
        if log_every and step % log_every == 0:
            log.debug("%s epoch %d step %d loss %.4f", desc, epoch, step, loss_value)
    return {k: v / max(n, 1) for k, v in sums.items()}


@torch.inference_mode()
def predict(
    model: nn.Module, loader: DataLoader, device: torch.device, *, progress: bool = True, desc: str = "predict"
) -> tuple[list[dict[str, Tensor]], list[dict[str, Tensor]]]:
    """Predictions and targets on the CPU, boxes only (masks dropped to keep memory flat)."""
    model.eval()
    preds, gts = [], []
    for images, targets in tqdm(loader, desc=desc, unit="batch", disable=not progress, leave=False):
        out = model([im.to(device) for im in images])
        for o, t in zip(out, targets, strict=True):
            preds.append({k: o[k].detach().cpu() for k in ("boxes", "scores", "labels")})
            gts.append({"boxes": t["boxes"].cpu(), "labels": t["labels"].cpu()})
    return preds, gts


def _per_class_ap(result: dict[str, Tensor], class_names: Sequence[str]) -> dict[str, dict[str, float | None]]:
    """AP@[.5:.95] (torchmetrics ``map_per_class``) and AP@.5 (from its precision array) per class."""
    out: dict[str, dict[str, float | None]] = {c: {"ap": None, "ap50": None} for c in class_names}
    ids = result["classes"].reshape(-1).tolist()
    maps = result["map_per_class"].reshape(-1).tolist()
    precision = result.get("precision")  # (iou thresholds, recall points, classes, areas, max dets)
    for col, (cid, ap) in enumerate(zip(ids, maps, strict=False)):
        if not 1 <= cid <= len(class_names):
            continue
        name = class_names[cid - 1]
        out[name]["ap"] = float(ap) if ap >= 0 else None
        if precision is not None and precision.dim() == 5 and col < precision.shape[2]:
            p = precision[0, :, col, 0, -1]
            p = p[p > -1]
            out[name]["ap50"] = float(p.mean()) if len(p) else None
    return out


def evaluate(
    model: nn.Module,
    dataset: Dataset,
    device: torch.device,
    class_names: Sequence[str],
    cfg: EvalConfig | None = None,
    *,
    progress: bool = True,
    return_predictions: bool = False,
) -> dict[str, Any]:
    """mAP / mAP50 / per-class AP with torchmetrics' MeanAveragePrecision (pycocotools backend: the
    default faster-coco-eval is not a dependency) and the calibration error of scores. With
    ``return_predictions`` the per-image predictions and targets (CPU tensors) are under ``"predictions"``
    (for bootstrap intervals over test images)."""
    cfg = cfg or EvalConfig()
    loader = DataLoader(dataset, batch_size=cfg.batch_size, shuffle=False, collate_fn=collate_detection)
    t0 = time.perf_counter()
    preds, gts = predict(model, loader, device, progress=progress, desc="evaluate")
    metric = MeanAveragePrecision(
        box_format="xyxy", iou_type="bbox", class_metrics=True, extended_summary=True, backend="pycocotools"
    )
    metric.update(preds, gts)
    result = metric.compute()
    scalars = {k: float(result[k]) for k in ("map", "map_50", "map_75", "mar_100") if k in result}
    extra = {"predictions": {"preds": preds, "gts": gts}} if return_predictions else {}
    return {
        **extra,
        **scalars,
        "per_class": _per_class_ap(result, class_names),
        "calibration": detection_calibration(
            preds, gts, iou_threshold=cfg.iou_threshold, n_bins=cfg.ece_bins, score_threshold=cfg.ece_score_threshold
        ),
        "n_images": len(gts),
        "n_instances": int(sum(len(t["labels"]) for t in gts)),
        "eval_s": time.perf_counter() - t0,
    }


def _set_epoch(dataset: Dataset, epoch: int) -> None:
    if isinstance(dataset, ConcatDataset):
        for d in dataset.datasets:
            _set_epoch(d, epoch)
    elif hasattr(dataset, "set_epoch"):
        dataset.set_epoch(epoch)


def write_curve(
    path: str | Path,
    history: Sequence[dict[str, Any]],
    *,
    planned_epochs: int,
    eval_every: int | None = None,
    patience: int = 0,
    plot: bool = True,
) -> Path:
    """``curve.json`` (atomic) and ``curve.png`` beside it: per epoch (1-based: epochs completed) the
    mean train loss, the learning rate at its end and the validation mAP50 where one was measured."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    points = [
        {
            "epoch": i + 1,
            "train_loss": h.get("loss"),
            "lr": h.get("lr"),
            "val_map50": h.get("val_map50"),
            "epoch_s": h.get("epoch_s"),
        }
        for i, h in enumerate(history)
    ]
    vals = [(p["epoch"], p["val_map50"]) for p in points if p["val_map50"] is not None]
    best = max(vals, key=lambda v: (v[1], -v[0])) if vals else None
    curve = {
        "planned_epochs": planned_epochs,
        "epochs_run": len(points),
        "eval_every": eval_every,
        "early_stopping_patience": patience,
        "stopped_early": len(points) < planned_epochs,
        "best_epoch": best[0] if best else None,
        "best_val_map50": best[1] if best else None,
        "points": points,
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(curve, indent=2))
    os.replace(tmp, path)
    if plot and points:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
        ax.plot([p["epoch"] for p in points], [p["train_loss"] for p in points], "o-", color="tab:blue", ms=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel("train loss", color="tab:blue")
        if vals:
            ax2 = ax.twinx()
            ax2.plot([v[0] for v in vals], [v[1] for v in vals], "s-", color="tab:orange", ms=3)
            ax2.set_ylabel("val mAP50 (synthetic)", color="tab:orange")
            if best:
                ax2.axvline(best[0], color="tab:orange", ls=":", lw=1)
        ax.set_title(path.parent.name, fontsize=9)
        fig.tight_layout()
        png = path.with_suffix(".png")
        tmp_png = png.with_name(png.stem + ".tmp.png")
        fig.savefig(tmp_png)
        plt.close(fig)
        os.replace(tmp_png, png)
    return path


def _cuda_indices(device: torch.device) -> list[int]:
    """The CUDA device whose RNG ``fork_rng`` must save and restore (none on a CPU)."""
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def fit(
    model: nn.Module,
    dataset: Dataset,
    cfg: TrainConfig,
    *,
    epochs: int,
    lr: float,
    device: torch.device,
    checkpoint_path: str | Path,
    resume: bool = True,
    seed: int = 0,
    args: dict[str, Any] | None = None,
    progress: bool = True,
    desc: str = "train",
    validate: Callable[[nn.Module], float] | None = None,
    best_path: str | Path | None = None,
    curve_path: str | Path | None = None,
) -> list[dict[str, float]]:
    """Train for ``epochs``, checkpointing after each; with ``resume`` an existing checkpoint at
    ``checkpoint_path`` is continued from its next epoch (a finished one is just loaded).

    With ``validate`` (model -> validation mAP50) the model is scored every ``cfg.eval_every`` epochs and
    after the last; the best weights so far go to ``best_path`` (atomic), training stops once
    ``cfg.early_stopping_patience`` epochs (0 = never) passed without a better score, and the model returned
    holds the best weights. The best score and the stop are kept in the checkpoint, so a resumed run
    continues the same curve to the same best. ``curve_path``: the learning curve (``write_curve``).
    """
    model.to(device)
    generator = torch.Generator()
    loader = DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        shuffle=True,
        generator=generator,
        collate_fn=collate_detection,
        num_workers=cfg.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=False,
    )
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(params, cfg, lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupCosine(epochs * len(loader), cfg.warmup_iters))
    scaler = torch.amp.GradScaler("cuda") if cfg.amp and device.type == "cuda" else None
    checkpoint_path = Path(checkpoint_path)
    if validate is not None and best_path is None:
        best_path = checkpoint_path.with_name("best.pt")
    history: list[dict[str, float]] = []
    best: dict[str, Any] = {"epoch": None, "val_map50": None}
    stopped = False
    start = 0
    if resume and checkpoint_path.is_file():
        state = load_checkpoint(
            checkpoint_path, model=model, optimizer=optimizer, scheduler=scheduler, map_location=device
        )
        start = int(state["epoch"]) + 1
        extra = state.get("extra", {})
        history = list(extra.get("history", []))
        best = dict(extra.get("best") or best)
        stopped = bool(extra.get("stopped_early", False))
        log.info("%s: resumed from %s at epoch %d/%d", desc, checkpoint_path, start, epochs)
    patience = cfg.early_stopping_patience if validate is not None else 0
    curve_args = {"planned_epochs": epochs, "eval_every": cfg.eval_every if validate else None, "patience": patience}
    for epoch in range(start, epochs):
        if stopped:
            break
        generator.manual_seed(int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0]))
        _set_epoch(dataset, epoch)
        t0 = time.perf_counter()
        # torchvision's proposal samplers (and dropout) draw from torch's global RNG: seed it per (seed,
        # epoch) inside a fork, so an epoch trains the same whatever ran before it in the process (another
        # run, a render) and a resumed run continues exactly; the caller's RNG state is left alone
        with torch.random.fork_rng(devices=_cuda_indices(device)):
            torch.manual_seed(int(np.random.SeedSequence([seed, epoch, 1]).generate_state(1)[0]))
            stats = train_one_epoch(
                model,
                optimizer,
                loader,
                device,
                epoch=epoch,
                scheduler=scheduler,
                scaler=scaler,
                clip_grad_norm=cfg.clip_grad_norm,
                log_every=cfg.log_every,
                progress=progress,
                desc=desc,
            )
        stats["epoch_s"] = time.perf_counter() - t0
        stats["images_per_s"] = len(cast(Sized, dataset)) / max(stats["epoch_s"], 1e-9)
        stats["lr"] = float(optimizer.param_groups[0]["lr"])
        if validate is not None and ((epoch + 1) % max(cfg.eval_every, 1) == 0 or epoch == epochs - 1):
            score = float(validate(model))
            stats["val_map50"] = score
            if best["val_map50"] is None or score > best["val_map50"]:
                best = {"epoch": epoch, "val_map50": score}
                assert best_path is not None
                save_checkpoint(best_path, model=model, epoch=epoch, args=args, extra={"val_map50": score})
            if patience and epoch - int(best["epoch"]) >= patience and epoch < epochs - 1:
                stopped = True
        history.append(stats)
        log.info(
            "%s epoch %d/%d: loss %.4f%s (%.1f s)",
            desc,
            epoch + 1,
            epochs,
            stats["loss"],
            f", val mAP50 {stats['val_map50']:.4f}" if "val_map50" in stats else "",
            stats["epoch_s"],
        )
        save_checkpoint(
            checkpoint_path,
            model=model,
            optimizer=optimizer,
            scheduler=scheduler,
            epoch=epoch,
            args=args,
            extra={"history": history, "best": best, "stopped_early": stopped},
        )
        if curve_path is not None:
            write_curve(curve_path, history, **curve_args)
        if stopped:
            log.info(
                "%s: early stop after epoch %d (best val mAP50 %.4f at epoch %d)",
                desc,
                epoch + 1,
                best["val_map50"],
                int(best["epoch"]) + 1,
            )
    if curve_path is not None and not Path(curve_path).is_file():  # nothing left to train (a finished resume)
        write_curve(curve_path, history, **curve_args)
    if validate is not None and best["epoch"] is not None and best_path is not None and Path(best_path).is_file():
        load_checkpoint(best_path, model=model, map_location=device)
    return history
