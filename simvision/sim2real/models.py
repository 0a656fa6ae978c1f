"""Detector factory: torchvision Faster R-CNN / RetinaNet / Mask R-CNN on a choice of FPN backbones.

Nothing is downloaded: backbones start from a local ImageNet checkpoint, from the EfficientNet-Lite0
weights shipped in a registry package (``backbone_weights=package``), or from random init.
"""

from __future__ import annotations

import logging
import warnings
from collections import OrderedDict
from pathlib import Path

import torch
from torch import Tensor, nn
from torchvision.models.detection import FasterRCNN, MaskRCNN, RetinaNet
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import mobilenet_backbone, resnet_fpn_backbone
from torchvision.ops import FeaturePyramidNetwork
from torchvision.ops.feature_pyramid_network import ExtraFPNBlock, LastLevelMaxPool, LastLevelP6P7
from torchvision.ops.misc import FrozenBatchNorm2d

from simvision.metrics.efficientnet_lite import INPUT_MEAN, INPUT_STD, load_efficientnet_lite0
from simvision.sim2real.config import ARCHS, BACKBONES, ModelConfig

log = logging.getLogger(__name__)

__all__ = ["EfficientNetLiteFPN", "build_backbone", "build_detector"]

IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
FPN_CHANNELS = 256


def _freeze_bn(module: nn.Module) -> nn.Module:
    """BatchNorm -> FrozenBatchNorm2d (keeping eps): batch statistics of 2-4 images would wreck
    pretrained running statistics, as in torchvision's pretrained detectors."""
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            frozen = FrozenBatchNorm2d(child.num_features, eps=child.eps)
            frozen.weight.copy_(child.weight.detach())
            frozen.bias.copy_(child.bias.detach())
            frozen.running_mean.copy_(child.running_mean)
            frozen.running_var.copy_(child.running_var)
            setattr(module, name, frozen)
        else:
            _freeze_bn(child)
    return module


class EfficientNetLiteFPN(nn.Module):
    """EfficientNet-Lite0 stages 2, 4 and 6 (strides 8, 16, 32) under a feature pyramid."""

    def __init__(
        self,
        weights: str | None,
        trainable_layers: int,
        extra_blocks: ExtraFPNBlock | None = None,
        stages: tuple[int, ...] = (2, 4, 6),
    ) -> None:
        super().__init__()
        pretrained = weights is not None
        net = load_efficientnet_lite0(None if weights == "package" else weights, pretrained=pretrained)
        del net._conv_head, net._bn1, net._fc  # classification head unused
        if pretrained:
            _freeze_bn(net)
        n_stages = len(net.stage_ends)
        if not 0 <= trainable_layers <= n_stages + 1:
            raise ValueError(f"trainable_layers must be in [0, {n_stages + 1}] for efficientnet_lite0")
        if pretrained:  # train the last `trainable_layers` stages (n_stages + 1: the stem too)
            net.requires_grad_(False)
            if trainable_layers > 0:
                first = n_stages - min(trainable_layers, n_stages)
                start = net.stage_ends[first - 1] + 1 if first > 0 else 0
                for block in net._blocks[start:]:
                    block.requires_grad_(True)
            if trainable_layers > n_stages:
                net._conv_stem.requires_grad_(True)
        self.body = net
        self.stages = stages
        self.fpn = FeaturePyramidNetwork(
            [net.stage_channels[s] for s in stages], FPN_CHANNELS, extra_blocks=extra_blocks or LastLevelMaxPool()
        )
        self.out_channels = FPN_CHANNELS

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        feats = self.body.forward_stages(x, self.stages)
        return self.fpn(OrderedDict((str(i), f) for i, f in enumerate(feats)))


