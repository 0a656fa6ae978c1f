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
import zlib
from dataclasses import dataclass, field
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
    # slice 3: more tableware, as labelled classes (conf/classes/default.yaml) or unlabelled distractors
    "jar": ("tableware", "JarFactory"),
    "plate": ("tableware", "PlateFactory"),
    "wineglass": ("tableware", "WineglassFactory"),
    "food_box": ("tableware", "FoodBoxFactory"),
    "pot": ("tableware", "PotFactory"),
    "pan": ("tableware", "PanFactory"),
    "fruit": ("fruits", "FruitFactoryApple"),
    # table decorations, as unlabelled distractors (photos of tables hold vases and books, not only tableware)
    "vase": ("table_decorations", "VaseFactory"),
    "book_stack": ("table_decorations", "BookStackFactory"),
}

# food set into the labelled bowls (scene.infinigen.bowl_fill), unlabelled; kind -> (module, factory class)
FOOD_FACTORIES: dict[str, tuple[str, str]] = {
    "fruit": FACTORIES["fruit"],
    "strawberry": ("fruits", "FruitFactoryStrawberry"),
}

# room clutter: static furniture and decor on the floor along the walls, unlabelled (instance 0);
# kind -> (module under infinigen.assets.objects, factory class)
CLUTTER_FACTORIES: dict[str, tuple[str, str]] = {
    "chair": ("seating", "ChairFactory"),
    "bar_chair": ("seating", "BarChairFactory"),
    "bookcase": ("shelves", "SimpleBookcaseFactory"),
    "cabinet": ("shelves", "SingleCabinetFactory"),
    "floor_lamp": ("lamp", "FloorLampFactory"),
    "plant": ("small_plants", "SnakePlantFactory"),
    # kitchens and living rooms: photos of tables are taken in kitchens as often as in dining rooms
    "kitchen": ("shelves", "KitchenSpaceFactory"),  # base cabinets, counter, sink and wall cabinets, ~4 m
    "kitchen_cabinet": ("shelves", "KitchenCabinetFactory"),
    "fridge": ("appliances", "BeverageFridgeFactory"),
    "dishwasher": ("appliances", "DishwasherFactory"),
    "oven": ("appliances", "OvenFactory"),
    "tv_stand": ("shelves", "TVStandFactory"),
}

SEATING = ("chair", "bar_chair")  # clutter kinds that can stand at the table (scene.infinigen.table_chairs)

# wall decor: unlabelled pieces hung on the three walls (instance 0); kind -> (module, factory class). Their
# depth is along x and their front at +x, like the furniture's
WALL_DECOR_FACTORIES: dict[str, tuple[str, str]] = {
    "wall_art": ("wall_decorations", "WallArtFactory"),
    "mirror": ("wall_decorations", "MirrorFactory"),
    "wall_shelf": ("wall_decorations", "WallShelfFactory"),
}

# windows: unlabelled frames set into openings cut in the walls, daylight behind them (instance 0); kind ->
# (module, factory class). Their width is along x, their depth along y
WINDOW_FACTORIES: dict[str, tuple[str, str]] = {"window": ("windows", "WindowFactory")}

# Largest extent (metres) a factory's mesh is scaled to in the helper, for factories whose own unit is not
# metres (Infinigen's fruit are about 2 units across: it scales them when it places them in a container).
# The appliances are built about 1 unit a side (Infinigen scales them to the room it lays out): scaled so an
# under-counter fridge or dishwasher stands about 0.75 m high and an oven with its back panel about 1.1 m.
TARGET_SIZE: dict[str, float] = {
    "FruitFactoryApple": 0.08,
    "FruitFactoryStrawberry": 0.035,
    "BeverageFridgeFactory": 0.85,
    "DishwasherFactory": 0.85,
    "OvenFactory": 1.1,
    "VaseFactory": 0.3,  # built up to half a metre tall: a vase that size hid the table from an eye-level camera
}

