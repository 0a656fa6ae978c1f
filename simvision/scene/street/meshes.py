"""Shared building blocks of the street assets: the PartsMesh result, closed mesh primitives, a sampler
that records its draws and the builder that assembles parts.

Object frame: x = forward (heading), y = left, z = up; an asset stands on z = 0 and its footprint
(bounding box in x and y) is centred on x = y = 0. Sizes are in metres.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simvision.scene.shapes import Mesh, cuboid, lathe, merge, torus

LIGHT_ROLES = ("headlight", "taillight", "street_lamp")

Point = Sequence[float] | np.ndarray  # a 3-vector (or a size / radii triple)


@dataclass(frozen=True)
class PartsMesh:
    """A sampled street asset: closed parts merged into one mesh, with a material slot per face."""

    kind: str
    params: dict[str, Any]
    vertices: np.ndarray  # (V, 3) float64, metres, object frame
    faces: np.ndarray  # (F, 3) int64 triangles, outward winding
    face_slots: np.ndarray  # (F,) int64 index into ``slots``
    slots: tuple[str, ...]  # material roles
    lights: tuple[dict, ...] = ()  # {"role", "position", "direction"} in the object frame

    @property
    def size(self) -> np.ndarray:
        """Extent of the mesh along x, y, z."""
        return self.vertices.max(axis=0) - self.vertices.min(axis=0)

    def slot_faces(self, slot: str) -> np.ndarray:
        """The triangles that use material ``slot``."""
        return self.faces[self.face_slots == self.slots.index(slot)]


# --------------------------------------------------------------------------------------------------------------
# geometry helpers (built on the closed primitives of simvision.scene.shapes)


def _signed_volume(v: np.ndarray, f: np.ndarray) -> float:
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    # a . (b x c), the cross product written out (np.cross's axis handling costs more than the arithmetic here)
    bxc = np.empty_like(b)
    bxc[:, 0] = b[:, 1] * c[:, 2] - b[:, 2] * c[:, 1]
    bxc[:, 1] = b[:, 2] * c[:, 0] - b[:, 0] * c[:, 2]
    bxc[:, 2] = b[:, 0] * c[:, 1] - b[:, 1] * c[:, 0]
    return float(np.einsum("ij,ij->i", a, bxc).sum() / 6)


def outward(mesh: Mesh) -> Mesh:
    """Flip a closed component's winding if it encloses a negative volume."""
    v, f = mesh
    return (v, f[:, ::-1].copy()) if _signed_volume(v, f) < 0 else (v, f)


