"""One place that turns a device setting into a ``torch.device`` (CUDA when present, never hard-coded)."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA when a GPU is visible; an explicit ``cuda`` without one is an error, not a
    silent fallback, so a misconfigured GPU job does not quietly run for hours on the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch sees no CUDA GPU; use device=auto or cpu")
    return device
