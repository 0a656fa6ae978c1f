"""``scene.assets=infinigen`` for the street: surfaces and road users dressed to read as real.

Applied by the sampler to a finished street (after every procedural draw, with the scene's own generator, so
``scene.assets=procedural`` draws and renders exactly what it did before):

* road and crossing road, one surface per scene drawn from ``scene.road_surface``: our own asphalt node
  material (aggregate, cracks, darker patch rectangles), concrete slabs (sawn joints, stains, cracks) or pavers
  (brick, concrete block or granite sett rows); the procedural wetness and puddles kept on each; lane markings
  with worn paint;
* the open ground (verges, front yards, the land beyond), one kind per scene from ``scene.ground_surface``:
  lawn (green and dry grass, bare patches, mowing stripes on some), gravel or soil with sparse weeds, or paved
  (a car park, a plaza: the road's paver and concrete slab patterns);
* sidewalks: Infinigen paving tiles on top, Infinigen concrete on the kerb face;
* buildings: Infinigen brick or plaster facades; every window gets a frame, a mullion and a sill standing
  proud of the wall, so the dark glass sits recessed behind them (unlabelled geometry); at night 10-45 % of a
  building's panes glow with room light (warm, neutral or cool), drawn from a generator of their own;
* vehicles: car paint (world-like colour shares, metallic flakes, clear coat), tinted glass, rubber tyres,
  chrome / alloy / black rims, and number plates front and back with a generated string (plate quads are
  part of the vehicle's own mesh: one instance, one class);
* people and cyclists: clothing colours (dark and neutral dominant), plain / striped / checked tops, skin tones.

Every choice is data: ``ObjectSpec.asset["materials"]`` (slot -> record) says how the builder makes a slot's
material (``simvision/render/street_materials.py``), and ``SceneSpec.background["street_materials"]`` lists the
scene's surfaces, so the frame metadata records each of them; the Infinigen ones also go to
``background["infinigen_materials"]`` (licences in the dataset card).
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from simvision.scene.conditions import NIGHT_BELOW_DEG
from simvision.scene.infinigen_library import INFINIGEN_VERSION, MaterialVariant, cache_root
from simvision.scene.spec import MaterialSpec, ObjectSpec, SceneSpec
from simvision.scene.street.draws import tagged_rng, weighted_choice
from simvision.scene.street.lawn import grass_blades

# surface -> Infinigen materials drawn for it: (module under infinigen.assets.materials, class)
STREET_MATERIALS: dict[str, list[tuple[str, str]]] = {
    "sidewalk": [("ceramic", "Tile")],
    "kerb": [("ceramic", "Concrete")],
    "facade": [("ceramic", "Brick"), ("ceramic", "Plaster")],
}
VEHICLES = ("car", "van", "truck", "bus")
PEOPLE = ("person", "cyclist")

# paint colour (linear RGB), share of the world's new cars (rounded from the yearly paint-maker surveys:
# white, black, grey and silver dominate), and the chance a car of that colour has a metallic finish
CAR_PAINTS: list[tuple[str, list[float], float, float]] = [
    ("white", [0.8, 0.8, 0.78], 0.35, 0.25),
    ("black", [0.015, 0.015, 0.017], 0.19, 0.5),
    ("grey", [0.18, 0.19, 0.2], 0.17, 0.8),
    ("silver", [0.55, 0.56, 0.58], 0.11, 1.0),
    ("blue", [0.02, 0.06, 0.25], 0.08, 0.7),
    ("red", [0.45, 0.02, 0.02], 0.07, 0.5),
    ("brown", [0.2, 0.11, 0.05], 0.02, 0.8),
    ("green", [0.04, 0.14, 0.06], 0.01, 0.6),
]
# clothing colours (linear RGB) with weights: dark and neutral dominate street clothing
TOPS: list[tuple[str, list[float], float]] = [
    ("black", [0.02, 0.02, 0.02], 0.24),
    ("charcoal", [0.06, 0.06, 0.065], 0.12),
    ("navy", [0.02, 0.03, 0.09], 0.12),
    ("grey", [0.25, 0.25, 0.25], 0.1),
    ("white", [0.75, 0.75, 0.72], 0.1),
    ("beige", [0.45, 0.36, 0.24], 0.07),
    ("brown", [0.15, 0.08, 0.04], 0.05),
    ("olive", [0.1, 0.11, 0.04], 0.05),
    ("red", [0.4, 0.03, 0.03], 0.05),
    ("blue", [0.05, 0.15, 0.45], 0.05),
    ("green", [0.04, 0.2, 0.08], 0.03),
    ("yellow", [0.7, 0.55, 0.05], 0.02),
]
BOTTOMS: list[tuple[str, list[float], float]] = [
    ("denim", [0.04, 0.07, 0.16], 0.34),
    ("black", [0.02, 0.02, 0.02], 0.26),
    ("grey", [0.15, 0.15, 0.15], 0.12),
    ("khaki", [0.35, 0.28, 0.16], 0.12),
    ("navy", [0.02, 0.03, 0.08], 0.1),
    ("light_denim", [0.18, 0.25, 0.4], 0.06),
]
# skin tones (linear RGB), light to dark: a person's tone is drawn between two neighbours
SKIN_TONES = [[0.85, 0.62, 0.5], [0.72, 0.5, 0.36], [0.55, 0.36, 0.24], [0.36, 0.22, 0.13], [0.18, 0.1, 0.06]]
# at night: the share of a building's windows lit from inside, and room light colours (linear RGB: warm
# incandescent, neutral LED, cool fluorescent / screens)
LIT_WINDOW_SHARE = (0.1, 0.45)
ROOM_LIGHT = [[1.0, 0.62, 0.3], [1.0, 0.8, 0.55], [0.85, 0.9, 1.0]]
LIT_TAG = 0x11D0  # mixed into the scene seed: lit-window draws never touch the dressing's generator
FRAME_COLORS = [[0.8, 0.8, 0.78], [0.04, 0.04, 0.04], [0.2, 0.12, 0.06], [0.3, 0.3, 0.3]]
PLATE_SIZE = (0.52, 0.11)  # EU plate, metres
ROAD_SURFACE_TAG = 0x40AD  # mixed into the scene seed: the road surface's draws never touch the dressing's generator
# paved roads: style, block size (m: along its row, across), two tones (linear RGB) each block is drawn between,
# joint width (m); weights below
PAVER_STYLES: list[tuple[str, tuple[float, float], tuple[list[float], list[float]], float]] = [
    ("concrete_grey", (0.2, 0.1), ([0.2, 0.2, 0.19], [0.3, 0.3, 0.28]), 0.004),
    ("red_brick", (0.2, 0.1), ([0.22, 0.06, 0.035], [0.33, 0.11, 0.06]), 0.005),
    ("charcoal", (0.2, 0.1), ([0.05, 0.05, 0.05], [0.1, 0.1, 0.1]), 0.004),
    ("buff", (0.2, 0.1), ([0.36, 0.29, 0.19], [0.48, 0.4, 0.28]), 0.004),
    ("granite_setts", (0.12, 0.1), ([0.12, 0.12, 0.12], [0.24, 0.23, 0.21]), 0.012),
]
PAVER_WEIGHTS = np.array([0.35, 0.25, 0.15, 0.1, 0.15])
GROUND_SURFACE_TAG = 0x6A55  # mixed into the scene seed: the ground's draws never touch the dressing's generator
# open ground (linear RGB): lush and dry grass, the bare earth showing through worn lawn and under weeds,
# gravel stone tones (grey limestone, buff, dark basalt)
LUSH_GRASS = ([0.045, 0.1, 0.014], [0.09, 0.17, 0.03])  # a lawn's green is drawn between these
DRY_GRASS = ([0.16, 0.14, 0.05], [0.3, 0.25, 0.1])  # straw
SOIL = ([0.07, 0.045, 0.025], [0.16, 0.11, 0.065])
GRAVEL_TONES = [[0.3, 0.29, 0.27], [0.36, 0.3, 0.22], [0.1, 0.1, 0.1]]
BLADES_TAG = 0x6B1A  # mixed into the scene seed: a verge lawn's grass blades never touch the dressing's generator
CONE_WEAR_TAG = 0x0C0E  # mixed into the scene seed: the cones' wear never touches the dressing's generator
# what soils a traffic cone (linear RGB): road dirt (brown-grey), dust (light buff) and tyre soot (near black)
CONE_GRIME = [[0.09, 0.07, 0.05], [0.24, 0.21, 0.16], [0.03, 0.03, 0.03]]
CONE_BODY_SLOTS = ("cone", "black_pvc")  # the moulded PVC of furniture.CONE_STYLES
CONE_BAND_SLOTS = ("stripe", "yellow_band")  # its bands: retroreflective sheeting


def street_materials(cfg: Any) -> dict[str, list[MaterialVariant]]:
    """Surface -> the Infinigen material variants it draws from (``scene.infinigen`` seeds)."""
    root = cache_root(str(cfg.cache_dir)) / INFINIGEN_VERSION / "materials"
    seeds = range(int(cfg.seed), int(cfg.seed) + int(cfg.material_variants))
    indirect = str(getattr(cfg, "indirect_shading", "mean"))  # full trees for camera rays only with "mean"
    return {
        surface: [
            MaterialVariant(module, cls, s, str(root / f"{module}.{cls}" / f"{s}.blend"), indirect)
            for module, cls in choices
            for s in seeds
        ]
        for surface, choices in STREET_MATERIALS.items()
    }


def _pick(options: list[Any], rng: np.random.Generator) -> Any:
    return options[int(rng.integers(len(options)))]


def _weighted(options: list[tuple], rng: np.random.Generator) -> tuple:
    p = np.array([o[2] for o in options], dtype=np.float64)
    return options[int(rng.choice(len(options), p=p / p.sum()))]


def _f(x: Any) -> float:
    return round(float(x), 6)


def _with_slot(obj: ObjectSpec, slot: str, mesh: tuple[np.ndarray, np.ndarray], spec: MaterialSpec) -> None:
    """Append a part to the object's mesh under material slot ``slot`` (added after the existing slots)."""
    v, f = mesh
    if slot not in obj.slot_materials:
        obj.slot_materials[slot] = spec
    index = list(obj.slot_materials).index(slot)
    slots = obj.face_slots if obj.face_slots is not None else np.zeros(len(obj.faces), dtype=np.int64)
    obj.faces = np.concatenate([obj.faces, np.asarray(f, dtype=np.int64) + len(obj.vertices)])
    obj.vertices = np.concatenate([obj.vertices, np.asarray(v, dtype=np.float64)])
    obj.face_slots = np.concatenate([slots, np.full(len(f), index, dtype=np.int64)])


