"""Finding and loading diffusion weights offline: a local folder or the local Hugging Face cache.

Nothing here downloads: repo ids are resolved with ``local_files_only=True``, and every loader passes
it again. Errors are one line and say how to provide the weights. Noise comes from a CPU
``torch.Generator`` seeded explicitly, so the same seed gives the same polish on a CPU or a GPU host
(up to the GPU's floating-point differences).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from simvision.polish import INSTALL_HINT, PolishWeightsError, require_polish
from simvision.polish.config import PolishConfig

__all__ = [
    "WEIGHTS_HINT",
    "resolve_model_path",
    "model_fingerprint",
    "frame_seed",
    "make_generator",
    "resolve_device",
    "resolve_dtype",
    "load_text2img",
    "load_inpaint",
    "to_uint8",
]

WEIGHTS_HINT = (
    "point it at a local diffusers folder (with model_index.json, or config.json for a ControlNet), "
    "or fetch the repo once on a machine with internet (`hf download <repo-id>`) and use it offline "
    "(HF_HUB_OFFLINE=1); see docs/polish.md"
)


def _hf_cache() -> str:
    try:
        from huggingface_hub.constants import HF_HUB_CACHE

        return str(HF_HUB_CACHE)
    except ImportError:  # pragma: no cover - huggingface_hub comes with the extra
        return "~/.cache/huggingface/hub"


def resolve_model_path(name: str | None, *, key: str = "polish.model", marker: str = "model_index.json") -> Path:
    """The local folder holding ``name``: the path itself, or the cached snapshot of a repo id.

    ``marker`` is the file a usable folder must contain (``model_index.json`` for a pipeline,
    ``config.json`` for a single model such as a ControlNet).
    """
    if not name:
        raise PolishWeightsError(f"{key} is not set: nothing to load; {WEIGHTS_HINT}")
    candidate = Path(os.path.expanduser(str(name)))
    if candidate.is_dir():
        folder = candidate
    elif candidate.exists() or str(name).startswith((".", "/", "~")) or str(name).count("/") != 1:
        raise PolishWeightsError(f"{key}={name!r}: not a diffusers folder; {WEIGHTS_HINT}")
    else:
        try:
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(repo_id=str(name), local_files_only=True))
        except ImportError:
            raise PolishWeightsError(f"{key}={name!r}: huggingface_hub is missing; install {INSTALL_HINT}") from None
        except Exception:  # LocalEntryNotFoundError, HFValidationError, offline errors
            raise PolishWeightsError(
                f"{key}={name!r}: not a local folder and not in the local Hugging Face cache ({_hf_cache()}); "
                f"nothing is downloaded: {WEIGHTS_HINT}"
            ) from None
    if not (folder / marker).is_file():
        raise PolishWeightsError(
            f"{key}={name!r}: {folder} has no {marker}, so it is not a diffusers folder; {WEIGHTS_HINT}"
        )
    return folder


def model_fingerprint(folder: str | os.PathLike[str]) -> str:
    """A short content id of a weights folder, for cache keys.

    Hashes every file's relative path and size plus the full text of the JSON configs; weights are not
    read (gigabytes), but any retrained or swapped weight file changes its size or its config in practice,
    and a Hugging Face snapshot folder already carries the commit hash in its path.
    """
    root = Path(folder)
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".cache" not in p.parts):
        rel = path.relative_to(root).as_posix()
        h.update(f"{rel}\0{path.stat().st_size}\0".encode())
        if path.suffix == ".json" and path.stat().st_size < 1_000_000:
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def frame_seed(seed: int, frame_id: int) -> int:
    """The polish seed of one frame: independent streams per frame, reproducible from (seed, frame_id)."""
    return int(np.random.SeedSequence([int(seed), int(frame_id)]).generate_state(1, dtype=np.uint32)[0])


def make_generator(seed: int) -> Any:
    """An explicitly seeded CPU ``torch.Generator`` (diffusers draws on the CPU and moves the noise)."""
    require_polish()
    import torch

    return torch.Generator(device="cpu").manual_seed(int(seed))


def resolve_device(name: str = "auto") -> Any:
    require_polish()
    from simvision.metrics.device import resolve_device as _resolve

    return _resolve(name)


def resolve_dtype(name: str, device: Any) -> Any:
    require_polish()
    import torch

    if name == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


def _load(cls: Any, folder: Path, key: str, **kwargs: Any) -> Any:
    try:
        return cls.from_pretrained(str(folder), local_files_only=True, **kwargs)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PolishWeightsError(f"{key}: could not load {folder} ({first}); {WEIGHTS_HINT}") from None


def _finish(pipe: Any, device: Any) -> Any:
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def load_text2img(cfg: PolishConfig) -> tuple[Any, str]:
    """A Stable Diffusion text-to-image pipeline from ``cfg.model`` and its fingerprint."""
    require_polish()
    from diffusers import StableDiffusionPipeline

    folder = resolve_model_path(cfg.model)
    device = resolve_device(cfg.device)
    pipe = _load(
        StableDiffusionPipeline,
        folder,
        "polish.model",
        dtype=resolve_dtype(cfg.dtype, device),
        safety_checker=None,
        requires_safety_checker=False,
    )
    return _finish(pipe, device), model_fingerprint(folder)


def load_inpaint(cfg: PolishConfig) -> tuple[Any, str]:
    """A masked img2img pipeline from ``cfg.model`` (and ``cfg.controlnet``) and its fingerprint.

    Stable Diffusion's inpainting pipelines accept both inpainting UNets (9 input channels) and plain
    text-to-image UNets (4 channels, where the unmasked latents are re-imposed at every step), so one
    code path serves SD 1.5 and SD-inpainting checkpoints alike.
    """
    require_polish()
    from diffusers import ControlNetModel, StableDiffusionControlNetInpaintPipeline, StableDiffusionInpaintPipeline

    folder = resolve_model_path(cfg.model)
    device = resolve_device(cfg.device)
    dtype = resolve_dtype(cfg.dtype, device)
    common = {"dtype": dtype, "safety_checker": None, "requires_safety_checker": False}
    fingerprint = model_fingerprint(folder)
    if cfg.controlnet:
        cn_folder = resolve_model_path(cfg.controlnet, key="polish.controlnet", marker="config.json")
        controlnet = _load(ControlNetModel, cn_folder, "polish.controlnet", dtype=dtype)
        pipe = _load(StableDiffusionControlNetInpaintPipeline, folder, "polish.model", controlnet=controlnet, **common)
        fingerprint = f"{fingerprint}+{model_fingerprint(cn_folder)}"
    else:
        pipe = _load(StableDiffusionInpaintPipeline, folder, "polish.model", **common)
    return _finish(pipe, device), fingerprint


def to_uint8(images: Any) -> np.ndarray:
    """First image of a pipeline's ``output_type="np"`` result (floats in [0, 1]) as H x W x 3 uint8."""
    arr = np.asarray(images[0] if isinstance(images, (list, tuple)) or np.ndim(images) == 4 else images)
    return np.clip(np.round(arr.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)
