"""Texture polishing before render: prompt -> tileable RGB texture PNG, cached, applied as a material.

Only materials change, never geometry, so every label stays exact.

Tileable by construction, not by blending: while a texture is sampled, every ``Conv2d`` of the UNet and
the VAE pads circularly (wrap-around) instead of with zeros. Self-attention has no positional encoding
and the initial noise is i.i.d., so the whole sampler then works on a torus: the left edge of the
texture continues into the right edge and the top into the bottom, with no seam and no cross-fade
(no ghosting of a blended band). The padding mode is restored afterwards, so a shared pipeline is left
as it was found. (Test: rolling the initial latents rolls the texture by the same amount.)

Cache: ``<cache_dir>/textures/<kk>/<key>.png`` (+ ``.json`` sidecar naming what made it), where ``key``
hashes (model fingerprint, prompt, negative prompt, seed, size, steps, guidance, tileable). A hit needs
neither the pipeline nor a GPU; the model is loaded only on the first miss. Files are written
atomically, so concurrent render jobs may share one cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from simvision.io.atomic import atomic_write_bytes, atomic_write_json
from simvision.polish.config import PolishConfig
from simvision.scene.spec import MaterialSpec

__all__ = [
    "SLOTS",
    "TextureGenerator",
    "circular_padding",
    "prompt_for",
    "texture_cache_key",
    "texture_for",
    "apply_texture",
    "texture_path_of",
]

SLOTS = ("object", "distractor", "container", "floor", "walls")
_CACHE_VERSION = 1


def prompt_for(prompts: dict[str, str], class_name: str | None, slot: str = "object") -> tuple[str, str] | None:
    """``(key, prompt)`` for a class and material slot: ``"<class>/<slot>"``, then ``"<class>"`` (object
    slot only), then ``"<slot>"``, then ``"default"``; ``None`` when nothing matches."""
    keys = []
    if class_name:
        keys.append(f"{class_name}/{slot}")
        if slot == "object":
            keys.append(class_name)
    keys += [slot, "default"]
    for key in keys:
        if prompts.get(key):
            return key, prompts[key]
    return None


def texture_cache_key(
    model_id: str,
    prompt: str,
    *,
    negative_prompt: str,
    seed: int,
    size: int,
    steps: int,
    guidance: float,
    tileable: bool,
) -> str:
    """Hex digest naming one texture: everything that changes its pixels."""
    fields = {
        "v": _CACHE_VERSION,
        "model": model_id,
        "prompt": prompt,
        "negative_prompt": negative_prompt,
        "seed": int(seed),
        "size": int(size),
        "steps": int(steps),
        "guidance": float(guidance),
        "tileable": bool(tileable),
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


@contextmanager
def circular_padding(*modules: Any) -> Iterator[int]:
    """Make every ``Conv2d`` in ``modules`` pad circularly inside the block; yields how many were switched."""
    import torch

    convs = [m for module in modules if module is not None for m in module.modules() if isinstance(m, torch.nn.Conv2d)]
    saved = [c.padding_mode for c in convs]
    try:
        for c in convs:
            c.padding_mode = "circular"
        yield len(convs)
    finally:
        for c, mode in zip(convs, saved, strict=True):
            c.padding_mode = mode


def _png_bytes(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError("PNG encoding failed")
    return buf.tobytes()


class TextureGenerator:
    """Prompt -> cached tileable texture PNG.

    ``pipe`` injects a ready text-to-image pipeline (tests, notebooks); it then needs ``model_id``, the
    name of its weights in the cache key. Without it the pipeline is loaded from ``cfg.model`` on the
    first cache miss and ``model_id`` is that folder's fingerprint. ``calls`` counts pipeline runs.
    """

    def __init__(self, cfg: PolishConfig, *, pipe: Any = None, model_id: str | None = None) -> None:
        if pipe is not None and model_id is None:
            raise ValueError("TextureGenerator(pipe=...) needs model_id=...: it names the weights in the cache key")
        self.cfg = cfg
        self._pipe = pipe
        self._model_id = model_id
        self.cache_dir = Path(os.path.expanduser(cfg.cache_dir)) / "textures"
        self.calls = 0

    @property
    def model_id(self) -> str:
        if self._model_id is None:
            from simvision.polish.models import model_fingerprint, resolve_model_path

            self._model_id = model_fingerprint(resolve_model_path(self.cfg.model))
        return self._model_id

    @property
    def pipe(self) -> Any:
        if self._pipe is None:
            from simvision.polish.models import load_text2img

            self._pipe, fingerprint = load_text2img(self.cfg)
            self._model_id = self._model_id or fingerprint
        return self._pipe

    def key(self, prompt: str, seed: int) -> str:
        c = self.cfg
        return texture_cache_key(
            self.model_id,
            prompt,
            negative_prompt=c.negative_prompt,
            seed=seed,
            size=c.texture_size,
            steps=c.steps,
            guidance=c.guidance,
            tileable=c.tileable,
        )

    def cache_path(self, prompt: str, seed: int) -> Path:
        key = self.key(prompt, seed)
        return self.cache_dir / key[:2] / f"{key}.png"

    def make(self, prompt: str, *, seed: int) -> np.ndarray:
        """Sample one texture (H x W x 3 uint8), uncached."""
        from simvision.polish.models import make_generator, to_uint8

        c, pipe = self.cfg, self.pipe
        padding = circular_padding(pipe.unet, pipe.vae) if c.tileable else nullcontext(0)
        with padding:
            out = pipe(
                prompt,
                negative_prompt=c.negative_prompt or None,
                height=c.texture_size,
                width=c.texture_size,
                num_inference_steps=c.steps,
                guidance_scale=c.guidance,
                generator=make_generator(seed),
                output_type="np",
            )
        self.calls += 1
        return to_uint8(out.images)

    def generate(self, prompt: str, *, seed: int | None = None) -> Path:
        """Path of the cached texture for ``prompt`` and ``seed`` (default ``cfg.seed``), made on a miss."""
        seed = self.cfg.seed if seed is None else int(seed)
        path = self.cache_path(prompt, seed)
        if path.is_file():
            return path
        rgb = self.make(prompt, seed=seed)
        c = self.cfg
        atomic_write_json(
            path.with_suffix(".json"),
            {
                "model": c.model,
                "model_id": self.model_id,
                "prompt": prompt,
                "negative_prompt": c.negative_prompt,
                "seed": seed,
                "size": c.texture_size,
                "steps": c.steps,
                "guidance": c.guidance,
                "tileable": c.tileable,
            },
            indent=2,
        )
        atomic_write_bytes(path, _png_bytes(rgb))
        return path

    def texture_for(self, class_name: str | None, slot: str = "object", *, variant: int = 0) -> Path | None:
        """The texture PNG of a (class, material slot), or ``None`` when no prompt covers it.

        ``variant`` in ``[0, texture_variants)`` picks one of the textures made per prompt (seed
        ``cfg.seed + variant``); it is reduced modulo ``texture_variants``.
        """
        found = prompt_for(self.cfg.prompts, class_name, slot)
        if found is None:
            return None
        return self.generate(found[1], seed=self.cfg.seed + int(variant) % self.cfg.texture_variants)

    def pregenerate(self) -> list[Path]:
        """Fill the cache for every prompt and variant (run once before a sweep; render jobs then only read)."""
        paths = []
        for prompt in dict.fromkeys(self.cfg.prompts.values()):
            for variant in range(self.cfg.texture_variants):
                paths.append(self.generate(prompt, seed=self.cfg.seed + variant))
        return paths


_GENERATORS: dict[str, TextureGenerator] = {}


def texture_for(cfg: PolishConfig, class_name: str | None, slot: str = "object", *, variant: int = 0) -> Path | None:
    """Texture PNG for one material slot, or ``None`` (polish off, or no prompt for it): the render hook.

    Keeps one :class:`TextureGenerator` per distinct config for the process, so the model is loaded at
    most once per job and only on a cache miss.
    """
    if cfg.mode != "textures":
        return None
    key = json.dumps(asdict(cfg), sort_keys=True)
    gen = _GENERATORS.get(key)
    if gen is None:
        gen = _GENERATORS[key] = TextureGenerator(cfg)
    return gen.texture_for(class_name, slot, variant=variant)


def apply_texture(material: MaterialSpec, path: str | os.PathLike[str] | None) -> MaterialSpec:
    """A copy of ``material`` whose base colour is the image at ``path`` (``image_texture``, absolute).

    The colours, roughness, metallic and ``texture_scale`` (repeats per metre) are kept; ``None``
    returns the material unchanged. The path lands in the frame metadata with the material.
    """
    if path is None:
        return material
    return replace(material, image_texture=str(Path(path).resolve()))


def texture_path_of(material: MaterialSpec | dict[str, Any]) -> Path | None:
    """The image path of a material made by :func:`apply_texture`, else ``None`` (for the material builder)."""
    image = material.image_texture if isinstance(material, MaterialSpec) else material.get("image_texture")
    return Path(image) if image else None


def apply_textures_to_scene(spec: Any, polish: PolishConfig) -> None:
    """polish.mode=textures: swap in diffusion-made textures per class and material slot (cached).

    Only colours change; geometry and therefore labels stay exact. The variant is derived from
    the instance id, never drawn from the scene rng, so turning textures on changes no scene.
    """
    variants = max(int(polish.texture_variants), 1)
    for obj in [*spec.objects, *spec.scenery]:
        variant = obj.instance_id % variants
        slot = "object" if obj.class_name else "distractor"
        obj.material = apply_texture(obj.material, texture_for(polish, obj.class_name, slot, variant=variant))
        for name, material in obj.slot_materials.items():
            obj.slot_materials[name] = apply_texture(
                material, texture_for(polish, obj.class_name, name, variant=variant)
            )
    for key, holder in (("container", spec.container), ("floor", spec.background), ("walls", spec.background)):
        entry = holder.get("material" if key == "container" else key)
        if isinstance(entry, dict):
            path = texture_for(polish, None, key)
            if path is not None:
                entry["image_texture"] = str(path.resolve())