_CORNERS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
# outward-wound triangles of the cube whose corner i has bits (x, y, z) = (i >> 2, i >> 1, i) & 1
_CUBE_FACES = np.array(
    [
        (0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5),  # -x, +x
        (0, 4, 5), (0, 5, 1), (2, 3, 7), (2, 7, 6),  # -y, +y
        (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3),  # -z, +z
    ],
    dtype=np.int64,
)  # fmt: skip


def _boxes(centers: Any, sizes: Any) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned boxes (N centres, N sizes) as one mesh: 8 vertices and 12 triangles each, in order."""
    c, h = np.asarray(centers, dtype=np.float64).reshape(-1, 3), np.asarray(sizes, dtype=np.float64).reshape(-1, 3)
    v = (c[:, None, :] + _CORNERS[None] * h[:, None, :] / 2).reshape(-1, 3)
    f = (_CUBE_FACES[None] + 8 * np.arange(len(c))[:, None, None]).reshape(-1, 3)
    return v, f


def _box(center: Any, size: Any) -> tuple[np.ndarray, np.ndarray]:
    return _boxes([center], [size])


# -- surfaces ------------------------------------------------------------------------------------------
def _road(obj: ObjectSpec, rng: np.random.Generator) -> dict[str, Any]:
    return {
        "kind": "asphalt",
        "aggregate_scale": _f(rng.uniform(60.0, 120.0)),  # stones per metre
        "aggregate_contrast": _f(rng.uniform(0.15, 0.35)),
        "crack_scale": _f(rng.uniform(0.25, 0.6)),  # crack cells per metre
        "crack_coverage": _f(rng.uniform(0.1, 0.5)),  # share of the surface where cracks show
        "patch_size_m": [_f(rng.uniform(1.5, 4.0)), _f(rng.uniform(1.0, 2.5))],
        "patch_coverage": _f(rng.uniform(0.0, 0.25)),
        "patch_darkening": _f(rng.uniform(0.55, 0.8)),
        "tone_variation": _f(rng.uniform(0.1, 0.3)),
        "offset": [_f(v) for v in rng.uniform(0.0, 100.0, size=3)],
    }


def _road_context(spec: SceneSpec) -> dict[str, Any]:
    """What a road surface's pattern needs to follow the road: its curvature (joints and paver rows run along a
    curved road too) and the scene's wetness (darker, glossier when wet)."""
    return {
        "curvature": _f(spec.container.get("curvature", 0.0)),
        "wetness": _f(spec.conditions.get("wetness", 0.0)),
    }


