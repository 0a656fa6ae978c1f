"""Checkpoints carrying model, optimizer, scheduler, epoch and the run's arguments (torchvision
references style), written atomically so an interrupted job never leaves a half-written file to resume."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = ["load_checkpoint", "save_checkpoint"]


def save_checkpoint(
    path: str | Path,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    epoch: int,
    args: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """``epoch`` is the last *completed* epoch (0-based); resuming starts at ``epoch + 1``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "epoch": epoch,
        "args": args or {},
        "extra": extra or {},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(
    path: str | Path,
    *,
    model: nn.Module | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Restore whatever objects are given; returns the raw state (epoch, args, extra ...).

    ``weights_only=True``: a checkpoint is data, never code to unpickle.
    """
    state = torch.load(path, map_location=map_location, weights_only=True)
    if model is not None:
        model.load_state_dict(state["model"])
    if optimizer is not None and state.get("optimizer") is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    return state
