"""Typed schema of ``conf/loop.yaml`` (registered in Hydra's ConfigStore as ``loop_schema``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ARMS", "LoopConfig", "RuleConfig", "check_loop", "register_loop_configs"]

ARMS = ("loop", "uniform")


@dataclass
class RuleConfig:
    """The weighting rule (``simvision.loop.weights``); see docs/closed_loop.md for the formula."""

    step: float = 0.5  # share of the miss-rate target mixed into the previous weights each round
    alpha: float = 1.0  # additive smoothing of the miss rate: (misses + alpha) / (n + 2 alpha)
    floor: float = 0.05  # least share of any level of a group
    max_change: float = 0.25  # most a share moves in one round (absolute)
    min_count: int = 5  # strata with fewer objects in the validation set keep their weight
    min_recall: float = 0.0  # a group whose pooled validation recall is below this keeps its weights


@dataclass
class LoopConfig:
    """``simvision-loop``: render, train, find the weak strata, render more of them; loop vs uniform."""

    # overrides of conf/render.yaml for every set the loop renders (scene, resolution, samples, ...)
    render: list[str] = field(default_factory=list)
    seed_render: list[str] = field(default_factory=list)  # round 0 (the seed set) only, after ``render``
    val_render: list[str] = field(default_factory=list)  # the synthetic validation set only
    uniform_render: list[str] = field(default_factory=list)  # the uniform arm's rounds >= 1 only
    # overrides of conf/sim2real.yaml: class_names, model, train (batch size, lr), real_test, analysis bins
    sim2real: list[str] = field(default_factory=list)
    frames_per_round: int = 64  # the render budget of one round (the seed set included)
    val_frames: int = 64  # the fixed synthetic validation set, rendered once with the base weights
    val_seed: int = 1_000_003  # render seed of the validation set (round r of seed s renders with 1000 s + r)
    rounds: int = 4  # rounds in all, round 0 (the seed set) included
    patience: int = 0  # stop an arm after this many rounds without a better real AP50 (0 = never)
    arms: list[str] = field(default_factory=lambda: list(ARMS))
    seeds: list[int] = field(default_factory=lambda: [0])
    epochs: int = 4  # training epochs per round
    finetune: bool = True  # start each round from the last round's weights (else from scratch)
    lr: float | None = None  # null: sim2real's train.lr for round 0 / from scratch, train.finetune_lr to fine-tune
    real_test: bool = True  # evaluate on sim2real's real_test set each round (when it has a path)
    groups: list[str] | None = None  # knob groups the loop may turn (null: every one the scene has)
    rule: RuleConfig = field(default_factory=RuleConfig)
    # render each round through a Hydra launcher (e.g. local, slurm, ray_local): a subprocess
    # `python -m simvision.cli.render -m hydra/launcher=<x>` with render_shards shards, merged after
    render_launcher: str | None = None
    render_shards: int = 2
    output_dir: str = "${hydra:runtime.output_dir}"
    progress: bool = False


def check_loop(cfg: LoopConfig) -> None:
    """Raise ``ValueError`` naming the first bad field (one line)."""
    from simvision.loop.weights import WeightRule, check_rule

    for name in ("frames_per_round", "val_frames", "rounds", "epochs", "render_shards"):
        value = getattr(cfg, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}: must be an integer >= 1, got {value!r}")
    if not isinstance(cfg.patience, int) or cfg.patience < 0:
        raise ValueError(f"patience: must be an integer >= 0, got {cfg.patience!r}")
    if not cfg.arms:
        raise ValueError(f"arms: needs at least one of {list(ARMS)}")
    for i, arm in enumerate(cfg.arms):
        if arm not in ARMS:
            raise ValueError(f"arms[{i}]: unknown arm {arm!r}; choose from {list(ARMS)}")
    if len(set(cfg.arms)) != len(cfg.arms):
        raise ValueError(f"arms: an arm is named twice in {list(cfg.arms)}")
    if not cfg.seeds or len(set(cfg.seeds)) != len(cfg.seeds):
        raise ValueError(f"seeds: needs distinct seeds, got {list(cfg.seeds)}")
    if cfg.lr is not None and not float(cfg.lr) > 0:
        raise ValueError(f"lr: must be > 0 or null, got {cfg.lr!r}")
    for key in ("render", "seed_render", "val_render", "uniform_render", "sim2real"):
        for i, o in enumerate(getattr(cfg, key)):
            if not isinstance(o, str) or "=" not in o:
                raise ValueError(f"{key}[{i}]: not a Hydra override (key=value): {o!r}")
            if o.split("=", 1)[0].lstrip("+~") in ("output_dir", "num_frames", "seed"):
                raise ValueError(f"{key}[{i}]: {o.split('=', 1)[0]} is set by the loop (frames_per_round, seeds)")
    check_rule(WeightRule(**dataclasses.asdict(cfg.rule)), "rule")


def register_loop_configs() -> None:
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="loop_schema", node=LoopConfig)


def plain_loop_config(cfg: Any) -> tuple[LoopConfig, dict[str, Any]]:
    """(the typed config, its plain resolved dict) from a composed DictConfig or a LoopConfig."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(cfg, DictConfig):
        return OmegaConf.to_object(cfg), OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    return cfg, dataclasses.asdict(cfg)