def _concrete(rng: np.random.Generator, spec: SceneSpec) -> dict[str, Any]:
    grey = rng.uniform(0.2, 0.4)
    return {
        "kind": "concrete",
        "color": [_f(grey * w) for w in (1.0, 0.98, 0.93)],  # a little warm
        "slab_m": [_f(rng.uniform(3.5, 6.0)), _f(rng.uniform(3.0, 3.7))],  # along the road, across (a lane)
        "joint_m": _f(rng.uniform(0.006, 0.015)),  # sawn joint width
        "tone_variation": _f(rng.uniform(0.05, 0.2)),  # slab to slab and within a slab
        "stain_coverage": _f(rng.uniform(0.05, 0.4)),  # oil and tyre stains
        "crack_scale": _f(rng.uniform(0.2, 0.5)),
        "crack_coverage": _f(rng.uniform(0.0, 0.3)),
        "offset": [_f(v) for v in rng.uniform(0.0, 100.0, size=3)],
        **_road_context(spec),
    }


def _pavers(rng: np.random.Generator, spec: SceneSpec) -> dict[str, Any]:
    style, size, colors, joint = PAVER_STYLES[int(rng.choice(len(PAVER_STYLES), p=PAVER_WEIGHTS))]
    scale = rng.uniform(0.9, 1.15)
    return {
        "kind": "pavers",
        "style": style,
        "size_m": [_f(size[0] * scale), _f(size[1] * scale)],  # along the row, the row's width
        "joint_m": _f(joint * rng.uniform(0.7, 1.3)),
        "colors": [[_f(c * rng.uniform(0.85, 1.15)) for c in tone] for tone in colors],  # per block between two
        "joint_color": [_f(c) for c in (rng.uniform(0.08, 0.25),) * 3],  # sand or dirt in the joints
        "bond": _f(rng.choice([0.5, 0.5, 0.33])),  # row-to-row shift as a share of a block: running bond mostly
        "tone_variation": _f(rng.uniform(0.05, 0.25)),
        "offset": [_f(v) for v in rng.uniform(0.0, 100.0, size=3)],
        **_road_context(spec),
    }