# Largest extent (metres) ranges for factories whose variants come in other sizes than the objects in photos:
# Infinigen's bowls are 17-37 cm serving bowls (wider than a bin) and its cups 9-20 cm. Each variant is scaled
# to a size drawn from the range by its seed, so a seed always gives the same size and the variants spread
# over the range (a soup bowl to a small salad bowl; an espresso cup to a mug, handle included).
SIZE_RANGE: dict[str, tuple[float, float]] = {"BowlFactory": (0.12, 0.20), "CupFactory": (0.08, 0.13)}


def target_size(factory: str, seed: int) -> float:
    """The largest extent (metres, to the millimetre) a factory's variant ``seed`` is scaled to in the helper;
    0 = as generated. A range in :data:`SIZE_RANGE` gives each seed its own size; else :data:`TARGET_SIZE`."""
    if factory in SIZE_RANGE:
        lo, hi = SIZE_RANGE[factory]
        u = float(np.random.default_rng([int(seed), zlib.crc32(factory.encode())]).uniform())
        return round(lo + (hi - lo) * u, 3)
    return TARGET_SIZE.get(factory, 0.0)


@dataclass
class InfinigenExtras:
    """``scene.infinigen.distractors`` / ``scene.infinigen.clutter``: unlabelled Infinigen objects per scene."""

    kinds: list[str] = field(default_factory=list)  # drawn uniformly per object
    count: list[int] = field(default_factory=lambda: [0, 0])  # objects per scene, inclusive; [0, 0] = none


@dataclass
class WallDecorConfig(InfinigenExtras):
    """``scene.infinigen.wall_decor``: unlabelled Infinigen pieces hung on the walls."""

    height_m: list[float] = field(default_factory=lambda: [1.3, 1.7])  # centre of a piece above the floor


@dataclass
class WindowsConfig(InfinigenExtras):
    """``scene.infinigen.windows``: windows set into the walls (at most one a wall), with daylight outside."""

    sill_m: list[float] = field(default_factory=lambda: [0.6, 1.0])  # bottom of the opening above the floor
    # outside each window: a bright backdrop (an emitting plane) lighting the room through it: its strength and
    # its colour as a black-body temperature (overcast to clear-sky blue)
    daylight: list[float] = field(default_factory=lambda: [3.0, 12.0])
    daylight_kelvin: list[float] = field(default_factory=lambda: [5500.0, 9000.0])


@dataclass
class BowlFillConfig(InfinigenExtras):
    """``scene.infinigen.bowl_fill``: unlabelled food set into the labelled bowls that stand upright; ``count``
    is the pieces per filled bowl (not per scene)."""

    probability: float = 0.6  # the share of standing bowls that are filled
    # the share of filled bowls holding a dish (rice, soup, salad, corn, stew: scene/tabletop/food.py DISHES)
    # filling them to a level (dish_level: a share of the inside's depth) instead of pieces; 0 = pieces only
    dish_probability: float = 0.0
    dish_level: list[float] = field(default_factory=lambda: [0.45, 0.8])
    dishes: list[str] = field(default_factory=lambda: ["rice", "soup", "salad", "corn", "stew"])


