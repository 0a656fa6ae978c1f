"""Pure functions on feature sets: Frechet distance, KID, k-NN precision/recall, density/coverage.

Everything here takes plain ``(n, d)`` feature matrices (torch or numpy), so the same code serves the
whole-image comparison, per-class crops, per-condition groups, the real-vs-real floor and every bootstrap
draw, without re-running a network. Feature extraction lives in ``extractors``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torchmetrics.image.kid import maximum_mean_discrepancy, poly_kernel, poly_mmd

ArrayLike = Tensor | np.ndarray

__all__ = [
    "Interval",
    "bootstrap_ci",
    "density_coverage",
    "feature_stats",
    "frechet_distance",
    "frechet_distance_from_stats",
    "kernel_inception_distance",
    "kid_from_kernels",
    "knn_radii",
    "knn_scores",
    "pairwise_distances",
    "poly_kernels",
    "precision_recall_knn",
]


def _as_tensor(x: ArrayLike, dtype: torch.dtype = torch.float64) -> Tensor:
    t = torch.as_tensor(x)
    if t.dim() == 1:
        t = t[:, None]
    if t.dim() != 2:
        raise ValueError(f"expected a (n, d) feature matrix, got shape {tuple(t.shape)}")
    return t.detach().to("cpu", dtype)


def feature_stats(features: ArrayLike) -> tuple[Tensor, Tensor]:
    """Mean and unbiased covariance (divisor n - 1, as torchmetrics' FID) in float64."""
    x = _as_tensor(features)
    if x.shape[0] < 2:
        raise ValueError("need at least 2 samples for a covariance")
    mu = x.mean(0)
    xc = x - mu
    return mu, xc.T @ xc / (x.shape[0] - 1)


def _sqrt_psd(m: Tensor) -> Tensor:
    vals, vecs = torch.linalg.eigh((m + m.T) / 2)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


def frechet_distance_from_stats(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^1/2) for Gaussians given by mean and covariance.

    tr((S1 S2)^1/2) is computed as the sum of square roots of the eigenvalues of S1^1/2 S2 S1^1/2, a
    symmetric PSD matrix, which avoids the complex eigenvalues and sqrtm instabilities of the product.
    """
    m1 = torch.as_tensor(mu1, dtype=torch.float64).reshape(-1)
    m2 = torch.as_tensor(mu2, dtype=torch.float64).reshape(-1)
    s1 = torch.as_tensor(sigma1, dtype=torch.float64).reshape(m1.numel(), m1.numel())
    s2 = torch.as_tensor(sigma2, dtype=torch.float64).reshape(m2.numel(), m2.numel())
    r1 = _sqrt_psd(s1)
    inner = r1 @ s2 @ r1
    tr_sqrt = torch.linalg.eigvalsh((inner + inner.T) / 2).clamp_min(0).sqrt().sum()
    value = (m1 - m2).square().sum() + s1.trace() + s2.trace() - 2 * tr_sqrt
    return float(value.clamp_min(0))


def frechet_distance(features_a: ArrayLike, features_b: ArrayLike) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (FID when the features are Inception's).

    When either set has fewer samples than dimensions, tr((S1 S2)^1/2) equals the nuclear norm of
    Xa_c Xb_c^T / sqrt((na - 1)(nb - 1)) (centred data), an (na x nb) problem instead of a (d x d) one;
    this is what makes bootstrap intervals on 1280-d features cheap.
    """
    a, b = _as_tensor(features_a), _as_tensor(features_b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    if min(a.shape[0], b.shape[0]) < 2:
        raise ValueError("need at least 2 samples per set")
    if min(a.shape[0], b.shape[0]) >= a.shape[1]:
        return frechet_distance_from_stats(*feature_stats(a), *feature_stats(b))
    mu_a, mu_b = a.mean(0), b.mean(0)
    ac, bc = a - mu_a, b - mu_b
    na, nb = a.shape[0] - 1, b.shape[0] - 1
    tr_a = ac.square().sum() / na
    tr_b = bc.square().sum() / nb
    tr_sqrt = torch.linalg.svdvals(ac @ bc.T).sum() / np.sqrt(na * nb)
    value = (mu_a - mu_b).square().sum() + tr_a + tr_b - 2 * tr_sqrt
    return float(value.clamp_min(0))


def poly_kernels(
    features_a: ArrayLike,
    features_b: ArrayLike,
    *,
    degree: int = 3,
    gamma: float | None = None,
    coef: float = 1.0,
    dtype: torch.dtype = torch.float32,
) -> tuple[Tensor, Tensor, Tensor]:
    """KID's polynomial kernel (torchmetrics' ``poly_kernel``, gamma = 1/d by default) for a-a, b-b, a-b.

    Computing the full matrices once lets every KID subset and every resampling draw be a slice.
    """
    a, b = _as_tensor(features_a, dtype), _as_tensor(features_b, dtype)
    return (
        poly_kernel(a, a, degree, gamma, coef),
        poly_kernel(b, b, degree, gamma, coef),
        poly_kernel(a, b, degree, gamma, coef),
    )


def kid_from_kernels(
    k_aa: Tensor,
    k_bb: Tensor,
    k_ab: Tensor,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    generator: torch.Generator | None = None,
) -> tuple[float, float]:
    """Mean and std of torchmetrics' unbiased MMD^2 estimator over random equal-size subsets."""
    n_a, n_b = k_aa.shape[0], k_bb.shape[0]
    m = min(subset_size, n_a, n_b)
    if m < 2:
        raise ValueError("KID needs at least 2 samples per set")
    values = []
    for _ in range(max(1, subsets)):
        ia = torch.randperm(n_a, generator=generator)[:m]
        ib = torch.randperm(n_b, generator=generator)[:m]
        # torchmetrics' argument order is (k_xx, k_xy, k_yy)
        values.append(maximum_mean_discrepancy(k_aa[ia][:, ia], k_ab[ia][:, ib], k_bb[ib][:, ib]))
    v = torch.stack(values).double()
    return float(v.mean()), float(v.std(unbiased=False))


def kernel_inception_distance(
    features_a: ArrayLike,
    features_b: ArrayLike,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef: float = 1.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[float, float]:
    """Kernel Inception Distance: unbiased polynomial-kernel MMD^2, mean and std over random subsets.

    Kernel and estimator are torchmetrics' own; subsets come from an explicit generator so results are
    reproducible, and ``subset_size`` shrinks to the smaller set when needed. float32 kernels agree with
    float64 to about 1e-6 relative and are several times faster.
    """
    a, b = _as_tensor(features_a, dtype), _as_tensor(features_b, dtype)
    if a.shape[0] * b.shape[0] <= 2**26:
        kernels = poly_kernels(a, b, degree=degree, gamma=gamma, coef=coef, dtype=dtype)
        return kid_from_kernels(*kernels, subsets=subsets, subset_size=subset_size, generator=generator)
    m = min(subset_size, a.shape[0], b.shape[0])  # large sets: kernels per subset to bound memory
    values = []
    for _ in range(max(1, subsets)):
        ia = torch.randperm(a.shape[0], generator=generator)[:m]
        ib = torch.randperm(b.shape[0], generator=generator)[:m]
        values.append(poly_mmd(a[ia], b[ib], degree=degree, gamma=gamma, coef=coef))
    v = torch.stack(values).double()
    return float(v.mean()), float(v.std(unbiased=False))


def pairwise_distances(a: ArrayLike, b: ArrayLike, chunk: int = 1024) -> Tensor:
    """Euclidean distances (na x nb) in float32, chunked to bound memory."""
    x, y = _as_tensor(a, torch.float32), _as_tensor(b, torch.float32)
    if x.shape[0] == 0:
        return torch.zeros(0, y.shape[0])
    return torch.cat([torch.cdist(x[i : i + chunk], y) for i in range(0, x.shape[0], chunk)])


def knn_radii(distances_to_self: Tensor, k: int) -> Tensor:
    """Distance of each sample to its k-th nearest other sample, given the (n x n) self-distance matrix."""
    n = distances_to_self.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must be in [1, n - 1] (n = {n}), got {k}")
    d = distances_to_self.clone()
    d.fill_diagonal_(float("inf"))
    return d.kthvalue(k, dim=1).values


def _coverage_matrix(query_to_ref: Tensor, ref_radii: Tensor) -> Tensor:
    """(n_query x n_ref) booleans: query sample lies inside the k-NN ball of a reference sample."""
    return query_to_ref <= ref_radii[None, :]


@dataclass(frozen=True)
class KnnScores:
    precision: float
    recall: float
    density: float
    coverage: float


def knn_scores(d_rr: Tensor, d_ff: Tensor, d_rf: Tensor, k: int) -> KnnScores:
    """All four k-NN manifold scores from precomputed distances (real x real, fake x fake, real x fake),
    so resampling draws can slice one set of distance matrices instead of recomputing them."""
    r_real, r_fake = knn_radii(d_rr, k), knn_radii(d_ff, k)
    inside_real = _coverage_matrix(d_rf.T, r_real)  # fake x real: fake j inside the ball of real i
    inside_fake = _coverage_matrix(d_rf, r_fake)  # real x fake: real i inside the ball of fake j
    precision = inside_real.any(1).float().mean()
    recall = inside_fake.any(1).float().mean()
    density = inside_real.float().sum(1).mean() / k
    coverage = inside_real.any(0).float().mean()
    return KnnScores(float(precision), float(recall), float(density), float(coverage))


def manifold_margins(d_rr: Tensor, d_ff: Tensor, d_rf: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """How far each sample lies from the other set's k-NN manifold, in radii of the nearest covering ball.

    Real sample i: ``min_j d(real_i, fake_j) / r_fake_j``, at most 1 exactly when it lies inside the
    synthetic manifold (what recall counts); synthetic sample j: ``min_i d(fake_j, real_i) / r_real_i``, at
    most 1 exactly when it lies inside the real manifold (what precision counts). The largest real margins
    are what the synthetic set misses; the largest synthetic ones are its least realistic samples.
    """
    r_real, r_fake = knn_radii(d_rr, k), knn_radii(d_ff, k)
    tiny = torch.finfo(d_rf.dtype).tiny
    real_margin = (d_rf / r_fake.clamp_min(tiny)[None, :]).min(1).values
    fake_margin = (d_rf.T / r_real.clamp_min(tiny)[None, :]).min(1).values
    return real_margin, fake_margin


def precision_recall_knn(real: ArrayLike, fake: ArrayLike, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019).

    Precision: share of fake samples inside the real manifold (union of balls reaching each real sample's
    k-th nearest real neighbour); recall: share of real samples inside the fake manifold.
    """
    r, f = _as_tensor(real, torch.float32), _as_tensor(fake, torch.float32)
    s = knn_scores(pairwise_distances(r, r), pairwise_distances(f, f), pairwise_distances(r, f), k)
    return s.precision, s.recall


def density_coverage(real: ArrayLike, fake: ArrayLike, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020): less sensitive to real outliers than precision/recall.

    Density: mean number of real k-NN balls holding a fake sample, divided by k (about 1 when the two sets
    match, can exceed 1). Coverage: share of real balls holding at least one fake sample.
    """
    r, f = _as_tensor(real, torch.float32), _as_tensor(fake, torch.float32)
    s = knn_scores(pairwise_distances(r, r), pairwise_distances(f, f), pairwise_distances(r, f), k)
    return s.density, s.coverage


@dataclass(frozen=True)
class Interval:
    """Resampling interval of a statistic (and the spread of its draws)."""

    low: float
    high: float
    std: float
    level: float
    n_draws: int
    method: str

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "low": self.low,
            "high": self.high,
            "std": self.std,
            "level": self.level,
            "n_draws": self.n_draws,
            "method": self.method,
        }


def bootstrap_ci(
    statistic: Callable[[np.ndarray, np.ndarray], Mapping[str, float]],
    n_a: int,
    n_b: int,
    *,
    n_boot: int = 100,
    level: float = 0.95,
    rng: np.random.Generator,
    method: str = "half",
    point: Mapping[str, float] | None = None,
    groups_a: np.ndarray | None = None,
    groups_b: np.ndarray | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, Interval]:
    """Resampling intervals for every value a two-sample statistic returns.

    ``statistic`` receives index arrays into each set (so callers slice cached features or distances).
    ``method='half'`` draws random halves without replacement (delete-n/2 jackknife): for smooth
    statistics their spread matches that of the full-sample estimate, and unlike draws with replacement
    they contain no duplicate samples, which would bias FD and KID upwards and collapse k-NN radii.
    ``method='replace'`` is the classic bootstrap. With ``point`` the interval is the point estimate plus
    the centred draw quantiles, so the resampling bias of FD (which grows as samples shrink) does not
    move the interval away from the estimate; without it, plain percentiles are returned.
    ``groups_a`` / ``groups_b`` (one id per sample, e.g. the source photo of an object crop) make draws
    take or leave whole groups (cluster resampling): crops of one photo are correlated, and resampling
    them one by one would understate the uncertainty. ``bounds`` clips a value's interval to its range.
    Draws where ``statistic`` raises ``ValueError`` (too few samples for k-NN) are skipped.
    """
    if method not in ("half", "replace"):
        raise ValueError(f"unknown resampling method {method!r}")

    def draw(n: int, groups: np.ndarray | None) -> np.ndarray:
        if groups is None:
            if method == "replace":
                return rng.integers(0, n, n)
            return np.sort(rng.choice(n, max(n // 2, 1), replace=False))
        ids, inverse = np.unique(groups, return_inverse=True)
        members = [np.flatnonzero(inverse == g) for g in range(len(ids))]
        if method == "replace":
            picked = rng.integers(0, len(ids), len(ids))
        else:
            picked = rng.choice(len(ids), max(len(ids) // 2, 1), replace=False)
        return np.sort(np.concatenate([members[g] for g in picked]))

    draws: dict[str, list[float]] = {}
    for _ in range(n_boot):
        ia, ib = draw(n_a, groups_a), draw(n_b, groups_b)
        try:
            values = statistic(ia, ib)
        except ValueError:
            continue
        for name, v in values.items():
            draws.setdefault(name, []).append(float(v))
    alpha = (1 - level) / 2
    out = {}
    for name, vals in draws.items():
        arr = np.asarray(vals)
        lo, hi = np.quantile(arr, [alpha, 1 - alpha])
        if point is not None and name in point:
            lo, hi = point[name] + lo - arr.mean(), point[name] + hi - arr.mean()
        if bounds is not None and name in bounds:
            lo, hi = np.clip([lo, hi], *bounds[name])
        out[name] = Interval(float(lo), float(hi), float(arr.std()), level, len(vals), method)
    return out
