"""The class table: one row per class, the only source of category ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from simvision.config.checks import ConfigError


@dataclass
class ClassEntry:
    """One row of the class table."""

    id: int = MISSING
    name: str = MISSING
    supercategory: str = "object"
    # names of this class in other label sets, e.g. {"kitti": "Car", "coco": "car"}
    aliases: dict[str, str] = field(default_factory=dict)


def class_table(classes: Any) -> dict[str, int]:
    """name -> id from the ``classes`` list; checks ids and names are unique and ids positive."""
    table: dict[str, int] = {}
    ids: set[int] = set()
    if not classes:
        raise ConfigError("classes: the class table is empty")
    for i, entry in enumerate(classes):
        if int(entry.id) <= 0:
            raise ConfigError(f"classes[{i}].id: ids must be positive (0 is background), got {entry.id}")
        if entry.name in table or int(entry.id) in ids:
            raise ConfigError(f"classes[{i}]: duplicate class name or id ({entry.name}, {entry.id})")
        table[str(entry.name)] = int(entry.id)
        ids.add(int(entry.id))
    return table
