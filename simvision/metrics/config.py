"""Typed schema of ``conf/gap.yaml`` (registered in Hydra's ConfigStore as ``gap_schema``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

__all__ = [
    "BreakdownConfig",
    "ExtractorConfig",
    "GapConfig",
    "GapMetricsConfig",
    "ReportConfig",
    "SourceConfig",
    "register_gap_configs",
]


@dataclass
class SourceConfig:
    """An image set: simvision dataset, COCO JSON, YOLO or KITTI folder, or a plain image folder."""

    path: str = MISSING
    format: str = "auto"  # auto, a name of simvision.formats.format_names() or a dotted path to a LabelFormat
    labels: str | None = None  # YOLO/KITTI label root when not the conventional sibling folder
    names: Any = None  # YOLO/BOP class names: list, {id: name} or a data.yaml path; found nearby when null
    annotations: str | None = None  # COCO JSON when ``path`` is its image root
    # source name -> compared class name, e.g. {road-cone: traffic_cone}. Typed Any (null by default) so a
    # command-line dict override replaces it; Hydra refuses new keys in a typed empty dict
    aliases: Any = None
    max_images: int | None = None  # random subset (seeded) to bound extraction time
    # keep only images labelling at least one of these classes (the source's names, compared case-, "-"- and
    # "_"-insensitively, aliases applied), e.g. COCO128's street photos: [car, bus, truck, traffic light]
    with_any_of: list[str] | None = None
    name: str | None = None  # label in the report (defaults to the folder name)


@dataclass
class ExtractorConfig:
    name: str = "efficientnet_lite0"  # efficientnet_lite0 | inception_v3 | pixels | package.module:Class
    weights_path: str | None = None  # local weights (inception_v3 needs one; nothing is downloaded)
    kwargs: Any = None  # extra constructor arguments (a dict), e.g. {input_size: 299}
    batch_size: int = 32
    num_workers: int = 0
    device: str = "auto"  # auto picks CUDA when present


@dataclass
class GapMetricsConfig:
    k: int = 3  # neighbourhood size of improved precision/recall (Kynkaanniemi et al. use 3)
    k_density: int = 5  # density/coverage (Naeem et al. use 5)
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    kid_subsets_bootstrap: int = 10  # KID subsets inside each bootstrap draw (cost control)
    bootstrap: int = 100  # resampling draws for the intervals; 0 disables them
    resampling: str = "half"  # half: random halves without replacement | replace: classic bootstrap
    ci_level: float = 0.95
    seed: int = 0


@dataclass
class BreakdownConfig:
    per_class: bool = True
    per_condition: bool = True
    classes: list[str] = field(default_factory=list)  # empty: every class both sets label
    min_crop_size: float = 16.0  # pixels, short side of a box
    # fraction of the box's longer side added around it (the crop is square); negative shrinks the square
    # inside the box (-0.5: a square of half the longer side at its centre: mostly the object, little background)
    crop_context: float = 0.1
    max_crops_per_class: int | None = 500
    condition_keys: list[str] | None = None  # null: every recorded condition key
    max_levels: int = 8
    numeric_bins: int = 3
    min_samples: int = 10  # smaller groups are listed as skipped, not scored
    # each condition group (of images, and of each class's crops) is also set against this many random draws of
    # the whole synthetic set as large as the group, since FD grows as samples shrink; 0: none
    same_size_draws: int = 20
    # samples to look at, per set of images and per class of crops: the real ones the synthetic set misses
    # most, the synthetic ones least and most like the real (gap.json "examples" and a sheet each); 0: none
    examples: int = 12


def validate_breakdown(bd: BreakdownConfig) -> None:
    """Raise ``ConfigError`` naming the first bad ``breakdown.*`` field."""
    from simvision.config.checks import ConfigError

    if not float(bd.crop_context) > -1.0:
        raise ConfigError(f"breakdown.crop_context: must be above -1 (a crop of no size), got {bd.crop_context}")
    for key in ("min_crop_size", "max_levels", "numeric_bins", "min_samples", "same_size_draws", "examples"):
        if float(getattr(bd, key)) < 0:
            raise ConfigError(f"breakdown.{key}: must be >= 0, got {getattr(bd, key)}")


@dataclass
class ReportConfig:
    title: str = "Synthetic-to-real domain gap"
    formats: list[str] = field(default_factory=lambda: ["md", "html", "json"])
    plots: bool = True


@dataclass
class GapConfig:
    synthetic: SourceConfig = field(default_factory=SourceConfig)
    real: SourceConfig = field(default_factory=SourceConfig)
    extractor: ExtractorConfig = field(default_factory=ExtractorConfig)
    metrics: GapMetricsConfig = field(default_factory=GapMetricsConfig)
    breakdown: BreakdownConfig = field(default_factory=BreakdownConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    output_dir: str = MISSING
    progress: bool = True


def register_gap_configs() -> None:
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="gap_schema", node=GapConfig)
