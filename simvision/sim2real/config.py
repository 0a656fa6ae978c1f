"""Typed schema of ``conf/sim2real.yaml`` (registered in Hydra's ConfigStore as ``sim2real_schema``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

__all__ = [
    "AblationConfig",
    "AnalysisConfig",
    "AugmentConfig",
    "DataConfig",
    "EvalConfig",
    "ModelConfig",
    "Sim2RealConfig",
    "TrainConfig",
    "register_sim2real_configs",
]

ARMS = ("real_only", "synthetic_only", "synthetic_then_real", "mixed")
ARCHS = ("fasterrcnn", "retinanet", "maskrcnn")
BACKBONES = ("mobilenet_v3_large", "efficientnet_lite0", "resnet50")


@dataclass
class DataConfig:
    """A labelled set in any format of ``simvision.formats`` (see ``simvision.formats.read_dataset``)."""

    path: str = MISSING
    format: str = "auto"
    labels: str | None = None
    names: Any = None
    annotations: str | None = None
    aliases: Any = None  # dict: source class name -> model class (Any: see metrics.config.SourceConfig)
    max_images: int | None = None
    # keep only images labelling at least one of these classes (after aliases), e.g. COCO128's street
    # photos: [car, person]; applied before max_images
    with_any_of: list[str] | None = None


@dataclass
class ModelConfig:
    arch: str = "fasterrcnn"  # fasterrcnn | retinanet | maskrcnn
    backbone: str = "mobilenet_v3_large"  # mobilenet_v3_large | efficientnet_lite0 | resnet50
    # local ImageNet checkpoint of the backbone; 'package' = EfficientNet-Lite0 weights from the installed
    # registry package; null = random init (nothing is ever downloaded)
    backbone_weights: str | None = None
    trainable_layers: int = 3  # backbone stages trained when pretrained (all when random)
    min_size: int = 320  # torchvision's internal resize: shorter side
    max_size: int = 512
    anchor_sizes: list[int] = field(default_factory=lambda: [32, 64, 128, 256, 512])
    score_thresh: float = 0.01  # keep low-score detections: mAP and calibration need them
    detections_per_img: int = 100
    # Faster/Mask R-CNN: proposals sampled per training image for the box head (torchvision's default 512).
    # On a CPU the box head's RoIAlign backward dominates a training step: 128 (Fast R-CNN's 64-128) trains
    # 3.3x faster at 224 px (scripts/profile_detector.py)
    box_batch_size_per_image: int = 512


@dataclass
class AugmentConfig:
    """Image augmentations (domain randomisation) for training images; see ``simvision.sim2real.augment``.

    Off by default (existing runs unchanged); ``enabled: true`` applies the standard domain-randomisation
    values below to the synthetic training images (and to real ones with ``train.augment_real``). Each
    operation fires with its probability ``*_p`` and draws its strength uniformly from its range, from a
    generator seeded by (seed, epoch, image index). Horizontal flips stay ``train.hflip``.
    """

    enabled: bool = False
    scale_p: float = 0.5  # zoom: resize the image by a factor, crop / pad back to the same size
    scale: list[float] = field(default_factory=lambda: [0.6, 1.5])
    scale_min_visible: float = 0.3  # a box cropped to less than this share of its area is dropped
    photometric_p: float = 0.8  # brightness, contrast, saturation, hue (each factor drawn separately)
    brightness: list[float] = field(default_factory=lambda: [0.6, 1.4])
    contrast: list[float] = field(default_factory=lambda: [0.6, 1.4])
    saturation: list[float] = field(default_factory=lambda: [0.5, 1.5])
    hue: list[float] = field(default_factory=lambda: [-0.05, 0.05])
    blur_p: float = 0.2  # Gaussian blur, sigma in pixels
    blur_sigma: list[float] = field(default_factory=lambda: [0.3, 1.5])
    noise_p: float = 0.3  # sensor noise: Gaussian read noise + signal-dependent (Poisson-like) shot noise
    noise_std: list[float] = field(default_factory=lambda: [0.0, 0.03])  # read noise, [0, 1] intensity
    shot_noise: list[float] = field(default_factory=lambda: [0.0, 0.03])  # std = shot * sqrt(intensity)
    jpeg_p: float = 0.3  # JPEG re-compression
    jpeg_quality: list[int] = field(default_factory=lambda: [30, 90])


@dataclass
class TrainConfig:
    epochs_synthetic: int = 12  # synthetic-only and mixed runs
    epochs_real: int = 24  # real-only runs (k images)
    epochs_finetune: int = 12  # synthetic checkpoint fine-tuned on k real images
    batch_size: int = 4
    optimizer: str = "sgd"  # sgd | adamw
    lr: float = 0.01
    finetune_lr: float = 0.005
    momentum: float = 0.9
    weight_decay: float = 1e-4
    warmup_iters: int = 50
    clip_grad_norm: float | None = 10.0
    hflip: float = 0.5
    mixed_real_fraction: float = 0.25  # share of real samples in a mixed epoch (real images repeated)
    num_workers: int = 0
    device: str = "auto"
    amp: bool = False  # mixed precision, CUDA only
    log_every: int = 20
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    augment_real: bool = False  # also augment the real training images (default: synthetic only)
    # synthetic validation split (never the real test): share of the synthetic set held out, by scene
    # (frames of one scene_index stay together); 0 = off (no validation, fixed epochs)
    val_fraction: float = 0.0
    eval_every: int = 1  # validation mAP50 every n epochs (and after the last)
    early_stopping_patience: int = 0  # stop after this many epochs without a better val mAP50; 0 = off


@dataclass
class AnalysisConfig:
    """``mode=analyse``: recall / AP50 of ``checkpoint`` broken down by condition, size, distance, visibility."""

    score_threshold: float = 0.5  # recall counts objects matched by a detection at or above this score
    iou_threshold: float = 0.5
    height_bins: list[float] = field(default_factory=lambda: [0, 16, 32, 64, 128])  # box height, px
    distance_bins: list[float] = field(default_factory=lambda: [0, 5, 10, 20, 40])  # metres (euclidean)
    visible_bins: list[float] = field(default_factory=lambda: [0, 0.25, 0.5, 0.75])
    numeric_bins: int = 3  # quantile bins of continuous conditions
    max_levels: int = 8  # categorical levels kept per condition
    bootstrap: int = 200  # resamples of images for the AP50 interval (0 = none)
    confidence: float = 0.95


@dataclass
class EvalConfig:
    batch_size: int = 4
    iou_threshold: float = 0.5  # a detection is 'correct' for calibration at this IoU
    ece_bins: int = 10
    ece_score_threshold: float = 0.05


@dataclass
class AblationConfig:
    arms: list[str] = field(default_factory=lambda: list(ARMS))
    k: list[int] = field(default_factory=lambda: [8, 32])  # real training images per arm
    seeds: list[int] = field(default_factory=lambda: [0])
    # error analysis of each synthetic model on the synthetic validation split (when train.val_fraction > 0):
    # runs/synthetic_s<seed>/analysis.json + .md
    analyse: bool = True


@dataclass
class Sim2RealConfig:
    mode: str = "ablation"  # ablation | train | evaluate | analyse
    # model classes; every dataset's names map onto these (aliases per set). Not 'classes': that name is
    # the renderer's class-table config group, and Hydra would read 'classes=...' as a group override
    class_names: list[str] = MISSING
    synthetic: DataConfig = field(default_factory=DataConfig)
    real_train: DataConfig = field(default_factory=DataConfig)  # pool the k real images are drawn from
    real_test: DataConfig | None = None  # held-out real set; null: split real_train by split_seed
    real_test_fraction: float = 0.5
    positive_only: bool = True  # draw the k real images among those showing at least one class
    split_seed: int = 1234
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    ablation: AblationConfig = field(default_factory=AblationConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    # mode=train: what to train on and from where; mode=evaluate: which checkpoint
    train_on: str = "synthetic"  # synthetic | real | mixed
    k: int = 8
    seed: int = 0
    init_checkpoint: str | None = None  # fine-tune from this checkpoint (model weights only)
    checkpoint: str | None = None
    output_dir: str = MISSING
    resume: bool = True
    progress: bool = True


def register_sim2real_configs() -> None:
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="sim2real_schema", node=Sim2RealConfig)


def plain_config(cfg: Any) -> tuple[Sim2RealConfig, dict[str, Any]]:
    """(the typed config, its plain resolved dict) from a composed DictConfig or a Sim2RealConfig."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(cfg, DictConfig):
        return OmegaConf.to_object(cfg), OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    return cfg, dataclasses.asdict(cfg)
