"""Food in the bowls and drinks in the cups of a set table (``scene.infinigen.bowl_fill``, ``cup_fill``), placed
in the vessel's own frame (no Blender).

A bowl's inside is read as a :class:`Heightfield` (the top of its mesh seen from above). Pieces (apples,
strawberries) rest on it; a dish fills the bowl to a level with a heaped surface (rice, soup, salad, corn,
stew) made here as a mesh whose rim meets the bowl's inside at that level, coloured by our own two-colour
procedural material (:class:`MaterialSpec`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simvision.scene.spec import MaterialSpec

# dish -> (colour, second colour (linear RGB), roughness, texture, texture scale (1/m), bump (m)): rice and corn
# grains, a glossy soup, salad leaves, a chunky stew
DISHES: dict[str, tuple[list[float], list[float], float, str, float, float]] = {
    "rice": ([0.80, 0.77, 0.68], [0.58, 0.55, 0.46], 0.5, "voronoi", 300.0, 0.003),
    "soup": ([0.45, 0.17, 0.04], [0.32, 0.11, 0.03], 0.15, "noise", 25.0, 0.0),
    "salad": ([0.08, 0.30, 0.04], [0.30, 0.55, 0.08], 0.6, "voronoi", 45.0, 0.01),
    "corn": ([0.85, 0.60, 0.08], [0.62, 0.38, 0.03], 0.45, "voronoi", 180.0, 0.003),
    "stew": ([0.22, 0.10, 0.04], [0.55, 0.30, 0.12], 0.35, "noise", 60.0, 0.006),
}
# drink -> the same fields (a liquid: flat, no bump): what the photos' cups and glasses hold
DRINKS: dict[str, tuple[list[float], list[float], float, str, float, float]] = {
    "coffee": ([0.07, 0.035, 0.015], [0.12, 0.06, 0.025], 0.08, "noise", 30.0, 0.0),
    "latte": ([0.55, 0.38, 0.22], [0.75, 0.62, 0.45], 0.25, "noise", 40.0, 0.0),
    "tea": ([0.30, 0.12, 0.02], [0.22, 0.08, 0.01], 0.05, "noise", 20.0, 0.0),
    "juice": ([0.85, 0.40, 0.02], [0.75, 0.32, 0.01], 0.1, "noise", 20.0, 0.0),
    "milk": ([0.85, 0.84, 0.80], [0.80, 0.79, 0.75], 0.2, "noise", 20.0, 0.0),
    "wine": ([0.20, 0.01, 0.03], [0.14, 0.005, 0.02], 0.05, "noise", 20.0, 0.0),
}
SECTORS, RINGS = 48, 10  # the dish's surface: a fan of this many sectors and rings


@dataclass
class Heightfield:
    """The top of a mesh seen from above on a square grid (its own frame): a bowl's inside within its rim, and
    the food already lying in it. Cells nothing covers are nan (no support there)."""

    origin: np.ndarray  # (2,) xy of cell (0, 0)'s corner
    cell: float
    top: np.ndarray  # (n, n) highest z per cell

    @classmethod
    def of(cls, vertices: np.ndarray, faces: np.ndarray | None = None, cell: float = 0.004) -> Heightfield:
        """The field of a mesh's vertices, and with ``faces`` of points across its triangles, at least two per
        cell along every edge (a decimated bowl's flat bottom is a few large triangles with no vertex inside)."""
        lo, hi = vertices[:, :2].min(axis=0), vertices[:, :2].max(axis=0)
        n = int(np.ceil(float((hi - lo).max()) / cell)) + 1
        field = cls(lo.astype(np.float64), cell, np.full((n, n), np.nan))
        field.add(vertices[:, :2], vertices[:, 2])
        if faces is not None and len(faces):
            corners = vertices[faces]  # (F, 3, 3)
            edges = np.linalg.norm(corners[:, :, :2] - np.roll(corners[:, :, :2], 1, axis=1), axis=2).max(axis=1)
            steps = np.maximum(np.ceil(2 * edges / cell).astype(np.int64), 1)
            for k in np.unique(steps):
                tri = corners[steps == k]
                a, b = np.meshgrid(np.arange(k + 1), np.arange(k + 1), indexing="ij")
                keep = a + b <= k
                u, v = a[keep] / k, b[keep] / k  # barycentric points covering the triangle
                w = np.stack([1 - u - v, u, v], axis=1)  # (P, 3)
                points = np.einsum("pc,fcd->fpd", w, tri).reshape(-1, 3)
                field.add(points[:, :2], points[:, 2])
        return field

    def _cells(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ij = np.floor((xy - self.origin) / self.cell).astype(np.int64)
        inside = np.all((ij >= 0) & (ij < self.top.shape[0]), axis=1)
        return ij[:, 0], ij[:, 1], inside

    def add(self, xy: np.ndarray, z: np.ndarray) -> None:
        """Raise the cells under these points to their heights."""
        i, j, inside = self._cells(xy)
        np.fmax.at(self.top, (i[inside], j[inside]), z[inside])

    def near(self, xy: np.ndarray) -> np.ndarray:
        """The highest top of each point's cell and its 8 neighbours (nan where none has one): a surface
        between vertices may rise above the vertices inside a cell (up to a neighbour's), and a cell without a
        vertex of its own still has the surface over it."""
        padded = np.pad(self.top, 1, constant_values=np.nan)
        n = self.top.shape[0]
        dilated = np.fmax.reduce([padded[a : a + n, b : b + n] for a in range(3) for b in range(3)])
        i, j, inside = self._cells(xy)
        out = np.full(len(xy), np.nan)
        out[inside] = dilated[i[inside], j[inside]]
        return out

    def rest(self, xy: np.ndarray, z: np.ndarray) -> float:
        """The lift that sets points (xy, z) just onto the field: the lowest offset with every point at or
        above the top of its cell; 0 where nothing lies under any of them."""
        under = self.near(xy) - z
        return float(np.nanmax(under)) if np.any(np.isfinite(under)) else 0.0


def dish(
    field: Heightfield, reach: float, level: float, mound: float, bump: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray] | None:
    """A dish (or a drink) filling a bowl or cup (its ``field``) to ``level`` metres, as a closed body: its top
    has for each sector the radius where the inside first reaches the level (searched out to ``reach``), rings
    heaped by ``mound`` at the middle with a random ``bump`` that fades to 0 at the rim; its underside follows
    the inside 1 mm above it, so through a glass the food or drink fills the vessel. None when the inside
    never reaches the level in some direction (no wall to hold it)."""
    angles = np.linspace(0.0, 2 * np.pi, SECTORS, endpoint=False)
    steps = np.linspace(0.0, reach, 400)
    radii = np.empty(SECTORS)
    for k, a in enumerate(angles):
        ray = np.stack([steps * np.cos(a), steps * np.sin(a)], axis=1)
        wall = np.nonzero(field.near(ray) >= level)[0]
        if not len(wall):
            return None
        radii[k] = steps[wall[0]]
    if radii.min() < 2 * field.cell:  # a solid vessel (no inside to fill) or the level at its very bottom
        return None
    share = np.arange(1, RINGS + 1) / RINGS  # ring k at share k / RINGS of the wall's radius
    r = share[:, None] * radii[None, :]  # (RINGS, SECTORS)
    xy = np.stack([r * np.cos(angles), r * np.sin(angles)], axis=-1).reshape(-1, 2)
    heap = np.repeat(1.0 - share**2, SECTORS)  # 1 at the middle, 0 at the rim
    z = level + heap * (mound + bump * rng.uniform(-1.0, 1.0, size=len(xy)))
    centre = np.array([[0.0, 0.0, level + mound]])
    vertices = np.concatenate([centre, np.column_stack([xy, z])])
    floor = field.near(vertices[:, :2]) + 0.001
    vertices[:, 2] = np.where(np.isfinite(floor), np.maximum(vertices[:, 2], floor), vertices[:, 2])
    vertices[1 + (RINGS - 1) * SECTORS :, 2] = level  # the rim ring meets the wall at the level
    # the underside: the same rings but the rim's (shared), on the inside, never above the top
    under = vertices[: 1 + (RINGS - 1) * SECTORS].copy()
    under[:, 2] = np.minimum(
        np.where(np.isfinite(floor[: len(under)]), floor[: len(under)], level), vertices[: len(under), 2]
    )
    vertices = np.concatenate([vertices, under])
    faces = []
    base = len(vertices) - len(under)
    top = lambda k, s: 1 + k * SECTORS + s % SECTORS  # noqa: E731 - vertex index of ring k, sector s (top)
    bottom = lambda k, s: top(k, s) if k == RINGS - 1 else base + top(k, s)  # noqa: E731 - the underside's
    for s in range(SECTORS):
        faces.append((0, top(0, s), top(0, s + 1)))
        faces.append((base, bottom(0, s + 1), bottom(0, s)))  # wound the other way: facing down
        for k in range(RINGS - 1):
            a, b, c, d = top(k, s), top(k + 1, s), top(k + 1, s + 1), top(k, s + 1)
            faces += [(a, b, c), (a, c, d)]
            a, b, c, d = bottom(k, s), bottom(k + 1, s), bottom(k + 1, s + 1), bottom(k, s + 1)
            faces += [(a, c, b), (a, d, c)]
    return vertices, np.asarray(faces, dtype=np.int64)


def dish_material(name: str, rng: np.random.Generator) -> MaterialSpec:
    """The dish's (or drink's) two-colour procedural material, its colours varied by up to 20 %."""
    colour, second, roughness, texture, scale, _ = {**DISHES, **DRINKS}[name]
    vary = float(rng.uniform(0.8, 1.2))
    return MaterialSpec(
        base_color=[min(c * vary, 1.0) for c in colour],
        roughness=roughness,
        metallic=0.0,
        texture=texture,
        texture_scale=scale,
        second_color=[min(c * vary, 1.0) for c in second],
    )
