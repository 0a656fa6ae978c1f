"""The road: its sampled layout (kind, lanes, sidewalks, curve, crossing) and its surface meshes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simvision.scene.color import random_color
from simvision.scene.conditions import Conditions
from simvision.scene.shapes import Mesh, merge
from simvision.scene.spec import MaterialSpec, ObjectSpec
from simvision.scene.street.draws import uniform_in
from simvision.scene.street.materials import material, road_material, sidewalk_material

CROSS_ROAD_REACH = 120.0  # the crossing road runs this far either side of the main road's centre line


@dataclass
class RoadPath:
    """The road's centre line as a function of arc length s (metres): straight or a circular arc."""

    curvature: float  # 1/radius, signed (left turn > 0); 0 = straight

    def point(self, s: np.ndarray | float, t: np.ndarray | float = 0.0) -> np.ndarray:
        """World (x, y) of the point at arc length s, lateral offset t (left of the centre line)."""
        s, t = np.asarray(s, dtype=np.float64), np.asarray(t, dtype=np.float64)
        if self.curvature == 0.0:
            return np.stack(np.broadcast_arrays(s, t), axis=-1)
        k = self.curvature
        theta = k * s
        r = 1.0 / k - t
        return np.stack([r * np.sin(theta), 1.0 / k - r * np.cos(theta)], axis=-1)

    def heading(self, s: np.ndarray | float) -> np.ndarray:
        return np.asarray(self.curvature * np.asarray(s, dtype=np.float64))

    def lateral(self, xy: np.ndarray) -> np.ndarray:
        """The lateral offset t (left of the centre line) of world ground points ``xy`` (..., 2): the inverse of
        :meth:`point` across the road (an arc's centre is (0, 1/k))."""
        xy = np.asarray(xy, dtype=np.float64)
        if self.curvature == 0.0:
            return xy[..., 1].copy()
        k = self.curvature
        return 1.0 / k - np.copysign(np.hypot(xy[..., 0], xy[..., 1] - 1.0 / k), k)


def strip(path: RoadPath, s0: float, s1: float, profile: list[tuple[float, float]], step: float = 2.0) -> Mesh:
    """Extrude an open (t, z) cross-section along the path between s0 and s1: a surface strip."""
    length = max(s1 - s0, 1e-6)
    n = max(2, int(math.ceil(length / (step if path.curvature else length))) + 1)
    s = np.linspace(s0, s1, n)
    cols = len(profile)
    verts = []
    for t, z in profile:
        xy = path.point(s, t)
        verts.append(np.concatenate([xy, np.full((n, 1), z)], axis=1))
    v = np.stack(verts, axis=1).reshape(-1, 3)  # index = i * cols + j
    faces = []
    for i in range(n - 1):
        for j in range(cols - 1):
            a, b, c, d = i * cols + j, (i + 1) * cols + j, (i + 1) * cols + j + 1, i * cols + j + 1
            faces += [(a, b, c), (a, c, d)]
    f = np.asarray(faces, dtype=np.int64)
    return v, f


@dataclass(frozen=True)
class Road:
    """One sampled road. Lateral offsets t are measured left of the centre line; forward lanes have t < 0."""

    kind: str  # straight, curve or intersection
    lanes: int
    lane_width: float
    parking_width: float  # a parking strip along each kerb
    sidewalk_width: float
    kerb_height: float
    path: RoadPath
    start: float  # arc length of the first and last metre modelled
    end: float
    crossing_at: float | None  # arc length of the crossing road's centre line (intersections only)

    @property
    def half_width(self) -> float:
        """Centre line to kerb."""
        return self.lanes * self.lane_width / 2 + self.parking_width

    @property
    def ego_offset(self) -> float:
        """The ego car rides in the forward lane next to the centre line."""
        return -self.lane_width / 2

    def _lane_centres(self) -> list[float]:
        return [-self.half_width + self.parking_width + self.lane_width * (i + 0.5) for i in range(self.lanes)]

    @property
    def forward_lanes(self) -> list[float]:
        return [t for t in self._lane_centres() if t < 0] or [-self.lane_width / 2]

    @property
    def oncoming_lanes(self) -> list[float]:
        return [t for t in self._lane_centres() if t > 0]


def sample_road(kinds: Any, lanes: Any, layout: dict[str, Any], rng: np.random.Generator) -> Road:
    """Draw the road kind and cross-section from the config's ``kinds`` and ``lanes`` and the layout file."""
    road, sidewalk = layout["road"], layout["sidewalk"]
    kind = str(rng.choice(list(kinds)))
    n_lanes = int(rng.integers(int(lanes[0]), int(lanes[1]) + 1))
    lane_width = uniform_in(rng, road["lane_width"])
    sidewalk_width = uniform_in(rng, sidewalk["width"])
    curvature = 0.0
    if kind == "curve":
        curvature = float(rng.choice([-1, 1])) / uniform_in(rng, road["curve_radius"])
    start, end = (float(v) for v in road["length"])
    return Road(
        kind=kind,
        lanes=n_lanes,
        lane_width=lane_width,
        parking_width=float(road["parking_width"]),
        sidewalk_width=sidewalk_width,
        kerb_height=float(sidewalk["kerb_height"]),
        path=RoadPath(curvature),
        start=start,
        end=end,
        crossing_at=uniform_in(rng, road["intersection_at"]) if kind == "intersection" else None,
    )


