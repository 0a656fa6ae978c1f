"""Optional diffusion polishing that never breaks labels.

Two modes (``conf/polish/``):

- ``textures``: before render, generate tileable textures from prompts (per class or material slot),
  cached by (model, prompt, seed, size, steps); geometry is untouched, so labels stay exact.
- ``image``: after render, masked img2img (optionally ControlNet-conditioned on depth, edges or
  segmentation); pixels outside the mask are copied back bit for bit, and a per-object edge check
  between the raw and the polished frame rejects or flags frames whose objects moved.

The config (:mod:`.config`) and the consistency check (:mod:`.consistency`) need only numpy and
OpenCV; everything that runs a model needs the ``polish`` extra, checked once by
:func:`require_polish`, whose error names the install command.
"""

from __future__ import annotations

import importlib
from typing import Any

from simvision.polish.config import PolishConfig, PolishConfigError, to_polish_config

__all__ = [
    "INSTALL_HINT",
    "MissingExtraError",
    "PolishWeightsError",
    "PolishConfig",
    "PolishConfigError",
    "require_polish",
    "to_polish_config",
    # lazily imported (need the extra only when used)
    "TextureGenerator",
    "texture_for",
    "apply_texture",
    "ImagePolisher",
    "FramePolish",
    "check_consistency",
    "ConsistencyResult",
    "polish_dataset",
]

INSTALL_HINT = "uv sync --extra polish  (or: pip install 'simvision[polish]')"
_REQUIRED = ("torch", "diffusers", "transformers")


class MissingExtraError(ImportError):
    """The optional ``polish`` extra (diffusers, transformers, torch) is not installed."""


class PolishWeightsError(FileNotFoundError):
    """Model weights are neither a local folder nor in the local Hugging Face cache."""


def require_polish() -> None:
    """Import the extra's packages or raise :class:`MissingExtraError` with the install command.

    Not cached on failure, so installing the extra in a running notebook works without a restart.
    """
    for name in _REQUIRED:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise MissingExtraError(
                f"simvision polishing needs the optional 'polish' extra ({name} is missing: {exc}); "
                f"install it with: {INSTALL_HINT}"
            ) from None


_LAZY = {
    "TextureGenerator": "simvision.polish.textures",
    "texture_for": "simvision.polish.textures",
    "apply_texture": "simvision.polish.textures",
    "ImagePolisher": "simvision.polish.image",
    "FramePolish": "simvision.polish.image",
    "check_consistency": "simvision.polish.consistency",
    "ConsistencyResult": "simvision.polish.consistency",
    "polish_dataset": "simvision.polish.dataset",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'simvision.polish' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
