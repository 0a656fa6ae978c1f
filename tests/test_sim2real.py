"""Sim-to-real: readers, class mapping, datasets, calibration, checkpoints/resume, torchmetrics mAP, and a
1-epoch CPU ablation on toy synthetic frames against real traffic-cone photos."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from PIL import Image
from torch import Tensor, nn

from simvision.config.paths import CONF_DIR
from simvision.sim2real import (
    ClassMapping,
    DetectionDataset,
    build_detector,
    detection_calibration,
    evaluate,
    expected_calibration_error,
    fit,
    load_checkpoint,
    match_detections,
    read_dataset,
    read_kitti,
    read_simvision,
    read_yolo,
    records_subset,
)
from simvision.sim2real.config import ModelConfig, TrainConfig
from tests.toy_data import write_toy_dataset

CONES = CONF_DIR.parent.parent / "shared" / "data" / "real" / "traffic_cones"
needs_cones = pytest.mark.skipif(not (CONES / "valid").is_dir(), reason="shared real traffic-cone set not present")
TINY_MODEL = ModelConfig(min_size=64, max_size=64, anchor_sizes=[8, 16, 32, 64])


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_dataset(tmp_path_factory.mktemp("toy"), n=6, size=64, objects=2)


# ---------------------------------------------------------------- readers and class mapping


def test_read_simvision_layout_boxes_masks_conditions(toy: Path) -> None:
    records = read_simvision(toy)
    assert len(records) == 6 and read_dataset(toy)[0].path == records[0].path  # format detected
    coco = json.loads((toy / "annotations" / "instances.json").read_text())
    first = [a for a in coco["annotations"] if a["image_id"] == 0]
    x, y, w, h = first[0]["bbox"]
    np.testing.assert_allclose(records[0].boxes[0], [x, y, x + w, y + h])
    assert records[0].labels[0] == "traffic_cone" and records[0].segmentations is not None
    # time_of_day comes from the COCO image entry, weather only from metadata/frames.jsonl
    assert records[1].conditions["time_of_day"] == "night" and "fog" in records[1].conditions["weather"]


@needs_cones
def test_read_yolo_real_cones_with_names_from_data_yaml() -> None:
    records = read_yolo(CONES / "valid" / "images")
    assert len(records) == 40
    names = {n for r in records for n in r.labels}
    assert names <= {"cone", "Cone", "road-cone"} and records[0].width == 640
    mapping = ClassMapping(["traffic_cone"], {"cone": "traffic_cone", "road-cone": "traffic_cone"})
    assert mapping.coverage(records)["traffic_cone"] == 64  # README: 64 cones in valid/, 'Cone' merged


def test_read_yolo_explicit_labels_and_kitti(tmp_path: Path) -> None:
    (tmp_path / "imgs" / "a").mkdir(parents=True)
    (tmp_path / "lbls" / "a").mkdir(parents=True)
    Image.new("RGB", (100, 50)).save(tmp_path / "imgs" / "a" / "x.jpg")
    (tmp_path / "lbls" / "a" / "x.txt").write_text("1 0.5 0.5 0.2 0.4\n0 0.1 0.1 0.1 0.1 0.2 0.2\n")
    rec = read_yolo(tmp_path / "imgs", tmp_path / "lbls", names=["bg", "car"])[0]
    assert rec.labels == ["car"]  # the polygon row is not a box
    np.testing.assert_allclose(rec.boxes[0], [40, 15, 60, 35])

    (tmp_path / "kitti" / "image_2").mkdir(parents=True)
    (tmp_path / "kitti" / "label_2").mkdir()
    Image.new("RGB", (120, 40)).save(tmp_path / "kitti" / "image_2" / "000001.png")
    (tmp_path / "kitti" / "label_2" / "000001.txt").write_text(
        "Car 0.00 0 -1.5 10.0 5.0 50.0 30.0 1.5 1.6 3.9 1.0 1.5 20.0 -1.5\n"
        "DontCare -1 -1 -10 60.0 5.0 80.0 20.0 -1 -1 -1 -1000 -1000 -1000 -10\n"
        "Pedestrian 0.00 0 0.2 90.0 2.0 100.0 38.0 1.8 0.6 0.8 2.0 1.5 10.0 0.3\n"
    )
    kitti = read_kitti(tmp_path / "kitti")
    assert kitti[0].labels == ["Car", "Pedestrian"]
    np.testing.assert_allclose(kitti[0].boxes[0], [10, 5, 50, 30])
    mapping = ClassMapping(["car", "person"], {"Pedestrian": "person"})
    assert [mapping.index(n) for n in kitti[0].labels] == [0, 1]


def test_class_mapping_normalises_and_rejects_bad_aliases() -> None:
    m = ClassMapping(["traffic_cone", "car"], {"road-cone": "traffic_cone"})
    assert m.index("Traffic-Cone") == 0 and m.index("ROAD_CONE") == 0 and m.index("Car") == 1
    assert m.index("bus") is None and m.num_classes == 3
    with pytest.raises(ValueError, match="not one of the classes"):
        ClassMapping(["car"], {"cone": "traffic_cone"})


# ---------------------------------------------------------------- datasets


def test_detection_dataset_resizes_flips_and_decodes_masks(toy: Path) -> None:
    records = read_simvision(toy)
    mapping = ClassMapping(["traffic_cone", "box"])
    full = DetectionDataset(records, mapping, masks=True)
    half = DetectionDataset(records, mapping, masks=True, max_side=32)
    img, t = full[0]
    img2, t2 = half[0]
    assert img.shape == (3, 64, 64) and img2.shape == (3, 32, 32)
    torch.testing.assert_close(t2["boxes"], t["boxes"] / 2)
    assert t["labels"].tolist() == [mapping.index(n) + 1 for n in records[0].labels]
    assert int(t["masks"][0].sum()) == pytest.approx(float(t["area"][0]), rel=0.01)  # exact RLE masks
    flipped = DetectionDataset(records, mapping, train=True, hflip=1.0)
    img3, t3 = flipped[0]
    torch.testing.assert_close(img3, img.flip(-1))
    torch.testing.assert_close(t3["boxes"][:, [0, 2]], 64 - t["boxes"][:, [2, 0]])
    only_cones = DetectionDataset(records, ClassMapping(["traffic_cone"]))
    assert set(only_cones[0][1]["labels"].tolist()) <= {1}
    assert [r.path for r in records_subset(records, 2, 0)] == [r.path for r in records_subset(records, 4, 0)[:2]]


# ---------------------------------------------------------------- calibration and AP


def test_ece_hand_computed() -> None:
    # bins (0.8, 0.9], (0.7, 0.8], (0.2, 0.3]: |1 - 0.9| + |0 - 0.8| + |0 - 0.3| over 3 detections
    ece, table = expected_calibration_error(np.array([0.9, 0.8, 0.3]), np.array([1, 0, 0]), n_bins=10)
    assert ece == pytest.approx((0.1 + 0.8 + 0.3) / 3)
    assert [b["count"] for b in table] == [1, 1, 1]


def test_matching_counts_each_ground_truth_once() -> None:
    gt = torch.tensor([[0.0, 0, 10, 10]])
    boxes = torch.tensor([[0.0, 0, 10, 10], [0.5, 0, 10, 10], [0.0, 0, 10, 10]])
    scores, labels = torch.tensor([0.6, 0.9, 0.7]), torch.tensor([1, 1, 2])
    assert match_detections(boxes, scores, labels, gt, torch.tensor([1])).tolist() == [False, True, False]
    cal = detection_calibration(
        [{"boxes": boxes, "scores": scores, "labels": labels}], [{"boxes": gt, "labels": torch.tensor([1])}], n_bins=10
    )
    assert cal["n_detections"] == 3
    assert cal["ece"] == pytest.approx((abs(0 - 0.6) + abs(0 - 0.7) + abs(1 - 0.9)) / 3)


class Oracle(nn.Module):
    """Returns the ground truth of the evaluation set, in order, as confident detections."""

    def __init__(self, targets: list[dict[str, Tensor]]) -> None:
        super().__init__()
        self.targets = targets
        self.i = 0

    def forward(self, images: list[Tensor]) -> list[dict[str, Tensor]]:
        out = []
        for _ in images:
            t = self.targets[self.i]
            self.i += 1
            out.append({"boxes": t["boxes"], "labels": t["labels"], "scores": torch.full((len(t["labels"]),), 0.99)})
        return out


def test_evaluate_uses_torchmetrics_map_per_class(toy: Path) -> None:
    ds = DetectionDataset(read_simvision(toy), ClassMapping(["traffic_cone", "box"]))
    result = evaluate(
        Oracle([ds[i][1] for i in range(len(ds))]), ds, torch.device("cpu"), ["traffic_cone", "box"], progress=False
    )
    assert result["map"] == pytest.approx(1.0) and result["map_50"] == pytest.approx(1.0)
    assert result["per_class"]["traffic_cone"] == {"ap": pytest.approx(1.0), "ap50": pytest.approx(1.0)}
    assert result["calibration"]["ece"] == pytest.approx(0.01, abs=1e-6)  # all correct at score 0.99


# ---------------------------------------------------------------- training, checkpoints, resume


@pytest.mark.slow
def test_fit_checkpoints_and_resumes(toy: Path, tmp_path: Path) -> None:
    records = read_simvision(toy)[:3]
    ds = DetectionDataset(records, ClassMapping(["traffic_cone", "box"]), train=True)
    cfg = TrainConfig(batch_size=3, warmup_iters=1, device="cpu")
    torch.manual_seed(0)
    model = build_detector(TINY_MODEL, 3)
    ckpt = tmp_path / "run" / "checkpoint.pt"
    h1 = fit(
        model,
        ds,
        cfg,
        epochs=2,
        lr=0.01,
        device=torch.device("cpu"),
        checkpoint_path=ckpt,
        progress=False,
        args={"note": "test"},
    )
    state = load_checkpoint(ckpt)
    assert state["epoch"] == 1 and state["args"] == {"note": "test"}
    assert {"model", "optimizer", "scheduler"} <= set(state) and state["scheduler"]["last_epoch"] == 2
    # a finished run is only loaded; asking for one more epoch continues from the saved state
    fresh = build_detector(TINY_MODEL, 3)
    h2 = fit(fresh, ds, cfg, epochs=2, lr=0.01, device=torch.device("cpu"), checkpoint_path=ckpt, progress=False)
    assert h2 == h1
    for a, b in zip(fresh.state_dict().values(), model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    h3 = fit(fresh, ds, cfg, epochs=3, lr=0.01, device=torch.device("cpu"), checkpoint_path=ckpt, progress=False)
    assert len(h3) == 3 and h3[:2] == h1 and load_checkpoint(ckpt)["epoch"] == 2


class _Killed(Exception):
    pass


@pytest.mark.slow
def test_fit_is_reproducible_whatever_ran_before_and_across_a_resume(toy: Path, tmp_path: Path) -> None:
    """torchvision's proposal samplers draw from torch's global RNG: fit seeds it per epoch (in a fork), so
    an earlier draw in the process does not change the weights, a run killed after an epoch and resumed (in
    a process with another RNG state) ends where a straight one does, and the caller's RNG is left alone."""
    ds = DetectionDataset(read_simvision(toy)[:3], ClassMapping(["traffic_cone", "box"]), train=True)
    cfg = TrainConfig(batch_size=3, warmup_iters=1, device="cpu")
    cpu = torch.device("cpu")

    def validate(kill_at: int | None = None) -> Callable[[nn.Module], float]:
        calls = [0]

        def score(model: nn.Module) -> float:
            calls[0] += 1
            if calls[0] == kill_at:  # killed during epoch 2's validation: its checkpoint is never written
                raise _Killed
            return time.monotonic()  # always better: the last epoch is the best

        return score

    def trained(folder: str, draws: int, seed: int = 3, kill_at: int | None = None) -> dict[str, Tensor]:
        torch.manual_seed(0)
        model = build_detector(TINY_MODEL, 3)
        kw = dict(epochs=2, lr=0.01, device=cpu, checkpoint_path=tmp_path / folder / "c.pt", progress=False, seed=seed)
        torch.rand(draws)
        before = torch.get_rng_state()
        if kill_at:
            with pytest.raises(_Killed):
                fit(model, ds, cfg, validate=validate(kill_at), **kw)
            assert load_checkpoint(tmp_path / folder / "c.pt")["epoch"] == 0
            torch.manual_seed(0)
            model = build_detector(TINY_MODEL, 3)  # a new process: fresh model, another RNG state
            torch.rand(draws + 5)
            before = torch.get_rng_state()
        fit(model, ds, cfg, validate=validate(), **kw)
        assert torch.equal(torch.get_rng_state(), before)  # the caller's RNG is untouched
        return model.state_dict()

    straight = trained("a", draws=1)
    others = {"another RNG state": trained("b", draws=7), "killed and resumed": trained("c", draws=1, kill_at=2)}
    other_seed = trained("d", draws=1, seed=4)
    for name, w in straight.items():
        for why, sd in others.items():
            torch.testing.assert_close(sd[name], w, rtol=0, atol=0, msg=f"{why}: {name}")
    assert any(not torch.equal(other_seed[n], w) for n, w in straight.items())  # the seed matters