def _scenery(name: str, mesh: Mesh, mat: MaterialSpec) -> ObjectSpec:
    v, f = mesh
    return ObjectSpec(0, None, 0, {"kind": "scenery", "part": name}, mat, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], v, f)


def _kerb_profile(side: int, half: float, walk: float, kerb: float) -> list[tuple[float, float]]:
    """The kerb and sidewalk cross-section on one side, wound so the surface faces up."""
    profile = [(side * half, 0.0), (side * half, kerb), (side * (half + walk), kerb)]
    return profile[::-1] if side < 0 else profile


def _across(mesh: Mesh, crossing_at: float) -> Mesh:
    """Turn a mesh laid out along x = s into one along the crossing road (swapping x and y flips the winding)."""
    v, f = mesh
    return v[:, [1, 0, 2]] + np.array([crossing_at, 0.0, 0.0]), f[:, ::-1]


def _sidewalks(road: Road) -> list[Mesh]:
    """Kerbs and sidewalks along both roads, split where the roads cross."""
    half, walk, kerb, cross_at = road.half_width, road.sidewalk_width, road.kerb_height, road.crossing_at
    segments = [(road.start, road.end)]
    if cross_at is not None:
        segments = [(road.start, cross_at - half - walk), (cross_at + half + walk, road.end)]
    walks = [strip(road.path, a, b, _kerb_profile(side, half, walk, kerb)) for a, b in segments for side in (-1, 1)]
    if cross_at is not None:
        cross = RoadPath(0.0)
        for a, b in ((-CROSS_ROAD_REACH, -half - walk), (half + walk, CROSS_ROAD_REACH)):
            for side in (-1, 1):
                walks.append(_across(strip(cross, a, b, _kerb_profile(side, half, walk, kerb), step=b - a), cross_at))
    return walks


def _ground(half_size: float) -> Mesh:
    g = half_size
    v = np.array([[-g, -g, -0.05], [g, -g, -0.05], [g, g, -0.05], [-g, g, -0.05]])
    return v, np.array([[0, 1, 2], [0, 2, 3]])


def lane_markings(road: Road, spec: dict[str, Any], rng: np.random.Generator) -> list[Mesh]:
    """Solid edge and centre lines, dashed lane lines and a zebra crossing before a junction."""
    half, park_w, cross_at = road.half_width, road.parking_width, road.crossing_at
    w = float(spec["marking_width"]) / 2
    dash, gap = (float(v) for v in spec["dash"])
    meshes = []
    spans = [(road.start, road.end)]
    if cross_at is not None:
        spans = [(road.start, cross_at - half - 4.0), (cross_at + half + 4.0, road.end)]
    for a, b in spans:
        for edge in (-half + park_w, half - park_w):  # solid edge lines
            meshes.append(strip(road.path, a, b, [(edge - w, 0.003), (edge + w, 0.003)]))
        for i in range(1, road.lanes):  # dashed lane lines, solid centre line
            t = -half + park_w + i * road.lane_width
            if abs(t) < 1e-6:
                meshes.append(strip(road.path, a, b, [(t - w, 0.003), (t + w, 0.003)]))
                continue
            s = a + rng.uniform(0, dash + gap)
            while s + dash < b:
                meshes.append(strip(road.path, s, s + dash, [(t - w, 0.003), (t + w, 0.003)], step=dash))
                s += dash + gap
    if cross_at is not None:  # zebra crossing before the junction
        s_z = cross_at - half - 3.0
        for t in np.arange(-half + park_w + 0.3, half - park_w, 1.0):
            meshes.append(strip(road.path, s_z - 1.5, s_z + 1.5, [(t, 0.003), (t + 0.5, 0.003)], step=3.0))
    return meshes


def road_scenery(road: Road, layout: dict[str, Any], c: Conditions, rng: np.random.Generator) -> list[ObjectSpec]:
    """Road surface (and the crossing road), kerbs and sidewalks, the ground and the markings, unlabelled."""
    asphalt = road_material(c, rng)
    paving = sidewalk_material(rng)
    earth = material(random_color(rng, (0.2, 0.5)), 0.9)
    paint = material([0.85, 0.85, 0.82], 0.4 if c.wetness == 0 else 0.1)
    half = road.half_width
    parts = [_scenery("road", strip(road.path, road.start, road.end, [(-half, 0.0), (half, 0.0)]), asphalt)]
    if road.crossing_at is not None:
        reach = CROSS_ROAD_REACH
        surface = strip(RoadPath(0.0), -reach, reach, [(-half, -0.002), (half, -0.002)], step=2 * reach)
        parts.append(_scenery("cross_road", _across(surface, road.crossing_at), asphalt))
    parts.append(_scenery("sidewalks", merge(*_sidewalks(road)), paving))
    parts.append(_scenery("ground", _ground(float(layout["ground_size"]) / 2), earth))
    parts.append(_scenery("markings", merge(*lane_markings(road, layout["road"], rng)), paint))
    return parts
