"""Domain-gap metrics: hand-computed values on tiny feature sets, torchmetrics twins, injected extractors,
and the ``simvision-gap`` app end to end on a toy synthetic set against real traffic-cone photos."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from PIL import Image
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from simvision.config.paths import CONF_DIR
from simvision.formats import LabelledImage
from simvision.metrics import (
    EfficientNetLite0Extractor,
    MissingWeightsError,
    PixelExtractor,
    bootstrap_ci,
    build_extractor,
    density_coverage,
    feature_stats,
    frechet_distance,
    frechet_distance_from_stats,
    kernel_inception_distance,
    precision_recall_knn,
)
from simvision.metrics.config import BreakdownConfig, GapMetricsConfig
from simvision.metrics.gap import compare_features, same_size_reference, split_halves
from simvision.metrics.sources import ImageSample, condition_groups, extract_features
from tests.toy_data import write_toy_dataset

REAL = CONF_DIR.parent.parent / "shared" / "data" / "real"
CONES = REAL / "traffic_cones"
needs_cones = pytest.mark.skipif(not (CONES / "valid").is_dir(), reason="shared real traffic-cone set not present")


class PassThrough(nn.Module):
    """Lets torchmetrics' own metric classes consume precomputed features."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.num_features = d

    def forward(self, x: Tensor) -> Tensor:
        return x


class MeanColourExtractor(nn.Module):
    """The injected tiny extractor: per-channel mean and std of the image (6 features)."""

    name = "mean_colour"
    num_features = 6
    input_size = 16

    def forward(self, x: Tensor) -> Tensor:
        x = x.float() / 255
        return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)


# ---------------------------------------------------------------- Frechet distance


def test_frechet_distance_hand_computed_1d() -> None:
    # a: mean 1, unbiased var 2; b: mean 2, var 2 -> (1-2)^2 + 2 + 2 - 2*sqrt(2*2) = 1
    assert frechet_distance([[0.0], [2.0]], [[1.0], [3.0]]) == pytest.approx(1.0)


def test_frechet_distance_hand_computed_2d() -> None:
    a = np.array([[0, 0], [2, 0], [0, 2], [2, 2]], float)  # mean (1, 1), cov diag(4/3, 4/3)
    b = a * 2 + 5  # mean (7, 7), cov diag(16/3, 16/3)
    # 72 + (8/3 + 32/3) - 2 * 2 * sqrt(64/9) = 72 + 8/3
    expected = 72 + 8 / 3
    assert frechet_distance(a, b) == pytest.approx(expected)
    assert frechet_distance_from_stats(*feature_stats(a), *feature_stats(b)) == pytest.approx(expected)


def test_frechet_distance_identical_sets_is_zero() -> None:
    x = torch.randn(40, 8, generator=torch.Generator().manual_seed(0))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(x[:5], x[:5]) == pytest.approx(0.0, abs=1e-8)  # n < d path


def test_frechet_distance_matches_torchmetrics_on_both_paths() -> None:
    g = torch.Generator().manual_seed(1)
    for n_a, n_b, d in ((30, 25, 8), (6, 9, 20)):  # n >= d (d x d path) and n < d (Gram path)
        a = torch.randn(n_a, d, generator=g, dtype=torch.float64)
        b = torch.randn(n_b, d, generator=g, dtype=torch.float64) * 1.5 + 0.3
        fid = FrechetInceptionDistance(feature=PassThrough(d))
        fid.update(a, real=True)
        fid.update(b, real=False)
        assert frechet_distance(a, b) == pytest.approx(float(fid.compute()), rel=1e-6, abs=1e-8)
        assert frechet_distance(a, b) == pytest.approx(
            frechet_distance_from_stats(*feature_stats(a), *feature_stats(b)), rel=1e-6
        )


# ---------------------------------------------------------------- KID


def test_kid_hand_computed_linear_kernel() -> None:
    # k(x, y) = x * y: within a = 1*3 twice / (2*1) = 3; within b = 0; across = 2*(0+2+0+6)/4 = 4
    mean, std = kernel_inception_distance(
        [[1.0], [3.0]], [[0.0], [2.0]], subsets=3, subset_size=2, degree=1, gamma=1.0, coef=0.0, dtype=torch.float64
    )
    assert mean == pytest.approx(-1.0)
    assert std == pytest.approx(0.0)