@dataclass
class CupFillConfig:
    """``scene.infinigen.cup_fill``: a drink (scene/tabletop/food.py DRINKS) in the labelled cups that stand."""

    probability: float = 0.0  # the share of standing cups holding a drink; 0 = none (and no draws)
    level: list[float] = field(default_factory=lambda: [0.5, 0.9])  # a share of the inside's depth
    drinks: list[str] = field(default_factory=lambda: ["coffee", "latte", "tea", "juice", "milk", "wine"])


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
    # unlabelled tableware dropped on the table with the labelled objects (kinds from FACTORIES), so a table
    # looks set; e.g. scene.infinigen.distractors.count=[2,5]
    distractors: InfinigenExtras = field(
        default_factory=lambda: InfinigenExtras(
            kinds=["plate", "jar", "wineglass", "food_box", "pot", "pan", "fruit", "vase", "book_stack"]
        )
    )
    # unlabelled food (kinds from FOOD_FACTORIES) lying in the labelled bowls that stand (scene.upright_probability),
    # the way photos show bowls holding food: each standing bowl is filled with its probability, with ``count``
    # pieces laid on its inside (a piece too big for the bowl is left out) that ride on it through the drop (no
    # physics of their own); e.g. scene.infinigen.bowl_fill.count=[2,5] (the lived_in experiment's)
    bowl_fill: BowlFillConfig = field(default_factory=lambda: BowlFillConfig(kinds=list(FOOD_FACTORIES)))
    # a drink in the labelled cups that stand (a closed body following the inside: a glass shows it whole),
    # riding on the cup like the food; e.g. scene.infinigen.cup_fill.probability=0.6 (the lived_in experiment's)
    cup_fill: CupFillConfig = field(default_factory=CupFillConfig)
    # unlabelled furniture and decor standing on the floor along the walls (kinds from CLUTTER_FACTORIES),
    # placed statically (no physics); e.g. scene.infinigen.clutter.count=[2,4]
    clutter: InfinigenExtras = field(default_factory=lambda: InfinigenExtras(kinds=list(CLUTTER_FACTORIES)))
    # unlabelled pictures, mirrors and shelves hung on the walls (kinds from WALL_DECOR_FACTORIES), static, clear
    # of the furniture; e.g. scene.infinigen.wall_decor.count=[1,3]
    wall_decor: WallDecorConfig = field(default_factory=lambda: WallDecorConfig(kinds=list(WALL_DECOR_FACTORIES)))
    # unlabelled chairs (kinds from SEATING) standing at the table's sides facing it, static, out of the cameras'
    # lines of sight to the table; tables only (a bin has none); e.g. scene.infinigen.table_chairs.count=[1,4]
    table_chairs: InfinigenExtras = field(default_factory=lambda: InfinigenExtras(kinds=["chair"]))
    # unlabelled windows (kinds from WINDOW_FACTORIES) set into openings cut in the walls, at most one a wall,
    # each scaled to fit its wall, clear of the furniture, daylight outside; e.g. scene.infinigen.windows.count=[1,2]
    windows: WindowsConfig = field(default_factory=lambda: WindowsConfig(kinds=list(WINDOW_FACTORIES)))
    # what rays other than camera rays see of a room material: "mean" (a Principled BSDF with the material's
    # mean colour and roughness, baked once into the cache: Cycles then skips the node tree at every
    # indirect bounce) | "full" (the whole node tree everywhere, slower; the camera sees the same either way)
    indirect_shading: str = "mean"
    # how the camera sees a room material: "full" (Infinigen's node tree) | "baked" (a light Principled BSDF
    # reading image textures baked once from that tree in the helper: base colour, roughness and a
    # tangent-space normal map on a bake_m square patch, mirror-tiled through the surfaces' metre UVs;
    # indirect_shading then does not apply: every ray sees the baked images). baked is the default: the full
    # trees cost 5.4x a procedural frame, baked 1.45x (issue 13's budget: 1.5x; docs/realism.md)
    room_shading: str = "baked"
    bake_px: int = 512  # side of the baked images in pixels (texels of bake_m / bake_px metres: 3.9 mm)
    bake_m: float = 2.0  # side of the baked patch in metres (a table top up to this size shows no seam)
    # strength of the baked normal map (the bump) on the surfaces; 0 = colour and roughness only (a bump finer
    # than a texel bakes to near-random normals that speckle under bright light, e.g. TableWood)
    bake_normal_strength: float = 1.0
    # Gaussian smoothing of the baked normal map, in texels (mirrored edges, vectors renormalised): a bump finer
    # than a texel aliases into speckle when the camera sees the map minified; 0 = the raw bake
    bake_normal_blur: float = 1.0
    # triangle budget per cached object variant (Blender's Decimate, collapse, applied before caching so
    # build, physics and labels stay cheap; labels use the same triangles that render); 0 = no limit
    max_triangles: int = 30000
    # class -> the surface materials its Infinigen variants are made of ("module.Class" from SURFACE_MATERIALS),
    # one per variant drawn by its seed; a class not named keeps Infinigen's own draw (the default: none named).
    # e.g. ++scene.infinigen.surfaces={bowl:[ceramic.Ceramic,ceramic.VaseCeramic]} (as the lived_in experiment)
    surfaces: dict[str, list[str]] = field(default_factory=dict)


