"""Training-image augmentations as config (``train.augment``): standard domain randomisation for the
synthetic arms.

Geometric first (scale jitter: zoom in or out and crop / pad back to the same size, boxes and masks moved
exactly with the image), then photometric jitter (brightness, contrast, saturation, hue), Gaussian blur,
sensor noise (Gaussian read noise plus signal-dependent shot noise) and JPEG re-compression. Every value
is drawn from the ``numpy`` generator the caller passes (``DetectionDataset`` seeds it by (seed, epoch,
image index)), always in the same order whether an operation fires or not, so the same seed gives the same
batch and changing one probability does not shift the draws of the others.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torchvision.transforms.v2 import InterpolationMode
from torchvision.transforms.v2 import functional as F

from simvision.config.checks import ConfigError, check_minimum, check_probability, check_range
from simvision.sim2real.config import AugmentConfig, TrainConfig

__all__ = ["augment_sample", "check_augment", "check_train"]

Target = dict[str, Tensor]
PER_OBJECT = ("boxes", "labels", "area", "iscrowd", "masks", "source_index")


def check_augment(cfg: AugmentConfig, name: str = "train.augment") -> None:
    """One-line ``ConfigError`` naming the first bad field."""
    for p in ("scale_p", "photometric_p", "blur_p", "noise_p", "jpeg_p", "scale_min_visible"):
        check_probability(getattr(cfg, p), f"{name}.{p}")
    check_range(cfg.scale, f"{name}.scale", minimum=0.05)
    for f in ("brightness", "contrast", "saturation"):
        check_range(getattr(cfg, f), f"{name}.{f}", minimum=0)
    check_range(cfg.hue, f"{name}.hue", minimum=-0.5)
    if cfg.hue[1] > 0.5:
        raise ConfigError(f"{name}.hue: values must be within [-0.5, 0.5], got {list(cfg.hue)}")
    check_range(cfg.blur_sigma, f"{name}.blur_sigma", minimum=0)
    check_range(cfg.noise_std, f"{name}.noise_std", minimum=0)
    check_range(cfg.shot_noise, f"{name}.shot_noise", minimum=0)
    check_range(cfg.jpeg_quality, f"{name}.jpeg_quality", minimum=1, integer=True)
    if cfg.jpeg_quality[1] > 100:
        raise ConfigError(f"{name}.jpeg_quality: values must be within [1, 100], got {list(cfg.jpeg_quality)}")


def check_train(cfg: TrainConfig, name: str = "train") -> None:
    """The training block's augmentation, validation and early-stopping fields."""
    check_probability(cfg.hflip, f"{name}.hflip")
    check_augment(cfg.augment, f"{name}.augment")
    if not 0 <= float(cfg.val_fraction) < 1:
        raise ConfigError(f"{name}.val_fraction: must be within [0, 1), got {cfg.val_fraction}")
    check_minimum(cfg.eval_every, f"{name}.eval_every", 1)
    check_minimum(cfg.early_stopping_patience, f"{name}.early_stopping_patience", 0)
    if cfg.early_stopping_patience and not cfg.val_fraction:
        raise ConfigError(
            f"{name}.early_stopping_patience: needs a validation split ({name}.val_fraction > 0), "
            f"got patience {cfg.early_stopping_patience} with val_fraction 0"
        )


def _uniform(rng: np.random.Generator, lohi: Any) -> float:
    lo, hi = float(lohi[0]), float(lohi[1])
    return lo + (hi - lo) * float(rng.random())


def _keep(target: Target, keep: Tensor) -> Target:
    return {k: (v[keep] if k in PER_OBJECT else v) for k, v in target.items()}