def test_kid_matches_torchmetrics_and_is_small_for_same_distribution() -> None:
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(20, 5, generator=g), torch.randn(20, 5, generator=g) + 2
    kid = KernelInceptionDistance(feature=PassThrough(5), subsets=2, subset_size=20)
    kid.update(a, real=True)
    kid.update(b, real=False)
    ours = kernel_inception_distance(a, b, subsets=2, subset_size=20, dtype=torch.float64)[0]
    assert ours == pytest.approx(float(kid.compute()[0]), rel=1e-5)
    c, d = torch.randn(200, 5, generator=g), torch.randn(200, 5, generator=g)
    same = kernel_inception_distance(c, d, subsets=10, subset_size=100, generator=g)[0]
    assert abs(same) < 0.05 * ours


# ---------------------------------------------------------------- k-NN precision / recall, density / coverage


def test_precision_recall_identical_and_disjoint() -> None:
    x = torch.randn(30, 4, generator=torch.Generator().manual_seed(3))
    assert precision_recall_knn(x, x, k=3) == (1.0, 1.0)
    assert precision_recall_knn(x, x + 1000, k=3) == (0.0, 0.0)
    assert density_coverage(x, x + 1000, k=3) == (0.0, 0.0)
    assert density_coverage(x, x, k=3)[1] == 1.0


def test_knn_scores_hand_computed() -> None:
    real = [[0.0], [1.0], [2.0], [3.0]]  # k = 1: every real radius is 1
    fake = [[0.5], [10.0]]  # k = 1: both fake radii are 9.5
    precision, recall = precision_recall_knn(real, fake, k=1)
    assert precision == 0.5  # 0.5 lies in the balls of 0 and 1; 10 in none
    assert recall == 1.0  # every real point is within 9.5 of 0.5
    density, coverage = density_coverage(real, fake, k=1)
    assert density == pytest.approx((2 + 0) / (1 * 2))
    assert coverage == 0.5  # the balls of 0 and 1 hold a fake sample, those of 2 and 3 do not


# ---------------------------------------------------------------- resampling intervals


def test_bootstrap_ci_is_reproducible_and_brackets_the_mean() -> None:
    x = np.random.default_rng(0).normal(5, 1, 200)
    y = np.zeros(10)

    def stat(ia: np.ndarray, ib: np.ndarray) -> dict[str, float]:
        return {"mean": float(x[ia].mean()), "const": float(y[ib].sum())}

    for method in ("half", "replace"):
        ci1 = bootstrap_ci(
            stat,
            len(x),
            len(y),
            n_boot=200,
            rng=np.random.default_rng(1),
            method=method,
            point={"mean": float(x.mean())},
        )
        ci2 = bootstrap_ci(
            stat,
            len(x),
            len(y),
            n_boot=200,
            rng=np.random.default_rng(1),
            method=method,
            point={"mean": float(x.mean())},
        )
        assert ci1 == ci2
        assert ci1["mean"].low < x.mean() < ci1["mean"].high
        # half-sampling spread ~ full-sample standard error (1/sqrt(200) = 0.071)
        assert 0.04 < ci1["mean"].std < 0.11
        assert ci1["const"].low == ci1["const"].high == 0.0


def test_group_split_and_resampling_keep_photos_together() -> None:
    groups = np.repeat(np.arange(10), 3)  # 10 photos, 3 crops each
    a, b = split_halves(len(groups), np.random.default_rng(0), groups)
    assert not set(groups[a]) & set(groups[b]) and len(a) + len(b) == 30 and len(a) >= 15
    seen: list[set[int]] = []

    def stat(ia: np.ndarray, ib: np.ndarray) -> dict[str, float]:
        for g in set(groups[ia].tolist()):
            assert (groups[ia] == g).sum() == 3  # whole photos only
        seen.append(set(groups[ia].tolist()))
        return {"p": 1.5}

    ci = bootstrap_ci(stat, 30, 30, n_boot=5, rng=np.random.default_rng(0), groups_a=groups, bounds={"p": (0, 1)})
    assert all(len(s) == 5 for s in seen) and ci["p"].high == 1.0


