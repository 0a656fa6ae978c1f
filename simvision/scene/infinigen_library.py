"""Infinigen's tableware as an asset library (``scene.assets=infinigen``): plain data, no Blender.

Infinigen (Princeton, BSD-3-Clause, PyPI ``infinigen``) generates meshes and their materials
procedurally inside Blender. A helper Blender process (:mod:`simvision.render.infinigen_assets`)
spawns each (factory, factory seed) variant once into an on-disk cache:

    <cache>/<infinigen version>/<Factory>/<seed>.blend   the object with its materials (images packed)
    <cache>/<infinigen version>/<Factory>/<seed>.npz     its triangles in the object frame (base at z = 0,
                                                        centred on x, y), for placement, physics and labels

This module names those files and reads the ``.npz`` side, so the sampler can draw variants and put
their triangles into the :class:`~simvision.scene.spec.ObjectSpec` without touching Blender. The
variants of a job are fixed by the config (``scene.infinigen.variants`` seeds per class starting at
``scene.infinigen.seed``); each scene's own random generator (from its SeedSequence) picks among
them, so the same seed gives the same assets, and every worker of a sweep shares one cache.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from simvision.scene.assets import AssetError

INFINIGEN_VERSION = "1.15.5"  # pinned in pyproject.toml; part of every cache key
LICENCE = "BSD-3-Clause"
SOURCE = f"infinigen {INFINIGEN_VERSION} (PyPI, github.com/princeton-vl/infinigen)"

# simvision class -> Infinigen factory: (module under infinigen.assets.objects, factory class)
FACTORIES: dict[str, tuple[str, str]] = {
    "cup": ("tableware", "CupFactory"),
    "bowl": ("tableware", "BowlFactory"),
    "bottle": ("tableware", "BottleFactory"),
    "can": ("tableware", "CanFactory"),
}


@dataclass
class InfinigenConfig:
    """``scene.infinigen``: the variants generated once per cache and drawn by every scene."""

    variants: int = 4  # factory seeds per class; each is generated once into the cache
    seed: int = 0  # first factory seed (variants use seed, seed + 1, ...)
    cache_dir: str = ""  # "" = $SIMVISION_CACHE/infinigen, else ~/.cache/simvision/infinigen
    # table/bin, floor and walls in Infinigen's materials (ROOM_MATERIALS) instead of the procedural
    # MaterialSpec; false keeps the procedural ones (same scene otherwise: same objects, poses, labels)
    room_materials: bool = True
    material_variants: int = 2  # seeds per room material (seed, seed + 1, ...), each generated once


def cache_root(cache_dir: str = "") -> Path:
    """The cache folder (``scene.infinigen.cache_dir``, or the per-user default)."""
    if cache_dir:
        return Path(cache_dir).expanduser().resolve()
    base = os.environ.get("SIMVISION_CACHE") or str(Path.home() / ".cache" / "simvision")
    return Path(base).expanduser().resolve() / "infinigen"


# surface -> Infinigen materials drawn for it: (module under infinigen.assets.materials, class); each class
# builds a node tree (``generate()``) in object or UV coordinates, with bump (no displacement, see the helper)
ROOM_MATERIALS: dict[str, list[tuple[str, str]]] = {
    "container": [("wood", "TableWood"), ("wood", "BlondePlywood"), ("ceramic", "Marble"), ("metal", "BrushedMetal")],
    "floor": [("ceramic", "Tile"), ("wood", "HardwoodFloor"), ("wood", "Wood")],
    "walls": [("ceramic", "Plaster"), ("fabric", "CoarseKnitFabric")],
}


@dataclass(frozen=True)
class Variant:
    """One cached Infinigen asset: which factory and seed, and where its files are."""

    class_name: str
    factory: str
    seed: int
    blend: str
    npz: str
    module: str = "tableware"  # infinigen.assets.objects.<module> holds the factory
    max_triangles: int = 0  # > 0: the helper decimates the joined mesh to about this many triangles
    params: str = ""  # JSON object of keyword arguments for the factory (e.g. a tree's season), "" for none
    # > 0: the mesh detail in metres handed to spawn_asset (without a camera Infinigen meshes trees at 3 mm)
    face_size: float = 0.0
    # > 0: before spawning, the meshes the factory instances (a tree's leaves and twigs) are decimated to this
    # fraction, so realizing them (realize=True) stays within memory and time
    instance_ratio: float = 0.0

    @property
    def object_name(self) -> str:
        return f"{self.factory}_{self.seed}"

    @property
    def files(self) -> tuple[str, ...]:
        return (self.blend, self.npz)  # the helper writes the .npz last

    @property
    def version_dir(self) -> Path:
        return Path(self.npz).parents[1]

    def asset_record(self) -> dict[str, Any]:
        """The ObjectSpec ``asset`` entry: how the builder finds it, and its licence and source."""
        return {
            "kind": "blend",
            "id": f"infinigen:{self.factory}:{self.seed}",
            "library": "infinigen",
            "path": self.blend,
            "object": self.object_name,
            "factory": self.factory,
            "seed": self.seed,
            "version": INFINIGEN_VERSION,
            "licence": LICENCE,
            "source": f"{SOURCE}, {self.module}.{self.factory}(factory_seed={self.seed})",
        }


def variants(class_names: list[str], cfg: Any) -> dict[str, list[Variant]]:
    """The variants a scene config uses, per class Infinigen provides (other classes stay procedural)."""
    root = cache_root(str(cfg.cache_dir)) / INFINIGEN_VERSION
    out: dict[str, list[Variant]] = {}
    for name in class_names:
        if name not in FACTORIES:
            continue
        module, factory = FACTORIES[name]
        out[name] = [
            Variant(name, factory, s, str(root / factory / f"{s}.blend"), str(root / factory / f"{s}.npz"), module)
            for s in range(int(cfg.seed), int(cfg.seed) + int(cfg.variants))
        ]
    return out


@dataclass(frozen=True)
class MaterialVariant:
    """One cached Infinigen material: ``infinigen.assets.materials.<module>.<cls>`` generated under a seed,
    written alone (with its node groups) to ``<cache>/<version>/materials/<module>.<cls>/<seed>.blend``."""

    module: str
    cls: str
    seed: int
    blend: str

    @property
    def material_name(self) -> str:
        return f"{self.cls}_{self.seed}"

    @property
    def files(self) -> tuple[str, ...]:
        return (self.blend,)

    @property
    def version_dir(self) -> Path:
        return Path(self.blend).parents[2]

    def record(self) -> dict[str, Any]:
        """The scene spec's entry for one surface: how the builder finds it, and where it comes from."""
        return {
            "kind": "infinigen",
            "module": f"infinigen.assets.materials.{self.module}",
            "class": self.cls,
            "seed": self.seed,
            "path": self.blend,
            "material": self.material_name,
            "version": INFINIGEN_VERSION,
            "licence": LICENCE,
        }


