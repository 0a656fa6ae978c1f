"""Street trees, bushes, grass tufts and rocks from Infinigen (``scene.assets=infinigen``): unlabelled scenery.

Each kind is one Infinigen factory (``KINDS``), generated once per (factory, seed) into the shared cache by
the helper process (:mod:`simvision.render.infinigen_assets`), decimated there to a triangle budget. A scene
draws its items from those variants and puts them on the verge, the ground between the sidewalk's outer
edge and the buildings, never on the road or the sidewalk:

* trees in a row along each side, one every ``tree_spacing_m``, trunk ``tree_setback_m`` beyond the
  sidewalk, the canopy clear of buildings and poles, the trunk clear of every footprint placed so far;
* bushes in a row in front of a building when its setback leaves room (a hedge when they touch);
* grass tufts scattered on the verge near the camera, and a few rocks.

Everything here is plain data (no Blender). The draws come from the scene's own seed through a separate
generator, so the road, traffic, people and cameras of a scene are the same with and without vegetation.
Every item is an :class:`~simvision.scene.spec.ObjectSpec` with a ``blend`` asset marked ``instanced``:
the builder gives all items of one variant the same mesh datablock (linked duplicates), so a street of
forty trees holds one tree mesh. Items are recorded in the scene's container (``container.vegetation``:
kind, factory, seed, position, rotation, scale), which every frame's metadata line carries.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from simvision.config.checks import ConfigError, check_range
from simvision.scene.infinigen_library import INFINIGEN_VERSION, Variant, cache_root, variant_bounds
from simvision.scene.shapes import cuboid
from simvision.scene.spec import MaterialSpec, ObjectSpec
from simvision.scene.street.draws import tagged_rng, uniform_in
from simvision.scene.street.placement import Placer
from simvision.scene.street.road import Road

# kind -> "<module>.<Factory>" under infinigen.assets.objects: the defaults of scene.vegetation.factories.
# Leaves and bark come with the factory (its own materials).
KINDS: dict[str, str] = {
    "tree": "trees.TreeFactory",
    "bush": "trees.BushFactory",
    "grass": "grassland.GrassTuftFactory",
    "rock": "rocks.BoulderFactory",
}
# factory keyword arguments. realize=True makes a factory's instanced twigs and leaves part of the mesh
# (otherwise they are geometry-node instances, which the cached mesh drops): bushes realize theirs (1.6 M
# triangles with the twigs decimated to 2 %); trees do not: realizing a TreeFactory's foliage was killed
# (out of memory, 23 GB machine) even at 1 %, so a tree's twigs and leaves stay instances (foliage_triangles)
FACTORY_PARAMS: dict[str, dict[str, Any]] = {
    "TreeFactory": {"season": "summer", "fruit_chance": 0.0},
    "BushFactory": {"realize": True},
}
# triangles per instanced twig (with its leaves) of a leafy tree: Infinigen's twigs are ~560k triangles each
# and a tree instances two of them ~4400 times (scripts/probe_vegetation.py; docs/realism.md)
FOLIAGE_TRIANGLES = 20000
# factories that need a Blender add-on (installed from the network; simvision stays offline)
NEEDS_ADDON = {"BlenderRockFactory": "extra_mesh_objects"}
GROUND_Z = -0.05  # the street's ground plane (road.py) beyond the sidewalks
SEED_TAG = 0x7E6E  # mixed into the scene seed: vegetation draws never touch the scene's own generator


def _default_factories() -> dict[str, str]:
    return dict(KINDS)


def _default_budgets() -> dict[str, int]:
    # 0 = keep: collapse decimation stops at a few triangles per leaf, so trees and bushes are thinned through
    # instance_ratio instead (scripts/probe_vegetation.py; docs/realism.md)
    return {"tree": 0, "bush": 0, "grass": 3000, "rock": 4000}


def _default_face_sizes() -> dict[str, float]:
    # without a camera Infinigen meshes at 3 mm (a tree then takes many minutes); a few pixels at 10 m
    return {"tree": 0.04, "bush": 0.08, "grass": 0.0, "rock": 0.04}


@dataclass
class VegetationConfig:
    """``scene.vegetation``: what grows along an Infinigen street (``scene.assets=infinigen``)."""

    enabled: bool = True
    # kind -> "<module>.<Factory>" under infinigen.assets.objects (leaves, bark and rock materials from it);
    # "" turns a kind off
    factories: dict[str, str] = field(default_factory=_default_factories)
    max_triangles: dict[str, int] = field(default_factory=_default_budgets)  # per kind; the helper decimates
    face_size_m: dict[str, float] = field(default_factory=_default_face_sizes)  # Infinigen's mesh detail per kind
    # per kind: the factory's instanced leaves and twigs decimated to this fraction before they are realized
    instance_ratio: dict[str, float] = field(default_factory=lambda: {"bush": 0.02})
    # per kind: > 0 keeps the factory's instanced twigs and leaves as instances (a tree's crown), each
    # instanced mesh decimated to at most this many triangles; 0 = not kept (the tree is leafless)
    foliage_triangles: dict[str, int] = field(default_factory=lambda: {"tree": FOLIAGE_TRIANGLES})
    tree_spacing_m: list[float] = field(default_factory=lambda: [8.0, 15.0])  # along the row, per side
    tree_setback_m: list[float] = field(default_factory=lambda: [0.8, 1.6])  # trunk beyond the sidewalk edge
    tree_height_m: list[float] = field(default_factory=lambda: [5.0, 9.0])  # the variant is scaled to this
    tree_probability: float = 0.85  # per row slot (a gap now and then)
    # per row slot: the chance its tree stands in a pit in the sidewalk by the kerb (a city street tree)
    # instead of on the verge beyond the sidewalk (where a building close to the sidewalk leaves no room)
    tree_pit_probability: float = 0.6
    tree_pit_offset_m: list[float] = field(default_factory=lambda: [0.6, 0.9])  # trunk from the kerb's face
    tree_pit_height_m: list[float] = field(default_factory=lambda: [4.5, 7.0])  # smaller: pruned over the road
    tree_pit_min_sidewalk_m: float = 2.4  # no pits in a narrower sidewalk (room to walk past the pit)
    bush_probability: float = 0.5  # per building front with room for them
    bush_height_m: list[float] = field(default_factory=lambda: [0.7, 1.4])
    grass_per_m: float = 1.5  # tufts per metre of verge per side, from the camera out to grass_reach_m
    grass_reach_m: float = 60.0
    grass_height_m: list[float] = field(default_factory=lambda: [0.25, 0.5])
    rocks: list[int] = field(default_factory=lambda: [0, 3])  # per scene
    rock_size_m: list[float] = field(default_factory=lambda: [0.3, 0.9])


def validate_vegetation(cfg: Any) -> None:
    """Raise :class:`ConfigError` naming the first bad ``scene.vegetation.*`` field."""
    for kind, name in (cfg.factories or {}).items():
        where = f"scene.vegetation.factories.{kind}"
        if kind not in KINDS:
            raise ConfigError(f"{where}: unknown kind (one of {', '.join(KINDS)})")
        if not name:
            continue  # this kind is off
        module, _, factory = str(name).rpartition(".")
        if not module or not factory.endswith("Factory"):
            raise ConfigError(f"{where}: expected '<module>.<Factory>' under infinigen.assets.objects, got {name!r}")
        if factory in NEEDS_ADDON:
            raise ConfigError(f"{where}: {factory} needs the Blender add-on {NEEDS_ADDON[factory]!r} (not offline)")
    for kind, budget in (cfg.max_triangles or {}).items():
        if kind not in KINDS:
            raise ConfigError(f"scene.vegetation.max_triangles.{kind}: unknown kind (one of {', '.join(KINDS)})")
        if int(budget) < 0:
            raise ConfigError(f"scene.vegetation.max_triangles.{kind}: must be >= 0, got {budget}")
    for kind, budget in (cfg.foliage_triangles or {}).items():
        if kind not in KINDS:
            raise ConfigError(f"scene.vegetation.foliage_triangles.{kind}: unknown kind (one of {', '.join(KINDS)})")
        if int(budget) < 0:
            raise ConfigError(f"scene.vegetation.foliage_triangles.{kind}: must be >= 0, got {budget}")
    for kind, ratio in (cfg.instance_ratio or {}).items():
        if kind not in KINDS:
            raise ConfigError(f"scene.vegetation.instance_ratio.{kind}: unknown kind (one of {', '.join(KINDS)})")
        if not 0 <= float(ratio) <= 1:
            raise ConfigError(f"scene.vegetation.instance_ratio.{kind}: must be within [0, 1], got {ratio}")
    for kind, size in (cfg.face_size_m or {}).items():
        if kind not in KINDS:
            raise ConfigError(f"scene.vegetation.face_size_m.{kind}: unknown kind (one of {', '.join(KINDS)})")
        if float(size) < 0:
            raise ConfigError(f"scene.vegetation.face_size_m.{kind}: must be >= 0, got {size}")
    for key in ("tree_spacing_m", "tree_height_m", "bush_height_m", "grass_height_m", "rock_size_m"):
        check_range(cfg[key], f"scene.vegetation.{key}", minimum=0.01)
    check_range(cfg.tree_pit_height_m, "scene.vegetation.tree_pit_height_m", minimum=0.01)
    check_range(cfg.tree_pit_offset_m, "scene.vegetation.tree_pit_offset_m", minimum=PIT_SIZE_M / 2)
    if float(cfg.tree_pit_min_sidewalk_m) < 0:
        raise ConfigError(f"scene.vegetation.tree_pit_min_sidewalk_m: must be >= 0, got {cfg.tree_pit_min_sidewalk_m}")
    check_range(cfg.tree_setback_m, "scene.vegetation.tree_setback_m", minimum=0.0)
    check_range(cfg.rocks, "scene.vegetation.rocks", minimum=0, integer=True)
    for key in ("tree_probability", "bush_probability", "tree_pit_probability"):
        if not 0 <= float(cfg[key]) <= 1:
            raise ConfigError(f"scene.vegetation.{key}: must be within [0, 1], got {cfg[key]}")
    for key in ("grass_per_m", "grass_reach_m"):
        if float(cfg[key]) < 0:
            raise ConfigError(f"scene.vegetation.{key}: must be >= 0, got {cfg[key]}")


def vegetation_variants(veg: Any, infinigen: Any) -> dict[str, list[Variant]]:
    """Kind -> the cached variants a scene draws from (``scene.infinigen.variants`` seeds per kind)."""
    root = cache_root(str(infinigen.cache_dir)) / INFINIGEN_VERSION
    budgets, sizes, ratios = veg.max_triangles or {}, veg.face_size_m or {}, veg.instance_ratio or {}
    crowns = veg.foliage_triangles or {}
    out: dict[str, list[Variant]] = {}
    for kind, name in (veg.factories or {}).items():
        if not name:
            continue  # "" turns a kind off
        module, _, factory = str(name).rpartition(".")
        params = FACTORY_PARAMS.get(factory, {})
        budget, face, ratio = int(budgets.get(kind, 0)), float(sizes.get(kind, 0.0)), float(ratios.get(kind, 0.0))
        crown = int(crowns.get(kind, 0))
        # everything that shapes the mesh names its folder: budget, detail, instances, keyword arguments
        key = [factory, f"t{budget}", f"f{face:g}", f"i{ratio:g}", *([f"l{crown}"] if crown > 0 else [])]
        key += [f"{k}={v}" for k, v in sorted(params.items())]
        folder = root / "-".join(key)
        out[kind] = [
            Variant(
                f"vegetation:{kind}",
                factory,
                s,
                str(folder / f"{s}.blend"),
                str(folder / f"{s}.npz"),
                module,
                max_triangles=budget,
                params=json.dumps(params, sort_keys=True) if params else "",
                face_size=face,
                instance_ratio=ratio,
                foliage_triangles=crown,
            )
            for s in range(int(infinigen.seed), int(infinigen.seed) + int(infinigen.variants))
        ]
    return out


# how far the street dressing's window frames and sills may stand proud of a facade (dressing.py: up to
# 0.16 m); vegetation keeps this much more room from every building
FACADE_RELIEF_M = 0.2


@dataclass
class _Rect:
    """A building's footprint: its pose and its mesh's x/y bounds in its own frame, grown by
    :data:`FACADE_RELIEF_M` (the street dressing adds window frames and sills after vegetation is placed)."""

    x: float
    y: float
    yaw: float
    lo: np.ndarray
    hi: np.ndarray

    def hits(self, xy: np.ndarray, radius: float) -> bool:
        radius += FACADE_RELIEF_M
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        dx, dy = float(xy[0]) - self.x, float(xy[1]) - self.y
        lx, ly = c * dx + s * dy, -s * dx + c * dy
        return bool(self.lo[0] - radius < lx < self.hi[0] + radius and self.lo[1] - radius < ly < self.hi[1] + radius)


class _Site:
    """The free space left for vegetation: building footprints, poles, and the placer's footprints."""

    POLES = ("street_lamp", "traffic_sign", "traffic_light", "pole")  # "pole": a street prop (props.py)

    def __init__(self, placer: Placer, road: Road) -> None:
        self.placer = placer
        self.road = road
        scenery = [*placer.scenery, *placer.objects]
        self.buildings = [
            _Rect(o.location[0], o.location[1], o.rotation_euler[2], o.vertices.min(axis=0), o.vertices.max(axis=0))
            for o in scenery
            if o.asset.get("shape") == "building"
        ]
        self.poles = [np.array(o.location[:2]) for o in scenery if o.asset.get("shape") in self.POLES]

    def on_crossing(self, s: float, reach: float) -> bool:
        road = self.road
        if road.crossing_at is None:
            return False
        return abs(s - road.crossing_at) < road.half_width + road.sidewalk_width + reach

    def clear(self, xy: np.ndarray, footprint: float, crown: float) -> bool:
        """Footprint (trunk, base) clear of everything placed; crown clear of buildings and poles."""
        if not self.placer.free(xy, footprint):
            return False
        if any(b.hits(xy, crown) for b in self.buildings):
            return False
        return all(float(np.hypot(*(xy - p))) > crown + 0.3 for p in self.poles)

    def front(self, rect: _Rect) -> float:
        """Distance from the road's centre line to a building's facade (its +x side; the verge ends there)."""
        return float(abs(self._offset(rect)) - 0.5 * (rect.hi[0] - rect.lo[0]))

    def _offset(self, rect: _Rect) -> float:
        return float(self.road.path.lateral(np.array([rect.x, rect.y])))


