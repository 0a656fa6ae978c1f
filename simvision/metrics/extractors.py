"""Injectable feature extractors for the domain-gap metrics.

Contract (the same one torchmetrics' FID accepts for a custom ``feature``): an ``nn.Module`` with
``num_features`` and ``input_size`` (the square side images are resized to before batching) whose
``forward`` takes uint8 RGB batches ``(n, 3, input_size, input_size)`` and returns ``(n, num_features)``.
Extractors normalise inside ``forward`` so callers never need to know a network's preprocessing.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from simvision.metrics.efficientnet_lite import INPUT_MEAN, INPUT_STD, load_efficientnet_lite0

__all__ = [
    "EXTRACTORS",
    "EfficientNetLite0Extractor",
    "FeatureExtractor",
    "InceptionV3Extractor",
    "MissingWeightsError",
    "PixelExtractor",
    "build_extractor",
]

INCEPTION_HOWTO = (
    "InceptionV3 FID weights cannot be downloaded at run time here. Provide them by local path:\n"
    "  1. on a machine with internet: pip install torch-fidelity, then download\n"
    "     https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/pt_inception-2015-12-05-6726825d.pth\n"
    "  2. copy the file next to your data and run with\n"
    "     extractor.name=inception_v3 extractor.weights_path=/path/to/pt_inception-2015-12-05-6726825d.pth\n"
    "     (needs torch-fidelity installed: pip install torch-fidelity; or pass an ImageNet torchvision\n"
    "     checkpoint such as inception_v3_google-0cc3c7bd.pth with 'extractor.kwargs={flavour: torchvision}',\n"
    "     whose numbers are NOT comparable with published FID).\n"
    "Without it, the default extractor.name=efficientnet_lite0 works offline."
)


class MissingWeightsError(FileNotFoundError):
    """Weights a feature extractor needs are not available locally."""


class FeatureExtractor(nn.Module):
    """Base class: uint8 images in, one feature vector per image out; always in eval mode."""

    name: str = "extractor"
    num_features: int
    input_size: int

    def train(self, mode: bool = True) -> FeatureExtractor:
        return super().train(False)

    @staticmethod
    def to_unit(x: Tensor) -> Tensor:
        """uint8 [0, 255] (or float already in [0, 1]) to float [0, 1]."""
        return x.float() / 255.0 if x.dtype == torch.uint8 else x.float()


class EfficientNetLite0Extractor(FeatureExtractor):
    """Pooled 1280-d penultimate features of ImageNet EfficientNet-Lite0; works fully offline.

    Values are not on the InceptionV3 FID scale: report them as Frechet distance in this feature space.
    """

    name = "efficientnet_lite0"
    num_features = 1280

    def __init__(self, weights_path: str | None = None, input_size: int = 224) -> None:
        super().__init__()
        self.input_size = input_size
        self.net = load_efficientnet_lite0(weights_path)
        self.eval()

    def forward(self, x: Tensor) -> Tensor:
        x = self.to_unit(x)
        if x.shape[-1] != self.input_size or x.shape[-2] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", antialias=True)
        return self.net.forward_features((x - INPUT_MEAN) / INPUT_STD)


class InceptionV3Extractor(FeatureExtractor):
    """Standard FID InceptionV3 (2048-d pool features) loaded from a local file.

    ``flavour='fid'`` uses torchmetrics' torch-fidelity port of the TF FID network (numbers comparable
    with published FID); ``flavour='torchvision'`` loads an ImageNet torchvision checkpoint instead.
    """

    name = "inception_v3"
    num_features = 2048
    input_size = 299

    def __init__(self, weights_path: str | None = None, flavour: str = "fid") -> None:
        super().__init__()
        if not weights_path or not Path(weights_path).is_file():
            raise MissingWeightsError(f"no InceptionV3 weights at {weights_path!r}.\n{INCEPTION_HOWTO}")
        self.flavour = flavour
        if flavour == "fid":
            if importlib.util.find_spec("torch_fidelity") is None:
                raise ModuleNotFoundError(
                    f"flavour='fid' needs torch-fidelity (pip install torch-fidelity).\n{INCEPTION_HOWTO}"
                )
            from torchmetrics.image.fid import NoTrainInceptionV3

            self.net: nn.Module = NoTrainInceptionV3(
                name="inception-v3-compat", features_list=["2048"], feature_extractor_weights_path=weights_path
            )
        elif flavour == "torchvision":
            from torchvision.models import inception_v3

            net = inception_v3(weights=None, aux_logits=True, init_weights=False)
            net.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
            net.fc = nn.Identity()
            self.net = net
        else:
            raise ValueError(f"unknown InceptionV3 flavour {flavour!r}: use 'fid' or 'torchvision'")
        self.eval()

    def forward(self, x: Tensor) -> Tensor:
        if self.flavour == "fid":
            # the torch-fidelity network takes uint8 and does its own TF-compatible resize
            return self.net(x if x.dtype == torch.uint8 else (x * 255).round().to(torch.uint8))
        x = F.interpolate(self.to_unit(x), size=(299, 299), mode="bilinear", antialias=True)
        mean = torch.tensor([0.485, 0.456, 0.406], device=x.device)[:, None, None]
        std = torch.tensor([0.229, 0.224, 0.225], device=x.device)[:, None, None]
        return self.net((x - mean) / std)


class PixelExtractor(FeatureExtractor):
    """Downsampled pixels as features: a weight-free baseline for colour/layout statistics and a tiny
    extractor for tests."""

    name = "pixels"

    def __init__(self, size: int = 8, input_size: int = 32) -> None:
        super().__init__()
        self.size = size
        self.input_size = input_size
        self.num_features = 3 * size * size

    def forward(self, x: Tensor) -> Tensor:
        x = F.adaptive_avg_pool2d(self.to_unit(x), self.size)
        return x.flatten(1)


EXTRACTORS: dict[str, Callable[..., FeatureExtractor]] = {
    "efficientnet_lite0": EfficientNetLite0Extractor,
    "inception_v3": InceptionV3Extractor,
    "pixels": PixelExtractor,
}


def build_extractor(name: str, weights_path: str | None = None, **kwargs: Any) -> nn.Module:
    """Extractor by registry name, or any ``package.module:Class`` / ``package.module.Class`` path."""
    if name in EXTRACTORS:
        factory: Callable[..., nn.Module] = EXTRACTORS[name]
    else:
        module_name, _, attr = name.replace(":", ".").rpartition(".")
        if not module_name:
            raise ValueError(f"unknown extractor {name!r}: choose one of {sorted(EXTRACTORS)} or a dotted path")
        factory = getattr(importlib.import_module(module_name), attr)
    if weights_path is not None:
        kwargs["weights_path"] = weights_path
    extractor = factory(**kwargs)
    for attr in ("num_features", "input_size"):
        if not isinstance(getattr(extractor, attr, None), int):
            raise TypeError(f"extractor {name!r} must define an integer attribute {attr!r}")
    return extractor