def test_compare_features_reports_all_metrics_with_intervals() -> None:
    g = torch.Generator().manual_seed(4)
    real, fake = torch.randn(40, 6, generator=g), torch.randn(30, 6, generator=g) + 0.5
    opts = GapMetricsConfig(bootstrap=20, kid_subsets=5, kid_subset_size=20)
    out = compare_features(fake, real, opts, rng=np.random.default_rng(0))
    for key in ("frechet_distance", "kid", "precision", "recall", "density", "coverage"):
        assert key in out and math.isfinite(out[key])
        assert out["ci"][key]["low"] <= out[key] + 1e-9 or key in ("kid",)
    assert out["ci"]["frechet_distance"]["low"] <= out["frechet_distance"] <= out["ci"]["frechet_distance"]["high"]


# ---------------------------------------------------------------- extractors and sources


def test_efficientnet_lite0_loads_packaged_weights_offline(tmp_path: Path) -> None:
    ext = EfficientNetLite0Extractor(input_size=64)
    assert ext.num_features == 1280
    assert not ext.training and not ext.train().training  # never leaves eval mode
    x = torch.randint(0, 255, (2, 3, 64, 64), dtype=torch.uint8)
    with torch.inference_mode():
        f = ext(x)
        f2 = ext(x.flip(0))
    assert f.shape == (2, 1280) and torch.isfinite(f).all()
    assert torch.allclose(f[0], f2[1], atol=1e-5)


def test_inception_without_weights_says_how_to_provide_them() -> None:
    with pytest.raises(MissingWeightsError, match="extractor.weights_path"):
        build_extractor("inception_v3")


def test_build_extractor_by_dotted_path() -> None:
    ext = build_extractor("simvision.metrics.extractors:PixelExtractor", size=4)
    assert isinstance(ext, PixelExtractor) and ext.num_features == 48
    with pytest.raises(ValueError, match="unknown extractor"):
        build_extractor("nope")


def test_extract_features_crops_and_batches(tmp_path: Path) -> None:
    img = np.zeros((40, 60, 3), np.uint8)
    img[10:20, 30:50] = (255, 0, 0)
    from PIL import Image

    Image.fromarray(img).save(tmp_path / "a.png")
    samples = [ImageSample(tmp_path / "a.png"), ImageSample(tmp_path / "a.png", (30, 10, 50, 20), "red")]
    feats = extract_features(samples, PixelExtractor(size=1, input_size=8), batch_size=1, context=0.0, progress=False)
    assert feats.shape == (2, 3)
    # the crop is square (20 x 20 around a 20 x 10 box): half red, half black padding-free image content
    assert feats[1, 0] == pytest.approx(0.5, abs=0.1) and feats[1, 1] == pytest.approx(0.0, abs=1e-6)
    assert feats[0, 0] == pytest.approx(200 / 2400, abs=0.02)
    # interleaved photos come back in input order (extraction groups them by photo internally)
    Image.fromarray(np.full((8, 8, 3), (0, 0, 255), np.uint8)).save(tmp_path / "b.png")
    mixed = [samples[1], ImageSample(tmp_path / "b.png"), samples[0]]
    again = extract_features(mixed, PixelExtractor(size=1, input_size=8), batch_size=2, context=0.0, progress=False)
    torch.testing.assert_close(again[0], feats[1])
    torch.testing.assert_close(again[2], feats[0])
    assert again[1, 2] == pytest.approx(1.0)


def test_condition_groups_categorical_nested_and_numeric() -> None:
    recs = [
        LabelledImage(
            Path(f"{i}.png"),
            i,
            8,
            8,
            conditions={"time_of_day": "night" if i % 2 else "day", "weather": {"fog": i / 10}},
        )
        for i in range(12)
    ]
    groups = condition_groups(recs, max_levels=4, numeric_bins=3)
    assert groups["time_of_day=day"] == [0, 2, 4, 6, 8, 10]
    fog = {k: v for k, v in groups.items() if k.startswith("weather.fog=")}
    # no fog (exactly 0) is its own level; the foggy frames fall in 3 quantile bins
    assert fog.pop("weather.fog=0") == [0]
    assert len(fog) == 3 and sorted(i for v in fog.values() for i in v) == list(range(1, 12))
    assert all(k.startswith("weather.fog=[") for k in fog)
    # few distinct numbers (a count of 1-3) stay categorical; a zero-inflated value bins what is not 0
    rain = [0, 0, 0.2, 0.4, 0.6, 0.8]
    recs = [
        LabelledImage(Path(f"{i}.png"), i, 8, 8, conditions={"n": 1 + i % 3, "rain": rain[i % 6]}) for i in range(12)
    ]
    groups = condition_groups(recs, max_levels=4, numeric_bins=3)
    assert sorted(k for k in groups if k.startswith("n=")) == ["n=1", "n=2", "n=3"]
    binned = {k: v for k, v in groups.items() if k.startswith("rain=")}
    assert binned.pop("rain=0") == [0, 1, 6, 7] and len(binned) == 3
    assert sorted(i for v in binned.values() for i in v) == [2, 3, 4, 5, 8, 9, 10, 11]