class _Items:
    """The placed items: scenery specs (the variant's bounding box as their mesh) and their records."""

    def __init__(self, placer: Placer, variants: dict[str, list[Variant]], rng: np.random.Generator) -> None:
        self.placer = placer
        self.variants = variants
        self.rng = rng
        self.records: list[dict[str, Any]] = []

    def pick(self, kind: str) -> tuple[Variant, np.ndarray, np.ndarray]:
        found = self.variants[kind]
        v = found[int(self.rng.integers(len(found)))]
        vertices, faces = _box(v.npz)
        return v, vertices, faces

    def add(
        self,
        kind: str,
        v: Variant,
        mesh: tuple[np.ndarray, np.ndarray],
        xy: np.ndarray,
        z: float,
        yaw: float,
        scale: float,
        footprint: float,
    ) -> None:
        vertices, faces = mesh
        asset = {**v.asset_record(), "part": kind, "instanced": True, "scale": scale}
        spec = ObjectSpec(
            0,
            None,
            0,
            asset,
            MaterialSpec([0.5, 0.5, 0.5], 0.8, 0.0),
            [float(xy[0]), float(xy[1]), z],
            [0.0, 0.0, yaw],
            vertices,
            faces,
        )
        self.placer.scenery.append(spec)
        if footprint > 0:
            self.placer.reserve(float(xy[0]), float(xy[1]), footprint)
        self.records.append(
            {
                "kind": kind,
                "factory": f"{v.module}.{v.factory}",
                "seed": v.seed,
                "position": [round(float(xy[0]), 4), round(float(xy[1]), 4), round(z, 4)],
                "rotation": [0.0, 0.0, round(yaw, 5)],
                "scale": round(scale, 5),
            }
        )


