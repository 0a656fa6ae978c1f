"""Domain-gap measurement: synthetic vs real, always next to the real-vs-real floor, with bootstrap
intervals, per class (object crops) and per recorded condition (time of day, weather, preset ...).

A number like "FD 41" means little alone: the floor (two halves of the real set) says how far two
samples of the *same* domain are with this extractor and these sample sizes, and the interval says how
much the number would move with another sample.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from simvision.formats import LabelledImage
from simvision.formats.classes import ClassMapping, normalise_name
from simvision.metrics.config import BreakdownConfig, GapMetricsConfig
from simvision.metrics.functional import (
    bootstrap_ci,
    frechet_distance,
    kid_from_kernels,
    knn_scores,
    manifold_margins,
    pairwise_distances,
    poly_kernels,
)
from simvision.metrics.sources import (
    ImageSample,
    condition_groups,
    extract_features,
    object_crops,
    short_side,
    whole_images,
)

log = logging.getLogger(__name__)

__all__ = ["GapResult", "compare_features", "compute_gap", "split_halves"]

METRIC_NAMES = ("frechet_distance", "kid", "precision", "recall", "density", "coverage")
INF = float("inf")
# a class's synthetic and real crops whose median short sides differ by this factor or more get a caution:
# upsampled small crops lose detail that no renderer change can give back at that size
CROP_SIZE_CAUTION = 1.5
# ranges the intervals are clipped to (KID's unbiased estimate may be negative)
BOUNDS = {
    "frechet_distance": (0.0, INF),
    "precision": (0.0, 1.0),
    "recall": (0.0, 1.0),
    "density": (0.0, INF),
    "coverage": (0.0, 1.0),
}


def _seed_generator(rng: np.random.Generator) -> torch.Generator:
    return torch.Generator().manual_seed(int(rng.integers(0, 2**62)))


def compare_features(
    fake: Tensor,
    real: Tensor,
    opts: GapMetricsConfig,
    *,
    rng: np.random.Generator,
    label: str = "",
    groups_fake: np.ndarray | None = None,
    groups_real: np.ndarray | None = None,
) -> dict[str, Any]:
    """Every metric for one (fake, real) pair of feature sets, with resampling intervals.

    Distances are computed once and resampling draws slice them, so intervals cost little beyond the
    point estimate (see ``bootstrap_ci`` for why draws are random halves by default). ``groups_*`` (the
    source photo of each crop) make draws take whole photos.
    """
    fake, real = fake.double(), real.double()
    n_f, n_r = len(fake), len(real)
    out: dict[str, Any] = {"label": label, "n_fake": n_f, "n_real": n_r}
    gen = _seed_generator(rng)
    out["frechet_distance"] = frechet_distance(fake, real)
    k_ff, k_rr, k_fr = poly_kernels(fake, real)
    kid, kid_std = kid_from_kernels(
        k_ff, k_rr, k_fr, subsets=opts.kid_subsets, subset_size=opts.kid_subset_size, generator=gen
    )
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
            k_ff[i_f][:, i_f],
            k_rr[i_r][:, i_r],
            k_fr[i_f][:, i_r],
            subsets=opts.kid_subsets_bootstrap,
            subset_size=opts.kid_subset_size,
            generator=gen,
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
        ci = bootstrap_ci(
            statistic,
            n_f,
            n_r,
            n_boot=opts.bootstrap,
            level=opts.ci_level,
            rng=rng,
            method=opts.resampling,
            point=point,
            groups_a=groups_fake,
            groups_b=groups_real,
            bounds=BOUNDS,
        )
        out["ci"] = {name: iv.as_dict() for name, iv in ci.items()}
    return out


def split_halves(n: int, rng: np.random.Generator, groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two random halves; with ``groups`` every group (source photo) goes wholly to one half, so crops of
    one photo never sit on both sides of the floor (they are near-duplicates and would lower it)."""
    if groups is None:
        perm = rng.permutation(n)
        return np.sort(perm[: n // 2]), np.sort(perm[n // 2 :])
    in_a = _whole_groups(groups, n / 2, rng)
    return np.flatnonzero(in_a), np.flatnonzero(~in_a)


def _whole_groups(groups: np.ndarray, target: float, rng: np.random.Generator) -> np.ndarray:
    """A mask of whole groups drawn in random order until it holds ``target`` samples or more."""
    ids, inverse = np.unique(groups, return_inverse=True)
    taken = np.zeros(len(groups), bool)
    count = 0
    for g in rng.permutation(len(ids)):
        if count >= target:
            break
        members = inverse == g
        taken |= members
        count += int(members.sum())
    return taken


def same_size_reference(
    entry: dict[str, Any],
    fake: Tensor,
    real: Tensor,
    *,
    draws: int,
    seed: int,
    groups_fake: np.ndarray | None = None,
) -> None:
    """Add ``entry["same_size"]``: how far random draws of the *whole* synthetic set, as large as the group
    ``entry`` scored, are from ``real``, and the group's FD relative to them.

    FD grows as a sample shrinks (a covariance estimated from 13 images is far from the population's), so
    a small condition group's raw FD overstates how far that condition is: a rain group of 13 frames scores
    more than the whole set even if rain looked like every other frame. ``relative`` (group FD over the
    draws' mean) and ``share_at_least`` (the draws at least as far as the group) do not have that bias:
    above 1 and near 0, the condition itself is farther. With ``groups_fake`` (each crop's source photo),
    draws take whole photos, as a condition's crops come in whole photos. Draws use their own generator
    (``seed`` and the group's label), so adding them moves no other number.
    """
    n = int(entry["n_fake"])
    rng = np.random.default_rng([int(seed), zlib.crc32(str(entry.get("label", "")).encode())])
    groups = np.arange(len(fake)) if groups_fake is None else groups_fake
    values = np.asarray(
        [frechet_distance(fake[np.flatnonzero(_whole_groups(groups, n, rng))], real) for _ in range(draws)]
    )
    fd = float(entry["frechet_distance"])
    mean = float(values.mean())
    entry["same_size"] = {
        "draws": int(draws),
        "frechet_distance_mean": mean,
        "frechet_distance_low": float(np.quantile(values, 0.05)),
        "frechet_distance_high": float(np.quantile(values, 0.95)),
        "relative": fd / mean if mean > 0 else None,
        "share_at_least": float((values >= fd).mean()),
    }


def _floor_and_matched(
    fake: Tensor,
    real: Tensor,
    opts: GapMetricsConfig,
    rng: np.random.Generator,
    label: str,
    groups_fake: np.ndarray | None = None,
    groups_real: np.ndarray | None = None,
) -> dict[str, Any]:
    """Synthetic vs all real, the real floor (half A vs half B) and synthetic at |A| vs half B: the last
    one has the floor's sample sizes, so it is the apples-to-apples comparison with the floor."""
    gf, gr = groups_fake, groups_real
    out: dict[str, Any] = {
        "synthetic_vs_real": compare_features(fake, real, opts, rng=rng, label=label, groups_fake=gf, groups_real=gr)
    }
    if len(real) >= 4:
        # the split and the floor draw from their own generator, seeded by the comparison alone: every synthetic
        # set measured against the same real set meets the same floor and the same half B, so two runs' ratios
        # differ by their synthetic side only
        floor_rng = np.random.default_rng([int(opts.seed), zlib.crc32(label.encode())])
        ia, ib = split_halves(len(real), floor_rng, gr)
        if min(len(ia), len(ib)) < 2:
            return out
        out["real_floor"] = compare_features(
            real[ia],
            real[ib],
            opts,
            rng=floor_rng,
            label=f"{label} real A vs B",
            groups_fake=None if gr is None else gr[ia],
            groups_real=None if gr is None else gr[ib],
        )
        take = np.sort(rng.permutation(len(fake))[: len(ia)])
        out["matched"] = compare_features(
            fake[take],
            real[ib],
            opts,
            rng=rng,
            label=f"{label} synthetic vs real B",
            groups_fake=None if gf is None else gf[take],
            groups_real=None if gr is None else gr[ib],
        )
    return out


def pick_examples(
    fake: Tensor,
    real: Tensor,
    fake_samples: Sequence[ImageSample],
    real_samples: Sequence[ImageSample],
    *,
    k: int,
    n: int,
) -> dict[str, Any]:
    """The samples to look at: the ``n`` real ones farthest outside the synthetic manifold (what the synthetic
    set misses), the ``n`` synthetic ones farthest outside the real manifold (its least realistic) and the
    ``n`` synthetic ones deepest inside it (its most realistic), each with its margin
    (:func:`manifold_margins`: at most 1 = inside). Empty when the sets are too small for ``k`` neighbours."""
    k = min(k, len(real) - 1, len(fake) - 1)
    if k < 1 or n < 1:
        return {}
    real_margin, fake_margin = manifold_margins(
        pairwise_distances(real, real), pairwise_distances(fake, fake), pairwise_distances(real, fake), k
    )

    def listed(samples: Sequence[ImageSample], margins: Tensor, order: Tensor) -> list[dict[str, Any]]:
        return [
            {
                "path": str(samples[i].path),
                "box": None if samples[i].box is None else [float(v) for v in samples[i].box],
                "margin": float(margins[i]),
            }
            for i in order[:n].tolist()
        ]

    return {
        "k": k,
        "real_least_covered": listed(real_samples, real_margin, torch.argsort(real_margin, descending=True)),
        "synthetic_least_realistic": listed(fake_samples, fake_margin, torch.argsort(fake_margin, descending=True)),
        "synthetic_most_realistic": listed(fake_samples, fake_margin, torch.argsort(fake_margin)),
        "real_covered_share": float((real_margin <= 1).float().mean()),
        "synthetic_inside_share": float((fake_margin <= 1).float().mean()),
    }


@dataclass
class GapResult:
    """JSON-ready numbers plus the whole-image features (kept for plots, not serialised)."""

    summary: dict[str, Any]
    features: dict[str, Tensor] = field(default_factory=dict)


def _class_names(records: Sequence[LabelledImage], aliases: dict[str, str]) -> dict[str, str]:
    """Normalised class name -> how the set spells it (alias targets win), for matching across sets."""
    norm_aliases = {normalise_name(k): v for k, v in aliases.items()}
    names: dict[str, str] = {}
    for r in records:
        for label in r.labels:
            shown = norm_aliases.get(normalise_name(label), label)
            names.setdefault(normalise_name(shown), shown)
    return names


def _mapping(classes: list[str], aliases: dict[str, str]) -> ClassMapping:
    """Aliases whose target is not compared are dropped rather than rejected."""
    wanted = {normalise_name(c) for c in classes}
    return ClassMapping(classes, {k: v for k, v in aliases.items() if normalise_name(v) in wanted})


@dataclass
class _CropSet:
    """Embedded object crops of one set, with each crop's class and source photo."""

    features: Tensor
    labels: np.ndarray
    photos: np.ndarray
    short_sides: np.ndarray  # pixels, each crop's box before it is resized to the extractor's input
    samples: list[ImageSample]

    @classmethod
    def of(cls, crops: Sequence[ImageSample], features: Tensor) -> _CropSet:
        """Labels and photos are kept as arrays so one class's rows are a single comparison away."""
        labels = np.asarray([str(c.label) for c in crops])
        sides = np.asarray([short_side(c.box) if c.box else np.nan for c in crops])
        return cls(features, labels, np.asarray([str(c.path) for c in crops]), sides, list(crops))


class _GapRun:
    """One compute_gap call: its settings, the random stream that every comparison draws from (in a fixed
    order, so the numbers are reproducible), and what it notes on the way: skipped comparisons, timings."""

    def __init__(
        self,
        extractor: nn.Module,
        opts: GapMetricsConfig,
        bd: BreakdownConfig,
        *,
        device: torch.device | str,
        batch_size: int,
        num_workers: int,
        progress: bool,
    ) -> None:
        self.extractor, self.opts, self.bd = extractor, opts, bd
        self.device, self.batch_size, self.num_workers, self.progress = device, batch_size, num_workers, progress
        self.rng = np.random.default_rng(opts.seed)
        self.timing: dict[str, float] = {}
        self.skipped: list[str] = []
        self.cautions: list[str] = []  # comparisons that ran but may mislead (crops of very different sizes)
        self._groups: dict[str, list[int]] | None = None  # condition_groups of the run's synthetic set

    @contextmanager
    def timed(self, key: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.timing[key] = time.perf_counter() - t0

    def embed(self, samples: Sequence[ImageSample], desc: str, context: float = 0.1) -> Tensor:
        """Features of whole images or crops, with the caller's device and batching."""
        return extract_features(
            samples,
            self.extractor,
            device=self.device,
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            context=context,
            desc=desc,
            progress=self.progress,
        )

    def extractor_info(self, num_features: int) -> dict[str, Any]:
        """The extractor's self-description; ``num_features`` when it does not say."""
        ext = self.extractor
        return {
            "name": getattr(ext, "name", type(ext).__name__),
            "num_features": int(getattr(ext, "num_features", num_features)),
            "input_size": int(getattr(ext, "input_size", 0)),
            "device": str(self.device),
        }

    def condition_groups(self, synthetic: Sequence[LabelledImage]) -> dict[str, list[int]]:
        """The synthetic images of each recorded condition level, grouped once per run (whole images and each
        class's crops use the same groups)."""
        if self._groups is None:
            bd = self.bd
            self._groups = condition_groups(
                synthetic, keys=bd.condition_keys, max_levels=bd.max_levels, numeric_bins=bd.numeric_bins
            )
        return self._groups

    def per_condition(self, synthetic: Sequence[LabelledImage], f_syn: Tensor, f_real: Tensor) -> dict[str, Any]:
        """Synthetic images of each recorded condition level against all real images."""
        bd = self.bd
        groups = self.condition_groups(synthetic)
        per_condition: dict[str, Any] = {}
        for name, idx in groups.items():
            if len(idx) < bd.min_samples:
                self.skipped.append(f"condition {name}: {len(idx)} synthetic images < min_samples={bd.min_samples}")
                continue
            per_condition[name] = compare_features(f_syn[idx], f_real, self.opts, rng=self.rng, label=name)
            if bd.same_size_draws > 0:
                same_size_reference(per_condition[name], f_syn, f_real, draws=bd.same_size_draws, seed=self.opts.seed)
        if not groups:
            self.skipped.append("per-condition: no condition with two or more levels in the synthetic metadata")
        return per_condition

    def per_class(
        self,
        synthetic: Sequence[LabelledImage],
        real: Sequence[LabelledImage],
        syn_aliases: dict[str, str],
        real_aliases: dict[str, str],
    ) -> dict[str, Any]:
        """Object crops of each compared class: synthetic vs real, with the real floor of that class."""
        bd = self.bd
        classes = _compared_classes(synthetic, real, bd, syn_aliases, real_aliases)
        if not classes:
            self.skipped.append("per-class: the two sets share no labelled class (set breakdown.classes or aliases)")
            return {}
        syn_crops, real_crops = self.crops(synthetic, classes, syn_aliases), self.crops(real, classes, real_aliases)
        # embed only classes with enough crops on both sides: the rest would be skipped anyway
        n_syn = Counter(str(c.label) for c in syn_crops)
        n_real = Counter(str(c.label) for c in real_crops)
        scored = {c for c in classes if min(n_syn[c], n_real[c]) >= bd.min_samples}
        syn_crops = [c for c in syn_crops if c.label in scored]
        real_crops = [c for c in real_crops if c.label in scored]
        with self.timed("extract_crops_s"):
            syn = _CropSet.of(syn_crops, self.embed(syn_crops, "synthetic crops", bd.crop_context))
            real_set = _CropSet.of(real_crops, self.embed(real_crops, "real crops", bd.crop_context))
        per_class: dict[str, Any] = {}
        for cls in classes:
            if cls not in scored:
                self.skipped.append(
                    f"class {cls}: {n_syn[cls]} synthetic / {n_real[cls]} real crops "
                    f"(>= {bd.min_crop_size:g} px) < min_samples={bd.min_samples}"
                )
                continue
            per_class[cls] = self.score_class(cls, syn, real_set)
        if bd.per_condition:
            self.crops_per_condition(per_class, synthetic, syn, real_set)
        return per_class

    def crops_per_condition(
        self, per_class: dict[str, Any], synthetic: Sequence[LabelledImage], syn: _CropSet, real: _CropSet
    ) -> None:
        """Each scored class's crops from the frames of each recorded condition level, against all real
        crops of the class, with a same-size reference (``per_class[cls]["per_condition"]``): which conditions'
        cones are farthest, not only which frames."""
        bd = self.bd
        groups = self.condition_groups(synthetic)
        frame_of = {str(r.path): i for i, r in enumerate(synthetic)}
        crop_frames = np.asarray([frame_of.get(p, -1) for p in syn.photos])
        for cls, entry in per_class.items():
            i_s, i_r = np.flatnonzero(syn.labels == cls), np.flatnonzero(real.labels == cls)
            scored, small = {}, 0
            for name, frames in groups.items():
                idx = i_s[np.isin(crop_frames[i_s], frames)]
                if len(idx) < bd.min_samples or len(idx) == len(i_s):
                    small += len(idx) < bd.min_samples
                    continue
                label = f"{cls} {name}"
                scored[name] = compare_features(
                    syn.features[idx],
                    real.features[i_r],
                    self.opts,
                    rng=self.rng,
                    label=label,
                    groups_fake=syn.photos[idx],
                    groups_real=real.photos[i_r],
                )
                if bd.same_size_draws > 0:
                    same_size_reference(
                        scored[name],
                        syn.features[i_s],
                        real.features[i_r],
                        draws=bd.same_size_draws,
                        seed=self.opts.seed,
                        groups_fake=syn.photos[i_s],
                    )
            entry["per_condition"] = scored
            if small:
                self.skipped.append(f"class {cls}: {small} condition levels with < min_samples={bd.min_samples} crops")

    def crops(self, records: Sequence[LabelledImage], classes: list[str], aliases: dict[str, str]) -> list[ImageSample]:
        """Crops of the compared classes; aliases whose target is not compared are dropped."""
        bd = self.bd
        mapping = _mapping(classes, aliases)
        return object_crops(
            records, mapping, min_size=bd.min_crop_size, max_per_class=bd.max_crops_per_class, rng=self.rng
        )

    def score_class(self, cls: str, syn: _CropSet, real: _CropSet) -> dict[str, Any]:
        """Crops of one photo are resampled together (they are near-duplicates)."""
        i_s, i_r = np.flatnonzero(syn.labels == cls), np.flatnonzero(real.labels == cls)
        entry = _floor_and_matched(
            syn.features[i_s],
            real.features[i_r],
            self.opts,
            self.rng,
            cls,
            groups_fake=syn.photos[i_s],
            groups_real=real.photos[i_r],
        )
        entry["n_synthetic_crops"], entry["n_real_crops"] = len(i_s), len(i_r)
        if self.bd.examples > 0:
            entry["examples"] = pick_examples(
                syn.features[i_s],
                real.features[i_r],
                [syn.samples[i] for i in i_s],
                [real.samples[i] for i in i_r],
                k=self.opts.k,
                n=self.bd.examples,
            )
        px_s, px_r = float(np.median(syn.short_sides[i_s])), float(np.median(real.short_sides[i_r]))
        entry["crop_short_side_px"] = {"synthetic": px_s, "real": px_r}
        ratio = max(px_s, px_r) / max(min(px_s, px_r), 1e-9)
        if ratio >= CROP_SIZE_CAUTION:
            smaller = "synthetic" if px_s < px_r else "real"
            self.cautions.append(
                f"class {cls}: the synthetic crops are a median {px_s:.0f} px on their short side, the real ones "
                f"{px_r:.0f} px ({ratio:.1f}x): every crop is resized to the extractor's input, so the crop FD "
                f"also measures the {smaller} crops' missing detail; compare at matching pixel sizes (e.g. render "
                f"at about {px_r / max(px_s, 1e-9):.2g}x this resolution) before reading it as a gap in content"
            )
        return entry


def _compared_classes(
    synthetic: Sequence[LabelledImage],
    real: Sequence[LabelledImage],
    bd: BreakdownConfig,
    syn_aliases: dict[str, str],
    real_aliases: dict[str, str],
) -> list[str]:
    """``breakdown.classes``, else the classes both sets label, spelled as the synthetic set spells them."""
    if bd.classes:
        return list(bd.classes)
    syn_names, real_names = _class_names(synthetic, syn_aliases), _class_names(real, real_aliases)
    return [syn_names[n] for n in sorted(set(syn_names) & set(real_names))]


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
    run = _GapRun(extractor, opts, bd, device=device, batch_size=batch_size, num_workers=num_workers, progress=progress)
    with run.timed("extract_images_s"):
        f_syn = run.embed(whole_images(synthetic), "synthetic images")
        f_real = run.embed(whole_images(real), "real images")
    run.timing["images_per_s"] = (len(synthetic) + len(real)) / max(run.timing["extract_images_s"], 1e-9)
    with run.timed("overall_s"):
        summary: dict[str, Any] = {
            "extractor": run.extractor_info(f_syn.shape[1]),
            "n_synthetic_images": len(synthetic),
            "n_real_images": len(real),
            "overall": _floor_and_matched(f_syn, f_real, opts, run.rng, "all images"),
        }
        if bd.examples > 0:
            summary["overall"]["examples"] = pick_examples(
                f_syn, f_real, whole_images(synthetic), whole_images(real), k=opts.k, n=bd.examples
            )
    if bd.per_condition:
        with run.timed("per_condition_s"):
            summary["per_condition"] = run.per_condition(synthetic, f_syn, f_real)
    if bd.per_class:
        with run.timed("per_class_s"):
            aliases = dict(synthetic_aliases or {}), dict(real_aliases or {})
            summary["per_class"] = run.per_class(synthetic, real, *aliases)
    summary["skipped"] = run.skipped
    summary["cautions"] = run.cautions
    summary["timing"] = run.timing
    summary["metrics_config"] = {k: getattr(opts, k) for k in opts.__dataclass_fields__}
    summary["breakdown_config"] = {k: getattr(bd, k) for k in bd.__dataclass_fields__}
    return GapResult(summary, {"synthetic": f_syn, "real": f_real})
