"""Procedural meshes for a driving / street scene, as plain numpy (no Blender needed).

Every generator ``make_<kind>(*, rng)`` returns a :class:`PartsMesh`: one triangle mesh made of several
closed, outward-wound parts (overlapping parts are allowed), a material slot per face and, for vehicles and
street lamps, the emitters to place. Object frame: x = forward (heading), y = left, z = up; the object stands
on z = 0 and its footprint (bounding box in x and y) is centred on x = y = 0. Sizes are in metres.

Every random draw goes through the ``rng`` argument and is recorded in ``params`` (JSON-serialisable), so a
sample is reproducible from its seed and can be described in the dataset metadata.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simvision.scene.shapes import Mesh, cuboid, lathe, merge, torus

VEHICLE_SLOTS = ("body", "glass", "tyre", "rim", "headlight", "taillight")
TRUCK_SLOTS = (*VEHICLE_SLOTS, "cargo", "chassis")
PERSON_SLOTS = ("skin", "top", "bottom", "hair", "shoes")
CYCLIST_SLOTS = ("frame", "tyre", "rim", "skin", "top", "bottom", "hair", "shoes", "helmet")
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
    return float(np.einsum("ij,ij->i", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]])).sum() / 6)


def _outward(mesh: Mesh) -> Mesh:
    """Flip a closed component's winding if it encloses a negative volume."""
    v, f = mesh
    return (v, f[:, ::-1].copy()) if _signed_volume(v, f) < 0 else (v, f)