@lru_cache(maxsize=64)
def _extent(npz: str) -> tuple[float, float]:
    """A cached variant's height and how far it reaches from its origin in x or y (half its larger footprint
    side when centred; once per file: a bush has 1.6 M triangles)."""
    lo, hi = variant_bounds(npz)
    return float(hi[2] - lo[2]), float(max(np.abs(lo[:2]).max(), np.abs(hi[:2]).max()))


@lru_cache(maxsize=64)
def _box(npz: str) -> tuple[np.ndarray, np.ndarray]:
    """The variant's bounding box as the item's ObjectSpec mesh: the builder appends the cached mesh itself
    and unlabelled scenery needs no silhouette, so a scene spec does not carry (and pickle) 1.6 M triangles
    per bush. The cached meshes have their base at z = 0, centred on x, y (a leafy tree on its trunk), as the box."""
    lo, hi = variant_bounds(npz)
    box, faces = cuboid((float(hi[0] - lo[0]), float(hi[1] - lo[1]), float(hi[2] - lo[2])))
    # where the bounds sit: a leafy tree is centred on its trunk, its crown need not be
    box = box + np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    box.setflags(write=False)
    faces.setflags(write=False)
    return box, faces


def _height(v: Variant) -> float:
    return max(_extent(v.npz)[0], 1e-3)


