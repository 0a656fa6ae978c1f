"""Shop fronts on the ground floors of the street's buildings (``scene.shop_fronts``): unlabelled scenery.

Real urban streets, seen from a car, are lined at eye level with shop fronts, not with rows of house windows:
display windows with goods behind the glass, a fascia sign with the shop's name over them, a glazed door, an
awning here and there. On the facade that faces the road, each stretch of ground floor beside the building's
door (at least ``min_width_m`` long) becomes a shop with probability ``probability``; stretches longer than
``max_width_m`` hold several shops side by side. A shop replaces the house windows of its stretch of ground
floor with:

* two pilasters, a stall riser under the glass, a transom rail and mullions (one painted colour per shop);
* display glass (material kind ``shop_window``: dark glossy glass over a dim interior of goods, lit from
  inside at night for ``lit_at_night`` of the shops) and a glazed door;
* a fascia sign across the top of the shop front (kind ``shop_sign``: the shop's name drawn on the sign's
  colour with Pillow's bundled font, recorded as text);
* an awning with ``awning_probability`` (kind ``fabric``: plain or striped canvas), sloping out over the
  sidewalk and kept at least ``AWNING_CLEARANCE_M`` above the ground so people walk under it.

On by default with ``scene.assets=infinigen``, off with ``procedural`` (``enabled``: null = follow the asset
library, true / false force it), so the procedural street stays exactly what it was. The draws come from a
generator seeded by the scene seed plus a tag, after the street's own draws and before its props and
vegetation (which keep clear of the awnings): road users, their ids, poses and the cameras are those of the same
street without shop fronts. Every shop is recorded in the scene's container
(``container.shop_fronts``: building, span, name, colours, awning, lit), which every frame's metadata carries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simvision.config.checks import ConfigError, check_probability
from simvision.scene.spec import MaterialSpec, ObjectSpec
from simvision.scene.street.draws import tagged_rng
from simvision.scene.street.dressing import _boxes as boxes
from simvision.scene.street.dressing import _pick, _with_slot

SEED_TAG = 0x5409  # mixed into the scene seed: shop-front draws never touch the scene's own generator
AWNING_CLEARANCE_M = 2.2  # the lowest edge of an awning above the ground
MIN_GLASS_TOP_M = 2.0  # the display glass reaches at least this high
DOOR_WIDTH_M = 1.0

# shop names: a trade, sometimes after a proprietor's name
TRADES = [
    "CAFE", "BAKERY", "PHARMACY", "MARKET", "BOOKS", "DELI", "BARBER", "FLORIST", "PIZZA", "BAR", "OPTICIAN",
    "HARDWARE", "LAUNDRY", "BANK", "SUSHI", "KEBAB", "NAILS", "TAILOR", "WINE", "SHOES", "GROCERY", "COFFEE",
    "BISTRO", "DENTAL", "MOBILE", "TOYS", "PETS", "HAIR", "NOODLES", "TRAVEL", "KEYS", "BUTCHER", "GIFTS",
]  # fmt: skip
SYLLABLES = ["MA", "RO", "LI", "SAN", "TO", "KA", "BEL", "DI", "NO", "VA", "LEO", "MI", "RA", "CO", "TE", "JU"]
# sign colours (sRGB 0-1): (background, lettering)
SIGN_STYLES = [
    ([0.05, 0.2, 0.12], [0.95, 0.9, 0.75]),  # dark green, cream
    ([0.08, 0.1, 0.25], [0.95, 0.95, 0.95]),  # navy, white
    ([0.05, 0.05, 0.05], [0.9, 0.75, 0.3]),  # black, gold
    ([0.45, 0.06, 0.08], [0.97, 0.95, 0.9]),  # burgundy, white
    ([0.93, 0.92, 0.88], [0.1, 0.1, 0.1]),  # white, black
    ([0.85, 0.1, 0.1], [1.0, 1.0, 1.0]),  # red, white
    ([0.95, 0.75, 0.1], [0.1, 0.1, 0.1]),  # yellow, black
    ([0.1, 0.45, 0.75], [1.0, 1.0, 1.0]),  # blue, white
]
# painted shop-front joinery (linear RGB): black, dark green, navy, oxblood, white, grey, stained wood
JOINERY = [
    [0.02, 0.02, 0.02], [0.02, 0.07, 0.04], [0.02, 0.03, 0.08], [0.15, 0.02, 0.02], [0.75, 0.75, 0.72],
    [0.25, 0.25, 0.25], [0.2, 0.1, 0.04],
]  # fmt: skip
# awning canvas (linear RGB)
CANVAS = [
    [0.02, 0.1, 0.03], [0.35, 0.02, 0.02], [0.02, 0.03, 0.12], [0.05, 0.05, 0.05], [0.6, 0.45, 0.2],
    [0.7, 0.7, 0.65], [0.5, 0.2, 0.02],
]  # fmt: skip


@dataclass
class ShopFrontsConfig:
    """``scene.shop_fronts``: shops on the ground floors of the facades that face the road."""

    enabled: bool | None = None  # null: on with scene.assets=infinigen, off with procedural; true / false force it
    probability: float = 0.6  # chance that a stretch of ground floor beside the door is a shop
    min_width_m: float = 3.0  # shorter stretches keep their house windows
    max_width_m: float = 9.0  # longer stretches hold several shops
    awning_probability: float = 0.35
    lit_at_night: float = 0.7  # share of the shops whose windows glow at night


def validate_shop_fronts(cfg: Any) -> None:
    """Raise :class:`ConfigError` naming the first bad ``scene.shop_fronts.*`` field."""
    if cfg.enabled is not None and not isinstance(cfg.enabled, bool):
        raise ConfigError(f"scene.shop_fronts.enabled: true, false or null, got {cfg.enabled!r}")
    for key in ("probability", "awning_probability", "lit_at_night"):
        check_probability(cfg[key], f"scene.shop_fronts.{key}")
    if not float(cfg.min_width_m) >= 2.0:
        raise ConfigError(f"scene.shop_fronts.min_width_m: must be >= 2 (metres), got {cfg.min_width_m}")
    if not float(cfg.max_width_m) >= float(cfg.min_width_m):
        raise ConfigError(
            f"scene.shop_fronts.max_width_m: must be >= min_width_m ({cfg.min_width_m}), got {cfg.max_width_m}"
        )


def _f(x: Any) -> float:
    return round(float(x), 4)


def _boxes(lo: list[list[float]], hi: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned boxes from their corners, as one mesh."""
    a, b = np.asarray(lo, dtype=np.float64).reshape(-1, 3), np.asarray(hi, dtype=np.float64).reshape(-1, 3)
    return boxes((a + b) / 2, b - a)


