"""The asset pool: procedural generators and meshes listed in ``assets/manifest.yaml`` or config."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simvision.config.paths import ASSETS_DIR

MESH_SUFFIXES = (".obj", ".ply", ".glb", ".gltf", ".stl")


class AssetError(ValueError):
    """A missing, unreadable or malformed asset; the message names the file or field."""


@dataclass(frozen=True)
class Asset:
    id: str
    class_name: str
    kind: str  # procedural | mesh
    generator: str | None = None
    path: str | None = None
    scale: float = 1.0
    weight: float = 1.0
    licence: str = "unknown"
    source: str = ""

    def record(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def load_manifest(path: Path | None = None) -> list[Asset]:
    """Read the asset manifest; mesh paths are resolved relative to the manifest's folder."""
    path = path or ASSETS_DIR / "manifest.yaml"
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise AssetError(f"{path}: cannot read the asset manifest ({exc})") from exc
    assets = []
    for i, entry in enumerate(data.get("assets", [])):
        try:
            asset = Asset(
                id=str(entry["id"]),
                class_name=str(entry["class"]),
                kind=str(entry["kind"]),
                generator=entry.get("generator"),
                path=str(path.parent / entry["path"]) if entry.get("path") else None,
                scale=float(entry.get("scale", 1.0)),
                weight=float(entry.get("weight", 1.0)),
                licence=str(entry["licence"]),
                source=str(entry.get("source", "")),
            )
        except KeyError as exc:
            raise AssetError(f"{path}: assets[{i}] lacks the field {exc.args[0]!r}") from exc
        assets.append(asset)
    return assets


@lru_cache(maxsize=64)
def load_mesh(path: str, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Triangles of a mesh file, scaled, re-based so the object sits at z = 0 centred on its axis.

    Geometry is read with trimesh (no Blender needed), so the sampler can validate and measure
    meshes before any rendering starts.
    """
    import trimesh  # noqa: PLC0415 - heavy, only needed for mesh assets

    p = Path(path)
    if not p.is_file():
        raise AssetError(f"{path}: mesh file not found")
    if p.suffix.lower() not in MESH_SUFFIXES:
        raise AssetError(f"{path}: unsupported mesh format (use one of {', '.join(MESH_SUFFIXES)})")
    try:
        mesh = trimesh.load(p, force="mesh", process=False)
    except Exception as exc:  # trimesh raises many kinds for corrupt files
        raise AssetError(f"{path}: cannot read mesh ({type(exc).__name__}: {exc})") from exc
    vertices = np.asarray(getattr(mesh, "vertices", np.empty((0, 3))), dtype=np.float64) * scale
    faces = np.asarray(getattr(mesh, "faces", np.empty((0, 3))), dtype=np.int64)
    if len(vertices) < 4 or len(faces) < 4:
        raise AssetError(f"{path}: mesh has no usable triangles")
    if not np.isfinite(vertices).all():
        raise AssetError(f"{path}: mesh has non-finite vertex coordinates")
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    vertices = vertices - np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    vertices.setflags(write=False)
    faces.setflags(write=False)
    return vertices, faces
