"""Procedural meshes for the tabletop classes, as plain numpy (vertices, triangles).

Shapes are built in metres with the object's base at z = 0 and its axis along +z. Every mesh is
closed (watertight), so its silhouette is the union of its triangles and rigid-body convex hulls
are well defined. The same arrays go to Blender and to the label rasteriser.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Mesh = tuple[np.ndarray, np.ndarray]  # (V, 3) float64 vertices, (F, 3) int64 triangles


@dataclass(frozen=True)
class ShapeSample:
    """A sampled procedural shape: its kind, the parameters drawn, and the mesh."""

    kind: str
    params: dict[str, Any]
    vertices: np.ndarray
    faces: np.ndarray


def lathe(profile: np.ndarray, segments: int = 32) -> Mesh:
    """Revolve a closed (r, z) profile about the z axis.

    The profile runs from a point on the axis (r = 0) to another point on the axis; those two ends
    become single pole vertices so the surface is closed without degenerate triangles.
    """
    profile = np.asarray(profile, dtype=np.float64)
    if profile[0, 0] != 0 or profile[-1, 0] != 0:
        raise ValueError("a lathe profile must start and end on the axis (r = 0)")
    ring = profile[1:-1]
    cos, sin = _circle(segments)
    rings = np.empty((len(ring), segments, 3))
    rings[..., 0] = ring[:, :1] * cos
    rings[..., 1] = ring[:, :1] * sin
    rings[..., 2] = ring[:, 1:2]
    vertices = np.concatenate([rings.reshape(-1, 3), [[0.0, 0.0, profile[0, 1]], [0.0, 0.0, profile[-1, 1]]]])
    return vertices, _lathe_faces(len(ring), segments).copy()


@functools.lru_cache(maxsize=64)
def _circle(segments: int) -> tuple[np.ndarray, np.ndarray]:
    theta = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)
    cos, sin = np.cos(theta), np.sin(theta)
    cos.flags.writeable = sin.flags.writeable = False  # shared by every lathe of that many segments
    return cos, sin


@functools.lru_cache(maxsize=256)
def _lathe_faces(n_ring: int, segments: int) -> np.ndarray:
    """The triangles of a lathe with ``n_ring`` rings of ``segments`` vertices and the two poles after them
    (the same for every profile of that size: built once; callers get a copy)."""
    i_bottom, i_top = n_ring * segments, n_ring * segments + 1
    seg = np.arange(segments)
    nxt = (seg + 1) % segments
    faces = [np.stack([np.full(segments, i_bottom), nxt, seg], axis=1)]
    for k in range(n_ring - 1):
        a, b = k * segments + seg, k * segments + nxt
        c, d = (k + 1) * segments + nxt, (k + 1) * segments + seg
        faces += [np.stack([a, b, c], axis=1), np.stack([a, c, d], axis=1)]
    last = (n_ring - 1) * segments
    faces.append(np.stack([last + seg, last + nxt, np.full(segments, i_top)], axis=1))
    out = np.concatenate(faces).astype(np.int64)
    out.flags.writeable = False
    return out


def torus(major: float, minor: float, segments: int = 24, sides: int = 10, arc: float = 2 * np.pi) -> Mesh:
    """A torus in the xz plane around the y axis; ``arc`` < 2*pi gives a capped partial torus."""
    full = bool(np.isclose(arc, 2 * np.pi))
    n_u = segments if full else segments + 1
    u = np.linspace(0.0, arc, n_u, endpoint=not full)
    v = np.linspace(0.0, 2 * np.pi, sides, endpoint=False)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    r = major + minor * np.cos(vv)
    vertices = np.stack([r * np.cos(uu), minor * np.sin(vv), r * np.sin(uu)], axis=-1).reshape(-1, 3)
    if not full:  # cap both ends with fans around their centres (appended after the rings)
        first, last = vertices[:sides], vertices[(n_u - 1) * sides : n_u * sides]
        vertices = np.concatenate([vertices, first.mean(axis=0)[None], last.mean(axis=0)[None]])
    return vertices, _torus_faces(n_u, sides, full).copy()


@functools.lru_cache(maxsize=64)
def _torus_faces(n_u: int, sides: int, full: bool) -> np.ndarray:
    """The triangles of :func:`torus`: two per quad between rings ``i`` and ``i + 1`` (the last ring joins
    the first when ``full``), then, for a partial torus, a fan cap at each end around its centre vertex."""
    i = np.arange(n_u if full else n_u - 1)[:, None]
    j = np.arange(sides)[None, :]
    i2, j2 = (i + 1) % n_u, (j + 1) % sides
    a, b, c, d = i * sides + j, i2 * sides + j, i2 * sides + j2, i * sides + j2
    quads = np.stack([np.stack([a, b, c], -1), np.stack([a, c, d], -1)], axis=2).reshape(-1, 3)
    parts = [quads]
    if not full:
        j = np.arange(sides)
        first_a, first_b = j, (j + 1) % sides
        last_a, last_b = (n_u - 1) * sides + j, (n_u - 1) * sides + (j + 1) % sides
        c0, c1 = n_u * sides, n_u * sides + 1
        parts += [
            np.stack([np.full(sides, c0), first_a, first_b], 1),
            np.stack([np.full(sides, c1), last_b, last_a], 1),
        ]
    out = np.concatenate(parts).astype(np.int64)
    out.flags.writeable = False
    return out


_CUBOID_CORNERS = np.array([[x, y, z] for z in (0.0, 1.0) for y in (-0.5, 0.5) for x in (-0.5, 0.5)])
_CUBOID_QUADS = [(0, 2, 3, 1), (4, 5, 7, 6), (0, 1, 5, 4), (2, 6, 7, 3), (0, 4, 6, 2), (1, 3, 7, 5)]
_CUBOID_FACES = np.asarray(
    [(a, b, c) for a, b, c, _ in _CUBOID_QUADS] + [(a, c, d) for a, _, c, d in _CUBOID_QUADS], dtype=np.int64
)
_CUBOID_FACES.flags.writeable = False


def cuboid(size: tuple[float, float, float]) -> Mesh:
    """An axis-aligned box with its base at z = 0."""
    return _CUBOID_CORNERS * np.array([size[0], size[1], size[2]], dtype=np.float64), _CUBOID_FACES.copy()


def merge(*meshes: Mesh) -> Mesh:
    vertices, faces, offset = [], [], 0
    for v, f in meshes:
        vertices.append(v)
        faces.append(f + offset)
        offset += len(v)
    return np.concatenate(vertices), np.concatenate(faces)


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def make_cup(rng: np.random.Generator) -> ShapeSample:
    r, h = _u(rng, 0.035, 0.05), _u(rng, 0.07, 0.12)
    wall, taper = _u(rng, 0.003, 0.006), _u(rng, 0.75, 1.0)
    profile = np.array([[0, 0], [r * taper, 0], [r, h], [r - wall, h], [(r - wall) * taper, wall], [0, wall]])
    body = lathe(profile)
    handle_r = _u(rng, 0.25, 0.35) * h
    hv, hf = torus(handle_r, _u(rng, 0.004, 0.007), arc=np.pi)
    hv = hv[:, [2, 1, 0]]  # half ring bulging along +x; the axis swap also turns the winding outward
    hv[:, 0] += r * (0.5 + 0.5 * taper) - 0.002
    hv[:, 2] += h * 0.5
    params = {"radius": r, "height": h, "wall": wall, "taper": taper, "handle_radius": handle_r}
    v, f = merge(body, (hv, hf))
    return ShapeSample("cup", params, v, f)


def make_bottle(rng: np.random.Generator) -> ShapeSample:
    r, h = _u(rng, 0.03, 0.045), _u(rng, 0.18, 0.3)
    neck_r, shoulder = r * _u(rng, 0.3, 0.45), _u(rng, 0.55, 0.7)
    profile = np.array(
        [
            [0, 0],
            [r, 0],
            [r, h * shoulder],
            [neck_r, h * (shoulder + 0.15)],
            [neck_r, h * 0.97],
            [neck_r * 1.15, h * 0.97],
            [neck_r * 1.15, h],
            [0, h],
        ]
    )
    params = {"radius": r, "height": h, "neck_radius": neck_r, "shoulder": shoulder}
    return ShapeSample("bottle", params, *lathe(profile))


def make_bowl(rng: np.random.Generator) -> ShapeSample:
    r, h = _u(rng, 0.06, 0.1), _u(rng, 0.04, 0.07)
    foot, wall = r * _u(rng, 0.35, 0.5), _u(rng, 0.004, 0.008)
    t = np.linspace(0.0, 1.0, 8)
    outer = np.stack([foot + (r - foot) * np.sin(t * np.pi / 2), h * (1 - np.cos(t * np.pi / 2))], 1)
    inner = np.stack([outer[::-1, 0] - wall, np.maximum(outer[::-1, 1], 0) + wall], 1)
    inner[-1, 0] = max(inner[-1, 0], 0.01)
    profile = np.concatenate([[[0, 0]], outer, inner, [[0, wall]]])
    params = {"radius": r, "height": h, "foot": foot, "wall": wall}
    return ShapeSample("bowl", params, *lathe(profile))


def make_can(rng: np.random.Generator) -> ShapeSample:
    r, h = _u(rng, 0.03, 0.04), _u(rng, 0.09, 0.16)
    rim = 0.006
    profile = np.array([[0, 0.002], [r * 0.85, 0], [r, rim], [r, h - rim], [r * 0.9, h], [0, h - 0.003]])
    return ShapeSample("can", {"radius": r, "height": h}, *lathe(profile))


def make_box(rng: np.random.Generator) -> ShapeSample:
    size = (_u(rng, 0.05, 0.2), _u(rng, 0.04, 0.12), _u(rng, 0.04, 0.25))
    return ShapeSample("box", {"size": list(size)}, *cuboid(size))


def make_torus(rng: np.random.Generator) -> ShapeSample:
    major, minor = _u(rng, 0.03, 0.06), _u(rng, 0.01, 0.02)
    v, f = torus(major, minor)
    v = v[:, [0, 2, 1]]  # lie flat
    v[:, 2] += minor
    return ShapeSample("torus", {"major": major, "minor": minor}, v, f)


def make_sphere(rng: np.random.Generator) -> ShapeSample:
    r = _u(rng, 0.02, 0.05)
    t = np.linspace(0, np.pi, 10)
    profile = np.stack([r * np.sin(t), r - r * np.cos(t)], 1)
    profile[0, 0] = profile[-1, 0] = 0.0
    return ShapeSample("sphere", {"radius": r}, *lathe(profile, 24))


def make_cone(rng: np.random.Generator) -> ShapeSample:
    r, h = _u(rng, 0.02, 0.05), _u(rng, 0.04, 0.12)
    return ShapeSample("cone", {"radius": r, "height": h}, *lathe(np.array([[0, 0], [r, 0], [0, h]]), 24))


CLASS_SHAPES: dict[str, Callable[[np.random.Generator], ShapeSample]] = {
    "cup": make_cup,
    "bottle": make_bottle,
    "bowl": make_bowl,
    "can": make_can,
    "box": make_box,
}
DISTRACTOR_SHAPES: dict[str, Callable[[np.random.Generator], ShapeSample]] = {
    "torus": make_torus,
    "sphere": make_sphere,
    "cone": make_cone,
}


def make_shape(kind: str, params: dict[str, Any] | None = None, *, rng: np.random.Generator) -> ShapeSample:
    """Sample the procedural shape ``kind``."""
    factory = CLASS_SHAPES.get(kind) or DISTRACTOR_SHAPES.get(kind)
    if factory is None:
        raise KeyError(f"no procedural shape named {kind!r}")
    return factory(rng)
