"""Domain-gap measurement: synthetic vs real, always next to the real-vs-real floor, with bootstrap
intervals, per class (object crops) and per recorded condition (time of day, weather, preset ...).

A number like "FD 41" means little alone: the floor (two halves of the real set) says how far two
samples of the *same* domain are with this extractor and these sample sizes, and the interval says how
much the number would move with another sample.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from simvision.metrics.config import BreakdownConfig, GapMetricsConfig
from simvision.metrics.functional import (
    bootstrap_ci,
    frechet_distance,
    kid_from_kernels,
    knn_scores,
    pairwise_distances,
    poly_kernels,
)
from simvision.metrics.sources import condition_groups, extract_features, object_crops, whole_images
from simvision.sim2real.classes import ClassMapping, normalise_name
from simvision.sim2real.readers import LabelledImage

log = logging.getLogger(__name__)

__all__ = ["GapResult", "compare_features", "compute_gap", "split_halves"]

METRIC_NAMES = ("frechet_distance", "kid", "precision", "recall", "density", "coverage")


def _seed_generator(rng: np.random.Generator) -> torch.Generator:
    return torch.Generator().manual_seed(int(rng.integers(0, 2**62)))


def compare_features(
    fake: Tensor,
    real: Tensor,
    opts: GapMetricsConfig,
    *,
    rng: np.random.Generator,
    label: str = "",
) -> dict[str, Any]:
    """Every metric for one (fake, real) pair of feature sets, with percentile bootstrap intervals.

    Distances are computed once and resampling draws slice them, so intervals cost little beyond the
    point estimate (see ``bootstrap_ci`` for why draws are random halves by default).
    """
    fake, real = fake.double(), real.double()
    n_f, n_r = len(fake), len(real)
    out: dict[str, Any] = {"label": label, "n_fake": n_f, "n_real": n_r}
    gen = _seed_generator(rng)
    out["frechet_distance"] = frechet_distance(fake, real)
    k_ff, k_rr, k_fr = poly_kernels(fake, real)
    kid, kid_std = kid_from_kernels(k_ff, k_rr, k_fr, subsets=opts.kid_subsets, subset_size=opts.kid_subset_size,
                                    generator=gen)
    out["kid"], out["kid_std"] = kid, kid_std
    d_rr, d_ff, d_rf = pairwise_distances(real, real), pairwise_distances(fake, fake), pairwise_distances(real, fake)
    k_pr, k_dc = min(opts.k, n_r - 1, n_f - 1), min(opts.k_density, n_r - 1, n_f - 1)
    if k_pr >= 1:
        s = knn_scores(d_rr, d_ff, d_rf, k_pr)
        out["precision"], out["recall"] = s.precision, s.recall
        s = knn_scores(d_rr, d_ff, d_rf, k_dc)
        out["density"], out["coverage"] = s.density, s.coverage
        out["k"], out["k_density"] = k_pr, k_dc

    def statistic(i_f: np.ndarray, i_r: np.ndarray) -> dict[str, float]:
        values = {"frechet_distance": frechet_distance(fake[i_f], real[i_r])}
        values["kid"] = kid_from_kernels(
            k_ff[i_f][:, i_f], k_rr[i_r][:, i_r], k_fr[i_f][:, i_r],
            subsets=opts.kid_subsets_bootstrap, subset_size=opts.kid_subset_size, generator=gen,
        )[0]
        if k_pr >= 1 and min(len(i_f), len(i_r)) > max(k_pr, k_dc):
            rr, ff, rf = d_rr[i_r][:, i_r], d_ff[i_f][:, i_f], d_rf[i_r][:, i_f]
            s = knn_scores(rr, ff, rf, k_pr)
            values["precision"], values["recall"] = s.precision, s.recall
            s = knn_scores(rr, ff, rf, k_dc)
            values["density"], values["coverage"] = s.density, s.coverage
        return values

    if opts.bootstrap > 0:
        point = {k: out[k] for k in METRIC_NAMES if k in out}
        ci = bootstrap_ci(statistic, n_f, n_r, n_boot=opts.bootstrap, level=opts.ci_level, rng=rng,
                          method=opts.resampling, point=point)
        out["ci"] = {name: iv.as_dict() for name, iv in ci.items()}
    return out


def split_halves(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    perm = rng.permutation(n)
    return np.sort(perm[: n // 2]), np.sort(perm[n // 2 :])


def _floor_and_matched(
    fake: Tensor, real: Tensor, opts: GapMetricsConfig, rng: np.random.Generator, label: str
) -> dict[str, Any]:
    """Synthetic vs all real, the real floor (half A vs half B) and synthetic at |A| vs half B: the last
    one has the floor's sample sizes, so it is the apples-to-apples comparison with the floor."""
    out: dict[str, Any] = {"synthetic_vs_real": compare_features(fake, real, opts, rng=rng, label=label)}
    if len(real) >= 4:
        ia, ib = split_halves(len(real), rng)
        out["real_floor"] = compare_features(real[ia], real[ib], opts, rng=rng, label=f"{label} real A vs B")
        take = np.sort(rng.permutation(len(fake))[: len(ia)])
        out["matched"] = compare_features(fake[take], real[ib], opts, rng=rng, label=f"{label} synthetic vs real B")
    return out


@dataclass
class GapResult:
    """JSON-ready numbers plus the whole-image features (kept for plots, not serialised)."""

    summary: dict[str, Any]
    features: dict[str, Tensor] = field(default_factory=dict)