def _radius(v: Variant) -> float:
    return _extent(v.npz)[1]


@dataclass(frozen=True)
class OpenGround:
    """A verge scene's open ground (scene.verge_view): the side of the street with no buildings, the sidewalk's
    outer edge there, and the camera on it (ground position, yaw and half its widest view, radians)."""

    side: float
    edge: float
    camera_xy: tuple[float, float]
    yaw: float
    half_fov: float
    cfg: Any  # scene.verge_view: trees, tree_distance_m


def place_vegetation(
    placer: Placer,
    road: Road,
    cfg: Any,
    variants: dict[str, list[Variant]],
    seed: list[int],
    open_ground: OpenGround | None = None,
) -> list[dict[str, Any]]:
    """Put the scene's trees, bushes, grass and rocks on the verge, and in a verge scene a few trees on its open
    ground; return their records (placement order)."""
    rng = tagged_rng(seed, SEED_TAG)
    site = _Site(placer, road)
    items = _Items(placer, variants, rng)
    edge = road.half_width + road.sidewalk_width  # the sidewalk's outer edge
    if "tree" in variants:
        _trees(site, items, road, cfg, edge, rng)
    if "bush" in variants:
        _bushes(site, items, road, cfg, rng)
    if "rock" in variants:
        _rocks(site, items, road, cfg, edge, rng)
    if "grass" in variants:
        _grass(site, items, road, cfg, edge, rng)
    if open_ground is not None and "tree" in variants:  # last: the draws above are a street's
        _open_ground(site, items, road, cfg, open_ground, rng)
    return items.records


