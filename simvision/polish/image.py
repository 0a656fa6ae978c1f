"""Image polishing after render: masked img2img, optionally ControlNet-conditioned, then a label check.

Per frame: build the mask from the instance map (``objects``, ``background`` or ``all``), run Stable
Diffusion's inpainting pipeline at ``strength`` on the render (with a ControlNet, conditioned on the
render's depth, Canny edges or semantic map), resize back, and copy every pixel outside the mask from
the raw render, so those pixels are bit-identical whatever the model did. Then
:func:`simvision.polish.consistency.check_consistency` scores every object's silhouette edges between
the raw and the polished frame; a frame below the threshold is rejected (the raw render is kept) or
flagged (the polished one is kept, marked), per ``cfg.action``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from simvision.polish.config import PolishConfig, PolishConfigError, validate_polish_config
from simvision.polish.consistency import ConsistencyResult, check_consistency

__all__ = [
    "build_mask",
    "conditioning_image",
    "segmentation_colors",
    "working_size",
    "FramePolish",
    "ImagePolisher",
]


_NO_STEP = "polish.steps x polish.strength = {steps} x {strength} gives no denoising step; raise either"


def build_mask(instance: np.ndarray, mode: str, dilate: int = 0) -> np.ndarray:
    """Boolean H x W mask of the pixels to polish: ``objects`` (instance > 0), ``background`` (== 0), ``all``."""
    inst = np.asarray(instance)
    if inst.ndim == 3:
        inst = inst[..., 0]
    if mode == "objects":
        mask = inst > 0
    elif mode == "background":
        mask = inst == 0
    elif mode == "all":
        mask = np.ones(inst.shape, dtype=bool)
    else:
        raise ValueError(f"unknown mask mode {mode!r} (objects | background | all)")
    if dilate > 0 and mask.any() and not mask.all():
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1))
        mask = cv2.dilate(mask.astype(np.uint8), k) > 0
    return mask


def segmentation_colors(ids: np.ndarray) -> np.ndarray:
    """A fixed, well-spread RGB colour per class id (0 stays black), the same in every frame and run."""
    ids = np.asarray(ids).astype(np.int64)
    out = np.zeros((*ids.shape, 3), dtype=np.uint8)
    for i in np.unique(ids):
        if i == 0:
            continue
        hue = (float(i) * 0.618033988749895) % 1.0
        hsv = np.array([[[hue * 180.0, 200.0 + (i * 37) % 56, 160.0 + (i * 53) % 96]]], dtype=np.float32)
        out[ids == i] = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0]
    return out


def conditioning_image(
    kind: str, rgb: np.ndarray, depth: np.ndarray | None = None, semantic: np.ndarray | None = None
) -> np.ndarray:
    """The ControlNet input (H x W x 3 uint8) from the render's own passes.

    ``depth``: normalised inverse depth, near bright, no surface black (how depth ControlNets were trained,
    on MiDaS output); ``canny``: Canny edges of the render (100/200); ``segmentation``: semantic class ids
    as fixed colours (:func:`segmentation_colors`).
    """
    if kind == "depth":
        if depth is None:
            raise ValueError("conditioning=depth needs the frame's depth (depth/<frame>.npy)")
        d = np.asarray(depth, dtype=np.float64)
        valid = np.isfinite(d) & (d > 0)
        out = np.zeros(d.shape, dtype=np.uint8)
        if valid.any():
            inv = np.zeros_like(d)
            inv[valid] = 1.0 / d[valid]
            lo, hi = inv[valid].min(), inv[valid].max()
            scaled = (inv - lo) / (hi - lo) if hi > lo else np.ones_like(inv)
            out[valid] = np.clip(np.round(40 + 215 * scaled[valid]), 0, 255).astype(np.uint8)
        return np.repeat(out[..., None], 3, axis=2)
    if kind == "canny":
        gray = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)
        return np.repeat(cv2.Canny(gray, 100, 200)[..., None], 3, axis=2)
    if kind == "segmentation":
        if semantic is None:
            raise ValueError("conditioning=segmentation needs the frame's semantic map (semantic/<frame>.png)")
        sem = np.asarray(semantic)
        return segmentation_colors(sem[..., 0] if sem.ndim == 3 else sem)
    raise ValueError(f"unknown conditioning {kind!r} (depth | canny | segmentation)")


def working_size(height: int, width: int, resolution: int | None, multiple: int) -> tuple[int, int]:
    """(H, W) the model works at: short side ``resolution`` (or native), both rounded to ``multiple``."""
    scale = 1.0 if resolution is None else resolution / min(height, width)
    return tuple(max(multiple, int(round(s * scale / multiple)) * multiple) for s in (height, width))  # type: ignore[return-value]


def _resize(image: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    h, w = size
    if image.shape[:2] == (h, w):
        return image
    if nearest:
        interp = cv2.INTER_NEAREST
    else:
        interp = cv2.INTER_AREA if h * w < image.shape[0] * image.shape[1] else cv2.INTER_CUBIC
    return cv2.resize(image, (w, h), interpolation=interp)


@dataclass
class FramePolish:
    """Everything one polished frame produced; ``image`` is what a writer should store."""

    raw: np.ndarray
    polished: np.ndarray  # composited: bit-identical to ``raw`` outside ``mask``
    mask: np.ndarray
    consistency: ConsistencyResult
    action: str
    seed: int
    settings: dict[str, Any] = field(default_factory=dict)
    control: np.ndarray | None = None

    @property
    def accepted(self) -> bool:
        return self.consistency.passed

    @property
    def applied(self) -> bool:
        """Whether the polished pixels are kept (accepted, or flagged under ``action=flag``)."""
        return self.accepted or self.action == "flag"

    @property
    def image(self) -> np.ndarray:
        return self.polished if self.applied else self.raw

    def record(self) -> dict[str, Any]:
        """The frame's ``polish`` metadata entry (JSON-ready)."""
        check = self.consistency.record()
        return {
            "accepted": self.accepted,
            "applied": self.applied,
            "action": self.action,
            "score": check.pop("score"),
            **check,
            "seed": self.seed,
            "mask_pixels": int(self.mask.sum()),
            **self.settings,
        }