def room_materials(cfg: Any) -> dict[str, list[MaterialVariant]]:
    """Surface -> the Infinigen material variants it draws from (empty if ``room_materials`` is off)."""
    if not bool(getattr(cfg, "room_materials", False)):
        return {}
    root = cache_root(str(cfg.cache_dir)) / INFINIGEN_VERSION / "materials"
    seeds = range(int(cfg.seed), int(cfg.seed) + int(cfg.material_variants))
    return {
        surface: [
            MaterialVariant(module, cls, s, str(root / f"{module}.{cls}" / f"{s}.blend"))
            for module, cls in choices
            for s in seeds
        ]
        for surface, choices in ROOM_MATERIALS.items()
    }


def missing(wanted: list[Any]) -> list[Any]:
    """Variants (objects or materials) whose cached files are not all there."""
    return [v for v in wanted if not all(Path(f).is_file() for f in v.files)]


@lru_cache(maxsize=256)
def load_variant_mesh(npz: str) -> tuple[np.ndarray, np.ndarray]:
    """The cached triangles of one variant: (V, 3) float64 metres, (F, 3) int64, read-only."""
    try:
        with np.load(npz) as data:
            vertices = np.asarray(data["vertices"], dtype=np.float64)
            faces = np.asarray(data["faces"], dtype=np.int64)
    except (OSError, KeyError, ValueError) as exc:
        raise AssetError(
            f"{npz}: Infinigen asset not in the cache or unreadable ({exc}); the render job generates missing "
            "variants before sampling (simvision.render.infinigen_assets.prepare)"
        ) from exc
    vertices.setflags(write=False)
    faces.setflags(write=False)
    return vertices, faces