def _between(pair: tuple[list[float], list[float]], rng: np.random.Generator) -> list[float]:
    """A colour drawn between two (one blend for all channels, then a little per channel)."""
    a, b = (np.asarray(c, dtype=np.float64) for c in pair)
    c = (a + rng.uniform() * (b - a)) * rng.uniform(0.93, 1.07, size=3)
    return [_f(v) for v in c]


def _lawn(rng: np.random.Generator, spec: SceneSpec) -> dict[str, Any]:
    mowed = rng.uniform() < 0.4
    return {
        "kind": "lawn",
        "colors": [_between(LUSH_GRASS, rng), _between(DRY_GRASS, rng)],  # green, dry
        "dry_coverage": _f(rng.uniform(0.0, 0.45)),  # share of the lawn gone to straw, in patches
        "bare_coverage": _f(rng.uniform(0.0, 0.12)),  # worn to the earth
        "soil": _between(SOIL, rng),
        "blade_scale": _f(rng.uniform(120.0, 260.0)),  # blade-sized grain per metre
        "stripe_m": _f(rng.uniform(0.5, 1.2)),  # mowing stripes (lawns mowed in lanes), along the road
        "stripe_contrast": _f(rng.uniform(0.06, 0.18) if mowed else 0.0),
        "offset": [_f(v) for v in rng.uniform(0.0, 100.0, size=3)],
        **_road_context(spec),
    }


def _gravel(rng: np.random.Generator, spec: SceneSpec) -> dict[str, Any]:
    tone = np.asarray(GRAVEL_TONES[int(rng.integers(len(GRAVEL_TONES)))], dtype=np.float64)
    return {
        "kind": "gravel",
        "colors": [[_f(v) for v in tone * rng.uniform(0.6, 0.8)], [_f(v) for v in tone * rng.uniform(1.0, 1.3)]],
        "stone_scale": _f(rng.uniform(30.0, 80.0)),  # stones per metre (1-3 cm stones)
        "soil": _between(SOIL, rng),  # between the stones
        "weed_coverage": _f(rng.uniform(0.0, 0.2)),
        "weeds": _between(LUSH_GRASS, rng),
        "offset": [_f(v) for v in rng.uniform(0.0, 100.0, size=3)],
        **_road_context(spec),
    }


def _soil(rng: np.random.Generator, spec: SceneSpec) -> dict[str, Any]:
    return {
        "kind": "soil",
        "colors": [_between(SOIL, rng), _between(SOIL, rng)],  # mottled between two earths
        "clod_scale": _f(rng.uniform(15.0, 40.0)),  # clods per metre
        "weed_coverage": _f(rng.uniform(0.05, 0.35)),
        "weeds": _between(LUSH_GRASS, rng),
        "offset": [_f(v) for v in rng.uniform(0.0, 100.0, size=3)],
        **_road_context(spec),
    }


# the open ground may be paved too: a car park, a plaza or a forecourt in the road's own paver and slab patterns
GROUND_KINDS = {"lawn": _lawn, "gravel": _gravel, "soil": _soil, "pavers": _pavers, "concrete": _concrete}
PAVED_GROUND = {"pavers": 0.6, "concrete": 0.4}  # a car park's ground when scene.ground_surface names no paved kind


def _markings(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "kind": "road_paint",
        "wear": _f(rng.uniform(0.05, 0.5)),  # share of the paint worn down to the asphalt
        "wear_scale": _f(rng.uniform(3.0, 8.0)),
        "offset": [_f(v) for v in rng.uniform(0.0, 100.0, size=3)],
    }


def _one_surface(obj: ObjectSpec, record: dict[str, Any]) -> None:
    """Give the whole of ``obj`` one dressed material (one slot, "surface")."""
    obj.asset["materials"] = {"surface": record}
    obj.slot_materials = {"surface": obj.material}
    obj.face_slots = np.zeros(len(obj.faces), dtype=np.int64)