def _load_local(module: nn.Module, path: str, drop_prefixes: tuple[str, ...] = ()) -> None:
    """Load an ImageNet classification checkpoint into a detection backbone body (head keys ignored)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    renamed = {}
    for key, value in state.items():
        for prefix in drop_prefixes:
            if key.startswith(prefix):
                key = key[len(prefix) :]
        renamed[key] = value
    own = module.state_dict()
    usable = {k: v for k, v in renamed.items() if k in own and own[k].shape == v.shape}
    missing = [k for k in own if k not in usable and not k.endswith("num_batches_tracked")]
    if not usable or missing:
        raise ValueError(
            f"{path} does not fit the backbone: {len(usable)} tensors match, "
            f"{len(missing)} missing (e.g. {missing[:3]})"
        )
    module.load_state_dict(usable, strict=False)


def build_backbone(cfg: ModelConfig) -> tuple[nn.Module, list[float], list[float]]:
    """FPN backbone plus the input normalisation its weights expect."""
    if cfg.backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {cfg.backbone!r}; choose one of {BACKBONES}")
    weights = cfg.backbone_weights
    if weights not in (None, "package") and not Path(weights).is_file():
        raise FileNotFoundError(f"backbone weights {weights!r} not found (nothing is downloaded; give a local file)")
    if weights == "package" and cfg.backbone != "efficientnet_lite0":
        raise ValueError("backbone_weights=package only exists for backbone=efficientnet_lite0")
    if weights is None:
        warnings.warn(
            f"{cfg.backbone} backbone starts from random weights: expect low AP on small data. For ImageNet "
            "features offline use model.backbone=efficientnet_lite0 model.backbone_weights=package, or give "
            "a local checkpoint in model.backbone_weights.",
            stacklevel=2,
        )
    pretrained = weights is not None
    extra: ExtraFPNBlock = LastLevelP6P7(FPN_CHANNELS, FPN_CHANNELS) if cfg.arch == "retinanet" else LastLevelMaxPool()
    if cfg.backbone == "efficientnet_lite0":
        trainable = cfg.trainable_layers if pretrained else 8
        return EfficientNetLiteFPN(weights, trainable, extra), [INPUT_MEAN] * 3, [INPUT_STD] * 3
    norm = FrozenBatchNorm2d if pretrained else nn.BatchNorm2d
    if cfg.backbone == "mobilenet_v3_large":
        bb = mobilenet_backbone(
            backbone_name="mobilenet_v3_large",
            weights=None,
            fpn=True,
            norm_layer=norm,
            trainable_layers=cfg.trainable_layers if pretrained else 6,
            extra_blocks=extra,
        )
        if weights is not None:
            _load_local(bb.body, weights, ("features.",))
    else:
        bb = resnet_fpn_backbone(
            backbone_name="resnet50",
            weights=None,
            norm_layer=norm,
            trainable_layers=cfg.trainable_layers if pretrained else 5,
            returned_layers=[2, 3, 4] if cfg.arch == "retinanet" else None,
            extra_blocks=extra,
        )
        if weights is not None:
            _load_local(bb.body, weights)
    return bb, IMAGENET_MEAN, IMAGENET_STD


def _anchors(sizes: list[int], n_levels: int, octave_scales: bool) -> AnchorGenerator:
    """One size per level when the list matches the pyramid, else every size on every level (as
    torchvision's MobileNet detectors do)."""
    per_level: list[tuple[float, ...]]
    if len(sizes) == n_levels:
        per_level = [(float(s),) for s in sizes]
    else:
        per_level = [tuple(float(s) for s in sizes)] * n_levels
    if octave_scales:  # RetinaNet: three scales per octave
        per_level = [tuple(s * 2 ** (i / 3) for s in lvl for i in range(3)) for lvl in per_level]
    return AnchorGenerator(tuple(per_level), ((0.5, 1.0, 2.0),) * n_levels)


def build_detector(cfg: ModelConfig, num_classes: int) -> nn.Module:
    """A torchvision detector for ``num_classes`` (background included)."""
    if cfg.arch not in ARCHS:
        raise ValueError(f"unknown arch {cfg.arch!r}; choose one of {ARCHS}")
    if cfg.box_batch_size_per_image < 1:
        raise ValueError(f"model.box_batch_size_per_image: must be at least 1, got {cfg.box_batch_size_per_image}")
    backbone, mean, std = build_backbone(cfg)
    with torch.no_grad():
        was_training = backbone.training
        n_levels = len(backbone.eval()(torch.zeros(1, 3, 64, 64)))
        backbone.train(was_training)
    common = {"min_size": cfg.min_size, "max_size": cfg.max_size, "image_mean": mean, "image_std": std}
    anchors = _anchors(list(cfg.anchor_sizes), n_levels, octave_scales=cfg.arch == "retinanet")
    if cfg.arch == "retinanet":
        return RetinaNet(
            backbone,
            num_classes,
            anchor_generator=anchors,
            score_thresh=cfg.score_thresh,
            detections_per_img=cfg.detections_per_img,
            **common,
        )
    cls = MaskRCNN if cfg.arch == "maskrcnn" else FasterRCNN
    return cls(
        backbone,
        num_classes,
        rpn_anchor_generator=anchors,
        box_score_thresh=cfg.score_thresh,
        box_detections_per_img=cfg.detections_per_img,
        box_batch_size_per_image=cfg.box_batch_size_per_image,
        **common,
    )