def _alias_name(aliases: dict[str, str], label: str) -> str:
    norm = {normalise_name(k): v for k, v in aliases.items()}
    return normalise_name(norm.get(normalise_name(label), label))


def _mapping(classes: list[str], aliases: dict[str, str]) -> ClassMapping:
    """Aliases whose target is not compared are dropped rather than rejected."""
    return ClassMapping(classes, {k: v for k, v in aliases.items() if normalise_name(v) in classes})


def compute_gap(
    synthetic: Sequence[LabelledImage],
    real: Sequence[LabelledImage],
    extractor: nn.Module,
    *,
    metrics: GapMetricsConfig | None = None,
    breakdown: BreakdownConfig | None = None,
    synthetic_aliases: dict[str, str] | None = None,
    real_aliases: dict[str, str] | None = None,
    device: torch.device | str = "cpu",
    batch_size: int = 32,
    num_workers: int = 0,
    progress: bool = True,
) -> GapResult:
    """Extract features once per image / crop, then score every comparison from the cached features."""
    opts = metrics or GapMetricsConfig()
    bd = breakdown or BreakdownConfig()
    syn_aliases, real_aliases_ = dict(synthetic_aliases or {}), dict(real_aliases or {})
    rng = np.random.default_rng(opts.seed)
    timing: dict[str, float] = {}
    skipped: list[str] = []
    kw = {"device": device, "batch_size": batch_size, "num_workers": num_workers, "progress": progress}

    t0 = time.perf_counter()
    f_syn = extract_features(whole_images(synthetic), extractor, desc="synthetic images", **kw)
    f_real = extract_features(whole_images(real), extractor, desc="real images", **kw)
    timing["extract_images_s"] = time.perf_counter() - t0
    n_img = len(synthetic) + len(real)
    timing["images_per_s"] = n_img / max(timing["extract_images_s"], 1e-9)

    t0 = time.perf_counter()
    summary: dict[str, Any] = {
        "extractor": {
            "name": getattr(extractor, "name", type(extractor).__name__),
            "num_features": int(getattr(extractor, "num_features", f_syn.shape[1])),
            "input_size": int(getattr(extractor, "input_size", 0)),
            "device": str(device),
        },
        "n_synthetic_images": len(synthetic),
        "n_real_images": len(real),
        "overall": _floor_and_matched(f_syn, f_real, opts, rng, "all images"),
    }
    timing["overall_s"] = time.perf_counter() - t0

    if bd.per_condition:
        t0 = time.perf_counter()
        per_condition: dict[str, Any] = {}
        groups = condition_groups(synthetic, keys=bd.condition_keys, max_levels=bd.max_levels,
                                  numeric_bins=bd.numeric_bins)
        for name, idx in groups.items():
            if len(idx) < bd.min_samples:
                skipped.append(f"condition {name}: {len(idx)} synthetic images < min_samples={bd.min_samples}")
                continue
            per_condition[name] = compare_features(f_syn[idx], f_real, opts, rng=rng, label=name)
        if not groups:
            skipped.append("per-condition: no condition with two or more levels in the synthetic metadata")
        summary["per_condition"] = per_condition
        timing["per_condition_s"] = time.perf_counter() - t0

    if bd.per_class:
        t0 = time.perf_counter()
        syn_names = {_alias_name(syn_aliases, lbl) for r in synthetic for lbl in r.labels}
        real_names = {_alias_name(real_aliases_, lbl) for r in real for lbl in r.labels}
        classes = [normalise_name(c) for c in bd.classes] or sorted(syn_names & real_names)
        per_class: dict[str, Any] = {}
        if classes:
            syn_map, real_map = _mapping(classes, syn_aliases), _mapping(classes, real_aliases_)
            crop_kw = {"min_size": bd.min_crop_size, "max_per_class": bd.max_crops_per_class, "rng": rng}
            syn_crops = object_crops(synthetic, syn_map, **crop_kw)
            real_crops = object_crops(real, real_map, **crop_kw)
            ckw = {**kw, "context": bd.crop_context}
            t1 = time.perf_counter()
            fc_syn = extract_features(syn_crops, extractor, desc="synthetic crops", **ckw)
            fc_real = extract_features(real_crops, extractor, desc="real crops", **ckw)
            timing["extract_crops_s"] = time.perf_counter() - t1
            syn_lbl = np.asarray([c.label for c in syn_crops])
            real_lbl = np.asarray([c.label for c in real_crops])
            for cls in classes:
                i_s, i_r = np.flatnonzero(syn_lbl == cls), np.flatnonzero(real_lbl == cls)
                if min(len(i_s), len(i_r)) < bd.min_samples:
                    skipped.append(f"class {cls}: {len(i_s)} synthetic / {len(i_r)} real crops "
                                   f"(>= {bd.min_crop_size:g} px) < min_samples={bd.min_samples}")
                    continue
                entry = _floor_and_matched(fc_syn[i_s], fc_real[i_r], opts, rng, cls)
                entry["n_synthetic_crops"], entry["n_real_crops"] = len(i_s), len(i_r)
                per_class[cls] = entry
        else:
            skipped.append("per-class: the two sets share no labelled class (set breakdown.classes or aliases)")
        summary["per_class"] = per_class
        timing["per_class_s"] = time.perf_counter() - t0

    summary["skipped"] = skipped
    summary["timing"] = timing
    summary["metrics_config"] = {k: getattr(opts, k) for k in opts.__dataclass_fields__}
    return GapResult(summary, {"synthetic": f_syn, "real": f_real})