def test_same_size_draws_take_out_the_small_sample_bias_of_a_condition_group() -> None:
    gen = np.random.default_rng(0)
    fake, real = torch.from_numpy(gen.normal(size=(200, 20))), torch.from_numpy(gen.normal(size=(200, 20)))
    opts = GapMetricsConfig(bootstrap=0, kid_subsets=5, kid_subset_size=10)
    whole = frechet_distance(fake, real)
    # a group of 15 images drawn like every other: its raw FD is inflated by its size alone, its relative FD is not
    plain = compare_features(fake[:15], real, opts, rng=gen, label="weather=clear")
    same_size_reference(plain, fake, real, draws=20, seed=0)
    assert plain["frechet_distance"] > 1.5 * whole
    assert 0.8 < plain["same_size"]["relative"] < 1.25 and 0 < plain["same_size"]["share_at_least"] < 1
    low, high = plain["same_size"]["frechet_distance_low"], plain["same_size"]["frechet_distance_high"]
    assert low <= plain["same_size"]["frechet_distance_mean"] <= high and plain["same_size"]["draws"] == 20
    # a group that is shifted away from the real set is farther than every same-size draw of the whole set
    fake[15:30] += 1.0
    shifted = compare_features(fake[15:30], real, opts, rng=gen, label="weather=rain")
    same_size_reference(shifted, fake, real, draws=20, seed=0)
    assert shifted["same_size"]["relative"] > 1.5 and shifted["same_size"]["share_at_least"] == 0
    # whole photos: draws take every crop of a photo, so each draw has at least the group's size
    photos = np.repeat(np.arange(50), 4)
    grouped = compare_features(fake[:10], real, opts, rng=gen, label="crops")
    same_size_reference(grouped, fake, real, draws=3, seed=0, groups_fake=photos)
    assert grouped["same_size"]["draws"] == 3 and grouped["same_size"]["frechet_distance_mean"] > 0


def _cone_photo(path: Path, cone: tuple[int, int, int], gen: np.random.Generator) -> LabelledImage:
    """A 64x64 grey photo with two cones (filled boxes) of about the colour ``cone``."""
    img = np.full((64, 64, 3), 128, np.uint8)
    boxes = [(8, 10, 28, 54), (36, 16, 56, 56)]
    for x0, y0, x1, y1 in boxes:
        img[y0:y1, x0:x1] = np.clip(np.asarray(cone) + gen.normal(0, 12, 3), 0, 255)
    Image.fromarray(img).save(path)
    return LabelledImage(path, 0, 64, 64, boxes=np.asarray(boxes), labels=["traffic_cone"] * 2)


def test_crops_per_condition_find_the_weather_whose_cones_look_different(tmp_path: Path) -> None:
    from simvision.metrics.gap import compute_gap
    from simvision.metrics.report import gap_tables

    gen = np.random.default_rng(1)
    synthetic = []
    for i in range(30):
        rain = i % 3 == 0  # rain's cones are dark and brown, the others orange like the photos'
        rec = _cone_photo(tmp_path / f"s{i}.png", (90, 50, 30) if rain else (240, 110, 30), gen)
        rec.conditions = {"weather": "rain" if rain else "clear", "lens_dirt": bool(i % 2)}
        synthetic.append(rec)
    real = [_cone_photo(tmp_path / f"r{i}.png", (240, 110, 30), gen) for i in range(16)]
    result = compute_gap(
        synthetic,
        real,
        MeanColourExtractor(),
        metrics=GapMetricsConfig(bootstrap=5, kid_subsets=5, kid_subset_size=10),
        breakdown=BreakdownConfig(min_samples=4, min_crop_size=8, same_size_draws=10),
        progress=False,
    )
    crops = result.summary["per_class"]["traffic_cone"]["per_condition"]
    assert set(crops) == {"weather=rain", "weather=clear", "lens_dirt=True", "lens_dirt=False"}
    assert crops["weather=rain"]["n_fake"] == 20 and crops["weather=clear"]["n_fake"] == 40
    rain, clear = crops["weather=rain"]["same_size"], crops["weather=clear"]["same_size"]
    assert rain["relative"] > 1.2 and rain["share_at_least"] == 0
    assert clear["relative"] < 1 and clear["share_at_least"] > 0.5
    assert 0.7 < crops["lens_dirt=True"]["same_size"]["relative"] < 1.3  # dirt has nothing to do with the colour
    # the whole-image groups carry the same reference, and the report lists crops farthest first
    assert result.summary["per_condition"]["weather=rain"]["same_size"]["relative"] > 1
    title, header, rows = next(t for t in gap_tables(result.summary) if t[0].startswith("Per class and recorded"))
    assert [r[1] for r in rows][0] == "weather=rain" and rows[0][4].startswith(f"{rain['relative']:.2f}x")
    assert header[-1].startswith("FD / same-size draws")


