"""Choosing images of a read set: those labelling one of some classes, then a seeded random subset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simvision.config.checks import ConfigError
from simvision.formats.base import LabelledImage
from simvision.formats.classes import normalise_name
from simvision.formats.registry import read_dataset


def select_images(
    records: Sequence[LabelledImage],
    *,
    with_any_of: Sequence[str] | None = None,
    aliases: Mapping[str, str] | None = None,
    max_images: int | None = None,
    seed: int = 0,
    field: str = "source",
    path: Any = "",
) -> list[LabelledImage]:
    """``records`` labelling at least one of ``with_any_of`` (names compared case-, "-"- and "_"-insensitively,
    ``aliases`` applied), then at most ``max_images`` of them drawn with ``seed`` (order kept).

    Raises :class:`ConfigError` naming ``<field>.with_any_of`` when no image is left.
    """
    kept = list(records)
    if with_any_of:
        mapped = {normalise_name(k): normalise_name(v) for k, v in dict(aliases or {}).items()}
        wanted = {normalise_name(c) for c in with_any_of}
        kept = [r for r in kept if any(mapped.get(normalise_name(n), normalise_name(n)) in wanted for n in r.labels)]
        if not kept:
            raise ConfigError(f"{field}.with_any_of: no image of {str(path)!r} labels any of {list(with_any_of)}")
    if max_images is not None and len(kept) > max_images:
        keep = np.sort(np.random.default_rng(seed).choice(len(kept), max_images, replace=False))
        kept = [kept[i] for i in keep]
    return kept


def read_source(src: Any, *, seed: int = 0, field: str = "source") -> list[LabelledImage]:
    """Read an image set described by a gap or sim2real source block (``path``, ``format``, ``labels``,
    ``names``, ``annotations``, ``with_any_of``, ``aliases``, ``max_images``) and choose its images with
    :func:`select_images`; ``FileNotFoundError`` naming ``<field>.path`` when the path does not exist or the
    set has no image at all."""
    if not Path(src.path).exists():
        raise FileNotFoundError(f"{field}.path: {str(src.path)!r} does not exist")
    records = read_dataset(src.path, src.format, labels=src.labels, names=src.names, annotations=src.annotations)
    if not records:
        raise FileNotFoundError(f"{field}.path: no images found in {str(src.path)!r} (format={src.format})")
    return select_images(
        records,
        with_any_of=src.with_any_of,
        aliases=src.aliases,
        max_images=src.max_images,
        seed=seed,
        field=field,
        path=src.path,
    )