def _sidewalks(obj: ObjectSpec, paving: dict[str, Any], kerb: dict[str, Any]) -> None:
    """Split the kerb-and-sidewalk strip: faces that stand up are the kerb, the rest the paving."""
    v, f = obj.vertices, obj.faces
    n = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    upright = np.abs(n[:, 2]) < 0.5 * np.linalg.norm(n, axis=1)
    obj.slot_materials = {"paving": obj.material, "kerb": obj.material}
    obj.face_slots = upright.astype(np.int64)
    obj.asset["materials"] = {"paving": paving, "kerb": kerb}


def _window_frames(obj: ObjectSpec, rng: np.random.Generator) -> dict[str, Any]:
    """Frame, mullion and sill around every glass pane of a building; the glass turns dark and glossy."""
    glass = list(obj.slot_materials).index("glass")
    panes = obj.faces[obj.face_slots == glass]
    record = {
        "frame_color": _pick(FRAME_COLORS, rng),
        "frame_width": _f(rng.uniform(0.05, 0.09)),
        "reveal": _f(rng.uniform(0.08, 0.16)),  # how far the frame stands proud of the glass
        "sill": bool(rng.uniform() < 0.7),
    }
    frame_mat = MaterialSpec(base_color=list(record["frame_color"]), roughness=0.5, metallic=0.0)
    fw, reveal = record["frame_width"], record["reveal"]
    centres: list[np.ndarray] = []
    sizes: list[np.ndarray] = []
    for chunk in panes.reshape(-1, 12, 3):  # every pane is one box (12 triangles)
        p = obj.vertices[chunk.ravel()]
        lo, hi = p.min(axis=0), p.max(axis=0)
        size, centre = hi - lo, (lo + hi) / 2
        axis = int(np.argmin(size[:2]))  # the facade normal (x or y)
        along = 1 - axis
        out = 1.0 if centre[axis] > 0 else -1.0
        face = hi[axis] if out > 0 else lo[axis]  # the glass's outer face
        depth = reveal + 0.02
        mid = face - out * 0.02 + out * depth / 2
        w, h = size[along], size[2]

        # (offset along the facade, z, length, height, depth, centre along the normal) of each part
        parts = [
            (0.0, hi[2] + fw / 2, w + 2 * fw, fw, depth, mid),  # head
            (0.0, lo[2] - fw / 2, w + 2 * fw, fw, depth, mid),  # bottom rail
            (-(w + fw) / 2, centre[2], fw, h, depth, mid),  # jambs
            ((w + fw) / 2, centre[2], fw, h, depth, mid),
        ]
        if w > 1.1:  # a mullion splits wide windows in two casements
            parts.append((0.0, centre[2], fw * 0.7, h, depth * 0.6, face - out * 0.02 + out * depth * 0.3))
        if record["sill"]:
            sill_d = depth + 0.06
            parts.append(
                (0.0, lo[2] - fw - 0.025, w + 2 * fw + 0.1, 0.05, sill_d, face - out * 0.02 + out * sill_d / 2)
            )
        for offset, z, length, height, d, m in parts:
            c, size = np.zeros(3), np.zeros(3)
            c[axis], c[along], c[2] = m, centre[along] + offset, z
            size[axis], size[along], size[2] = d, length, height
            centres.append(c)
            sizes.append(size)
    if centres:
        _with_slot(obj, "frame", _boxes(centres, sizes), frame_mat)
    obj.asset.setdefault("materials", {})["glass"] = {
        "kind": "window_glass",
        "tint": [_f(c) for c in rng.uniform(0.01, 0.04, size=3)],
        "roughness": _f(rng.uniform(0.0, 0.06)),
    }
    record["panes"] = len(panes) // 12
    return record


def _lit_windows(obj: ObjectSpec, rng: np.random.Generator) -> dict[str, Any] | None:
    """At night, a share of a building's window panes glow from the rooms behind (slot ``window_lit``)."""
    glass = list(obj.slot_materials).index("glass")
    chunks = np.flatnonzero(obj.face_slots == glass).reshape(-1, 12)  # every pane is one box (12 triangles)
    share = float(rng.uniform(*LIT_WINDOW_SHARE))
    lit = rng.uniform(size=len(chunks)) < share
    record = {
        "kind": "lit_window",
        "share": _f(share),
        "panes": int(lit.sum()),
        "color": [_f(c) for c in _pick(ROOM_LIGHT, rng)],
        "strength": _f(rng.uniform(0.3, 1.0)),  # emission strength of a lit pane: a room seen from the street
    }
    if not lit.any():
        return None
    obj.slot_materials["window_lit"] = MaterialSpec(base_color=[0.05] * 3, roughness=0.05, metallic=0.0)
    obj.face_slots[chunks[lit].ravel()] = list(obj.slot_materials).index("window_lit")
    obj.asset["materials"]["window_lit"] = record
    return record