def _rot_x(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    """Rotation about +y; a positive angle tips +z towards +x."""
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _unit(d: Point) -> np.ndarray:
    d = np.asarray(d, dtype=np.float64)
    return d / np.linalg.norm(d)


def _align_z(direction: Point) -> np.ndarray:
    """A rotation taking +z onto ``direction``."""
    d = _unit(direction)
    c = float(d[2])
    if c > 1 - 1e-12:
        return np.eye(3)
    if c < -1 + 1e-9:
        return np.diag([1.0, -1.0, -1.0])
    v = np.cross([0.0, 0.0, 1.0], d)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


def _xf(mesh: Mesh, lin: np.ndarray | None = None, t: Point = (0.0, 0.0, 0.0)) -> Mesh:
    """Apply ``x -> lin @ x + t``; a mirroring ``lin`` reverses the winding so it stays outward."""
    v, f = mesh
    if lin is not None:
        lin = np.asarray(lin, dtype=np.float64)
        v = v @ lin.T
        if np.linalg.det(lin) < 0:
            f = f[:, ::-1].copy()
    return v + np.asarray(t, dtype=np.float64), f


def _box(center: Point, size: Point, rot: np.ndarray | None = None) -> Mesh:
    """A box of ``size`` centred on ``center`` (``shapes.cuboid`` stands on z = 0)."""
    v, f = cuboid((float(size[0]), float(size[1]), float(size[2])))
    v = v - np.array([0.0, 0.0, size[2] / 2])
    return _xf((v, f), rot, center)


def _cylinder(p0: Point, p1: Point, r0: float, r1: float | None = None, segments: int = 12) -> Mesh:
    """A closed (possibly tapered) cylinder from ``p0`` to ``p1``."""
    p0, p1 = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    length = max(float(np.linalg.norm(p1 - p0)), 1e-4)
    r1 = r0 if r1 is None else r1
    mesh = lathe(np.array([[0.0, 0.0], [r0, 0.0], [r1, length], [0.0, length]]), segments)
    axis = p1 - p0 if np.linalg.norm(p1 - p0) > 1e-9 else np.array([0.0, 0.0, 1.0])
    return _xf(mesh, _align_z(axis), p0)


_C45 = math.cos(math.pi / 4)


def _capsule(p0: Point, p1: Point, r0: float, r1: float | None = None, segments: int = 10) -> Mesh:
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
    return _xf(lathe(profile, segments), _align_z(axis), p0)


def _ellipsoid(center: Point, radii: Point, rot: np.ndarray | None = None, segments: int = 12, rings: int = 7) -> Mesh:
    t = np.linspace(0.0, np.pi, rings + 2)
    profile = np.stack([np.sin(t), -np.cos(t)], axis=1)
    profile[0, 0] = profile[-1, 0] = 0.0
    lin = np.diag(np.asarray(radii, dtype=np.float64))
    if rot is not None:
        lin = rot @ lin
    return _xf(lathe(profile, segments), lin, center)


def _wheel_torus(
    center: Point, radius: float, sidewall: float, width: float, segments: int = 16, sides: int = 8
) -> Mesh:
    """A tyre: a torus around the y axis, outer radius ``radius``, cross-section ``2*sidewall`` x ``width``."""
    v, f = torus(radius - sidewall, sidewall, segments, sides)
    v = v * np.array([1.0, width / (2 * sidewall), 1.0])
    return _outward((v + np.asarray(center, dtype=np.float64), f))


def _loft(rings: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Skin a stack of closed rings (K, N, 3) and cap both ends with fans around the ring centroids.

    Each ring must be star-shaped about its centroid. Returns vertices, outward faces and, per face, the band
    it belongs to: -1 for the first cap, k for the side band between rings k and k + 1, K - 1 for the last cap.
    """
    k_rings, n, _ = rings.shape
    vertices = np.concatenate([rings.reshape(-1, 3), rings[0].mean(axis=0)[None], rings[-1].mean(axis=0)[None]])
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
    f = np.concatenate(faces).astype(np.int64)
    if _signed_volume(vertices, f) < 0:
        f = f[:, ::-1].copy()
    return vertices, f, np.concatenate(band)


def _prism(polygon: np.ndarray, axis: int, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extrude a star-shaped 2-D polygon along ``axis`` from ``lo`` to ``hi``.

    The polygon's two coordinates fill the other two axes in increasing order (axis 0 -> (y, z), 1 -> (x, z),
    2 -> (x, y)). Returns the loft's (vertices, faces, band): band -1 is the cap at ``lo``, 1 the cap at ``hi``.
    """
    polygon = np.asarray(polygon, dtype=np.float64)
    others = [i for i in range(3) if i != axis]
    rings = np.zeros((2, len(polygon), 3))
    for ring, value in zip(rings, (lo, hi), strict=True):
        ring[:, others[0]], ring[:, others[1]], ring[:, axis] = polygon[:, 0], polygon[:, 1], value
    return _loft(rings)


def _superellipse(n: int, exponent: float) -> tuple[np.ndarray, np.ndarray]:
    t = 2 * np.pi * (np.arange(n) + 0.5) / n
    c, s = np.cos(t), np.sin(t)
    e = 2.0 / exponent
    return np.sign(c) * np.abs(c) ** e, np.sign(s) * np.abs(s) ** e


def _ring_yz(x: float, half_width: float, z0: float, z1: float, n: int, exponent: float) -> np.ndarray:
    """A rounded-rectangle cross-section in the plane x = const."""
    a, b = _superellipse(n, exponent)
    return np.stack([np.full(n, x), half_width * a, (z0 + z1) / 2 + (z1 - z0) / 2 * b], axis=1)


def _polygon(n: int, radius: float, start: float = np.pi / 2) -> np.ndarray:
    t = start + 2 * np.pi * np.arange(n) / n
    return radius * np.stack([np.cos(t), np.sin(t)], axis=1)


def _face_normals(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    n = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-18)


def _two_bone(root: np.ndarray, target: np.ndarray, l1: float, l2: float, pole: Point) -> tuple[np.ndarray, np.ndarray]:
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


class _Sampler:
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


class _Parts:
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
        self.lights.append({"role": role, "position": np.asarray(position, float), "direction": _unit(direction)})

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


# --------------------------------------------------------------------------------------------------------------
# vehicles


def _lower_body(stations: Sequence[tuple[float, float, float, float]], n: int = 16, exponent: float = 6.0) -> Mesh:
    """Loft rounded-rectangle sections (x, half width, z bottom, z top), listed from rear to front."""
    rings = np.stack([_ring_yz(x, hw, z0, z1, n, exponent) for x, hw, z0, z1 in stations])
    v, f, _ = _loft(rings)
    return v, f


def _body_stations(
    length: float,
    half_width: float,
    bottom: float,
    top: Callable[[np.ndarray], np.ndarray],
    extra: Sequence[float] = (),
) -> list[tuple[float, float, float, float]]:
    """Sections for a lower body: full-size in the middle, rounded-in at both ends."""
    half = length / 2
    inner = np.linspace(-half + 0.3, half - 0.3, 5)
    xs = np.unique(np.round(np.concatenate([[-half, -half + 0.09], inner, extra, [half - 0.09, half]]), 6))
    xs = xs[(xs >= -half) & (xs <= half)]
    tops = top(xs)
    stations = []
    for x, z1 in zip(xs, tops, strict=True):
        end = half - abs(x)
        if end < 1e-6:
            stations.append((x, half_width * 0.86, bottom + 0.1, z1 - 0.07))
        elif end < 0.1:
            stations.append((x, half_width * 0.96, bottom + 0.03, z1 - 0.015))
        else:
            stations.append((x, half_width, bottom, z1))
    return stations


def _greenhouse(
    parts: _Parts,
    z0: float,
    z1: float,
    bottom: tuple[float, float, float],
    top: tuple[float, float, float],
    glass_sides: bool = True,
    glass_front: bool = True,
    glass_rear: bool = True,
) -> None:
    """A tapered box: bottom/top given as (x rear, x front, half width); the roof and floor use the body slot."""
    rings = np.array(
        [[[xr, -w, z], [xf, -w, z], [xf, w, z], [xr, w, z]] for (xr, xf, w), z in ((bottom, z0), (top, z1))]
    )
    v, f, _ = _loft(rings)
    normal = _face_normals(v, f)
    glass = np.zeros(len(f), dtype=bool)
    side = np.abs(normal[:, 1]) > 0.5
    front = (normal[:, 0] > 0.5) & ~side
    rear = (normal[:, 0] < -0.5) & ~side
    glass |= side & glass_sides
    glass |= front & glass_front
    glass |= rear & glass_rear
    glass &= np.abs(normal[:, 2]) < 0.95
    parts.add((v, f), np.where(glass, parts.sid("glass"), parts.sid("body")))


def _lamp_pair(
    parts: _Parts, role: str, x_face: float, y: float, z: float, width: float, height: float, depth: float = 0.05
) -> None:
    """Two lamp boxes mirrored in y whose outer face lies at ``x_face`` (its sign says front or back)."""
    sign = 1.0 if x_face > 0 else -1.0
    for side in (1.0, -1.0):
        center = (x_face - sign * depth / 2, side * y, z)
        parts.add(_box(center, (depth, width, height)), role)
        parts.light(role, (x_face, side * y, z), (sign, 0.0, 0.0))


def _wheels(
    parts: _Parts, axles_x: Sequence[float], track_y: float, radius: float, sidewall: float, width: float
) -> None:
    for x in axles_x:
        for side in (1.0, -1.0):
            c = np.array([x, side * track_y, radius])
            parts.add(_wheel_torus(c, radius, sidewall, width), "tyre")
            hub = np.array([0.0, 0.75 * width / 2, 0.0])
            parts.add(_cylinder(c - hub, c + hub, radius - sidewall, segments=16), "rim")


def make_car(*, rng: np.random.Generator) -> PartsMesh:
    """A passenger car: sedan, hatchback or SUV."""
    s = _Sampler(rng)
    variant = s.choice("variant", ("sedan", "hatchback", "suv"), p=(0.45, 0.3, 0.25))
    ranges = {
        #             length       width         height        clearance     wheel r       hood          tyre w
        "sedan": ((4.3, 5.0), (1.72, 1.88), (1.38, 1.50), (0.13, 0.17), (0.30, 0.34), (1.15, 1.45), (0.19, 0.24)),
        "hatchback": ((3.6, 4.35), (1.64, 1.80), (1.42, 1.56), (0.13, 0.17), (0.29, 0.32), (0.9, 1.15), (0.18, 0.22)),
        "suv": ((4.3, 5.0), (1.80, 1.98), (1.62, 1.85), (0.19, 0.24), (0.34, 0.38), (1.05, 1.3), (0.22, 0.27)),
    }[variant]
    length, width, height = s.u("length", *ranges[0]), s.u("width", *ranges[1]), s.u("height", *ranges[2])
    clearance, wheel_r = s.u("clearance", *ranges[3]), s.u("wheel_radius", *ranges[4])
    hood_len, tyre_w = s.u("hood_length", *ranges[5]), s.u("tyre_width", *ranges[6])
    sidewall = wheel_r * s.u("sidewall_ratio", 0.2, 0.3)
    belt = height * s.u("belt_fraction", 0.6, 0.66)
    nose = belt - s.u("hood_drop", 0.08, 0.16)
    front_overhang = s.u("front_overhang", 0.78, 0.98)
    rear_overhang = s.u("rear_overhang", *{"sedan": (0.9, 1.15), "hatchback": (0.55, 0.75), "suv": (0.8, 1.0)}[variant])
    cabin_h = height - belt
    ws_run = cabin_h * s.u("windshield_rake", *((1.0, 1.4) if variant == "suv" else (1.3, 1.8)))
    trunk = s.u("trunk_length", *{"sedan": (0.8, 1.05), "hatchback": (0.08, 0.2), "suv": (0.05, 0.15)}[variant])
    rw_rake = {"sedan": (1.2, 1.7), "hatchback": (0.5, 0.9), "suv": (0.15, 0.4)}[variant]
    rw_run = cabin_h * s.u("rear_window_rake", *rw_rake)
    half = length / 2
    x_fb, x_rb = half - hood_len, -half + trunk
    squeeze = min(1.0, (x_fb - x_rb - 0.7) / (ws_run + rw_run))  # keep a roof at least 0.7 m long
    ws_run, rw_run = ws_run * squeeze, rw_run * squeeze
    x_ft, x_rt = x_fb - ws_run, x_rb + rw_run
    deck = belt - (s.u("deck_drop", 0.0, 0.05) if variant == "sedan" else 0.0)

    parts = _Parts(VEHICLE_SLOTS)
    hw = width / 2 - 0.03
    ctrl_x = [-half, x_rb, x_fb, half - 0.25, half]
    ctrl_z = [deck - 0.02, belt, belt, nose + 0.03, nose]

    def top(x: np.ndarray) -> np.ndarray:
        return np.interp(x, ctrl_x, ctrl_z)

    stations = _body_stations(length, hw, clearance, top, extra=(x_rb, x_fb))
    parts.add(_lower_body(stations), "body")
    w_bottom, w_top = hw - 0.03, hw - s.u("tumblehome", 0.12, 0.2)
    _greenhouse(parts, belt - 0.12, height, (x_rb, x_fb, w_bottom), (x_rt, x_ft, w_top))
    x_b = x_rt + (x_ft - x_rt) * s.u("b_pillar", 0.4, 0.6)
    pillar = (x_b - 0.045, x_b + 0.045)
    _greenhouse(
        parts,
        belt - 0.1,
        height - 0.003,
        (*pillar, w_bottom + 0.006),
        (*pillar, w_top + 0.006),
        glass_sides=False,
        glass_front=False,
        glass_rear=False,
    )

    end_front, end_rear = stations[-1], stations[0]
    head_w, head_h = s.u("headlight_width", 0.16, 0.28), s.u("headlight_height", 0.06, 0.11)
    z_head = end_front[3] - head_h / 2 - 0.03
    _lamp_pair(parts, "headlight", half + 0.01, end_front[1] - head_w / 2 - 0.1, z_head, head_w, head_h)
    tail_w, tail_h = s.u("taillight_width", 0.18, 0.34), s.u("taillight_height", 0.06, 0.13)
    z_tail = end_rear[3] - tail_h / 2 - 0.03
    _lamp_pair(parts, "taillight", -half - 0.01, end_rear[1] - tail_w / 2 - 0.08, z_tail, tail_w, tail_h)

    axles = (half - front_overhang, -half + rear_overhang)
    _wheels(parts, axles, width / 2 - tyre_w / 2, wheel_r, sidewall, tyre_w)
    params = {**s.params, "wheelbase": axles[0] - axles[1], "windshield_run": ws_run, "rear_window_run": rw_run}
    return parts.finish("car", params)


def make_van(*, rng: np.random.Generator) -> PartsMesh:
    """A one-box van: panel van (glass only in the cab) or passenger van (glass all along)."""
    s = _Sampler(rng)
    variant = s.choice("variant", ("panel", "passenger"))
    length, width, height = s.u("length", 4.8, 6.0), s.u("width", 1.9, 2.05), s.u("height", 1.95, 2.6)
    clearance, wheel_r = s.u("clearance", 0.15, 0.2), s.u("wheel_radius", 0.32, 0.37)
    tyre_w, sidewall = s.u("tyre_width", 0.2, 0.24), s.u("sidewall", 0.08, 0.1)
    belt = s.u("belt_height", 0.95, 1.1)
    nose = belt - s.u("hood_drop", 0.1, 0.2)
    hood_len = s.u("hood_length", 0.45, 0.9)
    ws_run = (height - belt) * s.u("windshield_rake", 0.55, 0.9)
    cab_len = s.u("cab_length", 1.0, 1.3)
    half = length / 2
    x_fb = half - hood_len
    x_ft, x_bp = x_fb - ws_run, x_fb - ws_run - cab_len
    parts = _Parts(VEHICLE_SLOTS)
    hw = width / 2 - 0.03

    def top(x: np.ndarray) -> np.ndarray:
        return np.interp(x, [-half, x_fb, half - 0.2, half], [belt, belt, nose + 0.03, nose])

    stations = _body_stations(length, hw, clearance, top, extra=(x_fb,))
    parts.add(_lower_body(stations), "body")
    w_bottom, w_top = hw - 0.02, hw - s.u("tumblehome", 0.04, 0.1)
    z0 = belt - 0.12
    _greenhouse(parts, z0, height, (x_bp, x_fb, w_bottom), (x_bp, x_ft, w_top), glass_rear=False)
    x_back = -half + 0.02
    _greenhouse(
        parts,
        z0,
        height,
        (x_back, x_bp, w_bottom),
        (x_back, x_bp, w_top),
        glass_sides=variant == "passenger",
        glass_front=False,
        glass_rear=variant == "passenger",
    )
    end_front, end_rear = stations[-1], stations[0]
    head_w, head_h = s.u("headlight_width", 0.18, 0.3), s.u("headlight_height", 0.08, 0.14)
    _lamp_pair(
        parts,
        "headlight",
        half + 0.01,
        end_front[1] - head_w / 2 - 0.1,
        end_front[3] - head_h / 2 - 0.03,
        head_w,
        head_h,
    )
    tail_w, tail_h = s.u("taillight_width", 0.1, 0.16), s.u("taillight_height", 0.2, 0.35)
    _lamp_pair(
        parts,
        "taillight",
        -half - 0.01,
        end_rear[1] - tail_w / 2 - 0.06,
        end_rear[3] - tail_h / 2 - 0.03,
        tail_w,
        tail_h,
    )
    axles = (half - s.u("front_overhang", 0.8, 1.0), -half + s.u("rear_overhang", 0.8, 1.2))
    _wheels(parts, axles, width / 2 - tyre_w / 2, wheel_r, sidewall, tyre_w)
    return parts.finish("van", s.params)


def make_truck(*, rng: np.random.Generator) -> PartsMesh:
    """A rigid truck: cab-over or conventional (bonneted) cab, chassis, cargo box and three axles."""
    s = _Sampler(rng)
    style = s.choice("cab_style", ("cabover", "conventional"), p=(0.6, 0.4))
    length, width, height = s.u("length", 6.5, 10.0), s.u("width", 2.3, 2.55), s.u("height", 3.0, 3.8)
    wheel_r, tyre_w = s.u("wheel_radius", 0.46, 0.53), s.u("tyre_width", 0.3, 0.36)
    sidewall = s.u("sidewall", 0.13, 0.17)
    cab_len, cab_h = s.u("cab_length", 1.6, 2.1), s.u("cab_height", 2.6, min(3.2, height))
    belt = s.u("belt_height", 1.6, 1.85)
    cab_bottom = s.u("cab_bottom", 0.4, 0.6)
    half = length / 2
    parts = _Parts(TRUCK_SLOTS)
    hw = width / 2 - 0.02
    if style == "conventional":
        hood_len, hood_h = s.u("hood_length", 1.2, 1.7), s.u("hood_height", 1.45, min(1.8, belt - 0.05))
        hood_hw = hw - s.u("hood_inset", 0.25, 0.4)
        x_cab_front = half - hood_len
        hood = [
            (x_cab_front - 0.1, hood_hw, cab_bottom, hood_h),
            (half - 0.15, hood_hw, cab_bottom, hood_h - 0.05),
            (half, hood_hw * 0.95, cab_bottom + 0.05, hood_h - 0.12),
        ]
        parts.add(_lower_body(hood, exponent=5.0), "body")
        front_face, front_hw, front_top = half, hood_hw * 0.95, hood_h - 0.12
    else:
        x_cab_front = half
    x_cab_rear = x_cab_front - cab_len
    cab = [
        (x_cab_rear, hw, cab_bottom, belt),
        (x_cab_front - 0.08, hw, cab_bottom, belt),
        (x_cab_front, hw * 0.97, cab_bottom + 0.03, belt - 0.03),
    ]
    parts.add(_lower_body(cab, exponent=8.0), "body")
    rake = s.u("windshield_rake", 0.05, 0.3)
    _greenhouse(
        parts,
        belt - 0.1,
        cab_h,
        (x_cab_rear, x_cab_front - 0.02, hw - 0.01),
        (x_cab_rear, x_cab_front - 0.02 - rake, hw - 0.06),
        glass_rear=False,
    )
    if style == "cabover":
        front_face, front_hw, front_top = half, hw * 0.97, belt - 0.03
    gap = s.u("cab_gap", 0.1, 0.3)
    deck = 2 * wheel_r + s.u("deck_clearance", 0.05, 0.15)
    box_len = x_cab_rear - gap + half
    parts.add(_box((-half + box_len / 2, 0.0, (deck + height) / 2), (box_len, width, height - deck)), "cargo")
    rail_top = wheel_r + 0.15
    parts.add(
        _box(((x_cab_front - 0.2 - half + 0.3) / 2, 0.0, rail_top - 0.15), (x_cab_front - 0.2 + half - 0.3, 0.9, 0.3)),
        "chassis",
    )
    parts.add(_box((front_face - 0.08, 0.0, cab_bottom - 0.05), (0.16, 2 * front_hw, 0.3)), "chassis")  # bumper
    head_w, head_h = s.u("headlight_width", 0.2, 0.32), s.u("headlight_height", 0.1, 0.16)
    _lamp_pair(
        parts,
        "headlight",
        front_face + 0.01,
        front_hw - head_w / 2 - 0.12,
        max(cab_bottom + 0.05 + head_h / 2 + 0.05, front_top - head_h / 2 - 0.25),
        head_w,
        head_h,
    )
    tail_w, tail_h = s.u("taillight_width", 0.2, 0.35), s.u("taillight_height", 0.08, 0.14)
    _lamp_pair(parts, "taillight", -half - 0.01, width / 2 - tail_w / 2 - 0.1, deck + tail_h / 2 + 0.06, tail_w, tail_h)
    front_axle = x_cab_front - s.u("front_axle_setback", 0.45, 0.8) if style == "cabover" else half - 1.0
    rear_axle = -half + s.u("rear_overhang", 1.2, 2.0)
    axles = (front_axle, rear_axle + 1.35, rear_axle)
    _wheels(parts, axles, width / 2 - tyre_w / 2 - 0.02, wheel_r, sidewall, tyre_w)
    return parts.finish("truck", s.params)


def make_bus(*, rng: np.random.Generator) -> PartsMesh:
    """A city / coach bus: a long rounded box with a window band, windscreen, doors and 2 or 3 axles."""
    s = _Sampler(rng)
    length, width, height = s.u("length", 10.0, 12.5), s.u("width", 2.45, 2.55), s.u("height", 2.9, 3.25)
    clearance, wheel_r = s.u("clearance", 0.25, 0.35), s.u("wheel_radius", 0.48, 0.52)
    tyre_w, sidewall = s.u("tyre_width", 0.28, 0.32), s.u("sidewall", 0.14, 0.17)
    axles_n = 3 if s.flag("tag_axle", 0.25) else 2
    win0, win1 = s.u("window_bottom", 1.05, 1.3), height - s.u("window_top_margin", 0.25, 0.4)
    half, hw = length / 2, width / 2 - 0.02
    n, exponent = 20, 8.0
    parts = _Parts(VEHICLE_SLOTS)
    stations = _body_stations(length, hw, clearance, lambda x: np.full_like(x, height))
    stations = [stations[0], stations[1], stations[len(stations) // 2], stations[-2], stations[-1]]
    parts.add(_lower_body(stations, n=n, exponent=exponent), "body")
    band = []
    for x in (-half + 0.25, half - 0.25):
        ring = _ring_yz(x, hw, clearance, height, n, exponent)
        ring[:, 1] *= (hw + 0.012) / hw
        ring[:, 2] = np.clip(ring[:, 2], win0, win1)
        band.append(ring)
    v, f, _ = _loft(np.stack(band))
    parts.add((v, f), "glass")
    end_hw = stations[-1][1]
    parts.add(_box((half, 0.0, (0.95 + height - 0.2) / 2), (0.03, 2 * (end_hw - 0.12), height - 0.2 - 0.95)), "glass")
    parts.add(_box((-half, 0.0, (win0 + 0.2 + win1) / 2), (0.03, 2 * (end_hw - 0.3), win1 - win0 - 0.2)), "glass")
    door_w = s.u("door_width", 1.0, 1.3)
    front_overhang, rear_overhang = s.u("front_overhang", 2.4, 2.8), s.u("rear_overhang", 3.0, 3.6)
    door_xs = [half - 0.3 - door_w / 2]
    if s.flag("middle_door", 0.7):
        door_xs.append(-half + rear_overhang + 0.9 + door_w / 2 if axles_n == 2 else 0.3)
    for x in door_xs:
        parts.add(_box((x, -hw, (clearance + 0.3 + win1) / 2), (door_w, 0.03, win1 - clearance - 0.3)), "glass")
    head_w, head_h = s.u("headlight_width", 0.25, 0.4), s.u("headlight_height", 0.1, 0.18)
    _lamp_pair(parts, "headlight", half + 0.01, end_hw - head_w / 2 - 0.15, clearance + 0.4, head_w, head_h)
    tail_w, tail_h = s.u("taillight_width", 0.15, 0.25), s.u("taillight_height", 0.2, 0.4)
    _lamp_pair(parts, "taillight", -half - 0.01, end_hw - tail_w / 2 - 0.12, clearance + 0.55, tail_w, tail_h)
    axles = [half - front_overhang, -half + rear_overhang]
    if axles_n == 3:
        axles.append(-half + rear_overhang - 1.4)
    _wheels(parts, axles, width / 2 - tyre_w / 2, wheel_r, sidewall, tyre_w)
    return parts.finish("bus", s.params)


# --------------------------------------------------------------------------------------------------------------
# people


def _body_dims(height: float, build: float, shoulder: float) -> dict[str, float]:
    """Segment lengths and radii for a figure of ``height``; children get bigger heads and shorter legs."""
    h = height
    child = float(np.clip((1.75 - h) / 0.75, 0.0, 1.0))
    head = h * (0.13 + 0.045 * child)
    z_hip = h * (0.5 - 0.05 * child)
    ankle = 0.045 * h
    leg = z_hip - ankle
    z_sh = h - head - 0.05 * h
    return {
        "height": h,
        "head": head,
        "z_hip": z_hip,
        "ankle": ankle,
        "thigh": 0.52 * leg,
        "shin": 0.48 * leg,
        "z_shoulder": z_sh,
        "hip_hw": 0.052 * h * build,
        "shoulder_hw": 0.112 * h * shoulder,
        "upper_arm": 0.186 * h,
        "forearm": 0.146 * h,
        "hand": 0.1 * h,
        "foot": 0.15 * h,
        "foot_w": 0.055 * h,
        "thigh_r": 0.042 * h * build,
        "knee_r": 0.029 * h * build,
        "ankle_r": 0.019 * h * build,
        "arm_r": 0.024 * h * build,
        "elbow_r": 0.019 * h * build,
        "wrist_r": 0.014 * h * build,
        "neck_r": 0.031 * h * (1 + 0.3 * child),
        "build": build,
    }


def _shoulders(d: dict[str, float], pelvis: np.ndarray, lean: float) -> list[np.ndarray]:
    up = d["z_shoulder"] - d["z_hip"] - 0.01 * d["height"]
    return [pelvis + _rot_y(lean) @ np.array([0.0, side * d["shoulder_hw"], up]) for side in (1.0, -1.0)]


def _figure(
    parts: _Parts,
    d: dict[str, float],
    pelvis: np.ndarray,
    lean: float,
    head_lean: float,
    legs: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, float]],
    arms: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    long_sleeves: bool,
    long_trousers: bool,
    hair: str,
) -> None:
    """Build the body parts of a figure from its joint positions (legs: hip, knee, ankle, foot pitch)."""
    h = d["height"]
    r_lean, r_head = _rot_y(lean), _rot_y(head_lean)
    parts.add(
        _ellipsoid(
            pelvis + (0.0, 0.0, 0.015 * h),
            (0.068 * h, d["hip_hw"] + 0.045 * h * d["build"], 0.07 * h),
            _rot_y(0.4 * lean),
            segments=12,
            rings=5,
        ),
        "bottom",
    )
    torso_len = d["z_shoulder"] - d["z_hip"]
    b, sh = d["build"], d["shoulder_hw"]
    stations = [
        (0.02 * h, 0.07 * b, 0.095 * b),
        (0.12 * h, 0.064 * b, 0.085 * b),
        (torso_len - 0.1 * h, 0.072 * b, 0.1 * b),
        (torso_len - 0.01 * h, 0.06 * b, sh / h + 0.012),
        (torso_len + 0.035 * h, 0.04 * b, 0.06),
    ]
    a_, b_ = _superellipse(14, 2.6)
    rings = np.stack([np.stack([hx * h * a_, hy * h * b_, np.full(14, z)], axis=1) for z, hx, hy in stations])
    rings = pelvis + rings @ r_lean.T
    v, f, _ = _loft(rings)
    parts.add((v, f), "top")
    neck_base = pelvis + r_lean @ np.array([0.0, 0.0, torso_len + 0.01 * h])
    neck_len = h - d["head"] - (d["z_shoulder"] + 0.01 * h) + 0.03 * h
    parts.add(
        _capsule(neck_base, neck_base + r_head @ np.array([0.0, 0.0, neck_len]), d["neck_r"], segments=10), "skin"
    )
    head = d["head"]
    head_center = neck_base + r_head @ np.array([0.03 * head, 0.0, h - head / 2 - (d["z_shoulder"] + 0.01 * h)])
    radii = np.array([0.44, 0.35, 0.5]) * head
    parts.add(_ellipsoid(head_center, radii, r_head, segments=12, rings=7), "skin")
    if hair == "helmet":
        parts.add(
            _ellipsoid(
                head_center + r_head @ (np.array([-0.1, 0.0, 0.35]) * radii),
                radii * (1.18, 1.18, 0.78),
                r_head,
                segments=12,
                rings=5,
            ),
            "helmet",
        )
    elif hair != "none":
        parts.add(
            _ellipsoid(
                head_center + r_head @ (np.array([-0.12, 0.0, 0.1]) * radii),
                radii * (1.02, 1.06, 0.95),
                r_head,
                segments=12,
                rings=7,
            ),
            "hair",
        )
        if hair == "long":
            parts.add(
                _ellipsoid(
                    head_center + r_head @ (np.array([-0.55, 0.0, -0.55]) * radii),
                    radii * (0.5, 1.0, 1.1),
                    r_head,
                    segments=10,
                    rings=5,
                ),
                "hair",
            )
    leg_slot = "bottom" if long_trousers else "skin"
    for hip, knee, ankle, pitch in legs:
        parts.add(_capsule(hip, knee, d["thigh_r"], d["knee_r"]), "bottom")
        parts.add(_capsule(knee, ankle, d["knee_r"] * 0.95, d["ankle_r"]), leg_slot)
        rot = _rot_y(-pitch)
        foot_h = d["ankle"] + 0.015 * h
        center = ankle + rot @ np.array([0.25 * d["foot"], 0.0, -d["ankle"] + foot_h / 2])
        parts.add(_box(center, (d["foot"], d["foot_w"], foot_h), rot), "shoes")
    arm_slot = "top" if long_sleeves else "skin"
    for shoulder, elbow, wrist in arms:
        parts.add(_capsule(shoulder, elbow, d["arm_r"], d["elbow_r"]), "top")
        parts.add(_capsule(elbow, wrist, d["elbow_r"] * 0.95, d["wrist_r"]), arm_slot)
        direction = _unit(wrist - elbow)
        parts.add(
            _ellipsoid(
                wrist + direction * d["hand"] * 0.45,
                (0.022 * h, 0.012 * h, d["hand"] * 0.5),
                _align_z(direction),
                segments=8,
                rings=4,
            ),
            "skin",
        )


def _sample_figure_style(s: _Sampler, adult_only: bool = False) -> tuple[float, dict[str, float]]:
    if adult_only or not s.flag("child", 0.15):
        height = s.u("height", 1.5, 1.95)
    else:
        height = s.u("height", 1.0, 1.4)
    d = _body_dims(height, s.u("build", 0.88, 1.18), s.u("shoulder_width", 0.9, 1.1))
    return height, d


def make_person(*, rng: np.random.Generator) -> PartsMesh:
    """A pedestrian facing +x, standing, walking or running; pose angles (degrees) are in params."""
    s = _Sampler(rng)
    height, d = _sample_figure_style(s)
    pose = s.choice("pose", ("standing", "walking", "running"), p=(0.3, 0.5, 0.2))
    phase = s.u("phase", 0.0, 2 * np.pi)
    if pose == "walking":
        amp, knee_swing = s.u("hip_amplitude", 16, 28), s.u("knee_swing", 35, 55)
        knee_stance = s.u("knee_stance", 3, 12)
        arm_amp, elbow, lean = s.u("arm_amplitude", 10, 25), s.u("elbow_flexion", 8, 30), s.u("lean", 0, 6)
    elif pose == "running":
        amp, knee_swing = s.u("hip_amplitude", 28, 42), s.u("knee_swing", 70, 105)
        knee_stance = s.u("knee_stance", 12, 28)
        arm_amp, elbow, lean = s.u("arm_amplitude", 30, 55), s.u("elbow_flexion", 75, 100), s.u("lean", 6, 15)
    else:
        amp, knee_swing, knee_stance = 0.0, 0.0, s.u("knee_stance", 0, 5)
        arm_amp, elbow, lean = 0.0, s.u("elbow_flexion", 3, 20), s.u("lean", -2, 3)
    spread = s.u("leg_spread", 0.0, 5.0) if pose == "standing" else s.u("leg_spread", 0.0, 2.0)
    abduction = s.u("arm_abduction", 6.0, 14.0)
    long_sleeves, long_trousers = s.flag("long_sleeves", 0.6), s.flag("long_trousers", 0.7)
    hair = s.choice("hair", ("short", "long", "none"), p=(0.55, 0.35, 0.1))
    pelvis = np.array([0.0, 0.0, d["z_hip"]])
    shoulders = _shoulders(d, pelvis, math.radians(lean))
    legs, arms, joints = [], [], {}
    for side_name, side, ph in (("left", 1.0, phase), ("right", -1.0, phase + np.pi)):
        if pose == "standing":
            hip_a, knee_a = s.u(f"hip_{side_name}", -6, 6), knee_stance
            pitch, sh_a = 0.0, s.u(f"shoulder_{side_name}", -8, 8)
        else:
            hip_a = amp * math.sin(ph)
            knee_a = knee_stance + knee_swing * max(0.0, math.cos(ph)) ** 2
            pitch = 15 * math.sin(ph) - 5
            sh_a = -arm_amp * math.sin(ph)
        joints.update(
            {
                f"hip_{side_name}": hip_a,
                f"knee_{side_name}": knee_a,
                f"foot_pitch_{side_name}": pitch,
                f"shoulder_{side_name}": sh_a,
                f"elbow_{side_name}": elbow,
            }
        )
        t_h, t_s, ab = math.radians(hip_a), math.radians(hip_a - knee_a), math.radians(spread)
        hip = pelvis + np.array([0.0, side * d["hip_hw"], 0.0])
        knee = hip + d["thigh"] * _unit([math.sin(t_h), side * math.sin(ab), -math.cos(t_h)])
        ankle = knee + d["shin"] * _unit([math.sin(t_s), side * math.sin(ab), -math.cos(t_s)])
        legs.append((hip, knee, ankle, math.radians(pitch)))
        r_lean = _rot_y(math.radians(lean))
        t_a, t_f, ab_a = math.radians(sh_a), math.radians(sh_a + elbow), math.radians(abduction)
        elbow_p = shoulders[0 if side > 0 else 1] + d["upper_arm"] * (
            r_lean @ _unit([math.sin(t_a), side * math.sin(ab_a), -math.cos(t_a)])
        )
        wrist = elbow_p + d["forearm"] * (r_lean @ _unit([math.sin(t_f), side * 0.5 * math.sin(ab_a), -math.cos(t_f)]))
        arms.append((shoulders[0 if side > 0 else 1], elbow_p, wrist))
    parts = _Parts(PERSON_SLOTS)
    _figure(parts, d, pelvis, math.radians(lean), math.radians(lean), legs, arms, long_sleeves, long_trousers, hair)
    return parts.finish("person", {**s.params, "joints_deg": joints})


def make_cyclist(*, rng: np.random.Generator) -> PartsMesh:
    """A bicycle (riding towards +x) with a seated rider: hands on the bar, feet on the pedals."""
    s = _Sampler(rng)
    height, d = _sample_figure_style(s, adult_only=True)
    bike = s.choice("bike", ("road", "city", "mtb"), p=(0.35, 0.45, 0.2))
    scale = height / 1.75
    wheel_r = s.u("wheel_radius", 0.33, 0.36)
    tyre = {"road": (0.012, 0.016), "city": (0.018, 0.024), "mtb": (0.025, 0.032)}[bike]
    tyre_r = s.u("tyre_radius", *tyre)
    chainstay, drop = s.u("chainstay", 0.41, 0.45), s.u("bb_drop", 0.05, 0.075)
    seat_angle, head_angle = math.radians(s.u("seat_angle", 72, 75)), math.radians(s.u("head_angle", 69, 73.5))
    front_center = s.u("front_center", 0.57, 0.63) * max(scale, 0.9)
    crank, crank_angle = s.u("crank_length", 0.165, 0.175), s.u("crank_angle", 0.0, 2 * np.pi)
    x_rear = 0.0
    bb = np.array([x_rear + math.sqrt(chainstay**2 - drop**2), 0.0, wheel_r - drop])
    rear, front = np.array([x_rear, 0.0, wheel_r]), np.array([bb[0] + front_center, 0.0, wheel_r])
    u_seat = np.array([-math.cos(seat_angle), 0.0, math.sin(seat_angle)])
    u_head = np.array([-math.cos(head_angle), 0.0, math.sin(head_angle)])
    pitch = math.radians(s.u("foot_pitch", -18, 2))
    pedals = []
    for side, angle in ((1.0, crank_angle), (-1.0, crank_angle + np.pi)):
        pedals.append(bb + np.array([crank * math.cos(angle), side * 0.12, crank * math.sin(angle)]))

    def ankle_for(pedal: np.ndarray) -> np.ndarray:
        return pedal + np.array([-0.45 * d["foot"] * math.cos(pitch), 0.0, d["ankle"] + 0.015])

    hip_above = 0.075 * scale
    leg_len = d["thigh"] + d["shin"]
    extension = s.u("leg_extension", 0.93, 0.97)

    def reach(saddle_dist: float) -> float:
        hip = bb + saddle_dist * u_seat + np.array([0.0, 0.0, hip_above])
        angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        pts = bb + crank * np.stack([np.cos(angles), np.zeros_like(angles), np.sin(angles)], 1)
        pts = pts + np.array([-0.45 * d["foot"] * math.cos(pitch), 0.0, d["ankle"] + 0.015])
        return float(np.linalg.norm(pts - hip, axis=1).max())

    lo, hi = 0.3, 1.2
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if reach(mid) < extension * leg_len else (lo, mid)
    saddle_dist = (lo + hi) / 2
    saddle_top = bb + saddle_dist * u_seat
    seat_tube_top = bb + min(0.3 * height, saddle_dist - 0.1) * u_seat
    ht_bottom = front + s.u("fork_length", 0.37, 0.4) * u_head
    ht_top = ht_bottom + s.u("head_tube", 0.11, 0.19) * scale * u_head
    stem = {"road": (0.08, 0.12, 0.0, 0.05), "city": (0.05, 0.09, 0.12, 0.25), "mtb": (0.05, 0.08, 0.04, 0.1)}[bike]
    bar = ht_top + np.array([s.u("stem_reach", stem[0], stem[1]), 0.0, s.u("stem_rise", stem[2], stem[3])])
    bar_w = s.u("bar_width", *{"road": (0.4, 0.46), "city": (0.55, 0.64), "mtb": (0.68, 0.78)}[bike])

    parts = _Parts(CYCLIST_SLOTS)
    for hub in (rear, front):
        parts.add(_wheel_torus(hub, wheel_r, tyre_r, 2 * tyre_r, segments=24, sides=5), "tyre")
        rim_v, rim_f = torus(wheel_r - 2 * tyre_r - 0.008, 0.01, 20, 4)
        parts.add(_outward((rim_v + hub, rim_f)), "rim")
        parts.add(_cylinder(hub - (0, 0.05, 0), hub + (0, 0.05, 0), 0.022, segments=8), "frame")
    tube = 0.016 if bike != "mtb" else 0.022
    for a, b, r in (
        (bb, seat_tube_top, tube),
        (seat_tube_top, ht_top, tube * 0.9),
        (bb, ht_bottom, tube * 1.1),
        (ht_bottom - 0.02 * u_head, ht_top + 0.02 * u_head, tube * 1.2),
        (seat_tube_top, saddle_top, 0.013),
        (ht_top, bar, 0.014),
    ):
        parts.add(_cylinder(a, b, r, segments=8), "frame")
    for side in (1.0, -1.0):
        off = np.array([0.0, side * 0.055, 0.0])
        parts.add(_cylinder(bb + off * 0.6, rear + off, 0.01, segments=6), "frame")
        parts.add(_cylinder(seat_tube_top + off * 0.3, rear + off, 0.009, segments=6), "frame")
        parts.add(_cylinder(ht_bottom + off * 0.7, front + off * 0.9, 0.012, segments=6), "frame")
    parts.add(_cylinder(bar + (0, bar_w / 2, 0), bar - (0, bar_w / 2, 0), 0.012, segments=8), "frame")
    saddle = saddle_top - np.array([0.0, 0.0, 0.025])
    parts.add(_box(saddle + (0.02, 0, 0), (0.26, 0.12 if bike == "road" else 0.17, 0.05)), "frame")
    ring_v, ring_f = torus(0.095, 0.006, 20, 4)
    parts.add(_outward((ring_v + bb + (0, -0.06, 0), ring_f)), "frame")
    for pedal, side in zip(pedals, (1.0, -1.0), strict=True):
        parts.add(_cylinder(bb + (0, side * 0.08, 0), pedal - (0, side * 0.04, 0), 0.012, segments=6), "frame")
        parts.add(_box(pedal, (0.1, 0.08, 0.022)), "frame")

    # rider
    pelvis = saddle_top + np.array([-0.02, 0.0, hip_above])
    shoulder_reach = 0.9 * (d["upper_arm"] + d["forearm"] + 0.4 * d["hand"])
    grips = [bar + np.array([0.0, side * (bar_w / 2 - 0.06), 0.0]) for side in (1.0, -1.0)]
    leans = np.radians(np.linspace(10, 75, 66))
    errors = [abs(np.linalg.norm(grips[0] - _shoulders(d, pelvis, a)[0]) - shoulder_reach) for a in leans]
    lean = float(leans[int(np.argmin(errors))])
    shoulders = _shoulders(d, pelvis, lean)
    legs, arms = [], []
    for i, side in enumerate((1.0, -1.0)):
        hip = pelvis + np.array([0.0, side * d["hip_hw"], 0.0])
        knee, ankle = _two_bone(hip, ankle_for(pedals[i]), d["thigh"], d["shin"], (1.0, 0.0, 0.3))
        legs.append((hip, knee, ankle, pitch))
        wrist_target = grips[i] - 0.45 * d["hand"] * _unit(grips[i] - shoulders[i])
        elbow, wrist = _two_bone(shoulders[i], wrist_target, d["upper_arm"], d["forearm"], (-0.3, side * 0.6, -1.0))
        arms.append((shoulders[i], elbow, wrist))
    helmet = s.flag("helmet", 0.5)
    long_sleeves, long_trousers = s.flag("long_sleeves", 0.5), s.flag("long_trousers", 0.6)
    hair = "helmet" if helmet else s.choice("hair", ("short", "long"), p=(0.6, 0.4))
    _figure(parts, d, pelvis, lean, 0.35 * lean, legs, arms, long_sleeves, long_trousers, hair)
    params = {
        **s.params,
        "lean_deg": math.degrees(lean),
        "saddle_height": float(np.linalg.norm(saddle_top - bb)),
        "wheelbase": float(front[0] - rear[0]),
    }
    return parts.finish("cyclist", params)


# --------------------------------------------------------------------------------------------------------------
# street furniture (fronts face +x)


def make_traffic_cone(*, rng: np.random.Generator) -> PartsMesh:
    """A traffic cone on a square base; the reflective stripes are separate faces (slot "stripe")."""
    s = _Sampler(rng)
    height = s.u("height", 0.32, 0.95)
    base_w, base_t = height * s.u("base_ratio", 0.5, 0.62), s.u("base_thickness", 0.02, 0.04)
    r0, r1 = base_w * s.u("cone_radius_ratio", 0.34, 0.4), s.u("top_radius", 0.018, 0.03)
    bands = [(0.62, 0.8)] if height < 0.55 else [(0.38, 0.5), (0.64, 0.8)]
    bands = [(lo + s.u(f"stripe{i}_shift", -0.03, 0.03), hi) for i, (lo, hi) in enumerate(bands)]
    z_bottom = base_t * 0.5
    levels = sorted({z_bottom, height, *(z_bottom + (height - z_bottom) * t for band in bands for t in band)})
    radius = [r0 + (r1 - r0) * (z - z_bottom) / (height - z_bottom) for z in levels]
    profile = np.array([[0.0, z_bottom]] + [[r, z] for r, z in zip(radius, levels, strict=True)] + [[0.0, height]])
    v, f = lathe(profile, 24)
    zc = v[f].mean(axis=1)[:, 2]
    vertical = np.abs(_face_normals(v, f)[:, 2]) < 0.99
    stripe = np.zeros(len(f), dtype=bool)
    for lo, hi in bands:
        z_lo, z_hi = z_bottom + (height - z_bottom) * lo, z_bottom + (height - z_bottom) * hi
        stripe |= vertical & (zc > z_lo) & (zc < z_hi)
    parts = _Parts(("cone", "stripe", "base"))
    parts.add((v, f), np.where(stripe, parts.sid("stripe"), parts.sid("cone")))
    parts.add(cuboid((base_w, base_w, base_t)), "base")
    return parts.finish("traffic_cone", {**s.params, "stripes": [list(b) for b in bands]})


def _clip_polygon(poly: np.ndarray, axis: int, value: float, keep_below: bool) -> np.ndarray:
    out = []
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        ina = a[axis] <= value if keep_below else a[axis] >= value
        inb = b[axis] <= value if keep_below else b[axis] >= value
        if ina:
            out.append(a)
        if ina != inb:
            t = (value - a[axis]) / (b[axis] - a[axis])
            out.append(a + t * (b - a))
    if not out:
        return np.zeros((0, 2))
    pts = np.array(out)
    keep = np.linalg.norm(pts - np.roll(pts, -1, axis=0), axis=1) > 1e-6
    return pts[keep]


def make_barrier(*, rng: np.random.Generator) -> PartsMesh:
    """A construction barrier (striped board(s) on A-frame legs) or a concrete jersey barrier; long axis y."""
    s = _Sampler(rng)
    parts = _Parts(("board", "stripe", "leg", "concrete"))
    variant = s.choice("variant", ("construction", "jersey"))
    if variant == "jersey":
        length, h = s.u("length", 2.0, 4.0), s.u("height", 0.8, 1.07)
        wb, wt = s.u("base_width", 0.55, 0.62) / 2, s.u("top_width", 0.15, 0.24) / 2
        toe, brk = 0.075 * h / 0.81, 0.33 * h / 0.81
        w1 = wb - 0.1
        poly = np.array([[-wb, 0], [wb, 0], [wb, toe], [w1, brk], [wt, h], [-wt, h], [-w1, brk], [-wb, toe]])
        v, f, _ = _prism(poly, axis=1, lo=-length / 2, hi=length / 2)
        parts.add((v, f), "concrete")
        return parts.finish("barrier", s.params)
    length, top = s.u("length", 1.0, 2.0), s.u("top_height", 0.95, 1.1)
    board_h, board_t = s.u("board_height", 0.2, 0.3), s.u("board_thickness", 0.025, 0.04)
    stripe_w = s.u("stripe_width", 0.1, 0.15)
    boards = 2 if s.flag("two_boards", 0.5) else 1
    direction = 1.0 if s.flag("stripes_right", 0.5) else -1.0
    for k in range(boards):
        z1 = top - k * (board_h + 0.22)
        z0 = z1 - board_h
        parts.add(_box((0.0, 0.0, (z0 + z1) / 2), (board_t, length, board_h)), "board")
        period = 2 * stripe_w * math.sqrt(2)
        for y0 in np.arange(-length / 2 - board_h, length / 2 + period, period):
            lo_z, hi_z = z0 - 0.002, z1 + 0.002  # proud of the board's top and bottom faces too
            quad = np.array(
                [
                    [y0, lo_z],
                    [y0 + period / 2, lo_z],
                    [y0 + period / 2 + direction * board_h, hi_z],
                    [y0 + direction * board_h, hi_z],
                ]
            )
            poly = _clip_polygon(_clip_polygon(quad, 0, -length / 2, False), 0, length / 2, True)
            if len(poly) < 3 or abs(np.cross(poly[1] - poly[0], poly[2] - poly[0])) < 1e-5:
                continue
            area = 0.5 * abs(np.sum(poly[:, 0] * np.roll(poly[:, 1], -1) - np.roll(poly[:, 0], -1) * poly[:, 1]))
            if area < 2e-4:
                continue
            v, f, _ = _prism(poly, axis=0, lo=-board_t / 2 - 0.003, hi=board_t / 2 + 0.003)
            parts.add((v, f), "stripe")
    foot = s.u("leg_spread", 0.25, 0.35)
    for y in (-length / 2 + 0.12, length / 2 - 0.12):
        for x in (-foot, foot):
            parts.add(_cylinder((0.0, y, top + 0.02), (x, y, 0.03), 0.02, segments=8), "leg")
            parts.add(_box((x, y, 0.015), (0.12, 0.08, 0.03)), "leg")
    return parts.finish("barrier", s.params)


def make_traffic_light(*, rng: np.random.Generator) -> PartsMesh:
    """A post-mounted signal head facing +x: red on top, amber, green; ``active`` names the lit lamp."""
    s = _Sampler(rng)
    pole_h, pole_r = s.u("pole_height", 2.4, 3.6), s.u("pole_radius", 0.05, 0.08)
    lamp_r = s.u("lamp_radius", 0.09, 0.115)
    house_w, house_d = 2 * lamp_r + s.u("housing_margin", 0.07, 0.12), s.u("housing_depth", 0.2, 0.3)
    house_h = 6 * lamp_r + 4 * s.u("lamp_gap", 0.025, 0.045)
    s.choice("active", ("red", "amber", "green"), p=(0.45, 0.1, 0.45))
    parts = _Parts(("metal", "housing", "lamp_red", "lamp_amber", "lamp_green"))
    parts.add(_cylinder((0, 0, 0), (0, 0, pole_h), pole_r, pole_r * 0.9, segments=16), "metal")
    parts.add(_cylinder((0, 0, 0), (0, 0, 0.3), pole_r * 1.6, pole_r * 1.3, segments=16), "metal")
    x_back = pole_r + 0.02
    z_mid = pole_h - house_h / 2 + s.u("housing_raise", 0.0, 0.3)
    parts.add(_box((x_back + 0.04, 0.0, z_mid), (0.08, 0.1, 0.3)), "metal")  # bracket
    x0 = x_back + 0.06
    parts.add(_box((x0 + house_d / 2, 0.0, z_mid), (house_d, house_w, house_h)), "housing")
    if s.flag("backplate", 0.5):
        parts.add(_box((x0 + 0.01, 0.0, z_mid), (0.02, house_w + 0.2, house_h + 0.2)), "housing")
    x_front = x0 + house_d
    pitch = house_h / 3
    for k, slot in enumerate(("lamp_red", "lamp_amber", "lamp_green")):
        z = z_mid + (1 - k) * pitch
        parts.add(_cylinder((x_front - 0.01, 0, z), (x_front + 0.02, 0, z), lamp_r, segments=20), slot)
        parts.add(
            _box((x_front + 0.09, 0.0, z + lamp_r + 0.015), (0.18, 2 * lamp_r + 0.04, 0.012), _rot_y(math.radians(-8))),
            "housing",
        )  # visor
    return parts.finish("traffic_light", s.params)


def make_traffic_sign(*, rng: np.random.Generator) -> PartsMesh:
    """A pole with a sign plate facing +x: circle, triangle, inverted triangle, octagon, diamond or rectangle."""
    s = _Sampler(rng)
    shape = s.choice(
        "shape", ("circle", "triangle", "yield", "octagon", "diamond", "rectangle"), p=(0.3, 0.2, 0.1, 0.1, 0.1, 0.2)
    )
    size = s.u("size", 0.5, 0.9)
    pole_r, thickness = s.u("pole_radius", 0.025, 0.04), s.u("plate_thickness", 0.015, 0.03)
    bottom = s.u("plate_bottom", 2.0, 2.4)
    if shape == "circle":
        poly = _polygon(32, size / 2)
    elif shape == "octagon":
        poly = _polygon(8, size / 2 / math.cos(math.pi / 8), math.pi / 8)
    elif shape == "diamond":
        poly = _polygon(4, size / 2)
    elif shape in ("triangle", "yield"):
        poly = _polygon(3, size / math.sqrt(3), math.pi / 2 if shape == "triangle" else -math.pi / 2)
    else:
        aspect = s.u("aspect", 0.6, 1.6)
        w, h = size * math.sqrt(aspect), size / math.sqrt(aspect)
        poly = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    poly = poly - [0.0, poly[:, 1].min()]
    plate_h = float(poly[:, 1].max())
    x0 = pole_r + 0.01
    v, f, band = _prism(poly + [0.0, bottom], axis=0, lo=x0, hi=x0 + thickness)
    parts = _Parts(("metal", "sign"))
    parts.add((v, f), np.where(band == 1, parts.sid("sign"), parts.sid("metal")))
    parts.add(_cylinder((0, 0, 0), (0, 0, bottom + plate_h + 0.03), pole_r, segments=12), "metal")
    return parts.finish("traffic_sign", s.params)


def make_street_lamp(*, rng: np.random.Generator) -> PartsMesh:
    """A lamp post with one or two arms (along x) ending in lamp heads that light straight down."""
    s = _Sampler(rng)
    height, base_r = s.u("height", 6.0, 10.0), s.u("base_radius", 0.09, 0.13)
    arm_len, rise = s.u("arm_length", 0.8, 2.2), s.u("arm_rise", 0.0, 0.35)
    head_l, head_w = s.u("head_length", 0.45, 0.75), s.u("head_width", 0.2, 0.35)
    head_h = s.u("head_height", 0.08, 0.15)
    arms = 2 if s.flag("double_arm", 0.3) else 1
    parts = _Parts(("metal", "lamp"))
    parts.add(_cylinder((0, 0, 0), (0, 0, height), base_r, base_r * 0.5, segments=16), "metal")
    parts.add(
        _cylinder((0, 0, 0), (0, 0, s.u("plinth_height", 0.3, 0.6)), base_r * 1.5, base_r * 1.4, segments=16), "metal"
    )
    z_arm = height - 0.15
    for sign in (1.0, -1.0)[:arms]:
        end = np.array([sign * arm_len, 0.0, z_arm + rise])
        parts.add(_cylinder((0, 0, z_arm - 0.1), end, 0.04, 0.03, segments=8), "metal")
        center = end + np.array([sign * (head_l / 2 - 0.08), 0.0, 0.0])
        parts.add(_box(center, (head_l, head_w, head_h)), "metal")
        lens_z = center[2] - head_h / 2 - 0.005
        parts.add(_box((center[0], 0.0, lens_z), (head_l * 0.8, head_w * 0.8, 0.02)), "lamp")
        parts.light("street_lamp", (center[0], 0.0, lens_z - 0.01), (0.0, 0.0, -1.0))
    return parts.finish("street_lamp", s.params)


# --------------------------------------------------------------------------------------------------------------
# rare obstacles


def _rock(rng: np.random.Generator, radii: np.ndarray) -> Mesh:
    v, f = _ellipsoid((0, 0, 0), (1, 1, 1), segments=10, rings=6)
    dirs = v / np.linalg.norm(v, axis=1, keepdims=True)
    waves, phases, amps = rng.normal(size=(4, 3)) * 1.5, rng.uniform(0, 2 * np.pi, 4), rng.uniform(0.04, 0.11, 4)
    bump = 1 + (amps * np.sin(dirs @ waves.T + phases)).sum(axis=1)
    v = dirs * bump[:, None] * radii
    v[:, 2] = np.maximum(v[:, 2], -0.6 * radii[2])
    return v, f


def _on_ground(mesh: Mesh, x: float, y: float, z: float = 0.0) -> Mesh:
    v, f = mesh
    return v + np.array([x, y, z - v[:, 2].min()]), f


def make_debris(*, rng: np.random.Generator) -> PartsMesh:
    """A few irregular rocks and broken planks lying on the road."""
    s = _Sampler(rng)
    count, spread = s.i("pieces", 3, 7), s.u("spread", 0.3, 1.0)
    parts = _Parts(("rock", "wood"))
    pieces = []
    for _ in range(count):
        kind = "plank" if rng.random() < 0.35 else "rock"
        x, y = rng.uniform(-spread, spread, 2)
        yaw = rng.uniform(0, 2 * np.pi)
        if kind == "rock":
            radii = rng.uniform(0.05, 0.25) * np.array([1.0, rng.uniform(0.6, 1.0), rng.uniform(0.4, 0.8)])
            mesh = _xf(_rock(rng, radii), _rot_z(yaw))
            parts.add(_on_ground(mesh, x, y), "rock")
            pieces.append({"kind": kind, "position": [x, y], "yaw": yaw, "radii": radii})
        else:
            size = np.array([rng.uniform(0.4, 1.2), rng.uniform(0.08, 0.2), rng.uniform(0.02, 0.04)])
            tilt = rng.uniform(-0.15, 0.15, 2)
            mesh = _box((0, 0, 0), size, _rot_z(yaw) @ _rot_x(tilt[0]) @ _rot_y(tilt[1]))
            parts.add(_on_ground(mesh, x, y), "wood")
            pieces.append({"kind": kind, "position": [x, y], "yaw": yaw, "size": size, "tilt": tilt})
    return parts.finish("debris", {**s.params, "items": pieces})


def make_fallen_cargo(*, rng: np.random.Generator) -> PartsMesh:
    """Cardboard boxes and wooden crates lost on the road, some tipped over or stacked."""
    s = _Sampler(rng)
    count, spread = s.i("items_count", 1, 4), s.u("spread", 0.2, 1.2)
    parts = _Parts(("cardboard", "wood", "tape"))
    items: list[dict[str, Any]] = []
    ground: list[tuple[np.ndarray, np.ndarray, float, bool]] = []  # footprint min, max, top z, tilted
    for _ in range(count):
        kind = "crate" if rng.random() < 0.4 else "cardboard"
        if kind == "crate":
            size = rng.uniform([0.5, 0.4, 0.4], [1.2, 1.0, 0.9])
        else:
            size = rng.uniform([0.3, 0.25, 0.2], [0.75, 0.6, 0.5])
        yaw, tilt_axis = rng.uniform(0, 2 * np.pi), int(rng.integers(0, 2))
        tilt = rng.uniform(0.08, 0.3) if rng.random() < 0.3 else 0.0  # resting on something hidden / crushed
        rot = _rot_z(yaw) @ (_rot_x(tilt) if tilt_axis == 0 else _rot_y(tilt))
        local: list[tuple[Mesh, str]] = []
        sx, sy, sz = size
        if kind == "crate":
            local.append((_box((0, 0, 0), size - 0.03), "wood"))
            slat = 0.05
            for ex in (-1, 1):
                for ey in (-1, 1):
                    local.append((_box((ex * (sx - slat) / 2, ey * (sy - slat) / 2, 0), (slat, slat, sz)), "wood"))
            for ez in (-1, 1):
                for ey in (-1, 1):
                    local.append((_box((0, ey * (sy - slat) / 2, ez * (sz - slat) / 2), (sx, slat, slat)), "wood"))
        else:
            local.append((_box((0, 0, 0), size), "cardboard"))
            local.append((_box((0, 0, 0), (sx + 0.004, min(0.05, sy / 3), sz + 0.004)), "tape"))
        meshes = [(_xf(m, rot), slot) for m, slot in local]
        allv = np.concatenate([m[0] for m, _ in meshes])
        lo, hi = allv.min(axis=0), allv.max(axis=0)
        half_xy = (hi[:2] - lo[:2]) / 2
        # stack on an upright item that is larger than this one, else find free ground nearby
        below = [g for g in ground if not g[3] and np.all(g[1] - g[0] > 2 * half_xy)]
        stacked = bool(below) and rng.random() < 0.35
        if stacked:
            g_lo, g_hi, base, _ = below[int(rng.integers(0, len(below)))]
            centre = (g_lo + g_hi) / 2 + rng.uniform(-0.25, 0.25, 2) * ((g_hi - g_lo) / 2 - half_xy)
        else:
            base = 0.0
            for attempt in range(40):
                radius = spread * (1 + attempt / 8)
                centre = rng.uniform(-radius, radius, 2)
                if all(
                    np.any(centre + half_xy + 0.05 < g[0]) or np.any(centre - half_xy - 0.05 > g[1]) for g in ground
                ):
                    break
        shift = np.array([centre[0] - (lo[0] + hi[0]) / 2, centre[1] - (lo[1] + hi[1]) / 2, base - lo[2]])
        for (v, f), slot in meshes:
            parts.add((v + shift, f), slot)
        top = float(base + hi[2] - lo[2])
        if not stacked:
            ground.append((centre - half_xy, centre + half_xy, top, tilt > 0))
        items.append(
            {
                "kind": kind,
                "size": size,
                "yaw": yaw,
                "tilt": tilt,
                "tilt_axis": "xy"[tilt_axis],
                "stacked": stacked,
                "position": centre,
            }
        )
    return parts.finish("fallen_cargo", {**s.params, "items": items})


def make_animal(*, rng: np.random.Generator) -> PartsMesh:
    """A quadruped facing +x: deer- or dog-sized, standing, walking or grazing."""
    s = _Sampler(rng)
    species = s.choice("species", ("deer", "dog"), p=(0.55, 0.45))
    ranges = {  # body length, shoulder height, girth, neck length, neck radius, head, ear, tail length
        "deer": (
            (1.0, 1.45),
            (0.8, 1.1),
            (0.38, 0.48),
            (0.4, 0.6),
            (0.07, 0.1),
            (0.25, 0.33),
            (0.1, 0.15),
            (0.1, 0.18),
        ),
        "dog": (
            (0.5, 0.85),
            (0.4, 0.7),
            (0.24, 0.36),
            (0.15, 0.25),
            (0.05, 0.08),
            (0.18, 0.28),
            (0.06, 0.12),
            (0.15, 0.32),
        ),
    }[species]
    names = (
        "body_length",
        "shoulder_height",
        "girth",
        "neck_length",
        "neck_radius",
        "head_length",
        "ear_length",
        "tail_length",
    )
    body_l, shoulder_h, girth, neck_len, neck_r, head_l, ear_l, tail_l = (
        s.u(name, *r) for name, r in zip(names, ranges, strict=True)
    )
    pose = s.choice("pose", ("standing", "walking", "grazing"), p=(0.4, 0.4, 0.2))
    neck_angle = math.radians(s.u("neck_angle", -50, -30) if pose == "grazing" else s.u("neck_angle", 35, 70))
    stride, phase = (s.u("stride", 10, 25), s.u("phase", 0.0, 2 * np.pi)) if pose == "walking" else (0.0, 0.0)
    antlers = species == "deer" and s.flag("antlers", 0.3)
    rx, ry, rz = body_l / 2, girth / 2 * 0.85, girth / 2
    zc = shoulder_h - rz * 0.9
    parts = _Parts(("fur", "dark"))
    parts.add(_ellipsoid((0, 0, zc), (rx, ry, rz), segments=14, rings=7), "fur")
    leg_r = 0.12 * girth
    for front in (True, False):
        for side in (1.0, -1.0):
            joint = np.array([(0.62 if front else -0.62) * rx, side * 0.55 * ry, zc - 0.25 * rz])
            swing = math.radians(stride) * math.sin(phase + (0 if front else np.pi) + (0 if side > 0 else np.pi))
            lift = 0.08 * shoulder_h * max(0.0, math.cos(phase + (0 if front else np.pi) + (0 if side > 0 else np.pi)))
            lift = lift if pose == "walking" else 0.0
            hoof_r = 0.55 * leg_r
            h = joint[2] - hoof_r
            target = joint + np.array([math.tan(swing) * h, 0.0, -h + lift])
            seg = (0.505 if front else 0.54) * float(np.linalg.norm(target - joint))  # hind hocks bend more
            knee, foot = _two_bone(joint, target, seg, seg, (1.0 if front else -1.0, 0.0, 0.0))
            parts.add(_capsule(joint, knee, leg_r * (1.4 if not front else 1.1), leg_r * 0.7, segments=8), "fur")
            parts.add(_capsule(knee, foot, leg_r * 0.65, leg_r * 0.45, segments=8), "fur")
            parts.add(
                _ellipsoid(foot + (0.3 * hoof_r, 0, 0), (hoof_r * 1.5, hoof_r * 1.1, hoof_r), segments=8, rings=3),
                "dark",
            )
    neck_base = np.array([0.75 * rx, 0.0, zc + 0.25 * rz])
    neck_dir = np.array([math.cos(neck_angle), 0.0, math.sin(neck_angle)])
    neck_top = neck_base + neck_len * neck_dir
    parts.add(_capsule(neck_base, neck_top, neck_r * 1.3, neck_r, segments=10), "fur")
    head_pitch = -neck_angle * 0.3 - math.radians(25 if pose != "grazing" else 45)
    head_dir = np.array([math.cos(head_pitch), 0.0, math.sin(head_pitch)])
    head_c = neck_top + head_dir * head_l * 0.3
    rot = _align_z(head_dir)
    parts.add(_ellipsoid(head_c, (0.55 * neck_r * 1.3, 0.5 * head_l * 0.45, 0.5 * head_l * 0.75), rot), "fur")
    snout = head_c + head_dir * head_l * 0.4
    parts.add(_ellipsoid(snout, (0.32 * head_l * 0.6, 0.22 * head_l, 0.3 * head_l), rot, segments=10, rings=5), "fur")
    parts.add(
        _ellipsoid(
            snout + head_dir * 0.27 * head_l, (0.08 * head_l, 0.1 * head_l, 0.06 * head_l), rot, segments=8, rings=3
        ),
        "dark",
    )
    up = np.cross(head_dir, [0.0, 1.0, 0.0])  # the head's "up", perpendicular to its axis
    for side in (1.0, -1.0):
        ear_base = head_c + up * 0.5 * neck_r - head_dir * 0.1 * head_l + np.array([0, side * 0.15 * head_l, 0])
        ear_dir = _unit(up + np.array([0.0, side * 0.6, 0.0]) - 0.3 * head_dir)
        parts.add(
            _ellipsoid(
                ear_base + ear_dir * ear_l / 2,
                (0.18 * ear_l, 0.35 * ear_l, 0.5 * ear_l),
                _align_z(ear_dir),
                segments=8,
                rings=3,
            ),
            "fur",
        )
        if antlers:
            a0 = ear_base - head_dir * 0.05 * head_l
            a1 = a0 + _unit([-0.3, side * 0.5, 1.0]) * 0.3
            parts.add(_capsule(a0, a1, 0.015, 0.008, segments=6), "dark")
            parts.add(
                _capsule(
                    a0 + (a1 - a0) * 0.5, a0 + (a1 - a0) * 0.5 + _unit([0.6, 0.0, 1.0]) * 0.12, 0.01, 0.006, segments=6
                ),
                "dark",
            )
    tail_dir = _unit([-1.0, 0.0, 0.5 if species == "dog" else 0.2])
    tail_base = np.array([-0.95 * rx, 0.0, zc + 0.3 * rz])
    parts.add(_capsule(tail_base, tail_base + tail_dir * tail_l, 0.2 * neck_r * 1.3, 0.12 * neck_r, segments=8), "fur")
    return parts.finish("animal", s.params)


def make_tyre(*, rng: np.random.Generator) -> PartsMesh:
    """A lost tyre, lying flat or standing on its tread, possibly still on its rim."""
    s = _Sampler(rng)
    radius, width = s.u("radius", 0.3, 0.55), s.u("width", 0.17, 0.38)
    sidewall = radius * s.u("sidewall_ratio", 0.22, 0.35)
    lying, with_rim = s.flag("lying", 0.55), s.flag("with_rim", 0.4)
    yaw = s.u("yaw", 0.0, 2 * np.pi)
    parts = _Parts(("tyre", "rim"))
    rot = _rot_z(yaw) @ (_rot_x(np.pi / 2) if lying else np.eye(3))
    parts.add(_xf(_wheel_torus((0, 0, 0), radius, sidewall, width, segments=24, sides=10), rot), "tyre")
    if with_rim:
        hub = np.array([0.0, 0.75 * width / 2, 0.0])
        parts.add(_xf(_cylinder(-hub, hub, radius - sidewall, segments=20), rot), "rim")
    return parts.finish("tyre", s.params)


# --------------------------------------------------------------------------------------------------------------
# backdrop


def make_building(
    *, rng: np.random.Generator, width: float | None = None, depth: float | None = None, height: float | None = None
) -> PartsMesh:
    """A block building: the facade (+x) has a door; every facade has a grid of protruding windows.

    ``width`` is the facade length along y, ``depth`` the extent along x; unspecified sizes are sampled.
    """
    s = _Sampler(rng)
    width = s.u("width", 8.0, 30.0) if width is None else float(width)
    depth = s.u("depth", 8.0, 20.0) if depth is None else float(depth)
    height = s.u("height", 6.0, 40.0) if height is None else float(height)
    s.params.update(width=width, depth=depth, height=height)
    floor_h, spacing = s.u("floor_height", 2.8, 3.6), s.u("window_spacing", 2.4, 4.0)
    win_w, win_h = s.u("window_width", 0.9, 1.6), s.u("window_height", 1.1, 1.8)
    door_w, door_h = s.u("door_width", 1.0, 2.2), s.u("door_height", 2.1, 2.6)
    door_y = s.u("door_offset", -0.3, 0.3) * width
    parapet = s.u("parapet", 0.0, 0.8)
    parts = _Parts(("wall", "glass", "door", "roof"))
    v, f = cuboid((depth, width, height))
    roof = _face_normals(v, f)[:, 2] > 0.9
    parts.add((v, f), np.where(roof, parts.sid("roof"), parts.sid("wall")))
    if parapet > 0.05:
        parts.add(_box((0, 0, height + parapet / 2), (depth + 0.1, width + 0.1, parapet)), "wall")
        parts.add(_box((0, 0, height + 0.05), (depth - 0.4, width - 0.4, 0.1)), "roof")
    floors = max(1, int(height // floor_h))
    sill = s.u("sill_height", 0.8, 1.0)
    for axis, sign, facade_len in ((0, 1.0, width), (0, -1.0, width), (1, 1.0, depth), (1, -1.0, depth)):
        columns = max(1, int(facade_len // spacing))
        offsets = (np.arange(columns) - (columns - 1) / 2) * (facade_len / columns)
        for floor in range(floors):
            z = floor * floor_h + sill + win_h / 2
            if z + win_h / 2 > height - 0.3:
                continue
            for t in offsets:
                if axis == 0 and sign > 0 and floor == 0 and abs(t - door_y) < (door_w + win_w) / 2 + 0.3:
                    continue
                if axis == 0:
                    parts.add(_box((sign * depth / 2, t, z), (0.1, win_w, win_h)), "glass")
                else:
                    parts.add(_box((t, sign * width / 2, z), (win_w, 0.1, win_h)), "glass")
    parts.add(_box((depth / 2, door_y, door_h / 2), (0.12, door_w, door_h)), "door")
    return parts.finish("building", s.params)


building = make_building  # the backdrop generator under its plain name

STREET_SHAPES: dict[str, Callable[..., PartsMesh]] = {
    "car": make_car,
    "van": make_van,
    "truck": make_truck,
    "bus": make_bus,
    "person": make_person,
    "cyclist": make_cyclist,
    "traffic_cone": make_traffic_cone,
    "barrier": make_barrier,
    "traffic_light": make_traffic_light,
    "traffic_sign": make_traffic_sign,
    "street_lamp": make_street_lamp,
    "debris": make_debris,
    "fallen_cargo": make_fallen_cargo,
    "animal": make_animal,
    "tyre": make_tyre,
}
BACKDROP_SHAPES: dict[str, Callable[..., PartsMesh]] = {"building": make_building}

STREET_GROUPS: dict[str, str] = {
    **dict.fromkeys(("car", "van", "truck", "bus"), "vehicle"),
    **dict.fromkeys(("person", "cyclist"), "people"),
    **dict.fromkeys(("traffic_cone", "barrier", "traffic_light", "traffic_sign", "street_lamp"), "street_object"),
    **dict.fromkeys(("debris", "fallen_cargo", "animal", "tyre"), "obstacle"),
}


def make_street_shape(kind: str, *, rng: np.random.Generator) -> PartsMesh:
    """Sample the street asset ``kind`` (any key of STREET_SHAPES or BACKDROP_SHAPES)."""
    factory = STREET_SHAPES.get(kind) or BACKDROP_SHAPES.get(kind)
    if factory is None:
        raise KeyError(f"no street asset named {kind!r}")
    return factory(rng=rng)
