"""Tiny random-weight Stable Diffusion pipelines for tests and smoke runs (no download, CPU-fast).

Every component is built from a small config in code: a 2-block UNet, a 2-block VAE (latents at half
the image size), a 2-layer CLIP text encoder and a byte-level CLIP tokenizer whose vocabulary is the
256 byte symbols (no BPE merges, so it needs no vocabulary file). The images they make are noise, but
they exercise exactly the code paths of the real pipelines (prompt encoding, schedulers, masking,
ControlNet residuals, VAE decoding). Weights are drawn under a forked torch RNG, so building a pipeline
never disturbs the caller's global random state, and the same ``seed`` builds the same weights.

``save_tiny_model`` writes such a pipeline as an ordinary diffusers folder, to test loading from a
local path exactly like a real checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from simvision.polish import require_polish

__all__ = [
    "TINY_MAX_TOKENS",
    "tiny_tokenizer",
    "tiny_components",
    "tiny_controlnet",
    "tiny_text2img_pipeline",
    "tiny_inpaint_pipeline",
    "save_tiny_model",
]

TINY_MAX_TOKENS = 77
_HIDDEN = 32  # text embedding width = UNet cross-attention width
_BLOCKS = (8, 16)
_GROUPS = 4


def tiny_tokenizer(max_length: int = TINY_MAX_TOKENS) -> Any:
    """A ``CLIPTokenizer`` over the 256 byte-level symbols (each with and without ``</w>``), no merges."""
    require_polish()
    from transformers import CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    symbols = list(bytes_to_unicode().values())
    vocab: dict[str, int] = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for suffix in ("", "</w>"):
        for s in symbols:
            vocab.setdefault(s + suffix, len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=max_length)


def tiny_components(seed: int = 0, *, inpaint_unet: bool = False) -> dict[str, Any]:
    """``vae``, ``text_encoder``, ``tokenizer``, ``unet``, ``scheduler`` of a tiny SD pipeline.

    ``inpaint_unet`` gives the UNet 9 input channels (latents + mask + masked-image latents), like the
    SD-inpainting checkpoints; otherwise 4, like SD 1.5.
    """
    require_polish()
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = tiny_tokenizer()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(
            sample_size=16,
            in_channels=9 if inpaint_unet else 4,
            out_channels=4,
            block_out_channels=_BLOCKS,
            layers_per_block=1,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=_HIDDEN,
            attention_head_dim=2,
            norm_num_groups=_GROUPS,
        )
        vae = AutoencoderKL(
            sample_size=32,
            in_channels=3,
            out_channels=3,
            block_out_channels=list(_BLOCKS),
            down_block_types=["DownEncoderBlock2D"] * 2,
            up_block_types=["UpDecoderBlock2D"] * 2,
            latent_channels=4,
            norm_num_groups=_GROUPS,
        )
        text_encoder = CLIPTextModel(
            CLIPTextConfig(
                vocab_size=len(tokenizer.get_vocab()),
                hidden_size=_HIDDEN,
                intermediate_size=37,
                num_hidden_layers=2,
                num_attention_heads=4,
                max_position_embeddings=TINY_MAX_TOKENS,
                projection_dim=_HIDDEN,
                bos_token_id=0,
                eos_token_id=1,
                pad_token_id=1,
            )
        )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    modules: tuple[Any, ...] = (unet, vae, text_encoder)
    for module in modules:
        module.eval()
    return {"vae": vae, "text_encoder": text_encoder, "tokenizer": tokenizer, "unet": unet, "scheduler": scheduler}


def tiny_controlnet(seed: int = 1) -> Any:
    """A ``ControlNetModel`` matching :func:`tiny_components`' UNet (conditioning image at full size)."""
    require_polish()
    import torch
    from diffusers import ControlNetModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model: Any = ControlNetModel(
            in_channels=4,
            block_out_channels=_BLOCKS,
            layers_per_block=1,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            cross_attention_dim=_HIDDEN,
            attention_head_dim=2,
            norm_num_groups=_GROUPS,
            # one stride-2 stage: conditioning image (H, W) -> latent grid (H/2, W/2), the tiny VAE's factor
            conditioning_embedding_out_channels=(8, 16),
        )
    return model.eval()


def _quiet(pipe: Any) -> Any:
    pipe.set_progress_bar_config(disable=True)
    return pipe


def tiny_text2img_pipeline(seed: int = 0) -> Any:
    """A tiny ``StableDiffusionPipeline`` (texture mode)."""
    require_polish()
    from diffusers import StableDiffusionPipeline

    return _quiet(
        StableDiffusionPipeline(
            **tiny_components(seed), safety_checker=None, feature_extractor=None, requires_safety_checker=False
        )
    )


def tiny_inpaint_pipeline(seed: int = 0, *, controlnet: bool = False, inpaint_unet: bool = False) -> Any:
    """A tiny masked img2img pipeline (image mode): SD inpainting, or SD ControlNet inpainting."""
    require_polish()
    from diffusers import StableDiffusionControlNetInpaintPipeline, StableDiffusionInpaintPipeline

    parts = {
        **tiny_components(seed, inpaint_unet=inpaint_unet),
        "safety_checker": None,
        "feature_extractor": None,
        "requires_safety_checker": False,
    }
    if controlnet:
        return _quiet(StableDiffusionControlNetInpaintPipeline(**parts, controlnet=tiny_controlnet(seed + 1)))
    return _quiet(StableDiffusionInpaintPipeline(**parts))


def save_tiny_model(
    folder: str | os.PathLike[str], *, seed: int = 0, controlnet_folder: str | os.PathLike[str] | None = None
) -> Path:
    """Write a tiny pipeline (and optionally a tiny ControlNet) as diffusers folders; returns ``folder``."""
    pipe = tiny_text2img_pipeline(seed)
    pipe.save_pretrained(str(folder))
    if controlnet_folder is not None:
        tiny_controlnet(seed + 1).save_pretrained(str(controlnet_folder))
    return Path(folder)
