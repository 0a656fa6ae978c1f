"""One place that turns a device setting into a ``torch.device`` (CUDA when present, never hard-coded), and
names it for results files."""

from __future__ import annotations

import platform
from pathlib import Path

import torch

from simvision.render.runtime import usable_cores

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


def device_name(device: torch.device | str) -> str:
    """The GPU's name, or the CPU's model and core count (what a benchmark's results say it ran on)."""
    if str(device).startswith("cuda") and torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(torch.device(device))}"
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = usable_cores()
    return f"cpu: {model}, {cores} cores, {torch.get_num_threads()} torch threads"