def _open_ground(
    site: _Site, items: _Items, road: Road, cfg: Any, ground: OpenGround, rng: np.random.Generator
) -> None:
    """A verge scene's open ground where its camera looks (a park, a field's edge; ``scene.verge_view``): trees
    standing singly, a line of trees and bushes at the far edge on some, and grass tufts near the camera. Each
    item stands only on the open ground (beyond the sidewalk), clear of what is placed: a tree's trunk, a bush's
    or a tuft's base."""
    verge = ground.cfg
    spread = ground.half_fov + math.radians(10.0)
    heights = {"tree": cfg.tree_height_m, "bush": cfg.bush_height_m, "grass": verge.tuft_height_m}

    def put(kind: str, distance: float, bearing: float) -> None:
        v, vertices, faces = items.pick(kind)
        scale = uniform_in(rng, heights[kind]) / _height(v)
        yaw = float(rng.uniform(0.0, 2 * math.pi))
        angle = ground.yaw + bearing
        xy = np.array(ground.camera_xy) + distance * np.array([math.cos(angle), math.sin(angle)])
        radius = _radius(v) * scale
        if ground.side * float(road.path.lateral(xy)) < ground.edge + radius:  # it would reach the sidewalk
            return
        if site.on_crossing(float(xy[0]), radius):  # on a crossing road (intersections are straight: s is x)
            return
        footprint = {"tree": 0.5, "bush": radius, "grass": 0.05}[kind]
        crown = 0.0 if kind == "grass" else radius
        if site.clear(xy, footprint, crown):
            items.add(kind, v, (vertices, faces), xy, GROUND_Z, yaw, scale, footprint if crown else 0.0)
            items.records[-1]["open_ground"] = True

    for _ in range(int(rng.integers(int(verge.trees[0]), int(verge.trees[1]) + 1))):
        put("tree", uniform_in(rng, verge.tree_distance_m), float(rng.uniform(-spread, spread)))
    if rng.uniform() < float(verge.tree_line_probability):
        distance = uniform_in(rng, verge.tree_line_m)
        bearing = -spread
        while bearing < spread:
            kind = "bush" if "bush" in items.variants and rng.uniform() < 0.3 else "tree"
            put(kind, distance * float(rng.uniform(0.95, 1.05)), bearing)
            bearing += uniform_in(rng, verge.tree_line_spacing_m) / distance
    if "grass" in items.variants:
        for _ in range(int(rng.integers(int(verge.grass_tufts[0]), int(verge.grass_tufts[1]) + 1))):
            put("grass", uniform_in(rng, verge.tuft_distance_m), float(rng.uniform(-spread, spread)))


