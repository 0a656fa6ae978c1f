"""Materials of the street scene: one per material slot of an asset, and the road surface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from simvision.scene.color import blackbody_rgb, random_color
from simvision.scene.conditions import Conditions
from simvision.scene.spec import MaterialSpec

CAR_PAINT = [
    [0.8, 0.8, 0.8],
    [0.05, 0.05, 0.05],
    [0.35, 0.35, 0.37],
    [0.55, 0.56, 0.58],
    [0.5, 0.04, 0.03],
    [0.04, 0.1, 0.35],
    [0.15, 0.2, 0.15],
    [0.6, 0.45, 0.2],
    [0.85, 0.85, 0.75],
    [0.9, 0.6, 0.05],
]
SKIN = [[0.93, 0.76, 0.62], [0.8, 0.58, 0.42], [0.6, 0.4, 0.27], [0.42, 0.27, 0.17], [0.25, 0.15, 0.1]]
HAIR = [[0.05, 0.04, 0.03], [0.25, 0.15, 0.08], [0.6, 0.45, 0.25], [0.5, 0.5, 0.5], [0.35, 0.1, 0.05]]
SIGN_COLORS = [[0.8, 0.05, 0.05], [0.05, 0.2, 0.7], [0.9, 0.9, 0.9], [0.95, 0.75, 0.05], [0.05, 0.45, 0.15]]
# street props (scene.props): painted steel (black, dark green, grey, silver, navy) and bin plastics (green,
# grey, black, blue, brown)
PAINTED_METAL = [[0.02, 0.02, 0.02], [0.03, 0.08, 0.04], [0.25, 0.25, 0.26], [0.6, 0.6, 0.6], [0.05, 0.06, 0.12]]
BIN_PLASTIC = [[0.03, 0.12, 0.04], [0.2, 0.2, 0.2], [0.02, 0.02, 0.02], [0.03, 0.07, 0.25], [0.15, 0.08, 0.03]]
SIGNAL_COLORS = {"lamp_red": [1.0, 0.05, 0.02], "lamp_amber": [1.0, 0.5, 0.0], "lamp_green": [0.1, 1.0, 0.3]}

# slots with one fixed look: base colour, roughness, metallic
PLAIN_SLOTS: dict[str, tuple[list[float], float, float]] = {
    **dict.fromkeys(("glass", "window"), ([0.02, 0.03, 0.04], 0.05, 0.0)),
    "tyre": ([0.02, 0.02, 0.02], 0.85, 0.0),
    **dict.fromkeys(("stripe", "reflective"), ([0.95, 0.95, 0.95], 0.2, 0.0)),
    **dict.fromkeys(("shoes", "dark", "housing"), ([0.04, 0.04, 0.04], 0.6, 0.0)),
    **dict.fromkeys(("leg", "chassis", "base"), ([0.05, 0.05, 0.05], 0.7, 0.0)),
    "black_pvc": ([0.03, 0.03, 0.03], 0.4, 0.0),  # the black cone of the black-and-yellow style
}
# slots whose colour varies a little around one natural tone: tone, roughness
TONED_SLOTS: dict[str, tuple[list[float], float]] = {
    # traffic-cone PVC: fluorescent red-orange (sRGB about 240, 90, 25), fairly glossy
    "cone": ([0.88, 0.1, 0.01], 0.35),
    "yellow_band": ([0.95, 0.7, 0.02], 0.4),
    "concrete": ([0.55, 0.55, 0.52], 0.9),
    "wood": ([0.45, 0.3, 0.15], 0.8),
    **dict.fromkeys(("cardboard", "tape"), ([0.6, 0.45, 0.28], 0.85)),
    "rock": ([0.4, 0.38, 0.35], 0.9),
    "fur": ([0.45, 0.32, 0.2], 0.8),
}


def material(color: Sequence[float], roughness: float, metallic: float = 0.0, **extra: Any) -> MaterialSpec:
    """A principled material with plain-float parameters."""
    return MaterialSpec(
        base_color=[float(c) for c in color], roughness=float(roughness), metallic=float(metallic), **extra
    )


def _pick(options: list[list[float]], rng: np.random.Generator) -> list[float]:
    return options[int(rng.integers(len(options)))]


def _toned(tone: Sequence[float], jitter: np.ndarray) -> list[float]:
    return np.clip(np.asarray(tone) * jitter, 0, 1).tolist()


def _lamp(color: list[float], roughness: float, emission_color: list[float], strength: float) -> MaterialSpec:
    return material(color, roughness, 0.0, emission_color=emission_color, emission_strength=strength)


def slot_material(slot: str, *, night: bool, rng: np.random.Generator) -> MaterialSpec:
    """A plausible material for a named material role of a street asset; lamps glow only at night."""
    jitter = rng.uniform(0.85, 1.15, size=3)
    if slot in PLAIN_SLOTS:
        return material(*PLAIN_SLOTS[slot])
    if slot in TONED_SLOTS:
        tone, roughness = TONED_SLOTS[slot]
        return material(_toned(tone, jitter), roughness)
    if slot == "body":
        color = _toned(_pick(CAR_PAINT, rng), jitter)
        return material(color, rng.uniform(0.15, 0.4), rng.uniform(0.3, 0.9))
    if slot in ("rim", "metal"):
        return material([0.6, 0.6, 0.62], rng.uniform(0.2, 0.5), 1.0)
    if slot == "headlight":
        return _lamp([0.9, 0.9, 0.85], 0.1, blackbody_rgb(5500), float(rng.uniform(30, 60)) if night else 0.0)
    if slot == "taillight":
        return _lamp([0.6, 0.02, 0.02], 0.2, [1.0, 0.05, 0.02], float(rng.uniform(5, 15)) if night else 0.0)
    if slot in ("lamp", "street_lamp"):
        return _lamp([0.9, 0.85, 0.7], 0.3, blackbody_rgb(3500), float(rng.uniform(20, 50)) if night else 0.0)
    if slot.startswith("lamp_"):  # a traffic signal: dark until the sampler lights the active one
        color = list(SIGNAL_COLORS.get(slot, [1, 1, 1]))
        return _lamp([c * 0.3 for c in color], 0.2, color, 0.0)
    if slot == "painted_metal":
        return material(_toned(_pick(PAINTED_METAL, rng), jitter), rng.uniform(0.35, 0.6), 0.3)
    if slot in ("plastic", "lid"):
        return material(_toned(_pick(BIN_PLASTIC, rng), jitter), rng.uniform(0.4, 0.7))
    if slot == "skin":
        return material(_toned(_pick(SKIN, rng), jitter), 0.5)
    if slot == "hair":
        return material(_pick(HAIR, rng), 0.6)
    if slot == "board":
        return material([0.9, 0.3, 0.03] if rng.uniform() < 0.6 else [0.85, 0.05, 0.03], 0.5)
    if slot == "sign":
        return material(_pick(SIGN_COLORS, rng), 0.35)
    if slot in ("door", "roof"):
        return material(random_color(rng, (0.0, 0.3)), 0.7)
    if slot == "wall":
        return material(random_color(rng, (0.05, 0.35)), rng.uniform(0.6, 0.95))
    return material(random_color(rng), rng.uniform(0.3, 0.9))


def wet_surface(color: Sequence[float], roughness: float, wetness: float) -> tuple[list[float], float]:
    """A dry road surface's colour and roughness as rain changes them: darker (to half at wetness 1), glossier."""
    return [c * (1 - 0.5 * wetness) for c in color], roughness - 0.7 * wetness


def road_material(c: Conditions, rng: np.random.Generator) -> MaterialSpec:
    """Noisy asphalt that darkens, turns glossy and gathers puddles as it gets wet."""
    grey = float(rng.uniform(0.08, 0.2))
    color, roughness = wet_surface([grey] * 3, 0.85, c.wetness)
    return MaterialSpec(
        base_color=color,
        roughness=float(roughness),
        metallic=0.0,
        texture="noise",
        texture_scale=float(rng.uniform(0.5, 3.0)),
        second_color=wet_surface([grey * 0.7] * 3, 0.85, c.wetness)[0],
        puddles=c.puddle_coverage,
    )


def sidewalk_material(rng: np.random.Generator) -> MaterialSpec:
    """Pale paving with a hint of colour."""
    mat = material(random_color(rng, (0.0, 0.15)), 0.8)
    mat.base_color = [0.45 * c + 0.3 for c in mat.base_color]
    return mat