def test_examples_show_what_the_synthetic_set_misses_and_its_least_realistic(tmp_path: Path) -> None:
    from simvision.metrics.gap import compute_gap
    from simvision.metrics.report import write_gap_report

    gen = np.random.default_rng(2)
    orange, blue, green = (240, 110, 30), (30, 60, 220), (40, 200, 60)
    # the photos have orange and some blue cones; ours orange and a few green ones
    real = [_cone_photo(tmp_path / f"r{i}.png", blue if i < 5 else orange, gen) for i in range(25)]
    synthetic = [_cone_photo(tmp_path / f"s{i}.png", green if i < 3 else orange, gen) for i in range(30)]
    result = compute_gap(
        synthetic,
        real,
        MeanColourExtractor(),
        metrics=GapMetricsConfig(bootstrap=0, kid_subsets=5, kid_subset_size=10),
        breakdown=BreakdownConfig(min_samples=4, min_crop_size=8, examples=4, per_condition=False),
        progress=False,
    )
    blue_photos = {str(tmp_path / f"r{i}.png") for i in range(5)}
    green_photos = {str(tmp_path / f"s{i}.png") for i in range(3)}
    whole, crops = result.summary["overall"]["examples"], result.summary["per_class"]["traffic_cone"]["examples"]
    # the blue cones are what our crops miss (on whole images the green outliers' wide k-NN balls cover them)
    missed = crops["real_least_covered"]
    assert len(missed) == 4 and {e["path"] for e in missed} <= blue_photos and min(e["margin"] for e in missed) > 1
    # the green ones are the least realistic: 3 images, 6 crops; the most realistic are orange and inside
    for examples, n_green in ((whole, 3), (crops, 4)):
        odd = examples["synthetic_least_realistic"]
        assert {e["path"] for e in odd[:n_green]} <= green_photos and min(e["margin"] for e in odd[:n_green]) > 2
        assert [e["margin"] for e in odd] == sorted((e["margin"] for e in odd), reverse=True)
        assert all(e["path"] not in green_photos and e["margin"] <= 1 for e in examples["synthetic_most_realistic"])
    # the margins say the same as the k-NN scores: a real sample is covered exactly when its margin is <= 1
    overall = result.summary["overall"]
    assert overall["examples"]["real_covered_share"] == pytest.approx(overall["synthetic_vs_real"]["recall"])
    assert overall["examples"]["synthetic_inside_share"] == pytest.approx(overall["synthetic_vs_real"]["precision"])
    assert all(len(e["box"]) == 4 for e in crops["real_least_covered"])
    assert all(e["box"] is None for e in whole["real_least_covered"])
    written = write_gap_report(result, tmp_path / "report", formats=("md",))
    sheet = Image.open(written["gap_examples_traffic_cone.png"])
    assert sheet.width == 4 * 96 and sheet.height == 3 * (14 + 96 + 12)
    # the first tile of the first row is a blue cone's crop: blue dominates its centre
    centre = np.asarray(sheet.convert("RGB"))[14 + 40 : 14 + 56, 40:56].reshape(-1, 3).mean(0)
    assert centre[2] > centre[0] + 80
    assert "gap_examples.png" in written["md"].read_text()


# ---------------------------------------------------------------- the app


def _compose_gap(*overrides: str):
    import simvision.cli.gap  # noqa: F401  (registers the schema)

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="gap", overrides=list(overrides))


