"""Typed schema of the ``conf/polish/`` group (``none`` | ``textures`` | ``image``).

Pure dataclasses (no torch, no diffusers), so a render config can carry a ``polish`` node and be
validated on a machine without the ``polish`` extra. :func:`to_polish_config` merges a YAML node,
a dict or ``key=value`` overrides onto the schema and checks the ranges, with one-line errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MODES",
    "CONDITIONINGS",
    "MASK_MODES",
    "METRICS",
    "ACTIONS",
    "PolishConfig",
    "PolishConfigError",
    "to_polish_config",
    "validate_polish_config",
    "register_polish_configs",
]

MODES = ("none", "textures", "image")
CONDITIONINGS = ("depth", "canny", "segmentation")
MASK_MODES = ("objects", "background", "all")
METRICS = ("edge_f1", "boundary_recall")
ACTIONS = ("reject", "flag")
DTYPES = ("auto", "float32", "float16", "bfloat16")
DEVICES = ("auto", "cpu", "cuda")


class PolishConfigError(ValueError):
    """A polish setting is out of range; the message is one line naming the field."""


@dataclass
class PolishConfig:
    """Every knob of both polishing modes; ``mode`` picks which one runs."""

    mode: str = "none"  # none | textures | image
    # weights: a local diffusers folder (model_index.json) or a Hugging Face repo id that is already in
    # the local cache (HF_HOME / ~/.cache/huggingface). Nothing is ever downloaded.
    model: str | None = None
    device: str = "auto"  # auto | cpu | cuda
    dtype: str = "auto"  # auto: float16 on CUDA, float32 on CPU
    seed: int = 0
    steps: int = 20
    guidance: float = 7.5
    negative_prompt: str = "blurry, low quality, distorted, text, watermark"

    # -- textures (before render) ------------------------------------------------------------------
    # prompt per "<class>/<slot>", "<class>", "<slot>" or "default", looked up in that order; slots are
    # "object" (a labelled object's surface), "distractor", "container", "floor", "walls".
    prompts: dict[str, str] = field(default_factory=dict)
    texture_size: int = 512  # square texture, pixels (a multiple of the model's 8 px latent grid)
    texture_variants: int = 1  # textures per prompt (seeds seed, seed+1, ...)
    tileable: bool = True  # circular padding in every convolution while sampling (seamless wrap)
    cache_dir: str = "~/.cache/simvision/polish"

    # -- image (after render) ----------------------------------------------------------------------
    prompt: str = "a photograph, natural lighting, realistic materials, sharp focus"
    strength: float = 0.3  # img2img strength: 0 keeps the render, 1 ignores it
    controlnet: str | None = None  # local ControlNet folder or cached repo id; null: plain masked img2img
    conditioning: str = "depth"  # depth | canny | segmentation (what the ControlNet was trained on)
    controlnet_scale: float = 1.0
    mask: str = "objects"  # objects (instance > 0) | background (instance == 0) | all
    mask_dilate: int = 0  # grow the mask by this many pixels before polishing
    resolution: int | None = None  # short side the model works at (then resized back); null: native

    # -- label-consistency check -------------------------------------------------------------------
    metric: str = "edge_f1"  # edge_f1 | boundary_recall (per object, see simvision.polish.consistency)
    threshold: float = 0.6  # a frame passes when every scored object reaches this score
    tolerance_px: float = 2.0  # an edge pixel matches when the other map has one within this distance
    band_px: int = 8  # objects are compared in this band around their silhouette
    action: str = "reject"  # reject: keep the raw render | flag: keep the polished one, mark it


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise PolishConfigError(msg)


def validate_polish_config(cfg: PolishConfig, prefix: str = "polish") -> PolishConfig:
    """Range checks; raises :class:`PolishConfigError` naming the first bad field."""
    choices = {
        "mode": MODES,
        "conditioning": CONDITIONINGS,
        "mask": MASK_MODES,
        "metric": METRICS,
        "action": ACTIONS,
        "dtype": DTYPES,
        "device": DEVICES,
    }
    for name, allowed in choices.items():
        value = getattr(cfg, name)
        _check(value in allowed, f"{prefix}.{name}: {value!r} is not one of {', '.join(allowed)}")
    _check(cfg.steps >= 1, f"{prefix}.steps: must be >= 1, got {cfg.steps}")
    _check(cfg.guidance >= 0, f"{prefix}.guidance: must be >= 0, got {cfg.guidance}")
    _check(0.0 < cfg.strength <= 1.0, f"{prefix}.strength: must be in (0, 1], got {cfg.strength}")
    _check(
        cfg.texture_size >= 8 and cfg.texture_size % 8 == 0,
        f"{prefix}.texture_size: must be a positive multiple of 8, got {cfg.texture_size}",
    )
    _check(cfg.texture_variants >= 1, f"{prefix}.texture_variants: must be >= 1, got {cfg.texture_variants}")
    _check(cfg.mask_dilate >= 0, f"{prefix}.mask_dilate: must be >= 0, got {cfg.mask_dilate}")
    _check(
        cfg.resolution is None or cfg.resolution >= 8,
        f"{prefix}.resolution: must be null or >= 8, got {cfg.resolution}",
    )
    _check(0.0 <= cfg.threshold <= 1.0, f"{prefix}.threshold: must be in [0, 1], got {cfg.threshold}")
    _check(cfg.tolerance_px >= 0, f"{prefix}.tolerance_px: must be >= 0, got {cfg.tolerance_px}")
    _check(cfg.band_px >= 1, f"{prefix}.band_px: must be >= 1, got {cfg.band_px}")
    _check(cfg.controlnet_scale >= 0, f"{prefix}.controlnet_scale: must be >= 0, got {cfg.controlnet_scale}")
    for key, value in cfg.prompts.items():
        _check(isinstance(value, str) and value.strip() != "", f"{prefix}.prompts[{key!r}]: empty prompt")
    if cfg.mode == "image":
        _check(
            int(cfg.steps * cfg.strength) >= 1,
            f"{prefix}.steps x {prefix}.strength = {cfg.steps} x {cfg.strength} gives no denoising step; raise either",
        )
    if cfg.mode == "textures":
        _check(bool(cfg.prompts), f"{prefix}.prompts: mode=textures needs at least one prompt")
    return cfg


def to_polish_config(
    cfg: PolishConfig | Mapping[str, Any] | Any | None = None, overrides: Iterable[str] = ()
) -> PolishConfig:
    """A validated :class:`PolishConfig` from a dataclass, a dict, an OmegaConf node or ``None``,
    with Hydra-style ``key=value`` overrides (``strength=0.4``, ``prompts.cup="ceramic glaze"``) on top."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        merged = OmegaConf.structured(PolishConfig)
        if cfg is not None:
            merged = OmegaConf.merge(merged, cfg if not isinstance(cfg, PolishConfig) else OmegaConf.structured(cfg))
        overrides = list(overrides)
        if overrides:
            merged = OmegaConf.merge(merged, OmegaConf.from_dotlist(overrides))
        result = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        first = str(exc).strip().splitlines()[0]
        key = getattr(exc, "full_key", None)
        raise PolishConfigError(f"polish.{key}: {first}" if key else f"polish: {first}") from None
    assert isinstance(result, PolishConfig)
    return validate_polish_config(result)


def register_polish_configs() -> None:
    """Register the schema as ``polish/polish_schema`` in Hydra's ConfigStore; idempotent."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(group="polish", name="polish_schema", node=PolishConfig)