def cache_root(cache_dir: str = "") -> Path:
    """The cache folder (``scene.infinigen.cache_dir``, or the per-user default)."""
    if cache_dir:
        return Path(cache_dir).expanduser().resolve()
    base = os.environ.get("SIMVISION_CACHE") or str(Path.home() / ".cache" / "simvision")
    return Path(base).expanduser().resolve() / "infinigen"


# surface -> Infinigen materials drawn for it: (module under infinigen.assets.materials, class); each class
# builds a node tree (``generate()``) in object or UV coordinates, with bump (no displacement, see the helper)
# cached room materials' folder under <cache>/<version>/: the tag changes whenever the cached file's content
# does (m2: mean colour/roughness baked into custom properties), so stale entries are never reused
MATERIALS_DIR = "materials-m2"
INDIRECT_SHADING = ("mean", "full")
ROOM_SHADING = ("full", "baked")
# version of the baked room materials' content (bump when bake_material changes what it writes)
BAKE_TAG = 1

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
    max_triangles: int = 0  # decimate the cached mesh to this many triangles (0 = keep as generated)
    size_m: float = 0.0  # scale the cached mesh to this largest extent in metres (0 = as generated)
    params: str = ""  # JSON object of keyword arguments for the factory (e.g. a tree's season), "" for none
    # > 0: the mesh detail in metres handed to spawn_asset (without a camera Infinigen meshes trees at 3 mm)
    face_size: float = 0.0
    # > 0: before spawning, the meshes the factory instances (a tree's leaves and twigs) are decimated to this
    # fraction, so realizing them (realize=True) stays within memory and time
    instance_ratio: float = 0.0
    # > 0: the factory's geometry-node instances (a tree's twigs with their leaves) stay instances: each
    # instanced mesh is cached once, decimated to at most this many triangles, with the instances' poses in
    # the crown object (:attr:`crown_name`), which the builder instances on every copy (Cycles renders
    # instances without copying their triangles); 0 = the instances are realized or dropped
    foliage_triangles: int = 0
    # "module.Class" of ``infinigen.assets.materials`` (SURFACE_MATERIALS) the factory's surface is made of
    # instead of its own draw (scene.infinigen.surfaces); "" = the factory's choice
    surface: str = ""

    @property
    def object_name(self) -> str:
        made_of = f"_{self.surface}" if self.surface else ""  # one name per cached file (progress, logs)
        return f"{self.factory}_{self.seed}{made_of}"

    @property
    def crown_name(self) -> str:
        """The cached point object whose geometry nodes instance the foliage (``foliage_triangles`` > 0)."""
        return f"{self.object_name}_crown"

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
            "max_triangles": self.max_triangles,
            **({"surface": self.surface} if self.surface else {}),
        }