@needs_cones
def test_gap_app_with_injected_extractor(tmp_path: Path) -> None:
    from simvision.cli.gap import run

    toy = write_toy_dataset(tmp_path / "toy", n=12, size=64, objects=2)
    cfg = _compose_gap(
        f"synthetic.path={toy}",
        f"real.path={CONES / 'valid' / 'images'}",
        "real.format=yolo",
        "real.labels=null",
        "real.names=null",
        "real.max_images=16",
        "real.aliases={cone: traffic_cone}",
        f"output_dir={tmp_path / 'report'}",
        "metrics.bootstrap=10",
        "metrics.kid_subsets=5",
        "breakdown.min_samples=4",
        "breakdown.min_crop_size=8",
        "progress=false",
    )
    written = run(cfg, extractor=MeanColourExtractor())
    summary = json.loads(written["json"].read_text())
    overall = summary["overall"]
    assert {"synthetic_vs_real", "real_floor", "matched"} <= set(overall)
    assert overall["synthetic_vs_real"]["n_fake"] == 12 and overall["synthetic_vs_real"]["n_real"] == 16
    assert overall["real_floor"]["n_fake"] == 8 and "ci" in overall["real_floor"]
    assert summary["extractor"]["name"] == "mean_colour"
    # per class: only the class both sets label ('Cone' / 'cone' -> traffic_cone), with its own floor
    assert set(summary["per_class"]) == {"traffic_cone"}
    assert "real_floor" in summary["per_class"]["traffic_cone"]
    # the crops' sizes: the toy's cones are a few dozen pixels, the photos' a hundred or so: a caution says so
    coco = json.loads((toy / "annotations" / "instances.json").read_text())
    cone_id = next(c["id"] for c in coco["categories"] if c["name"] == "traffic_cone")
    sides = [min(a["bbox"][2:]) for a in coco["annotations"] if a["category_id"] == cone_id and min(a["bbox"][2:]) >= 8]
    px = summary["per_class"]["traffic_cone"]["crop_short_side_px"]
    assert px["synthetic"] == pytest.approx(np.median(sides), abs=1.0)  # boxes as read back (float rounding)
    assert px["real"] > 1.5 * px["synthetic"]
    assert len(summary["cautions"]) == 1 and summary["cautions"][0].startswith("class traffic_cone: the synthetic")
    assert f"render at about {px['real'] / px['synthetic']:.2g}x this resolution" in summary["cautions"][0]
    # per condition: time of day (COCO image entry) and fog (only in frames.jsonl) both found
    assert {"time_of_day=day", "time_of_day=night"} <= set(summary["per_condition"])
    assert any(k.startswith("weather.fog=") for k in summary["per_condition"])
    assert "preset=toy" not in summary["per_condition"]  # a single level says nothing
    for key in ("md", "html", "gap_overall.png", "gap_per_class.png", "gap_per_condition.png"):
        assert written[key].is_file(), key
    md = written["md"].read_text()
    assert "floor: real half A vs real half B" in md and "Per class" in md
    assert f"| {px['synthetic']:.0f} / {px['real']:.0f} |" in md
    assert md.index("## Cautions") < md.index("## Whole images") and "<h2>Cautions</h2>" in written["html"].read_text()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("breakdown.crop_context=-1.0", "breakdown.crop_context"),
        ("breakdown.same_size_draws=-2", "breakdown.same_size_draws"),
        ("breakdown.examples=-1", "breakdown.examples"),
        ("breakdown.min_samples=-5", "breakdown.min_samples"),
    ],
)
def test_bad_breakdown_names_the_field_before_reading_images(tmp_path: Path, override: str, field: str) -> None:
    from simvision.cli.gap import run
    from simvision.config.checks import ConfigError

    cfg = _compose_gap(f"synthetic.path={tmp_path / 'missing'}", f"output_dir={tmp_path / 'r'}", override)
    with pytest.raises(ConfigError, match=rf"^{field.replace('.', '[.]')}: "):
        run(cfg, extractor=MeanColourExtractor())
    assert not (tmp_path / "r").exists()


def test_square_crops_with_negative_context_stay_inside_the_box() -> None:
    from simvision.metrics.sources import square_crop

    im = Image.new("RGB", (200, 200))
    box = (50.0, 20.0, 90.0, 120.0)  # 40 x 100, centre (70, 70)
    assert square_crop(im, box, 0.1).size == (110, 110)
    inner = square_crop(im, box, -0.5)
    assert inner.size == (50, 50)  # half the longer side: inside the box's height, a little wider than it
    assert square_crop(im, None, -0.5).size == (200, 200)