def _quads(corners: list[list[list[float]]]) -> tuple[np.ndarray, np.ndarray]:
    """Quads (four corners each, in order round the quad) as one two-triangle-per-quad mesh."""
    v = np.asarray(corners, dtype=np.float64).reshape(-1, 3)
    f = np.array([[q, q + 1, q + 2] for q in range(0, len(v), 4)] + [[q, q + 2, q + 3] for q in range(0, len(v), 4)])
    return v, f.astype(np.int64)


def _shop_name(rng: np.random.Generator) -> str:
    trade = _pick(TRADES, rng)
    if rng.uniform() < 0.5:
        return trade
    name = "".join(_pick(SYLLABLES, rng) for _ in range(int(rng.integers(2, 4))))
    return f"{name} {trade}" if rng.uniform() < 0.6 else f"{name}'S"


def _ground_floor(obj: ObjectSpec, floor_h: float) -> tuple[float, float, float]:
    """The road-facing facade plane (x) and its extent along y, from the building's wall below the first floor."""
    wall = list(obj.slot_materials).index("wall")
    v = obj.vertices[np.unique(obj.faces[obj.face_slots == wall])]
    low = v[v[:, 2] < floor_h]
    return float(low[:, 0].max()), float(low[:, 1].min()), float(low[:, 1].max())


def _spans(lo: float, hi: float, door: tuple[float, float], cfg: Any, rng: np.random.Generator) -> list[list[float]]:
    """The shops' [start, end] along the facade: stretches beside the door, split when long."""
    spans = []
    for a, b in ((lo + 0.4, door[0] - 0.3), (door[1] + 0.3, hi - 0.4)):
        if b - a < float(cfg.min_width_m) or rng.uniform() >= float(cfg.probability):
            continue
        n = max(1, math.ceil((b - a) / float(cfg.max_width_m)))
        edges = np.linspace(a, b, n + 1)
        spans += [[float(edges[i]), float(edges[i + 1])] for i in range(n)]
    return spans


