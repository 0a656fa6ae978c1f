"""The ``render`` block: Cycles settings, their defaults (written once, here) and their checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simvision.config.checks import ConfigError, check_choice, check_minimum

DEVICES = ("auto", "cpu", "cuda", "optix")
DENOISERS = ("OPENIMAGEDENOISE", "OPTIX", "NONE")
PREFILTERS = ("ACCURATE", "FAST", "NONE")
DENOISING_QUALITIES = ("HIGH", "BALANCED", "FAST")
MAX_SIDE = 16384
# the colour pipeline from scene light to the 8-bit image: Blender's view transforms and the contrast looks each
# offers (AgX names its looks "AgX - <look>" in Blender; the config uses the short name). BlenderProc's default,
# kept as ours, is Filmic without a look: a flat, low-contrast curve; phone and dash cameras are contrastier.
CONTRASTS = (
    "Very High Contrast",
    "High Contrast",
    "Medium High Contrast",
    "Medium Low Contrast",
    "Low Contrast",
    "Very Low Contrast",
)
VIEW_LOOKS: dict[str, tuple[str, ...]] = {
    "Filmic": ("None", "Medium Contrast", *CONTRASTS),
    "AgX": ("None", "Punchy", "Base Contrast", *CONTRASTS),
    "Standard": ("None", "Medium Contrast", *CONTRASTS),
    "Khronos PBR Neutral": ("None", "Medium Contrast", *CONTRASTS),
}


def blender_look(view_transform: str, look: str) -> str:
    """The name Blender gives ``look`` under ``view_transform`` (AgX's looks carry the transform's name)."""
    return f"AgX - {look}" if view_transform == "AgX" and look != "None" else look


@dataclass
class RenderSettings:
    resolution: list[int] = field(default_factory=lambda: [320, 240])
    samples: int = 16
    device: str = "auto"  # auto (OptiX, then CUDA, then the CPU) | cpu | cuda | optix
    threads: int = 0  # 0 = all cores (a local launcher worker: cores / n_jobs)
    denoiser: str = "OPENIMAGEDENOISE"  # OPENIMAGEDENOISE | OPTIX | none (one pass, inside Cycles)
    denoising_prefilter: str = "ACCURATE"  # ACCURATE | FAST | NONE: how OIDN cleans its albedo/normal guides
    denoising_quality: str = "HIGH"  # HIGH | BALANCED | FAST (OIDN 2 network size)
    denoise_on_gpu: bool = True  # run OIDN on the render GPU when Cycles renders on one
    noise_threshold: float = 0.0  # adaptive sampling threshold, 0 = off
    adaptive_min_samples: int = 0  # adaptive sampling: samples before a pixel may stop, 0 = Cycles' auto
    max_bounces: int = 4
    persistent_data: bool = True  # keep Cycles' scene (BVH, shaders) between the views of a scene
    # drop the next scene's objects in a helper Blender process during this render: auto = when
    # Cycles renders on a GPU (on the CPU, Cycles already keeps every core busy)
    physics_worker: str = "auto"  # auto | true | false
    # scene light -> image: a view transform of VIEW_LOOKS and one of its looks (contrast curves)
    view_transform: str = "Filmic"
    look: str = "None"


def validate_render_settings(r: Any) -> None:
    """Raise :class:`ConfigError` naming the first bad ``render.*`` field."""
    if len(r.resolution) != 2 or any(int(v) < 1 for v in r.resolution):
        raise ConfigError(f"render.resolution: expected [width, height] > 0, got {list(r.resolution)}")
    if any(int(v) > MAX_SIDE for v in r.resolution):
        raise ConfigError(f"render.resolution: at most {MAX_SIDE} pixels a side, got {list(r.resolution)}")
    if int(r.samples) < 1:
        raise ConfigError(f"render.samples: must be >= 1, got {r.samples}")
    if r.device not in DEVICES:
        raise ConfigError(f"render.device: unknown device {r.device!r}; choose one of {', '.join(DEVICES)}")
    if str(r.denoiser).upper() not in DENOISERS:
        raise ConfigError(f"render.denoiser: {r.denoiser!r} is not OPENIMAGEDENOISE, OPTIX or none")
    for key, allowed in (("denoising_prefilter", PREFILTERS), ("denoising_quality", DENOISING_QUALITIES)):
        if str(r[key]).upper() not in allowed:
            raise ConfigError(f"render.{key}: {r[key]!r} is not one of {', '.join(allowed)}")
    check_choice(str(r.physics_worker).lower(), "render.physics_worker", ("auto", "true", "false"))
    check_choice(str(r.view_transform), "render.view_transform", tuple(VIEW_LOOKS))
    if str(r.look) not in VIEW_LOOKS[str(r.view_transform)]:
        raise ConfigError(
            f"render.look: {r.look!r} is not a look of the {r.view_transform} view transform; choose one of "
            + ", ".join(VIEW_LOOKS[str(r.view_transform)])
        )
    for key in ("threads", "max_bounces", "noise_threshold", "adaptive_min_samples"):
        check_minimum(r[key], f"render.{key}", 0)