def scale_jitter(
    image: Tensor, target: Target, s: float, u: tuple[float, float], min_visible: float
) -> tuple[Tensor, Target]:
    """Resize by ``s`` and crop (s > 1) or pad with the image's mean colour (s < 1) back to the input size;
    ``u`` in [0, 1)^2 places the window. Boxes and masks move with the pixels; boxes cropped below
    ``min_visible`` of their area (or under 1 px) are dropped with their masks."""
    _, h, w = image.shape
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    resized = F.resize(image, [nh, nw], interpolation=InterpolationMode.BILINEAR, antialias=True)
    masks = target.get("masks")
    if masks is not None and len(masks):
        masks = F.resize(masks, [nh, nw], interpolation=InterpolationMode.NEAREST)
    if nw >= w and nh >= h:  # crop
        ox, oy = int(u[0] * (nw - w + 1)), int(u[1] * (nh - h + 1))
        out = resized[:, oy : oy + h, ox : ox + w]
        if masks is not None and len(masks):
            masks = masks[:, oy : oy + h, ox : ox + w]
        dx, dy = -ox, -oy
    else:  # pad (a scale below 1 shrinks both sides; round() keeps both <= the input size)
        nw, nh = min(nw, w), min(nh, h)
        resized = resized[:, :nh, :nw]
        ox, oy = int(u[0] * (w - nw + 1)), int(u[1] * (h - nh + 1))
        out = image.mean(dim=(1, 2), keepdim=True).expand(-1, h, w).clone()
        out[:, oy : oy + nh, ox : ox + nw] = resized
        if masks is not None and len(masks):
            canvas = torch.zeros((len(masks), h, w), dtype=masks.dtype)
            canvas[:, oy : oy + nh, ox : ox + nw] = masks[:, :nh, :nw]
            masks = canvas
        dx, dy = ox, oy
    sx, sy = nw / w, nh / h
    b = target["boxes"] * torch.tensor([sx, sy, sx, sy]) + torch.tensor([dx, dy, dx, dy], dtype=torch.float32)
    full = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    clipped = torch.stack([b[:, 0].clamp(0, w), b[:, 1].clamp(0, h), b[:, 2].clamp(0, w), b[:, 3].clamp(0, h)], 1)
    bw, bh = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
    keep = (bw >= 1) & (bh >= 1) & (bw * bh >= min_visible * full.clamp(min=1e-6))
    target = dict(target)
    target["boxes"] = clipped
    target["area"] = bw * bh
    if masks is not None:
        target["masks"] = masks
    return out, _keep(target, keep)


def _jpeg(image: Tensor, quality: int) -> Tensor:
    arr = image.mul(255).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    with Image.open(buf) as im:
        back = np.array(im.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(back).permute(2, 0, 1).float().div_(255)


def augment_sample(
    image: Tensor, target: Target, cfg: AugmentConfig, rng: np.random.Generator
) -> tuple[Tensor, Target, dict[str, Any]]:
    """Augment one float [0, 1] image (3, H, W) and its detection target; returns the values applied."""
    applied: dict[str, Any] = {}
    # every draw happens, fired or not: the stream is the same for any choice of probabilities
    fire_scale, s, u = rng.random() < cfg.scale_p, _uniform(rng, cfg.scale), (float(rng.random()), float(rng.random()))
    fire_photo = rng.random() < cfg.photometric_p
    factors = {f: _uniform(rng, getattr(cfg, f)) for f in ("brightness", "contrast", "saturation", "hue")}
    fire_blur, sigma = rng.random() < cfg.blur_p, _uniform(rng, cfg.blur_sigma)
    fire_noise, read, shot = rng.random() < cfg.noise_p, _uniform(rng, cfg.noise_std), _uniform(rng, cfg.shot_noise)
    noise_seed = int(rng.integers(2**63))
    fire_jpeg, quality = rng.random() < cfg.jpeg_p, int(round(_uniform(rng, cfg.jpeg_quality)))

    if fire_scale and s != 1.0:
        image, target = scale_jitter(image, target, s, u, cfg.scale_min_visible)
        applied["scale"] = s
    if fire_photo:
        image = F.adjust_brightness(image, factors["brightness"])
        image = F.adjust_contrast(image, factors["contrast"])
        image = F.adjust_saturation(image, factors["saturation"])
        image = F.adjust_hue(image, factors["hue"]).clamp(0, 1)
        applied.update(factors)
    if fire_blur and sigma > 0:
        k = 2 * math.ceil(3 * sigma) + 1
        image = F.gaussian_blur(image, kernel_size=[k, k], sigma=[sigma, sigma])
        applied["blur_sigma"] = sigma
    if fire_noise and (read > 0 or shot > 0):
        n = np.random.default_rng(noise_seed).standard_normal(image.shape, dtype=np.float32)
        image = (image + torch.from_numpy(n) * (read + shot * image.clamp(min=0).sqrt())).clamp(0, 1)
        applied["noise_std"], applied["shot_noise"] = read, shot
    if fire_jpeg:
        image = _jpeg(image, quality)
        applied["jpeg_quality"] = quality
    return image, target, applied