def _trees(site: _Site, items: _Items, road: Road, cfg: Any, edge: float, rng: np.random.Generator) -> None:
    """A row of trees along each side: on the verge beyond the sidewalk, or in pits in the sidewalk by the kerb."""
    pits_fit = road.sidewalk_width >= float(cfg.tree_pit_min_sidewalk_m)
    for side in (-1.0, 1.0):
        s = road.start + float(rng.uniform(0.0, uniform_in(rng, cfg.tree_spacing_m)))
        while s < road.end:
            spacing = uniform_in(rng, cfg.tree_spacing_m)
            v, vertices, faces = items.pick("tree")
            height, setback = uniform_in(rng, cfg.tree_height_m), uniform_in(rng, cfg.tree_setback_m)
            yaw = float(rng.uniform(0.0, 2 * math.pi))
            keep = rng.uniform() < float(cfg.tree_probability)
            # every slot draws the same values whichever way it goes, so one choice never shifts the others
            pit = bool(rng.uniform() < float(cfg.tree_pit_probability)) and pits_fit
            pit_height, pit_offset = uniform_in(rng, cfg.tree_pit_height_m), uniform_in(rng, cfg.tree_pit_offset_m)
            if pit:
                scale, t, z = pit_height / _height(v), side * (road.half_width + pit_offset), road.kerb_height
            else:
                scale, t, z = height / _height(v), side * (edge + setback), GROUND_Z
            xy = road.path.point(s, t)
            crown = _radius(v) * scale
            if keep and not site.on_crossing(s, crown) and site.clear(xy, 0.5, crown):
                items.add("tree", v, (vertices, faces), xy, z, yaw, scale, 0.5)
                if pit:
                    items.records[-1]["pit"] = True
                    site.placer.scenery.append(_pit(road, s, xy, z))
            s += spacing


