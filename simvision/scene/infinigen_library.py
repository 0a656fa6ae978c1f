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

# simvision class -> Infinigen factory (infinigen.assets.objects.tableware)
FACTORIES: dict[str, str] = {
    "cup": "CupFactory",
    "bowl": "BowlFactory",
    "bottle": "BottleFactory",
    "can": "CanFactory",
}


@dataclass
class InfinigenConfig:
    """``scene.infinigen``: the variants generated once per cache and drawn by every scene."""

    variants: int = 4  # factory seeds per class; each is generated once into the cache
    seed: int = 0  # first factory seed (variants use seed, seed + 1, ...)
    cache_dir: str = ""  # "" = $SIMVISION_CACHE/infinigen, else ~/.cache/simvision/infinigen


def cache_root(cache_dir: str = "") -> Path:
    """The cache folder (``scene.infinigen.cache_dir``, or the per-user default)."""
    if cache_dir:
        return Path(cache_dir).expanduser().resolve()
    base = os.environ.get("SIMVISION_CACHE") or str(Path.home() / ".cache" / "simvision")
    return Path(base).expanduser().resolve() / "infinigen"


@dataclass(frozen=True)
class Variant:
    """One cached Infinigen asset: which factory and seed, and where its files are."""

    class_name: str
    factory: str
    seed: int
    blend: str
    npz: str

    @property
    def object_name(self) -> str:
        return f"{self.factory}_{self.seed}"

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
            "source": f"{SOURCE}, tableware.{self.factory}(factory_seed={self.seed})",
        }


def variants(class_names: list[str], cfg: Any) -> dict[str, list[Variant]]:
    """The variants a scene config uses, per class Infinigen provides (other classes stay procedural)."""
    root = cache_root(str(cfg.cache_dir)) / INFINIGEN_VERSION
    out: dict[str, list[Variant]] = {}
    for name in class_names:
        factory = FACTORIES.get(name)
        if factory is None:
            continue
        out[name] = [
            Variant(name, factory, s, str(root / factory / f"{s}.blend"), str(root / factory / f"{s}.npz"))
            for s in range(int(cfg.seed), int(cfg.seed) + int(cfg.variants))
        ]
    return out


def missing(wanted: list[Variant]) -> list[Variant]:
    """Variants whose cached files are not both there (the helper writes the ``.npz`` last)."""
    return [v for v in wanted if not (Path(v.blend).is_file() and Path(v.npz).is_file())]


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
