"""The asset pool: procedural generators and meshes listed in ``assets/manifest.yaml`` or config."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simvision.config.checks import ConfigError, positive_number
from simvision.config.paths import ASSETS_DIR
from simvision.scene.shapes import CLASS_SHAPES

MESH_SUFFIXES = (".obj", ".ply", ".glb", ".gltf", ".stl")
# A mesh whose thinnest axis is below this fraction of its largest is flat (a plane, a line or a
# point): it has no volume for the rigid-body drop and at most a sliver of pixels, so it is refused.
FLAT_TOLERANCE = 1e-6


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
    """Read the asset manifest; mesh paths are resolved relative to the manifest's folder.

    Every entry is checked here, before any rendering: a bad weight or scale, an unknown kind or a
    generator with no procedural shape would otherwise fail (or be drawn wrongly) mid-run.
    """
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
                scale=positive_number(entry.get("scale", 1.0), f"assets[{i}].scale"),
                weight=positive_number(entry.get("weight", 1.0), f"assets[{i}].weight"),
                licence=str(entry["licence"]),
                source=str(entry.get("source", "")),
            )
        except KeyError as exc:
            raise AssetError(f"{path}: assets[{i}] lacks the field {exc.args[0]!r}") from exc
        except ConfigError as exc:
            raise AssetError(f"{path}: {exc}") from None
        if asset.kind not in ("procedural", "mesh"):
            raise AssetError(f"{path}: assets[{i}].kind: {asset.kind!r} is not procedural or mesh")
        if asset.kind == "procedural" and asset.generator not in CLASS_SHAPES:
            raise AssetError(
                f"{path}: assets[{i}].generator: no procedural shape named {asset.generator!r} "
                f"(choose from {', '.join(CLASS_SHAPES)})"
            )
        if asset.kind == "mesh" and asset.path is None:
            raise AssetError(f"{path}: assets[{i}] lacks the field 'path'")
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
    with np.errstate(over="ignore", invalid="ignore"):  # overflow to inf is reported below
        vertices = np.asarray(getattr(mesh, "vertices", np.empty((0, 3))), dtype=np.float64) * scale
    faces = np.asarray(getattr(mesh, "faces", np.empty((0, 3))), dtype=np.int64)
    if len(vertices) < 4 or len(faces) < 4:
        raise AssetError(f"{path}: mesh has no usable triangles")
    if not np.isfinite(vertices).all():
        raise AssetError(f"{path}: mesh has non-finite vertex coordinates (after scale {scale:g})")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise AssetError(f"{path}: mesh faces refer to vertices it does not have")
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    extent = hi - lo
    if extent.min() <= FLAT_TOLERANCE * extent.max():  # also all vertices at one point (0 <= 0)
        raise AssetError(f"{path}: mesh is flat (extent {_metres(extent)}); a solid needs depth on every axis")
    vertices = vertices - np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    vertices.setflags(write=False)
    faces.setflags(write=False)
    return vertices, faces


def _metres(extent: np.ndarray) -> str:
    return " x ".join(f"{v:.3g}" for v in extent) + " m"