# -- vehicles ----------------------------------------------------------------------------------------------
def _plate_text(rng: np.random.Generator) -> str:
    letters = string.ascii_uppercase
    head = "".join(letters[int(i)] for i in rng.integers(0, 26, size=int(rng.integers(1, 4))))
    digits = "".join(str(int(d)) for d in rng.integers(0, 10, size=int(rng.integers(2, 5))))
    tail = "".join(letters[int(i)] for i in rng.integers(0, 26, size=int(rng.integers(0, 3))))
    return f"{head}-{digits}" + (f" {tail}" if tail else "")


def _ray_hits_x(v: np.ndarray, f: np.ndarray, y: float, z: float, sign: float) -> float | None:
    """Largest (sign > 0) or smallest x where the line (y, z) along x meets the triangles."""
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    # barycentric test in the (y, z) plane
    d = (b[:, 1] - a[:, 1]) * (c[:, 2] - a[:, 2]) - (c[:, 1] - a[:, 1]) * (b[:, 2] - a[:, 2])
    ok = np.abs(d) > 1e-12
    d = np.where(ok, d, 1.0)
    u = ((y - a[:, 1]) * (c[:, 2] - a[:, 2]) - (c[:, 1] - a[:, 1]) * (z - a[:, 2])) / d
    w = ((b[:, 1] - a[:, 1]) * (z - a[:, 2]) - (y - a[:, 1]) * (b[:, 2] - a[:, 2])) / d
    inside = ok & (u >= 0) & (w >= 0) & (u + w <= 1)
    if not inside.any():
        return None
    x = a[:, 0] + u * (b[:, 0] - a[:, 0]) + w * (c[:, 0] - a[:, 0])
    x = x[inside]
    return float(x.max() if sign > 0 else x.min())


def _plates(obj: ObjectSpec, kind: str, rng: np.random.Generator) -> list[dict[str, Any]]:
    """A plate front and back on the vehicle's own mesh, where its solid body is at plate height."""
    solid = [i for i, s in enumerate(obj.slot_materials) if s in ("body", "chassis", "cargo")]
    faces = obj.faces[np.isin(obj.face_slots, solid)]
    v = obj.vertices
    low = float(v[np.unique(faces)][:, 2].min())
    width, height = PLATE_SIZE
    text = _plate_text(rng)
    rise = {"car": (0.2, 0.35), "van": (0.25, 0.4), "truck": (0.15, 0.3), "bus": (0.2, 0.35)}[kind]
    plates = []
    for slot, sign in (("plate_front", 1.0), ("plate_rear", -1.0)):
        zc = low + float(rng.uniform(*rise)) + height / 2
        hits = [
            _ray_hits_x(v, faces, y, z, sign)
            for y in (-width / 2, 0.0, width / 2)
            for z in (zc - height / 2, zc + height / 2)
        ]
        if any(h is None for h in hits):
            continue
        x_face = max(hits) if sign > 0 else min(hits)
        thickness = 0.012
        centre = [x_face + sign * (thickness / 2 - 0.004), 0.0, zc]
        base = MaterialSpec(base_color=[0.8, 0.8, 0.8], roughness=0.35, metallic=0.0)
        _with_slot(obj, slot, _box(centre, (thickness, width, height)), base)
        record = {
            "kind": "plate",
            "text": text,
            "center": [_f(c) for c in centre],
            "size": [width, height],
            "facing": sign,
        }
        obj.asset["materials"][slot] = record
        plates.append(record)
    return plates


def _vehicle(obj: ObjectSpec, kind: str, rng: np.random.Generator) -> None:
    name, color, _, metallic_share = _weighted(CAR_PAINTS, rng)
    jitter = rng.uniform(0.9, 1.1)
    color = [_f(min(1.0, c * jitter)) for c in color]
    metallic = bool(rng.uniform() < metallic_share)
    paint = {
        "kind": "car_paint",
        "color_name": name,
        "color": color,
        "metallic": _f(rng.uniform(0.5, 0.85)) if metallic else 0.0,
        "base_roughness": _f(rng.uniform(0.25, 0.45)),
        "flake_scale": _f(rng.uniform(1500.0, 3500.0)),  # flakes per metre
        "coat": 1.0,
        "coat_roughness": _f(rng.uniform(0.01, 0.06)),
    }
    if kind == "bus" and rng.uniform() < 0.5:  # many buses wear a livery colour
        paint.update(color_name="livery", color=[_f(c) for c in _pick([[0.5, 0.03, 0.02], [0.6, 0.45, 0.02]], rng)])
    obj.slot_materials["body"] = MaterialSpec(
        base_color=paint["color"], roughness=paint["base_roughness"], metallic=paint["metallic"]
    )
    rim = _pick(["chrome", "alloy", "black"], rng)
    obj.asset["materials"] = {
        "body": paint,
        "glass": {
            "kind": "tinted_glass",
            "tint": [_f(c) for c in np.array([0.03, 0.035, 0.035]) * rng.uniform(0.6, 1.4)],
            "roughness": _f(rng.uniform(0.0, 0.04)),
        },
        "tyre": {"kind": "rubber", "color": _f(rng.uniform(0.018, 0.035)), "roughness": _f(rng.uniform(0.8, 0.95))},
        "rim": {"kind": "rim", "finish": rim},
    }
    plates = _plates(obj, kind, rng)
    obj.asset["plate"] = plates[0]["text"] if plates else None


