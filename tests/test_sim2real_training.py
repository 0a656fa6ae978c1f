"""Sim-to-real training worth measuring: augmentations as config, a synthetic validation split by scene,
learning curves, early stopping with the best checkpoint (resume-safe), and the error analysis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from simvision.config.checks import ConfigError
from simvision.formats import LabelledImage
from simvision.sim2real import ClassMapping, DetectionDataset, fit, load_checkpoint, read_simvision
from simvision.sim2real.analysis import (
    SCHEMA,
    analyse_predictions,
    object_metadata,
    wilson_interval,
    write_analysis,
)
from simvision.sim2real.augment import augment_sample, check_train
from simvision.sim2real.config import AnalysisConfig, AugmentConfig, ModelConfig, TrainConfig
from simvision.sim2real.data import scene_groups, validation_split
from tests.toy_data import write_toy_dataset

TINY_MODEL = ModelConfig(min_size=64, max_size=64, anchor_sizes=[8, 16, 32, 64])
GEOMETRY_ONLY = AugmentConfig(enabled=True, scale_p=1.0, photometric_p=0.0, blur_p=0.0, noise_p=0.0, jpeg_p=0.0)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 frames in 4 scenes of 2 views; day/night alternate (so each scene has one of each)."""
    return write_toy_dataset(tmp_path_factory.mktemp("scenes"), n=8, size=64, objects=2, frames_per_scene=2)


def _rectangle_record(
    tmp_path: Path, box: tuple[int, int, int, int], size: tuple[int, int] = (64, 48)
) -> LabelledImage:
    w, h = size
    img = np.zeros((h, w, 3), np.uint8)
    x0, y0, x1, y1 = box
    img[y0:y1, x0:x1] = 255
    path = tmp_path / f"rect_{x0}_{y0}.png"
    Image.fromarray(img).save(path)
    return LabelledImage(path=path, image_id=0, width=w, height=h, boxes=np.array([box], np.float32), labels=["cone"])


def _extent(mask: torch.Tensor) -> list[float]:
    ys, xs = torch.nonzero(mask, as_tuple=True)
    return [float(xs.min()), float(ys.min()), float(xs.max()) + 1, float(ys.max()) + 1]


# ---------------------------------------------------------------- augmentations


def test_scale_jitter_and_flip_move_boxes_and_masks_with_the_pixels(tmp_path: Path) -> None:
    record = _rectangle_record(tmp_path, (20, 10, 40, 34))
    ds = DetectionDataset([record], ClassMapping(["cone"]), train=True, hflip=0.5, masks=True, augment=GEOMETRY_ONLY)
    scales = []
    for epoch in range(24):
        ds.set_epoch(epoch)
        image, target = ds[0]
        assert image.shape == (3, 48, 64)  # same size in, same size out
        if not len(target["boxes"]):
            continue  # cropped away (allowed by scale_min_visible)
        box = target["boxes"][0].tolist()
        bright = _extent(image.mean(0) > 0.5)
        mask = _extent(target["masks"][0] > 0)
        np.testing.assert_allclose(bright, box, atol=1.5)  # the white rectangle is where its box says
        np.testing.assert_allclose(mask, box, atol=1.5)  # and so is its mask
        assert target["source_index"].tolist() == [0]
        scales.append((box[2] - box[0]) / 20)
    assert min(scales) < 0.95 and max(scales) > 1.05  # both zoom out (pad) and zoom in (crop) happened


def test_scale_jitter_drops_boxes_cropped_below_min_visible(tmp_path: Path) -> None:
    record = _rectangle_record(tmp_path, (0, 0, 10, 10))  # in the corner: a zoom-in crop cuts it
    image = torch.from_numpy(np.array(Image.open(record.path))).permute(2, 0, 1).float() / 255
    target = {"boxes": torch.tensor([[0.0, 0, 10, 10]]), "labels": torch.tensor([1]), "source_index": torch.tensor([0])}
    cfg = AugmentConfig(**{**GEOMETRY_ONLY.__dict__, "scale": [1.5, 1.5], "scale_min_visible": 0.9})
    # the window at the far corner (u close to 1) leaves nothing of the box
    from simvision.sim2real.augment import scale_jitter

    _, far = scale_jitter(image, target, 1.5, (0.99, 0.99), cfg.scale_min_visible)
    _, near = scale_jitter(image, target, 1.5, (0.0, 0.0), cfg.scale_min_visible)
    assert len(far["boxes"]) == 0 and len(far["source_index"]) == 0
    torch.testing.assert_close(near["boxes"], torch.tensor([[0.0, 0, 15, 15]]))