def test_gap_config_composes_with_defaults() -> None:
    cfg = _compose_gap("synthetic.path=/x", "output_dir=/tmp/y")
    assert cfg.extractor.name == "efficientnet_lite0"
    assert cfg.real.path.endswith("coco128/images") and cfg.metrics.k == 3


def test_gap_source_keeps_only_images_with_any_of_the_classes(tmp_path: Path) -> None:
    from simvision.cli.gap import load_source
    from simvision.config import ConfigError
    from simvision.metrics.config import SourceConfig

    toy = write_toy_dataset(tmp_path / "toy", n=12, size=64, objects=2)
    coco_path = toy / "annotations" / "instances.json"
    coco = json.loads(coco_path.read_text())
    box_id = next(c["id"] for c in coco["categories"] if c["name"] == "box")
    coco["annotations"] = [a for a in coco["annotations"] if a["category_id"] != box_id or a["image_id"] % 3 == 0]
    coco_path.write_text(json.dumps(coco))  # boxes left in 4 of the 12 frames
    every = load_source(SourceConfig(path=str(toy)))
    with_box = [r.path for r in every if "box" in r.labels]
    assert len(every) == 12 and len(with_box) == 4

    kept = load_source(SourceConfig(path=str(toy), with_any_of=["Box"]))  # names compare case-insensitively
    assert [r.path for r in kept] == with_box
    aliased = load_source(SourceConfig(path=str(toy), with_any_of=["crate"], aliases={"box": "crate"}))
    assert [r.path for r in aliased] == with_box
    both = load_source(SourceConfig(path=str(toy), with_any_of=["box", "traffic-cone"]))
    assert len(both) == len(every)
    with pytest.raises(ConfigError, match=r"^real\.with_any_of: no image"):
        load_source(SourceConfig(path=str(toy), with_any_of=["car"]), field="real")


@pytest.mark.parametrize("fmt", ["auto", "yolo", "coco", "folder"])
def test_gap_source_names_the_field_of_a_missing_or_empty_path(tmp_path: Path, fmt: str) -> None:
    """A mistyped path is 'does not exist' under every format (auto detection used to read it as an empty
    folder); an existing folder without images says so; both name the config field."""
    from simvision.cli.gap import load_source
    from simvision.metrics.config import SourceConfig

    with pytest.raises(FileNotFoundError, match=r"^synthetic\.path: '.*/no_such_set' does not exist$"):
        load_source(SourceConfig(path=str(tmp_path / "no_such_set"), format=fmt), field="synthetic")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"^real\.path: no images found in '.*/empty'"):
        load_source(SourceConfig(path=str(tmp_path / "empty"), format="folder"), field="real")


def test_the_real_floor_is_the_same_whatever_synthetic_set_is_measured(tmp_path: Path) -> None:
    """Two runs against one real set meet the same floor (overall and per class), so their ratios to the
    floor compare their synthetic sets only."""
    from simvision.cli.gap import run

    real = write_toy_dataset(tmp_path / "real", n=16, size=64, objects=2, seed=5)
    floors = []
    for name, n, seed in (("a", 12, 0), ("b", 7, 1)):
        cfg = _compose_gap(
            f"synthetic.path={write_toy_dataset(tmp_path / name, n=n, size=64, objects=2, seed=seed)}",
            f"real.path={real}",
            "real.format=auto",
            "real.labels=null",
            "real.names=null",
            f"output_dir={tmp_path / ('report_' + name)}",
            "metrics.bootstrap=10",
            "metrics.kid_subsets=5",
            "breakdown.min_samples=4",
            "breakdown.min_crop_size=8",
            "progress=false",
        )
        summary = json.loads(run(cfg, extractor=MeanColourExtractor())["json"].read_text())
        floors.append((summary["overall"]["real_floor"], summary["per_class"]["traffic_cone"]["real_floor"]))
        assert summary["overall"]["synthetic_vs_real"]["n_fake"] == n
        px = summary["per_class"]["traffic_cone"]["crop_short_side_px"]
        assert max(px.values()) < 1.5 * min(px.values()) and summary["cautions"] == []  # toys of one size
    assert floors[0] == floors[1]
    assert floors[0][0]["frechet_distance"] > 0 and floors[0][1]["n_fake"] >= 4