# -- people ------------------------------------------------------------------------------------------------
def _clothes(obj: ObjectSpec, rng: np.random.Generator) -> None:
    materials: dict[str, Any] = {}
    top_name, top, _ = _weighted(TOPS, rng)
    pattern = str(rng.choice(["plain", "stripes", "checks"], p=[0.7, 0.15, 0.15]))
    second_name, second, _ = _weighted(TOPS, rng)
    materials["top"] = {
        "kind": "fabric",
        "color_name": top_name,
        "color": top,
        "pattern": pattern,
        "second_color_name": second_name if pattern != "plain" else None,
        "second_color": second if pattern != "plain" else None,
        "period_m": _f(rng.uniform(0.02, 0.08)),
        "roughness": _f(rng.uniform(0.75, 0.95)),
    }
    bottom_name, bottom, _ = _weighted(BOTTOMS, rng)
    materials["bottom"] = {
        "kind": "fabric",
        "color_name": bottom_name,
        "color": bottom,
        "pattern": "plain",
        "roughness": _f(rng.uniform(0.75, 0.95)),
    }
    t = float(rng.uniform(0.0, len(SKIN_TONES) - 1))
    i = min(int(t), len(SKIN_TONES) - 2)
    skin = (1 - (t - i)) * np.asarray(SKIN_TONES[i]) + (t - i) * np.asarray(SKIN_TONES[i + 1])
    materials["skin"] = {"kind": "skin", "tone": _f(t / (len(SKIN_TONES) - 1)), "color": [_f(c) for c in skin]}
    for slot, m in materials.items():
        if slot in obj.slot_materials:
            obj.slot_materials[slot] = MaterialSpec(
                base_color=list(m["color"]), roughness=m.get("roughness", 0.5), metallic=0.0
            )
    obj.asset["materials"] = {k: m for k, m in materials.items() if k in obj.slot_materials}


# -- traffic cones -----------------------------------------------------------------------------------------
def wear_cone(obj: ObjectSpec, wear_range: Any, rng: np.random.Generator) -> None:
    """A cone's PVC soiled and scuffed by ``wear`` (0 = new, 1 = years on site: grime rising from the base,
    blotches and scuffs), and its bands as retroreflective sheeting (silver-white to grey under daylight) that
    wears through to the PVC in places. Every value is recorded in ``asset["materials"]``."""
    body = next((slot for slot in CONE_BODY_SLOTS if slot in obj.slot_materials), None)
    if body is None:
        return
    height = float(obj.asset.get("params", {}).get("height", 0.7))
    wear = float(rng.uniform(float(wear_range[0]), float(wear_range[1])))
    grime = np.asarray(_pick(CONE_GRIME, rng)) * rng.uniform(0.8, 1.2)
    common = {
        "wear": _f(wear),
        "grime_color": [_f(c) for c in grime],
        "grime_height_m": _f(height * rng.uniform(0.15, 0.5)),  # how far up the road dirt climbs
        "blotch_scale": _f(rng.uniform(6.0, 16.0)),  # grime blotches per metre
        "scuff_scale": _f(rng.uniform(20.0, 60.0)),  # scuff streaks per metre of height
        "offset": [_f(x) for x in rng.uniform(-100.0, 100.0, 3)],
    }
    pvc = obj.slot_materials[body]
    materials: dict[str, Any] = {
        body: {
            "kind": "worn_plastic",
            "color": [_f(c) for c in pvc.base_color],
            "roughness": _f(pvc.roughness),
            **common,
        }
    }
    band = next((slot for slot in CONE_BAND_SLOTS if slot in obj.slot_materials), None)
    if band is not None:
        sheen = rng.uniform(0.6, 1.0)  # prismatic sheeting reads silver-grey to white in daylight
        materials[band] = {
            "kind": "reflective_sheeting",
            "color": [_f(c * sheen) for c in obj.slot_materials[band].base_color],
            "roughness": _f(rng.uniform(0.2, 0.4)),
            "body_color": materials[body]["color"],
            "worn_through": _f(wear * rng.uniform(0.1, 0.3)),  # share of the band worn down to the PVC
            **common,
        }
    obj.asset["materials"] = materials