def test_augmentations_are_seeded_and_off_means_unchanged(scenes: Path) -> None:
    records = read_simvision(scenes)
    mapping = ClassMapping(["traffic_cone", "box"])
    full = AugmentConfig(enabled=True, scale_p=1, photometric_p=1, blur_p=1, noise_p=1, jpeg_p=1)
    a = DetectionDataset(records, mapping, train=True, seed=3, augment=full)
    b = DetectionDataset(records, mapping, train=True, seed=3, augment=full)
    plain = DetectionDataset(records, mapping, train=True, seed=3)
    off = DetectionDataset(records, mapping, train=True, seed=3, augment=AugmentConfig(enabled=False))
    for ds in (a, b, plain, off):
        ds.set_epoch(2)
    for i in range(3):
        (ia, ta), (ib, tb) = a[i], b[i]
        assert torch.equal(ia, ib) and torch.equal(ta["boxes"], tb["boxes"])
        assert not torch.equal(ia, plain[i][0])  # it did something
        assert torch.equal(plain[i][0], off[i][0])  # disabled: the same images as before (flips included)
    a.set_epoch(3)
    assert not torch.equal(a[0][0], b[0][0])  # a new epoch draws new values
    _, _, applied = augment_sample(plain[0][0], plain[0][1], full, np.random.default_rng(0))
    assert {"scale", "brightness", "hue", "blur_sigma", "noise_std", "jpeg_quality"} <= set(applied)
    assert 30 <= applied["jpeg_quality"] <= 90 and 0.6 <= applied["scale"] <= 1.5


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"augment": AugmentConfig(scale=[1.5, 0.5])}, "train.augment.scale"),
        ({"augment": AugmentConfig(jpeg_quality=[30, 120])}, "train.augment.jpeg_quality"),
        ({"augment": AugmentConfig(blur_p=1.5)}, "train.augment.blur_p"),
        ({"augment": AugmentConfig(hue=[-0.7, 0.0])}, "train.augment.hue"),
        ({"val_fraction": 1.0}, "train.val_fraction"),
        ({"early_stopping_patience": 2}, "train.early_stopping_patience"),
        ({"eval_every": 0}, "train.eval_every"),
    ],
)
def test_bad_training_fields_give_one_line_config_errors(change: dict, field: str) -> None:
    with pytest.raises(ConfigError, match=f"^{field}: ") as err:
        check_train(TrainConfig(**change))
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------- validation split


def test_validation_split_holds_out_whole_scenes(scenes: Path) -> None:
    records = read_simvision(scenes)
    groups = scene_groups(scenes, records)
    assert groups == [0, 0, 1, 1, 2, 2, 3, 3]
    train, val = validation_split(records, 0.25, 7, groups)
    assert len(val) == 2 and len(train) == 6
    val_scenes = {groups[r.image_id] for r in val}
    assert len(val_scenes) == 1 and not val_scenes & {groups[r.image_id] for r in train}  # no scene leaks
    assert [r.image_id for r in validation_split(records, 0.25, 7, groups)[1]] == [r.image_id for r in val]
    assert len(validation_split(records, 0.25, 7, None)[1]) == 2  # other formats: by image
    with pytest.raises(ValueError, match="at least 2"):
        validation_split(records, 0.25, 7, [0] * len(records))


# ---------------------------------------------------------------- early stopping, best checkpoint, curves


class Interrupt(Exception):
    pass


