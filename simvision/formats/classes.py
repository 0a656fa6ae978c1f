"""Mapping between the class names a dataset uses and the classes a model (or a comparison) uses.

Synthetic and real sets rarely spell classes the same way ('Car' in KITTI, 'road-cone' in Roboflow,
'traffic_cone' in a class table). Names are compared after normalisation (case, '-', '_'), and explicit
aliases cover the rest; anything that maps to no class is dropped, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from simvision.formats.base import LabelledImage

__all__ = ["ClassMapping", "normalise_name"]


def normalise_name(name: str) -> str:
    return " ".join(name.replace("-", " ").replace("_", " ").lower().split())


@dataclass
class ClassMapping:
    """Target classes (model label i + 1, 0 is background) plus source-name aliases."""

    classes: Sequence[str]
    aliases: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.classes = list(self.classes)
        if len({normalise_name(c) for c in self.classes}) != len(self.classes):
            raise ValueError(f"duplicate class names after normalisation: {self.classes}")
        self._index = {normalise_name(c): i for i, c in enumerate(self.classes)}
        for src, dst in self.aliases.items():
            if normalise_name(dst) not in self._index:
                raise ValueError(f"alias {src!r} -> {dst!r}: {dst!r} is not one of the classes {self.classes}")
        self._alias = {normalise_name(k): self._index[normalise_name(v)] for k, v in self.aliases.items()}

    @property
    def num_classes(self) -> int:
        """Including background, as torchvision detectors count."""
        return len(self.classes) + 1

    def index(self, name: str) -> int | None:
        """0-based class index for a source name, or None when it maps to no class."""
        key = normalise_name(name)
        return self._alias.get(key, self._index.get(key))

    def name(self, name: str) -> str | None:
        i = self.index(name)
        return None if i is None else self.classes[i]

    def with_aliases(self, aliases: Mapping[str, str]) -> ClassMapping:
        """Same classes, extra per-dataset aliases (synthetic and real sets get their own)."""
        return ClassMapping(self.classes, {**dict(self.aliases), **dict(aliases)})

    def coverage(self, records: Iterable[LabelledImage]) -> dict[str, int]:
        """Instances per target class (and per dropped source name, prefixed '!') for logs and reports."""
        counts: dict[str, int] = {c: 0 for c in self.classes}
        for r in records:
            for label in r.labels:
                mapped = self.name(label)
                key = mapped if mapped is not None else f"!{label}"
                counts[key] = counts.get(key, 0) + 1
        return counts