class ImagePolisher:
    """(rgb, instance, depth, semantic) -> polished rgb, plus the label-consistency verdict.

    ``pipe`` injects a ready inpainting pipeline (``StableDiffusionInpaintPipeline`` or
    ``StableDiffusionControlNetInpaintPipeline``); without it one is loaded from ``cfg.model`` (and
    ``cfg.controlnet``) on first use. ``calls`` counts pipeline runs.
    """

    def __init__(self, cfg: PolishConfig, *, pipe: Any = None, model_id: str | None = None) -> None:
        validate_polish_config(cfg)
        if int(cfg.steps * cfg.strength) < 1:
            raise PolishConfigError(_NO_STEP.format(steps=cfg.steps, strength=cfg.strength))
        self.cfg = cfg
        self._pipe = pipe
        self._model_id = model_id
        self.calls = 0

    @property
    def pipe(self) -> Any:
        if self._pipe is None:
            from simvision.polish.models import load_inpaint

            self._pipe, fingerprint = load_inpaint(self.cfg)
            self._model_id = self._model_id or fingerprint
        return self._pipe

    @property
    def model_id(self) -> str | None:
        return self._model_id

    @property
    def uses_controlnet(self) -> bool:
        return getattr(self.pipe, "controlnet", None) is not None

    def _multiple(self) -> int:
        pipe = self.pipe
        vae_factor = int(getattr(pipe, "vae_scale_factor", 8))
        unet_factor = 2 ** (len(pipe.unet.config.block_out_channels) - 1)
        return vae_factor * unet_factor

    def settings(self) -> dict[str, Any]:
        c = self.cfg
        conditioned = self.uses_controlnet if self._pipe is not None else bool(c.controlnet)
        return {
            "model": c.model,
            "model_id": self._model_id,
            "controlnet": c.controlnet if conditioned else None,
            "conditioning": c.conditioning if conditioned else None,
            "prompt": c.prompt,
            "strength": c.strength,
            "steps": c.steps,
            "guidance": c.guidance,
            "mask": c.mask,
        }

    def _run(
        self, rgb: np.ndarray, mask: np.ndarray, depth: np.ndarray | None, semantic: np.ndarray | None, seed: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        from PIL import Image

        from simvision.polish.models import make_generator, to_uint8

        c = self.cfg
        h, w = rgb.shape[:2]
        size = working_size(h, w, c.resolution, self._multiple())
        rgb_w = _resize(rgb, size)
        mask_w = _resize(mask.astype(np.uint8) * 255, size, nearest=True)
        kwargs: dict[str, Any] = {
            "prompt": c.prompt,
            "negative_prompt": c.negative_prompt or None,
            "image": Image.fromarray(rgb_w),
            "mask_image": Image.fromarray(mask_w),
            "strength": c.strength,
            "num_inference_steps": c.steps,
            "guidance_scale": c.guidance,
            "generator": make_generator(seed),
            "output_type": "np",
            "height": size[0],
            "width": size[1],
        }
        control = None
        if self.uses_controlnet:
            control = conditioning_image(
                c.conditioning,
                rgb_w,
                None if depth is None else _resize(np.asarray(depth, dtype=np.float32), size, nearest=True),
                None if semantic is None else _resize(np.asarray(semantic), size, nearest=True),
            )
            kwargs["control_image"] = Image.fromarray(control)
            kwargs["controlnet_conditioning_scale"] = c.controlnet_scale
        out = self.pipe(**kwargs)
        self.calls += 1
        return _resize(to_uint8(out.images), (h, w)), control

    def polish(
        self,
        rgb: np.ndarray,
        instance: np.ndarray,
        depth: np.ndarray | None = None,
        semantic: np.ndarray | None = None,
        *,
        seed: int | None = None,
    ) -> np.ndarray:
        """The polished frame (H x W x 3 uint8); pixels outside the mask are copied from ``rgb`` exactly."""
        return self.polish_frame(rgb, instance, depth, semantic, seed=seed).polished

    def polish_frame(
        self,
        rgb: np.ndarray,
        instance: np.ndarray,
        depth: np.ndarray | None = None,
        semantic: np.ndarray | None = None,
        *,
        seed: int | None = None,
    ) -> FramePolish:
        """Polish one frame and check it; see :class:`FramePolish` for what to write."""
        c = self.cfg
        raw = np.ascontiguousarray(np.asarray(rgb)[..., :3]).astype(np.uint8, copy=False)
        inst = np.asarray(instance)
        inst = inst[..., 0] if inst.ndim == 3 else inst
        if inst.shape != raw.shape[:2]:
            raise ValueError(f"instance map {inst.shape} does not match the image {raw.shape[:2]}")
        seed = c.seed if seed is None else int(seed)
        mask = build_mask(inst, c.mask, c.mask_dilate)
        control = None
        polished = raw.copy()
        if mask.any():
            generated, control = self._run(raw, mask, depth, semantic, seed)
            polished[mask] = generated[mask]
        consistency = check_consistency(
            raw,
            polished,
            inst,
            metric=c.metric,
            threshold=c.threshold,
            tolerance_px=c.tolerance_px,
            band_px=c.band_px,
        )
        return FramePolish(
            raw=raw,
            polished=polished,
            mask=mask,
            consistency=consistency,
            action=c.action,
            seed=seed,
            settings=self.settings(),
            control=control,
        )
