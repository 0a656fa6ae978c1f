"""Polishing inside the render job: tiny diffusion models saved to disk, real Blender renders."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import TINY

pytestmark = [pytest.mark.blender, pytest.mark.slow]

SCENE = [
    *TINY,
    "scene.num_objects=[3,4]",
    "scene.distractors=[0,0]",
    "scene.physics_max_time=1.5",
    "scene.camera.cameras_per_scene=1",
    "output.card=false",
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    pytest.importorskip("diffusers")
    import torch

    from simvision.polish.tiny import save_tiny_model

    torch.set_num_threads(1)
    return save_tiny_model(tmp_path_factory.mktemp("models") / "tiny-sd")


def test_image_polish_during_render_keeps_labels_and_records_scores(
    tiny_model: Path, tmp_path: Path, compose_cfg
) -> None:
    from simvision.dataset.job import run

    out = tmp_path / "polished"
    run(
        compose_cfg(
            f"output_dir={out}",
            "num_frames=1",
            "seed=2",
            *SCENE,
            "polish=image",
            f"polish.model={tiny_model}",
            "polish.steps=2",
            "polish.strength=0.5",
            "polish.device=cpu",
            "polish.action=flag",
        )
    )
    record = json.loads((out / "metadata" / "frames.jsonl").read_text().splitlines()[0])
    assert "polish" in record and 0.0 <= record["polish"]["score"] <= 1.0
    raw = cv2.imread(str(out / record["polish"]["raw_file"]))
    polished = cv2.imread(str(out / "images" / "000000.png"))
    inst = cv2.imread(str(out / "instance" / "000000.png"), cv2.IMREAD_UNCHANGED)
    assert (raw[inst == 0] == polished[inst == 0]).all()  # only the objects were polished
    assert (raw[inst > 0] != polished[inst > 0]).any()
    # labels are those of the raw render: same as an unpolished run of the same seed
    plain = tmp_path / "plain"
    run(compose_cfg(f"output_dir={plain}", "num_frames=1", "seed=2", *SCENE))
    a = json.loads((out / "annotations" / "instances.json").read_text())["annotations"]
    b = json.loads((plain / "annotations" / "instances.json").read_text())["annotations"]
    assert a == b


def test_texture_polish_applies_cached_textures_without_changing_the_scene(
    tiny_model: Path, tmp_path: Path, compose_cfg
) -> None:
    from simvision.dataset.job import run

    overrides = [
        *SCENE,
        "polish=textures",
        f"polish.model={tiny_model}",
        "polish.steps=2",
        "polish.device=cpu",
        "polish.texture_size=32",
        f"polish.cache_dir={tmp_path / 'cache'}",
        "polish.prompts={cup: glazed ceramic, bottle: green glass, bowl: wood, can: aluminium, box: cardboard}",
    ]
    out = tmp_path / "textured"
    run(compose_cfg(f"output_dir={out}", "num_frames=1", "seed=3", *overrides))
    record = json.loads((out / "metadata" / "frames.jsonl").read_text().splitlines()[0])
    textures = [o["material"]["image_texture"] for o in record["objects"] if o["instance_id"] > 0]
    assert textures and all(t and Path(t).is_file() for t in textures)
    plain = tmp_path / "plain"
    run(compose_cfg(f"output_dir={plain}", "num_frames=1", "seed=3", *SCENE))
    inst_a = cv2.imread(str(out / "instance" / "000000.png"), cv2.IMREAD_UNCHANGED)
    inst_b = cv2.imread(str(plain / "instance" / "000000.png"), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(inst_a, inst_b)  # same geometry, same labels
    rgb_a = cv2.imread(str(out / "images" / "000000.png"))
    rgb_b = cv2.imread(str(plain / "images" / "000000.png"))
    assert (rgb_a[inst_a > 0] != rgb_b[inst_b > 0]).any()  # but the objects look different


def test_bad_polish_value_names_the_field(compose_cfg) -> None:
    from simvision.dataset.job_config import ConfigError, validate_job_config

    with pytest.raises(ConfigError, match=r"^polish\.strength"):
        validate_job_config(compose_cfg("output_dir=/tmp/x", "polish=image", "polish.strength=3.0"))
