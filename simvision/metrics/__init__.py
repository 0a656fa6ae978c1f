"""Domain-gap metrics: pure functions on feature sets, injectable feature extractors, image sources and
the report writer behind ``simvision-gap``. Needs the ``ml`` extra (torch, torchvision, torchmetrics)."""

from simvision.metrics.extractors import (
    EfficientNetLite0Extractor,
    FeatureExtractor,
    InceptionV3Extractor,
    MissingWeightsError,
    PixelExtractor,
    build_extractor,
)
from simvision.metrics.functional import (
    bootstrap_ci,
    density_coverage,
    feature_stats,
    frechet_distance,
    frechet_distance_from_stats,
    kernel_inception_distance,
    precision_recall_knn,
)
from simvision.metrics.gap import GapResult, compare_features, compute_gap
from simvision.metrics.report import write_gap_report

__all__ = [
    "EfficientNetLite0Extractor",
    "FeatureExtractor",
    "GapResult",
    "InceptionV3Extractor",
    "MissingWeightsError",
    "PixelExtractor",
    "bootstrap_ci",
    "build_extractor",
    "compare_features",
    "compute_gap",
    "density_coverage",
    "feature_stats",
    "frechet_distance",
    "frechet_distance_from_stats",
    "kernel_inception_distance",
    "precision_recall_knn",
    "write_gap_report",
]
