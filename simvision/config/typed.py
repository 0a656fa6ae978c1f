"""Typing a config block against its schema, with one-line errors."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from simvision.config.checks import ConfigError


def typed_block(schema: type, block: Any, name: str) -> DictConfig:
    """``block`` merged onto ``schema``'s defaults: unknown keys and wrong types fail here, naming the key.

    Blocks Hydra composed from a registered schema are already typed (the merge changes nothing);
    blocks of plug-ins that Hydra could not know at composition time get their defaults and types here.
    """
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), block)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or ""
        detail = str(exc).splitlines()[0]
        raise ConfigError(f"{name}{'.' + key if key else ''}: {detail}") from None
    assert isinstance(merged, DictConfig)
    return merged