def rot_x(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(a: float) -> np.ndarray:
    """Rotation about +y; a positive angle tips +z towards +x."""
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def unit(d: Point) -> np.ndarray:
    d = np.asarray(d, dtype=np.float64)
    return d / np.linalg.norm(d)


def align_z(direction: Point) -> np.ndarray:
    """A rotation taking +z onto ``direction``."""
    d = unit(direction)
    c = float(d[2])
    if c > 1 - 1e-12:
        return np.eye(3)
    if c < -1 + 1e-9:
        return np.diag([1.0, -1.0, -1.0])
    v = (-float(d[1]), float(d[0]), 0.0)  # +z x d
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


def transform(mesh: Mesh, lin: np.ndarray | None = None, t: Point = (0.0, 0.0, 0.0)) -> Mesh:
    """Apply ``x -> lin @ x + t``; a mirroring ``lin`` reverses the winding so it stays outward."""
    v, f = mesh
    if lin is not None:
        lin = np.asarray(lin, dtype=np.float64)
        v = v @ lin.T
        if np.linalg.det(lin) < 0:
            f = f[:, ::-1].copy()
    return v + np.asarray(t, dtype=np.float64), f


def box(center: Point, size: Point, rot: np.ndarray | None = None) -> Mesh:
    """A box of ``size`` centred on ``center`` (``shapes.cuboid`` stands on z = 0)."""
    v, f = cuboid((float(size[0]), float(size[1]), float(size[2])))
    v = v - np.array([0.0, 0.0, size[2] / 2])
    return transform((v, f), rot, center)


def cylinder(p0: Point, p1: Point, r0: float, r1: float | None = None, segments: int = 12) -> Mesh:
    """A closed (possibly tapered) cylinder from ``p0`` to ``p1``."""
    p0, p1 = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    length = max(float(np.linalg.norm(p1 - p0)), 1e-4)
    r1 = r0 if r1 is None else r1
    mesh = lathe(np.array([[0.0, 0.0], [r0, 0.0], [r1, length], [0.0, length]]), segments)
    axis = p1 - p0 if np.linalg.norm(p1 - p0) > 1e-9 else np.array([0.0, 0.0, 1.0])
    return transform(mesh, align_z(axis), p0)


_C45 = math.cos(math.pi / 4)


def capsule(p0: Point, p1: Point, r0: float, r1: float | None = None, segments: int = 10) -> Mesh:
    """A limb: a tapered cylinder from ``p0`` (radius r0) to ``p1`` (radius r1) with hemispherical ends."""
    p0, p1 = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    r1 = r0 if r1 is None else r1
    length = max(float(np.linalg.norm(p1 - p0)), 1e-3)
    profile = np.array(
        [
            [0.0, -r0],
            [r0 * _C45, -r0 * _C45],
            [r0, 0.0],
            [r1, length],
            [r1 * _C45, length + r1 * _C45],
            [0.0, length + r1],
        ]
    )
    axis = p1 - p0 if np.linalg.norm(p1 - p0) > 1e-9 else np.array([0.0, 0.0, 1.0])
    return transform(lathe(profile, segments), align_z(axis), p0)


def ellipsoid(center: Point, radii: Point, rot: np.ndarray | None = None, segments: int = 12, rings: int = 7) -> Mesh:
    t = np.linspace(0.0, np.pi, rings + 2)
    profile = np.stack([np.sin(t), -np.cos(t)], axis=1)
    profile[0, 0] = profile[-1, 0] = 0.0
    lin = np.diag(np.asarray(radii, dtype=np.float64))
    if rot is not None:
        lin = rot @ lin
    return transform(lathe(profile, segments), lin, center)


def wheel_torus(
    center: Point, radius: float, sidewall: float, width: float, segments: int = 16, sides: int = 8
) -> Mesh:
    """A tyre: a torus around the y axis, outer radius ``radius``, cross-section ``2*sidewall`` x ``width``."""
    v, f = torus(radius - sidewall, sidewall, segments, sides)
    v = v * np.array([1.0, width / (2 * sidewall), 1.0])
    return outward((v + np.asarray(center, dtype=np.float64), f))


def loft(rings: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Skin a stack of closed rings (K, N, 3) and cap both ends with fans around the ring centroids.

    Each ring must be star-shaped about its centroid. Returns vertices, outward faces and, per face, the band
    it belongs to: -1 for the first cap, k for the side band between rings k and k + 1, K - 1 for the last cap.
    """
    k_rings, n, _ = rings.shape
    vertices = np.concatenate([rings.reshape(-1, 3), rings[0].mean(axis=0)[None], rings[-1].mean(axis=0)[None]])
    f, band = _loft_topology(k_rings, n)
    f = f[:, ::-1].copy() if _signed_volume(vertices, f) < 0 else f.copy()
    return vertices, f, band.copy()


@functools.lru_cache(maxsize=128)
def _loft_topology(k_rings: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`loft`'s triangles and bands for ``k_rings`` rings of ``n`` points (built once per size)."""
    c0, c1 = k_rings * n, k_rings * n + 1
    j = np.arange(n)
    jn = (j + 1) % n
    faces = [np.stack([np.full(n, c0), jn, j], axis=1)]
    band = [np.full(n, -1)]
    for k in range(k_rings - 1):
        a, b, c, d = k * n + j, k * n + jn, (k + 1) * n + jn, (k + 1) * n + j
        faces += [np.stack([a, b, c], axis=1), np.stack([a, c, d], axis=1)]
        band += [np.full(2 * n, k)]
    last = (k_rings - 1) * n
    faces.append(np.stack([last + j, last + jn, np.full(n, c1)], axis=1))
    band.append(np.full(n, k_rings - 1))
    f, b = np.concatenate(faces).astype(np.int64), np.concatenate(band)
    f.flags.writeable = b.flags.writeable = False
    return f, b


def prism(polygon: np.ndarray, axis: int, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extrude a star-shaped 2-D polygon along ``axis`` from ``lo`` to ``hi``.

    The polygon's two coordinates fill the other two axes in increasing order (axis 0 -> (y, z), 1 -> (x, z),
    2 -> (x, y)). Returns the loft's (vertices, faces, band): band -1 is the cap at ``lo``, 1 the cap at ``hi``.
    """
    polygon = np.asarray(polygon, dtype=np.float64)
    others = [i for i in range(3) if i != axis]
    rings = np.zeros((2, len(polygon), 3))
    for ring, value in zip(rings, (lo, hi), strict=True):
        ring[:, others[0]], ring[:, others[1]], ring[:, axis] = polygon[:, 0], polygon[:, 1], value
    return loft(rings)


def superellipse(n: int, exponent: float) -> tuple[np.ndarray, np.ndarray]:
    t = 2 * np.pi * (np.arange(n) + 0.5) / n
    c, s = np.cos(t), np.sin(t)
    e = 2.0 / exponent
    return np.sign(c) * np.abs(c) ** e, np.sign(s) * np.abs(s) ** e


def ring_yz(x: float, half_width: float, z0: float, z1: float, n: int, exponent: float) -> np.ndarray:
    """A rounded-rectangle cross-section in the plane x = const."""
    a, b = superellipse(n, exponent)
    return np.stack([np.full(n, x), half_width * a, (z0 + z1) / 2 + (z1 - z0) / 2 * b], axis=1)


def regular_polygon(n: int, radius: float, start: float = np.pi / 2) -> np.ndarray:
    t = start + 2 * np.pi * np.arange(n) / n
    return radius * np.stack([np.cos(t), np.sin(t)], axis=1)


def face_normals(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    n = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-18)


def two_bone_ik(
    root: np.ndarray, target: np.ndarray, l1: float, l2: float, pole: Point
) -> tuple[np.ndarray, np.ndarray]:
    """Two-bone inverse kinematics: (middle joint, end point); the middle joint bends towards ``pole``."""
    d = target - root
    dist = float(np.linalg.norm(d))
    n = d / max(dist, 1e-9)
    dist = float(np.clip(dist, abs(l1 - l2) + 1e-4, (l1 + l2) * 0.999))
    a = math.acos(float(np.clip((l1 * l1 + dist * dist - l2 * l2) / (2 * l1 * dist), -1.0, 1.0)))
    p = np.asarray(pole, dtype=np.float64)
    p = p - np.dot(p, n) * n
    p = p / max(float(np.linalg.norm(p)), 1e-9)
    return root + l1 * (math.cos(a) * n + math.sin(a) * p), root + dist * n


# --------------------------------------------------------------------------------------------------------------
# sampling, assembly and normalisation


class RecordingSampler:
    """Draws from ``rng`` and records every named draw in ``params``."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.params: dict[str, Any] = {}

    def u(self, name: str, lo: float, hi: float) -> float:
        value = float(self.rng.uniform(lo, hi))
        self.params[name] = value
        return value

    def i(self, name: str, lo: int, hi: int) -> int:
        """An integer in [lo, hi] inclusive."""
        value = int(self.rng.integers(lo, hi + 1))
        self.params[name] = value
        return value

    def choice(self, name: str, options: Sequence[str], p: Sequence[float] | None = None) -> str:
        value = options[int(self.rng.choice(len(options), p=p))]
        self.params[name] = value
        return value

    def flag(self, name: str, p: float) -> bool:
        value = bool(self.rng.random() < p)
        self.params[name] = value
        return value


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj)
    return obj


class PartsBuilder:
    """Collects closed parts with their material slots and emitters, then normalises the frame."""

    def __init__(self, slots: Sequence[str]) -> None:
        self.slots = tuple(slots)
        self._meshes: list[Mesh] = []
        self._face_slots: list[np.ndarray] = []
        self.lights: list[dict[str, Any]] = []

    def add(self, mesh: Mesh, slot: str | np.ndarray) -> None:
        v, f = mesh
        if isinstance(slot, str):
            ids = np.full(len(f), self.slots.index(slot), dtype=np.int64)
        else:
            ids = np.asarray(slot, dtype=np.int64)
            if ids.shape != (len(f),):
                raise ValueError("one slot per face is needed")
        self._meshes.append((np.asarray(v, dtype=np.float64), np.asarray(f, dtype=np.int64)))
        self._face_slots.append(ids)

    def sid(self, slot: str) -> int:
        return self.slots.index(slot)

    def light(self, role: str, position: Point, direction: Point) -> None:
        if role not in LIGHT_ROLES:
            raise ValueError(f"unknown light role {role!r}")
        self.lights.append({"role": role, "position": np.asarray(position, float), "direction": unit(direction)})

    def finish(self, kind: str, params: dict[str, Any]) -> PartsMesh:
        v, f = merge(*self._meshes)
        lo, hi = v.min(axis=0), v.max(axis=0)
        shift = np.array([-(lo[0] + hi[0]) / 2, -(lo[1] + hi[1]) / 2, -lo[2]])
        v = v + shift
        lights = tuple(
            {"role": li["role"], "position": (li["position"] + shift).tolist(), "direction": li["direction"].tolist()}
            for li in self.lights
        )
        params = {**params, "size": (hi - lo).tolist()}
        face_slots = np.concatenate(self._face_slots)
        return PartsMesh(kind, _jsonable(params), v, f.astype(np.int64), face_slots, self.slots, lights)
