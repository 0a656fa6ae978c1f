"""The domain-gap and sim-to-real commands on frames rendered by real Blender in the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from simvision.config import CONF_DIR
from tests.conftest import TINY

pytestmark = [pytest.mark.blender, pytest.mark.slow]

REAL = CONF_DIR.parent.parent / "shared" / "data" / "real" / "coco128"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, compose_cfg) -> Path:
    from simvision.dataset.job import run

    out = tmp_path_factory.mktemp("synthetic")
    run(
        compose_cfg(
            f"output_dir={out}",
            "num_frames=6",
            "seed=1",
            *TINY,
            "render.resolution=[96,72]",
            "scene.classes=[cup,bottle,bowl]",
            "scene.num_objects=[3,5]",
            "scene.physics_max_time=1.5",
            "output.card=false",
        )
    )
    return out


def test_sim2real_ablation_on_rendered_frames_and_real_photos(rendered: Path, tmp_path: Path, capsys) -> None:
    if not REAL.exists():
        pytest.skip("../shared/data/real is not beside the checkout")
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from simvision.cli.sim2real import run

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "sim2real",
            overrides=[
                f"synthetic.path={rendered}",
                "class_names=[cup,bottle,bowl]",
                f"real_train.path={REAL}/images/train2017",
                f"real_train.labels={REAL}/object_detection/labels/train2017",
                f"real_train.names={REAL}/object_detection/config.yaml",
                "real_train.max_images=12",
                f"real_test.path={REAL}/images/val2017",
                f"real_test.labels={REAL}/object_detection/labels/val2017",
                f"real_test.names={REAL}/object_detection/config.yaml",
                "real_test.max_images=12",
                "model.min_size=96",
                "model.max_size=128",
                "model.anchor_sizes=[16,32,64,128,256]",
                "train.epochs_synthetic=1",
                "train.epochs_real=1",
                "train.epochs_finetune=1",
                "train.batch_size=2",
                "train.device=cpu",
                "ablation.k=[2]",
                f"output_dir={tmp_path / 'ablation'}",
                "progress=false",
            ],
        )
    result = run(cfg)
    table = capsys.readouterr().out
    for arm in ("real_only", "synthetic_only", "synthetic_then_real", "mixed"):
        assert f"| {arm} |" in table
    rows = {r["arm"]: r for r in result["rows"]}
    assert rows["synthetic_only"]["real_images"] == 0 and rows["synthetic_only"]["n_images"] >= 1
    for r in rows.values():
        assert 0.0 <= r["map_50"] <= 1.0  # torchmetrics MeanAveragePrecision on the held-out real photos


def test_gap_between_rendered_frames_and_real_photos(rendered: Path, tmp_path: Path) -> None:
    """simvision-gap with its offline EfficientNet-Lite0 extractor: rendered frames vs COCO128 val."""
    if not REAL.exists():
        pytest.skip("../shared/data/real is not beside the checkout")
    import json

    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from simvision.cli.gap import run

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "gap",
            overrides=[
                f"synthetic.path={rendered}",
                f"real.path={REAL}/images/val2017",
                f"real.labels={REAL}/object_detection/labels/val2017",
                f"real.names={REAL}/object_detection/config.yaml",
                "metrics.bootstrap=5",
                "breakdown.per_class=false",
                "report.plots=false",
                "extractor.device=cpu",
                f"output_dir={tmp_path / 'gap'}",
            ],
        )
    paths = run(cfg)
    numbers = json.loads(Path(paths["json"]).read_text())
    text = json.dumps(numbers)
    assert "frechet" in text.lower() and "precision" in text.lower()
    assert (tmp_path / "gap").is_dir()
