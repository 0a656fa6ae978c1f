"""Built-in scene types, found by scanning the modules of ``simvision.scene``.

Each module or sub-package that exports ``SCENE_TYPE`` is a built-in scene type; its schema is registered in
Hydra's ConfigStore as ``scene/<name>_schema`` so its YAML files are typed at composition time.
Scene types outside the package need no registration: their ``_target_`` is enough, and their
block is typed against their schema when the job starts.
"""

from __future__ import annotations

import importlib
import pkgutil

import simvision.scene
from simvision.scene.base import SceneType


def builtin_scene_types() -> list[type[SceneType]]:
    found = []
    for info in sorted(pkgutil.iter_modules(simvision.scene.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"simvision.scene.{info.name}")
        scene_type = getattr(module, "SCENE_TYPE", None)
        if scene_type is not None and scene_type not in found:
            found.append(scene_type)
    return found