def _drop_house_windows(obj: ObjectSpec, face_x: float, floor_h: float, spans: list[list[float]]) -> None:
    """Remove the ground-floor window panes (boxes of 12 triangles in the glass slot) inside the shops' spans."""
    glass = list(obj.slot_materials).index("glass")
    chunks = np.flatnonzero(obj.face_slots == glass).reshape(-1, 12)
    drop = []
    for chunk in chunks:
        p = obj.vertices[obj.faces[chunk].ravel()]
        c, half = p.mean(axis=0), (p.max(axis=0) - p.min(axis=0)) / 2
        on_facade = c[0] > face_x - 0.2 and c[2] < floor_h
        if on_facade and any(a - half[1] < c[1] < b + half[1] for a, b in spans):
            drop.append(chunk)
    if drop:
        keep = np.ones(len(obj.faces), dtype=bool)
        keep[np.concatenate(drop)] = False
        obj.faces, obj.face_slots = obj.faces[keep], obj.face_slots[keep]


def _shop(
    obj: ObjectSpec, k: int, face_x: float, floor_h: float, span: list[float], night: bool, cfg: Any, rng: Any
) -> dict[str, Any]:
    """Build shop ``k`` of a building on its facade plane x = face_x between y = span[0] and span[1] (material
    slots ``shopfront_k``, ``shop_window_k``, ``shop_sign_k``, ``awning_k``); return its record."""
    a, b = span
    height = float(obj.asset["params"]["height"])
    pilaster = float(rng.uniform(0.2, 0.4))
    riser = float(rng.uniform(0.3, 0.6))
    fascia_top = min(floor_h + float(rng.uniform(-0.1, 0.25)), height - 0.2)
    fascia_h = float(np.clip(rng.uniform(0.45, 0.8), 0.3, fascia_top - MIN_GLASS_TOP_M - 0.08))
    fascia_lo = fascia_top - fascia_h
    glass_top = fascia_lo - 0.08
    inner_a, inner_b = a + pilaster, b - pilaster
    door_at = float(rng.uniform(inner_a, inner_b - DOOR_WIDTH_M))
    door = (door_at, door_at + DOOR_WIDTH_M)
    x0 = face_x
    joinery = MaterialSpec(list(_pick(JOINERY, rng)), float(rng.uniform(0.35, 0.6)), 0.0)
    frame_lo, frame_hi = [], []

    def frame(y0: float, y1: float, z0: float, z1: float, proud: float) -> None:
        frame_lo.append([x0 - 0.05, y0, z0])
        frame_hi.append([x0 + proud, y1, z1])

    frame(a, inner_a, 0.0, fascia_top, 0.16)  # pilasters
    frame(inner_b, b, 0.0, fascia_top, 0.16)
    frame(inner_a, inner_b, glass_top, fascia_lo, 0.1)  # transom rail
    glass_lo, glass_hi = [], []
    for y0, y1 in ((inner_a, door[0]), (door[1], inner_b)):  # display windows either side of the door
        if y1 - y0 < 0.3:
            continue
        frame(y0, y1, 0.0, riser, 0.12)  # stall riser
        panes = max(1, round((y1 - y0) / float(rng.uniform(1.2, 2.2))))
        edges = np.linspace(y0, y1, panes + 1)
        for y in edges[1:-1]:  # mullions
            frame(float(y) - 0.03, float(y) + 0.03, riser, glass_top, 0.08)
        glass_lo.append([x0 - 0.05, y0, riser])
        glass_hi.append([x0 + 0.02, y1, glass_top])
    frame(door[0] - 0.04, door[0] + 0.04, 0.0, glass_top, 0.08)  # door stiles and kick plate
    frame(door[1] - 0.04, door[1] + 0.04, 0.0, glass_top, 0.08)
    frame(door[0], door[1], 0.0, 0.2, 0.06)
    glass_lo.append([x0 - 0.1, door[0], 0.2])  # the door's glass, set back
    glass_hi.append([x0 - 0.03, door[1], glass_top])
    _with_slot(obj, f"shopfront_{k}", _boxes(frame_lo, frame_hi), joinery)

    lit = bool(night and rng.uniform() < float(cfg.lit_at_night))
    tone = rng.uniform(0.15, 0.6, size=3)
    window = {
        "kind": "shop_window",
        "interior": [_f(c) for c in tone],
        "goods_scale": _f(rng.uniform(4.0, 10.0)),  # goods per metre behind the glass
        "goods_mix": _f(rng.uniform(0.2, 0.5)),  # how much the goods' random colours show over the tone
        "brightness": _f(rng.uniform(0.03, 0.1)),  # seen through glass from the sunlit street: dim
        "roughness": _f(rng.uniform(0.0, 0.05)),
        "lit": _f(rng.uniform(0.8, 2.5)) if lit else 0.0,  # emission strength of the goods at night
        "offset": [_f(c) for c in rng.uniform(0.0, 100.0, size=3)],
    }
    _with_slot(obj, f"shop_window_{k}", _boxes(glass_lo, glass_hi), MaterialSpec([0.03] * 3, 0.03, 0.0))
    obj.asset.setdefault("materials", {})[f"shop_window_{k}"] = window

    background, lettering = _pick(SIGN_STYLES, rng)
    sign_centre = [x0 + 0.1, (a + b) / 2, (fascia_lo + fascia_top) / 2]
    sign = {
        "kind": "shop_sign",
        "text": _shop_name(rng),
        "background": background,
        "lettering": lettering,
        "text_height": _f(rng.uniform(0.45, 0.7)),  # of the fascia's height
        "center": [_f(c) for c in sign_centre],
        "size": [_f(b - a), _f(fascia_h)],
        "facing": 1.0,
    }
    fascia = _boxes([[x0 - 0.05, a, fascia_lo]], [[x0 + 0.2, b, fascia_top]])
    _with_slot(obj, f"shop_sign_{k}", fascia, MaterialSpec(list(background), 0.5, 0.0))
    obj.asset["materials"][f"shop_sign_{k}"] = sign

    record: dict[str, Any] = {
        "span": [_f(a), _f(b)],
        "text": sign["text"],
        "fascia": [_f(fascia_lo), _f(fascia_top)],
        "glass_top": _f(glass_top),
        "door": [_f(door[0]), _f(door[1])],
        "lit": lit,
        "awning": None,
    }
    drop_room = fascia_lo - AWNING_CLEARANCE_M - 0.2  # the valance hangs 0.2 m below the awning's edge
    if rng.uniform() < float(cfg.awning_probability) and drop_room > 0.15:
        reach, drop = float(rng.uniform(0.9, 1.5)), float(min(rng.uniform(0.3, 0.7), drop_room))
        top, edge, low = fascia_lo, fascia_lo - drop, fascia_lo - drop - 0.2
        xa, xb = x0 + 0.02, x0 + 0.02 + reach
        canvas = _quads(
            [
                [[xa, inner_a, top], [xb, inner_a, edge], [xb, inner_b, edge], [xa, inner_b, top]],  # slope
                [[xb, inner_a, edge], [xb, inner_a, low], [xb, inner_b, low], [xb, inner_b, edge]],  # valance
            ]
        )
        striped = bool(rng.uniform() < 0.5)
        colour = list(_pick(CANVAS, rng))
        second = [0.75, 0.75, 0.72] if colour != [0.7, 0.7, 0.65] else [0.35, 0.02, 0.02]
        fabric = {
            "kind": "fabric",
            "color": colour,
            "pattern": "stripes" if striped else "plain",
            "second_color": second if striped else None,
            "period_m": _f(rng.uniform(0.12, 0.25)),
            "stripe_axis": "Y",
            "roughness": _f(rng.uniform(0.7, 0.9)),
        }
        _with_slot(obj, f"awning_{k}", canvas, MaterialSpec(colour, fabric["roughness"], 0.0))
        obj.asset["materials"][f"awning_{k}"] = fabric
        record["awning"] = {"reach_m": _f(reach), "drop_m": _f(drop), "lowest_m": _f(low), "striped": striped}
    return record


def add_shop_fronts(scenery: list[ObjectSpec], cfg: Any, night: bool, seed: list[int]) -> list[dict[str, Any]]:
    """Give the buildings' road-facing ground floors shop fronts; return one record per shop (building order)."""
    rng = tagged_rng(seed, SEED_TAG)
    records = []
    buildings = [o for o in scenery if o.asset.get("shape") == "building"]
    for index, obj in enumerate(buildings):
        params = obj.asset["params"]
        floor_h = float(params["floor_height"])
        face_x, lo, hi = _ground_floor(obj, floor_h)
        door_slot = list(obj.slot_materials).index("door")
        door_y = obj.vertices[np.unique(obj.faces[obj.face_slots == door_slot])][:, 1]
        spans = _spans(lo, hi, (float(door_y.min()), float(door_y.max())), cfg, rng)
        if not spans:
            continue
        _drop_house_windows(obj, face_x, floor_h, spans)
        for k, span in enumerate(spans):
            records.append({"building": index, "shop": k, **_shop(obj, k, face_x, floor_h, span, night, cfg, rng)})
    return records
