"""Shared fixtures: composing the real Hydra config, tiny render settings."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from simvision.config import CONF_DIR
from simvision.dataset.job_config import register_configs

os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
# scene.assets defaults to infinigen for users; the tests (and every render subprocess they start, which
# inherits this) use the fast procedural shapes unless a test asks for scene.assets=infinigen
os.environ["SIMVISION_ASSETS"] = "procedural"

# tiny but real: Cycles on the CPU renders these in well under a second
TINY = ["render.resolution=[64,48]", "render.samples=2", "render.device=cpu", "render.denoiser=none"]


@pytest.fixture(scope="module")
def renderer():
    """A real Cycles renderer on the CPU with tiny settings, for tests that build and render SceneSpecs directly."""
    from omegaconf import OmegaConf

    from simvision.render.builder import Renderer

    cfg = {"device": "cpu", "threads": 0, "samples": 2, "denoiser": "none", "noise_threshold": 0.0, "max_bounces": 2}
    return Renderer(OmegaConf.create(cfg))


@pytest.fixture(scope="session")
def compose_cfg() -> Callable[..., DictConfig]:
    register_configs()

    def _compose(*overrides: str, config_name: str = "render") -> DictConfig:
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose(config_name=config_name, overrides=list(overrides))

    return _compose