# side of the square of bare soil round a street tree's trunk in the sidewalk (metres)
PIT_SIZE_M = 1.2
PIT_SOIL = MaterialSpec([0.045, 0.035, 0.025], 0.95, 0.0)  # dark damp soil (linear RGB)


def _pit(road: Road, s: float, xy: np.ndarray, z: float) -> ObjectSpec:
    """The tree pit: a square of soil set in the paving, along the road, just above the sidewalk's surface."""
    vertices, faces = cuboid((PIT_SIZE_M, PIT_SIZE_M, 0.004))
    yaw = float(road.path.heading(s))
    location = [float(xy[0]), float(xy[1]), float(z)]
    asset = {"kind": "scenery", "part": "tree_pit"}
    return ObjectSpec(0, None, 0, asset, PIT_SOIL, location, [0.0, 0.0, yaw], vertices, faces)


def _bushes(site: _Site, items: _Items, road: Road, cfg: Any, rng: np.random.Generator) -> None:
    edge = road.half_width + road.sidewalk_width
    for rect in site.buildings:
        if rng.uniform() >= float(cfg.bush_probability):
            continue
        room = site.front(rect) - edge  # verge depth in front of this building
        v, vertices, faces = items.pick("bush")
        scale = uniform_in(rng, cfg.bush_height_m) / _height(v)
        radius = _radius(v) * scale
        if room < 2 * radius + 0.3 + FACADE_RELIEF_M:
            continue
        # along the facade (the building's local y), a bush radius in front of it and of its window sills
        c, s = math.cos(rect.yaw), math.sin(rect.yaw)
        front_x = rect.hi[0] + radius + FACADE_RELIEF_M + 0.05  # the facade is the building's +x side
        step = 1.6 * radius
        for ly in np.arange(rect.lo[1] + radius, rect.hi[1] - radius + 1e-6, step):
            xy = np.array([rect.x + c * front_x - s * ly, rect.y + s * front_x + c * ly])
            yaw = float(rng.uniform(0.0, 2 * math.pi))
            if site.placer.free(xy, radius) and not any(b.hits(xy, radius) for b in site.buildings):
                items.add("bush", v, (vertices, faces), xy, GROUND_Z, yaw, scale, radius)


def _rocks(site: _Site, items: _Items, road: Road, cfg: Any, edge: float, rng: np.random.Generator) -> None:
    n = int(rng.integers(int(cfg.rocks[0]), int(cfg.rocks[1]) + 1))
    for _ in range(n):
        v, vertices, faces = items.pick("rock")
        scale = uniform_in(rng, cfg.rock_size_m) / max(2 * _radius(v), 1e-3)
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        s = float(rng.uniform(5.0, min(road.end, 80.0)))
        radius = _radius(v) * scale
        t = side * (edge + radius + float(rng.uniform(0.1, 1.2)))
        yaw = float(rng.uniform(0.0, 2 * math.pi))
        xy = road.path.point(s, t)
        if not site.on_crossing(s, radius) and site.clear(xy, radius, radius):
            items.add("rock", v, (vertices, faces), xy, GROUND_Z - 0.1 * radius, yaw, scale, radius)


def _grass(site: _Site, items: _Items, road: Road, cfg: Any, edge: float, rng: np.random.Generator) -> None:
    reach = min(float(cfg.grass_reach_m), road.end)
    n = int(round(float(cfg.grass_per_m) * max(reach, 0.0)))
    for side in (-1.0, 1.0):
        for _ in range(n):
            v, vertices, faces = items.pick("grass")
            scale = uniform_in(rng, cfg.grass_height_m) / _height(v)
            s = float(rng.uniform(0.0, reach))
            radius = _radius(v) * scale
            t = side * (edge + radius + float(rng.uniform(0.05, 1.8)))
            yaw = float(rng.uniform(0.0, 2 * math.pi))
            xy = road.path.point(s, t)
            if not site.on_crossing(s, radius) and site.clear(xy, 0.05, radius):
                items.add("grass", v, (vertices, faces), xy, GROUND_Z, yaw, scale, 0.0)