def variants(
    class_names: list[str], cfg: Any, factories: dict[str, tuple[str, str]] | None = None
) -> dict[str, list[Variant]]:
    """The variants a scene config uses, per class (or kind) Infinigen provides in ``factories`` (default
    :data:`FACTORIES`; other names are left out: those classes stay procedural)."""
    table = FACTORIES if factories is None else factories
    root = cache_root(str(cfg.cache_dir)) / INFINIGEN_VERSION
    surfaces = getattr(cfg, "surfaces", None) or {}  # class -> surface materials (scene.infinigen.surfaces)
    budget = int(getattr(cfg, "max_triangles", 0) or 0)
    tag = f".t{budget}" if budget > 0 else ""  # the budget is part of the cache key
    out: dict[str, list[Variant]] = {}
    for name in class_names:
        if name not in table:
            continue
        module, factory = table[name]
        choices = list(surfaces.get(name) or [])
        out[name] = []
        for s in range(int(cfg.seed), int(cfg.seed) + int(cfg.variants)):
            size = target_size(factory, s)
            scaled = f".s{round(size * 1000)}mm" if size > 0 else ""  # so is the size a variant is scaled to
            surface = surface_of(factory, s, choices)
            made_of = f".m{surface}" if surface else ""  # and the surface material it is made of
            stem = root / factory / f"{s}{scaled}{made_of}{tag}"
            out[name].append(
                Variant(name, factory, s, f"{stem}.blend", f"{stem}.npz", module, budget, size, surface=surface)
            )
    return out


# scene.infinigen.surfaces: the factories that make their surface from ``factory.surface`` (set before spawning)
# and the materials (``infinigen.assets.materials.<module>.<Class>``) they may be given. Infinigen's own draw for
# bowls and cups (material_assignments.cup) is mostly glass, metal and plastic; the photos' are mostly ceramic
SURFACE_FACTORIES = frozenset(
    {
        "CupFactory",
        "BowlFactory",
        "PlateFactory",
        "WineglassFactory",
        "PotFactory",
        "PanFactory",
        "BottleFactory",
        "CanFactory",
    }
)
SURFACE_MATERIALS = (
    "ceramic.Ceramic",
    "ceramic.VaseCeramic",
    "ceramic.Marble",
    "ceramic.Glass",
    "ceramic.ColoredGlass",
    "ceramic.GlassVolume",
    "plastic.Plastic",
    "plastic.PlasticRough",
    "plastic.PlasticTranslucent",
    "metal.MetalBasic",
    "metal.BrushedMetal",
    "wood.Wood",
)


def surface_of(factory: str, seed: int, choices: list[str]) -> str:
    """The surface material variant ``seed`` of ``factory`` is made of: ``choices`` in turn over consecutive
    seeds (from an offset fixed per factory), so a seed always gets the same one and as many variants as
    choices use every choice; "" without choices."""
    if not choices:
        return ""
    return str(choices[(int(seed) + zlib.crc32(factory.encode())) % len(choices)])


# scene.infinigen blocks of unlabelled extras -> the factories their kinds come from
EXTRA_BLOCKS: dict[str, dict[str, tuple[str, str]]] = {
    "distractors": FACTORIES,
    "clutter": CLUTTER_FACTORIES,
    "wall_decor": WALL_DECOR_FACTORIES,
    "table_chairs": {k: CLUTTER_FACTORIES[k] for k in SEATING},
    "windows": WINDOW_FACTORIES,
    "bowl_fill": FOOD_FACTORIES,
}


def extras(cfg: Any) -> dict[str, dict[str, list[Variant]]]:
    """Block of :data:`EXTRA_BLOCKS` -> its variants per kind; a block whose ``count`` is [0, 0] is left out."""
    out: dict[str, dict[str, list[Variant]]] = {}
    for block, table in EXTRA_BLOCKS.items():
        entry = cfg.get(block) if hasattr(cfg, "get") else getattr(cfg, block, None)
        if entry is not None and int(entry.count[1]) > 0:
            out[block] = variants(list(entry.kinds), cfg, table)
    return out


