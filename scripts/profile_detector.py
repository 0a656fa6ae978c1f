"""Seconds per training step (and per test image) of the sim-to-real detector, by box-head sample size.

    python scripts/profile_detector.py [SIZE [BOX_BATCH ...]]

Faster R-CNN on EfficientNet-Lite0 (packaged ImageNet weights, anchors 16-256, as the sim-to-real
benchmark) at SIZE px square (default 224), batch 4, two boxes per image, on this machine's default
device with its default threads. For each ``model.box_batch_size_per_image`` (default 512 256 128) it
prints one JSON line: the median seconds of a training step (forward, backward, SGD step) over 6 steps
after 2 warm-up steps, per training image, and the share of the step spent in torchvision's RoIAlign
(forward + backward, from torch.profiler over 2 more steps). Random images: the timing, not the loss,
is the point.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

from simvision.sim2real.config import ModelConfig
from simvision.sim2real.models import build_detector


def _step(model: torch.nn.Module, opt: torch.optim.Optimizer, images: list, targets: list) -> None:
    loss = sum(model(images, targets).values())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def profile_one(size: int, box_batch: int) -> dict[str, float | int]:
    torch.manual_seed(0)
    cfg = ModelConfig(
        backbone="efficientnet_lite0",
        backbone_weights="package",
        anchor_sizes=[16, 32, 64, 128, 256],
        min_size=size,
        max_size=size,
        box_batch_size_per_image=box_batch,
    )
    model = build_detector(cfg, 2).train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.005, momentum=0.9)
    images = [torch.rand(3, size, size) for _ in range(4)]
    s = size / 224
    boxes = torch.tensor([[50.0, 60.0, 90.0, 140.0], [120.0, 100.0, 140.0, 150.0]]) * s
    targets = [{"boxes": boxes.clone(), "labels": torch.tensor([1, 1])} for _ in images]
    for _ in range(2):
        _step(model, opt, images, targets)
    times = []
    for _ in range(6):
        t0 = time.perf_counter()
        _step(model, opt, images, targets)
        times.append(time.perf_counter() - t0)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(2):
            _step(model, opt, images, targets)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    roi = sum(e.self_cpu_time_total for e in events if "roi_align" in e.key)
    step = statistics.median(times)
    return {
        "size": size,
        "box_batch_size_per_image": box_batch,
        "step_s": round(step, 3),
        "per_image_s": round(step / len(images), 3),
        "roi_align_share": round(roi / total, 3) if total else 0.0,
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 224
    batches = [int(a) for a in sys.argv[2:]] or [512, 256, 128]
    for b in batches:
        print(json.dumps(profile_one(size, b)), flush=True)


if __name__ == "__main__":
    main()