# -- the whole street --------------------------------------------------------------------------------------
def dress_street(
    spec: SceneSpec,
    variants: dict[str, list[MaterialVariant]],
    rng: np.random.Generator,
    road_surface: dict[str, float] | None = None,
    ground_surface: dict[str, float] | None = None,
    cone_wear: Any = None,
    verge_view: Any = None,
) -> None:
    """Dress a sampled street in place (see the module doc); draws from ``rng`` in a fixed order. The road's
    surface kind is drawn from ``road_surface`` (``scene.road_surface`` weights; asphalt when None) and the
    open ground's from ``ground_surface`` (``scene.ground_surface``; the procedural flat ground when None),
    each with a generator of its own, so the other choices are the same whatever the road and ground are; the
    traffic cones' wear is drawn from ``cone_wear`` ([low, high], ``scene.cone_wear``; none when None) with one
    of its own too; a verge scene on a lawn gets grass blades in front of its camera (``verge_view``, lawn.py)
    from another."""
    surface_rng = tagged_rng(spec.seed, ROAD_SURFACE_TAG)
    surface_kind = weighted_choice(dict(road_surface), surface_rng) if road_surface else "asphalt"
    ground_rng = tagged_rng(spec.seed, GROUND_SURFACE_TAG)
    ground = None
    if ground_surface:
        weights = dict(ground_surface)
        if spec.container.get("verge_view", {}).get("car_park"):  # a car park is paved
            weights = {k: w for k, w in weights.items() if k in PAVED_GROUND and w > 0} or dict(PAVED_GROUND)
        ground = GROUND_KINDS[weighted_choice(weights, ground_rng)](ground_rng, spec)
    chosen = {surface: _pick(found, rng).record() for surface, found in variants.items() if surface != "facade"}
    surfaces: dict[str, Any] = {"sidewalk": chosen["sidewalk"], "kerb": chosen["kerb"], "buildings": []}
    # scene.infinigen.indirect_shading holds for the level ground too: "mean" shows rays other than camera rays
    # its mean colour (street_materials.flat_mean)
    indirect = {"indirect": chosen["sidewalk"]["indirect"]}
    infinigen = {"sidewalk": chosen["sidewalk"], "kerb": chosen["kerb"]}
    road = None
    # lit rooms at night from their own generator: the dressing's draws stay those of a day street
    night = float(spec.conditions.get("sun_elevation_deg", 90.0)) < NIGHT_BELOW_DEG
    lit_rng = tagged_rng(spec.seed, LIT_TAG)
    for obj in spec.scenery:
        part = obj.asset.get("part")
        shape = obj.asset.get("shape")
        if part in ("road", "cross_road"):
            if road is None:
                road = _road(obj, rng)  # drawn whatever the surface: the dressing's later draws stay the same
                if surface_kind != "asphalt":
                    road = {"concrete": _concrete, "pavers": _pavers}[surface_kind](surface_rng, spec)
                road.update(indirect)
            _one_surface(obj, road)
            surfaces["road"] = road
        elif part == "ground" and ground is not None:
            ground.update(indirect)
            _one_surface(obj, ground)
            surfaces["ground"] = ground
        elif part == "markings":
            surfaces["markings"] = {**_markings(rng), **indirect}
            _one_surface(obj, surfaces["markings"])
        elif part == "sidewalks":
            _sidewalks(obj, chosen["sidewalk"], chosen["kerb"])
        elif shape == "building":
            facade = _pick(variants["facade"], rng).record()
            obj.asset.setdefault("materials", {})["wall"] = facade
            windows = _window_frames(obj, rng)
            lit = _lit_windows(obj, lit_rng) if night else None
            index = len(surfaces["buildings"])
            surfaces["buildings"].append({"facade": facade, "windows": windows, "lit_windows": lit})
            infinigen[f"building_{index}"] = facade
    cone_rng = tagged_rng(spec.seed, CONE_WEAR_TAG)
    for obj in spec.objects:
        shape = obj.asset.get("shape")
        if shape in VEHICLES:
            _vehicle(obj, shape, rng)
        elif shape in PEOPLE:
            _clothes(obj, rng)
        elif shape == "traffic_cone" and cone_wear is not None:
            wear_cone(obj, cone_wear, cone_rng)
    if ground is not None and ground["kind"] == "lawn" and "verge_view" in spec.container and verge_view is not None:
        if float(verge_view.blades_per_m2[1]) > 0:
            blades = grass_blades(spec, ground, verge_view, tagged_rng(spec.seed, BLADES_TAG))
            if blades is not None:
                spec.scenery.append(blades)
                # with the frame's record: what was drawn (the blades themselves follow from the seed)
                spec.container["verge_view"]["blades"] = {k: blades.asset[k] for k in ("blades", "density_per_m2")}
    spec.background["street_materials"] = surfaces
    spec.background["infinigen_materials"] = infinigen