def test_box_batch_size_reaches_the_sampler_and_the_fingerprint() -> None:
    from dataclasses import replace

    from simvision.sim2real.ablation import config_fingerprints
    from simvision.sim2real.config import Sim2RealConfig

    model = build_detector(replace(TINY_MODEL, box_batch_size_per_image=128), 3)
    assert model.roi_heads.fg_bg_sampler.batch_size_per_image == 128
    assert build_detector(TINY_MODEL, 3).roi_heads.fg_bg_sampler.batch_size_per_image == 512
    with pytest.raises(ValueError, match="^model.box_batch_size_per_image: must be at least 1, got 0$"):
        build_detector(replace(TINY_MODEL, box_batch_size_per_image=0), 3)
    # added after the first benchmark runs: at its default older run folders keep their fingerprints
    default = config_fingerprints(Sim2RealConfig(model=TINY_MODEL))
    same = config_fingerprints(Sim2RealConfig(model=replace(TINY_MODEL, box_batch_size_per_image=512)))
    fewer = config_fingerprints(Sim2RealConfig(model=replace(TINY_MODEL, box_batch_size_per_image=128)))
    assert same == default and fewer["train"] != default["train"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arch", "backbone", "weights"),
    [("retinanet", "efficientnet_lite0", "package"), ("maskrcnn", "mobilenet_v3_large", None)],
)
def test_other_architectures_train_a_step(toy: Path, arch: str, backbone: str, weights: str | None) -> None:
    mcfg = ModelConfig(
        arch=arch, backbone=backbone, backbone_weights=weights, min_size=64, max_size=64, anchor_sizes=[8, 16, 32, 64]
    )
    model = build_detector(mcfg, 3)
    ds = DetectionDataset(read_simvision(toy), ClassMapping(["traffic_cone", "box"]), masks=arch == "maskrcnn")
    images, targets = zip(*[ds[0], ds[1]], strict=True)
    losses = model(list(images), list(targets))
    sum(losses.values()).backward()
    if weights == "package":  # pretrained: BatchNorm frozen, early stages frozen
        assert not model.backbone.body._conv_stem.weight.requires_grad
        assert model.backbone.body._blocks[-1]._project_conv.weight.requires_grad
    model.eval()
    with torch.no_grad():
        assert {"boxes", "scores", "labels"} <= set(model(list(images))[0])