@dataclass(frozen=True)
class MaterialVariant:
    """One cached Infinigen material: ``infinigen.assets.materials.<module>.<cls>`` generated under a seed,
    written alone (with its node groups) to ``<cache>/<version>/<MATERIALS_DIR>/<module>.<cls>/<seed>.blend``,
    with its mean colour and roughness (baked once) as custom properties."""

    module: str
    cls: str
    seed: int
    blend: str
    indirect: str = "mean"  # scene.infinigen.indirect_shading: not part of the cached file
    shading: str = "full"  # scene.infinigen.room_shading
    bake_px: int = 0  # > 0 with shading "baked": the baked images' side in pixels (in the baked file's name)
    bake_m: float = 2.0  # the baked patch's side in metres (in the baked file's name)
    normal_strength: float = 1.0  # scene.infinigen.bake_normal_strength: set by the builder, not in the file
    normal_blur: float = 0.0  # scene.infinigen.bake_normal_blur: texels of smoothing (in the baked file's name)

    @property
    def baked_blend(self) -> str:
        """``<seed>.bake<BAKE_TAG>-<px>px-<mm>mm[-blur<texels>].blend`` beside the full material: the baked
        material with its packed images (a change to the bake, size, patch or smoothing gives a new name: stale
        files are never read)."""
        blur = f"-blur{self.normal_blur:g}" if self.normal_blur > 0 else ""
        name = f"{self.seed}.bake{BAKE_TAG}-{self.bake_px}px-{round(self.bake_m * 1000)}mm{blur}.blend"
        return str(Path(self.blend).with_name(name))

    @property
    def baked_name(self) -> str:
        return f"{self.material_name}_baked"

    @property
    def material_name(self) -> str:
        return f"{self.cls}_{self.seed}"

    @property
    def files(self) -> tuple[str, ...]:
        return (self.blend, self.baked_blend) if self.shading == "baked" else (self.blend,)

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
            "indirect": self.indirect,
            "shading": self.shading,
            **(
                {
                    "baked_path": self.baked_blend,
                    "baked_material": self.baked_name,
                    "bake_px": self.bake_px,
                    "bake_m": self.bake_m,
                    "normal_strength": self.normal_strength,
                    "normal_blur": self.normal_blur,
                }
                if self.shading == "baked"
                else {}
            ),
        }


def room_materials(cfg: Any) -> dict[str, list[MaterialVariant]]:
    """Surface -> the Infinigen material variants it draws from (empty if ``room_materials`` is off)."""
    if not bool(getattr(cfg, "room_materials", False)):
        return {}
    root = cache_root(str(cfg.cache_dir)) / INFINIGEN_VERSION / MATERIALS_DIR
    seeds = range(int(cfg.seed), int(cfg.seed) + int(cfg.material_variants))
    indirect = str(getattr(cfg, "indirect_shading", "full"))
    shading = str(getattr(cfg, "room_shading", "full"))
    bake = {
        "bake_px": int(getattr(cfg, "bake_px", 512)),
        "bake_m": float(getattr(cfg, "bake_m", 2.0)),
        "normal_strength": float(getattr(cfg, "bake_normal_strength", 1.0)),
        "normal_blur": float(getattr(cfg, "bake_normal_blur", 0.0)),
    }
    return {
        surface: [
            MaterialVariant(
                module,
                cls,
                s,
                str(root / f"{module}.{cls}" / f"{s}.blend"),
                indirect,
                shading,
                **(bake if shading == "baked" else {}),
            )
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


def variant_bounds(npz: str) -> tuple[np.ndarray, np.ndarray]:
    """The variant's axis-aligned bounds (low and high corners, metres): its triangles', or, for a variant
    whose foliage stays instanced, the ``bounds`` the helper recorded over the triangles and every instance."""
    vertices, _ = load_variant_mesh(npz)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    try:
        with np.load(npz) as data:
            if "bounds" in data:
                bounds = np.asarray(data["bounds"], dtype=np.float64).reshape(2, 3)
                lo, hi = np.minimum(lo, bounds[0]), np.maximum(hi, bounds[1])
    except (OSError, ValueError) as exc:
        raise AssetError(f"{npz}: unreadable ({exc})") from exc
    return lo, hi
