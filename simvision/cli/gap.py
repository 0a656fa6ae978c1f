"""``simvision-gap``: how far is a synthetic set from a real one, overall, per class and per condition.

Example (real COCO128 vs the traffic-cone photos, offline EfficientNet-Lite0 features):
    simvision-gap synthetic.path=../shared/data/real/traffic_cones synthetic.format=yolo
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf
from torch import nn

from simvision.config.checks import ConfigError
from simvision.config.paths import CONF_DIR
from simvision.io.folder import DatasetError
from simvision.metrics.config import GapConfig, SourceConfig, register_gap_configs, validate_breakdown

register_gap_configs()
log = logging.getLogger("simvision.gap")


def load_source(src: SourceConfig, *, seed: int = 0, field: str = "source") -> list[Any]:
    """Records of one image set: those labelling one of ``with_any_of`` if given, then optionally a seeded
    random subset of ``max_images``."""
    from simvision.formats.select import read_source

    return read_source(src, seed=seed, field=field)


def run(cfg: DictConfig | GapConfig, extractor: nn.Module | None = None) -> dict[str, Path]:
    """Compute the gap and write the report; ``extractor`` overrides ``cfg.extractor`` (tests, notebooks)."""
    from simvision.metrics.device import resolve_device
    from simvision.metrics.extractors import build_extractor
    from simvision.metrics.gap import compute_gap
    from simvision.metrics.report import gap_tables, write_gap_report

    c: GapConfig = OmegaConf.to_object(cfg) if isinstance(cfg, DictConfig) else cfg  # type: ignore[assignment]
    validate_breakdown(c.breakdown)
    device = resolve_device(c.extractor.device)
    if extractor is None:  # first, so missing weights fail before any image is read
        extractor = build_extractor(c.extractor.name, c.extractor.weights_path, **dict(c.extractor.kwargs or {}))
    synthetic = load_source(c.synthetic, seed=c.metrics.seed, field="synthetic")
    real = load_source(c.real, seed=c.metrics.seed + 1, field="real")
    log.info(
        "synthetic: %d images from %s; real: %d images from %s",
        len(synthetic),
        c.synthetic.path,
        len(real),
        c.real.path,
    )
    result = compute_gap(
        synthetic,
        real,
        extractor,
        metrics=c.metrics,
        breakdown=c.breakdown,
        synthetic_aliases=dict(c.synthetic.aliases or {}),
        real_aliases=dict(c.real.aliases or {}),
        device=device,
        batch_size=c.extractor.batch_size,
        num_workers=c.extractor.num_workers,
        progress=c.progress,
    )
    context = {
        "synthetic": c.synthetic.name or c.synthetic.path,
        "real": c.real.name or c.real.path,
        "command": " ".join(["simvision-gap", *sys.argv[1:]]),
    }
    written = write_gap_report(
        result, c.output_dir, title=c.report.title, formats=c.report.formats, plots=c.report.plots, context=context
    )
    for name, header, rows in gap_tables(result.summary)[:1]:
        print(f"\n{name}\n" + "\n".join(" | ".join(r) for r in [header, *rows]))
    log.info("report written to %s", Path(c.output_dir).resolve())
    return written


@hydra.main(config_path=str(CONF_DIR), config_name="gap", version_base="1.3")
def _app(cfg: DictConfig) -> None:
    from simvision.metrics.extractors import MissingWeightsError

    try:
        run(cfg)
    except (
        MissingWeightsError,
        FileNotFoundError,
        DatasetError,
        ConfigError,
    ) as exc:  # to fix, not a bug: no traceback
        print(f"simvision-gap: error: {exc}", file=sys.stderr)
        sys.exit(2)


def main() -> None:
    _app()


if __name__ == "__main__":
    main()