# ---------------------------------------------------------------- the app


def _compose_sim2real(*overrides: str):
    import simvision.cli.sim2real  # noqa: F401  (registers the schema)

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="sim2real", overrides=list(overrides))


def test_sim2real_config_composes_with_defaults() -> None:
    cfg = _compose_sim2real("synthetic.path=/x", "output_dir=/tmp/y")
    assert cfg.model.arch == "fasterrcnn" and cfg.model.backbone == "mobilenet_v3_large"
    assert list(cfg.ablation.arms) == ["real_only", "synthetic_only", "synthetic_then_real", "mixed"]
    assert cfg.real_test.path.endswith("coco128/images/val2017")


@needs_cones
@pytest.mark.slow
def test_ablation_one_epoch_on_cpu_prints_table_and_resumes(
    toy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from simvision.cli.sim2real import run

    overrides = [
        f"synthetic.path={toy}",
        "class_names=[traffic_cone]",
        f"real_train.path={CONES / 'valid' / 'images'}",
        "real_train.labels=null",
        "real_train.names=null",
        "real_train.max_images=4",
        "real_train.aliases={cone: traffic_cone}",
        f"real_test.path={CONES / 'test' / 'images'}",
        "real_test.labels=null",
        "real_test.names=null",
        "real_test.max_images=3",
        "model.min_size=64",
        "model.max_size=64",
        "model.anchor_sizes=[8,16,32,64]",
        "train.epochs_synthetic=1",
        "train.epochs_real=1",
        "train.epochs_finetune=1",
        "train.batch_size=2",
        "train.device=cpu",
        "ablation.k=[2]",
        f"output_dir={tmp_path / 'out'}",
        "progress=false",
    ]
    result = run(_compose_sim2real(*overrides))
    table = capsys.readouterr().out
    for arm in ("real_only", "synthetic_only", "synthetic_then_real", "mixed"):
        assert f"| {arm} |" in table
    assert "AP50 traffic_cone" in table and "ECE" in table
    rows = {r["arm"]: r for r in result["rows"]}
    assert set(rows) == {"real_only", "synthetic_only", "synthetic_then_real", "mixed"}
    for r in rows.values():
        assert 0.0 <= r["map_50"] <= 1.0 and r["n_images"] == 3  # torchmetrics mAP on the 3 real test images
        assert r["per_class"]["traffic_cone"]["ap"] is not None
        assert 0.0 <= r["calibration"]["ece"] <= 1.0
    assert rows["mixed"]["real_images"] == 2 and rows["synthetic_only"]["real_images"] == 0
    assert (tmp_path / "out" / "ablation.md").is_file()

    t0 = time.perf_counter()  # everything cached: same table without training
    again = run(_compose_sim2real(*overrides))
    assert again["table"] == result["table"] and time.perf_counter() - t0 < 10

    with pytest.raises(ValueError, match="another config"):  # cached runs never mix configs
        run(_compose_sim2real(*overrides[:-2], "train.lr=0.02", *overrides[-2:]))

    ckpt = tmp_path / "out" / "runs" / "synthetic_s0" / "checkpoint.pt"
    evaluated = run(_compose_sim2real(*overrides, "mode=evaluate", f"checkpoint={ckpt}"))
    assert evaluated["map"] == pytest.approx(rows["synthetic_only"]["map"])