class TinyDetector(torch.nn.Module):
    """Trains like a torchvision detector (images, targets -> loss dict) in milliseconds: the early-stopping
    and resume logic is what is tested, not detection."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.head = torch.nn.Linear(4, 1)

    def forward(self, images: list[torch.Tensor], targets: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        feats = torch.stack([self.conv(im[None]).mean((0, 2, 3)) for im in images])
        want = torch.tensor([float(len(t["labels"])) for t in targets])
        return {"loss_count": ((self.head(feats)[:, 0] - want) ** 2).mean()}


def _fit(ds: DetectionDataset, out: Path, scores: list[float], *, stop_at: int | None = None, epochs: int = 6):
    cfg = TrainConfig(batch_size=3, warmup_iters=1, device="cpu", val_fraction=0.1, early_stopping_patience=2)

    def validate(model: torch.nn.Module) -> float:  # a scripted validation curve, by epoch
        if stop_at is not None and ds.epoch == stop_at:
            raise Interrupt
        return scores[ds.epoch]

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = TinyDetector()
    history = fit(
        model,
        ds,
        cfg,
        epochs=epochs,
        lr=0.01,
        device=torch.device("cpu"),
        checkpoint_path=out / "checkpoint.pt",
        progress=False,
        validate=validate,
        curve_path=out / "curve.json",
    )
    return model, history


def test_early_stopping_keeps_the_best_checkpoint_and_a_resumed_run_continues_the_curve(
    scenes: Path, tmp_path: Path
) -> None:
    ds = DetectionDataset(read_simvision(scenes)[:3], ClassMapping(["traffic_cone", "box"]), train=True)
    scores = [0.1, 0.3, 0.2, 0.25, 0.5, 0.6]  # best at epoch 2 (1-based), then 2 epochs without better
    model, history = _fit(ds, tmp_path / "a", scores)
    assert [h["val_map50"] for h in history] == [0.1, 0.3, 0.2, 0.25]  # stopped: 0.5 and 0.6 never trained
    best = load_checkpoint(tmp_path / "a" / "best.pt")
    last = load_checkpoint(tmp_path / "a" / "checkpoint.pt")
    assert best["epoch"] == 1 and best["extra"]["val_map50"] == 0.3
    assert last["epoch"] == 3 and last["extra"]["stopped_early"] and last["extra"]["best"]["epoch"] == 1
    for k, v in model.state_dict().items():  # the returned model holds the best weights, not the last
        torch.testing.assert_close(v, best["model"][k])
    assert any(not torch.equal(v, last["model"][k]) for k, v in best["model"].items() if v.is_floating_point())
    curve = json.loads((tmp_path / "a" / "curve.json").read_text())
    assert curve["best_epoch"] == 2 and curve["best_val_map50"] == 0.3 and curve["stopped_early"]
    assert [p["epoch"] for p in curve["points"]] == [1, 2, 3, 4] and curve["points"][0]["train_loss"] > 0
    assert (tmp_path / "a" / "curve.png").stat().st_size > 1000

    # interrupted during epoch 3's validation (checkpoint holds epochs 1-2), then resumed: same curve, same best
    with pytest.raises(Interrupt):
        _fit(ds, tmp_path / "b", scores, stop_at=2)
    assert load_checkpoint(tmp_path / "b" / "checkpoint.pt")["epoch"] == 1
    resumed, history_b = _fit(ds, tmp_path / "b", scores)
    assert [h["val_map50"] for h in history_b] == [0.1, 0.3, 0.2, 0.25]
    np.testing.assert_allclose([h["loss"] for h in history_b], [h["loss"] for h in history], rtol=1e-4)
    assert load_checkpoint(tmp_path / "b" / "best.pt")["epoch"] == 1
    # a stopped run stays stopped when started again
    _, again = _fit(ds, tmp_path / "a", scores)
    assert len(again) == 4


def test_runs_without_validation_write_a_loss_curve_only(scenes: Path, tmp_path: Path) -> None:
    """Real-only runs and fine-tunes have no validation split: fixed epochs, the curve has train loss only."""
    ds = DetectionDataset(read_simvision(scenes)[:3], ClassMapping(["traffic_cone", "box"]), train=True)
    cfg = TrainConfig(batch_size=3, warmup_iters=1, device="cpu")
    history = fit(
        TinyDetector(),
        ds,
        cfg,
        epochs=2,
        lr=0.01,
        device=torch.device("cpu"),
        checkpoint_path=tmp_path / "checkpoint.pt",
        progress=False,
        curve_path=tmp_path / "curve.json",
    )
    curve = json.loads((tmp_path / "curve.json").read_text())
    assert len(history) == 2 and [p["val_map50"] for p in curve["points"]] == [None, None]
    assert curve["best_epoch"] is None and not curve["stopped_early"] and not (tmp_path / "best.pt").exists()


# ---------------------------------------------------------------- error analysis


def _with_distances(root: Path) -> None:
    """Instance 1 at 3 m, instance 2 at 12 m (the toy frames record no objects)."""
    frames = [json.loads(line) for line in (root / "metadata" / "frames.jsonl").read_text().splitlines()]
    for f in frames:
        f["objects"] = [
            {"instance_id": 1, "distance_m": {"z": 3.0, "euclidean": 3.0}},
            {"instance_id": 2, "distance_m": {"z": 12.0, "euclidean": 12.0}},
        ]
    (root / "metadata" / "frames.jsonl").write_text("".join(json.dumps(f) + "\n" for f in frames))


def test_analysis_strata_counts_intervals_and_schema(tmp_path: Path) -> None:
    root = write_toy_dataset(tmp_path / "toy", n=6, size=64, objects=2)
    _with_distances(root)
    records = read_simvision(root)
    classes = ["traffic_cone", "box"]
    ds = DetectionDataset(records, ClassMapping(classes))
    gts = [ds[i][1] for i in range(len(ds))]
    night = [r.conditions["time_of_day"] == "night" for r in records]
    # a detector that finds every object by day and nothing at night
    preds = [
        {"boxes": torch.zeros((0, 4)), "scores": torch.zeros(0), "labels": torch.zeros(0, dtype=torch.int64)}
        if n
        else {"boxes": g["boxes"], "scores": torch.full((len(g["labels"]),), 0.9), "labels": g["labels"]}
        for g, n in zip(gts, night, strict=True)
    ]
    result = analyse_predictions(
        preds, gts, records, object_metadata(root, records), classes, AnalysisConfig(bootstrap=50)
    )
    strata = {(s["key"], s["level"]): s for s in result["strata"]}
    n_night = sum(len(g["labels"]) for g, n in zip(gts, night, strict=True) if n)
    n_all = sum(len(g["labels"]) for g in gts)
    assert result["schema"] == SCHEMA and result["n_objects"] == n_all and result["n_images"] == 6
    assert strata["time_of_day", "night"] == {
        "key": "time_of_day",
        "level": "night",
        "n_objects": n_night,
        "n_images": 3,
        "recall": 0.0,
        "recall_interval": pytest.approx(list(wilson_interval(0, n_night))),
        "ap50": 0.0,
        "ap50_interval": [0.0, 0.0],
    }
    day = strata["time_of_day", "day"]
    assert day["recall"] == 1.0 and day["ap50"] == pytest.approx(1.0) and day["n_images"] == 3
    assert strata["all", "all"]["recall"] == pytest.approx((n_all - n_night) / n_all)
    assert result["strata"][0]["recall"] == 0.0  # weakest first
    # surely weak before possibly weak: the upper ends of the recall intervals ascend
    uppers = [s["recall_interval"][1] if s["recall_interval"] else s["recall"] for s in result["strata"]]
    assert uppers == sorted(uppers)
    # per-object strata: distance from frames.jsonl by instance_id, visible fraction from the annotations
    n_cones = sum(int((g["labels"] == 1).sum()) for g in gts)  # instance 1 is the cone in the toy frames
    assert strata["distance_m", "[0, 5)"]["n_objects"] == n_cones and strata["distance_m", "[0, 5)"]["ap50"] is None
    assert strata["distance_m", "[10, 20)"]["n_objects"] == n_all - n_cones
    assert strata["visible_fraction", "[0.75, inf)"]["n_objects"] == n_all
    assert strata["class", "traffic_cone"]["n_objects"] == n_cones
    heights = np.concatenate([(g["boxes"][:, 3] - g["boxes"][:, 1]).numpy() for g in gts])
    for level, lo, hi in (("[0, 16)", 0, 16), ("[16, 32)", 16, 32), ("[32, 64)", 32, 64)):
        n = int(((heights >= lo) & (heights < hi)).sum())
        assert strata.get(("height_px", level), {"n_objects": 0})["n_objects"] == n
    assert wilson_interval(0, 3) == pytest.approx((0.0, 0.5615), abs=1e-4)
    files = write_analysis(result, tmp_path / "out")
    assert json.loads(files["json"].read_text())["strata"][0]["key"] == result["strata"][0]["key"]
    md = files["md"].read_text().splitlines()
    assert md[0].startswith("# Error analysis") and "| time_of_day | night |" in "\n".join(md)


# ---------------------------------------------------------------- the app


@pytest.mark.slow
def test_ablation_validates_and_analyses_and_mode_analyse_agrees(tmp_path: Path) -> None:
    from simvision.cli.sim2real import run
    from tests.test_sim2real import _compose_sim2real

    scenes = write_toy_dataset(tmp_path / "toy", n=4, size=64, objects=2, frames_per_scene=2)  # 2 scenes
    out = tmp_path / "out"
    common = [
        f"synthetic.path={scenes}",
        "class_names=[traffic_cone,box]",
        f"real_train.path={scenes}",  # the toy set stands in for real photos: no shared data needed
        "real_train.format=auto",
        "real_train.labels=null",
        "real_train.names=null",
        f"real_test.path={scenes}",
        "real_test.format=auto",
        "real_test.labels=null",
        "real_test.names=null",
        "real_test.max_images=2",
        "model.min_size=64",
        "model.max_size=64",
        "model.anchor_sizes=[8,16,32,64]",
        "train.batch_size=2",
        "train.device=cpu",
        "train.val_fraction=0.5",
        "train.augment.enabled=true",
        f"output_dir={out}",
        "progress=false",
    ]
    ablation = run(
        _compose_sim2real(
            *common,
            "ablation.arms=[real_only,synthetic_only]",
            "ablation.k=[2]",
            "train.epochs_synthetic=1",
            "train.epochs_real=1",
            "analysis.bootstrap=10",
        )
    )
    rows = {r["arm"]: r for r in ablation["rows"]}
    row, real = rows["synthetic_only"], rows["real_only"]
    # real-only runs have no validation: fixed epochs, a loss-only curve, no best checkpoint
    real_curve = json.loads((out / "runs" / "real_only_k2_s0" / "curve.json").read_text())
    assert real["val_images"] == 0 and real["best_epoch"] is None and real_curve["points"][0]["val_map50"] is None
    assert not (out / "runs" / "real_only_k2_s0" / "best.pt").exists()
    run_dir = out / "runs" / "synthetic_s0"
    assert row["val_images"] == 2 and row["epochs_run"] == 1 and row["best_epoch"] == 1
    curve = json.loads((run_dir / "curve.json").read_text())
    assert [p["val_map50"] is not None for p in curve["points"]] == [True] and (run_dir / "best.pt").is_file()
    in_ablation = json.loads((run_dir / "analysis.json").read_text())  # the ablation analysed its synthetic model
    assert in_ablation["n_images"] == 2 and (run_dir / "analysis.md").is_file()
    result = run(
        _compose_sim2real(
            *common, "mode=analyse", f"checkpoint={run_dir / 'best.pt'}", "analysis.bootstrap=10", f"output_dir={out}/a"
        )
    )
    assert result["n_images"] == 2 and (out / "a" / "analysis.md").is_file()
    assert json.loads((out / "a" / "analysis.json").read_text())["strata"] == in_ablation["strata"]  # same split
    with pytest.raises(ConfigError, match="^train.augment.scale: "):
        run(_compose_sim2real(*common, "mode=train", "train.augment.scale=[2,1]"))


def test_runner_augments_synthetic_training_images_only_and_fingerprints(scenes: Path, tmp_path: Path) -> None:
    from simvision.sim2real.ablation import Sim2RealData, Sim2RealRunner, config_fingerprints
    from simvision.sim2real.config import Sim2RealConfig

    records = read_simvision(scenes)
    mapping = ClassMapping(["traffic_cone", "box"])
    data = Sim2RealData(["traffic_cone", "box"], records, records, records, mapping, mapping)

    def runner(**train: object) -> Sim2RealRunner:
        cfg = Sim2RealConfig(class_names=["traffic_cone", "box"], output_dir=str(tmp_path), train=TrainConfig(**train))
        return Sim2RealRunner(cfg, data)

    on = runner(augment=AugmentConfig(enabled=True))
    assert on.dataset(records, mapping, train=True, seed=0, synthetic=True).augment is not None
    assert on.dataset(records, mapping, train=True, seed=0).augment is None  # real: not by default
    assert on.dataset(records, mapping, train=False, seed=0, synthetic=True).augment is None  # never val/test
    both = runner(augment=AugmentConfig(enabled=True), augment_real=True)
    assert both.dataset(records, mapping, train=True, seed=0).augment is not None
    mixed, _ = on.train_set("mixed", 2, 0)
    assert [d.augment is not None for d in mixed.datasets][:2] == [True, False]  # synthetic part, real part
    # new keys at their defaults leave the fingerprint of older run folders as it was
    default = config_fingerprints(runner().cfg)
    assert config_fingerprints(runner(val_fraction=0.0, augment=AugmentConfig()).cfg) == default
    assert config_fingerprints(on.cfg)["train"] != default["train"]
