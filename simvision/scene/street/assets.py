"""The street asset registry: every generator by kind, its group, and the class a labelled kind belongs to.

Every generator ``make_<kind>(*, rng)`` returns a :class:`PartsMesh`: one triangle mesh made of several
closed, outward-wound parts (overlapping parts are allowed), a material slot per face and, for vehicles and
street lamps, the emitters to place. Every random draw goes through the ``rng`` argument and is recorded in
``params`` (JSON-serialisable), so a sample is reproducible from its seed and can be described in the dataset
metadata.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simvision.scene.street.buildings import make_building
from simvision.scene.street.furniture import (
    make_barrier,
    make_street_lamp,
    make_traffic_cone,
    make_traffic_light,
    make_traffic_sign,
)
from simvision.scene.street.meshes import PartsMesh
from simvision.scene.street.obstacles import make_animal, make_debris, make_fallen_cargo, make_tyre
from simvision.scene.street.people import make_cyclist, make_person
from simvision.scene.street.vehicles import make_bus, make_car, make_truck, make_van

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

# which class each generated asset kind belongs to
KIND_CLASS: dict[str, str] = {
    "car": "car",
    "van": "van",
    "truck": "truck",
    "bus": "bus",
    "person": "person",
    "cyclist": "cyclist",
    "traffic_cone": "traffic_cone",
    "barrier": "barrier",
    "traffic_light": "traffic_light",
    "debris": "obstacle",
    "fallen_cargo": "obstacle",
    "animal": "obstacle",
    "tyre": "obstacle",
}


def make_street_shape(kind: str, *, rng: np.random.Generator) -> PartsMesh:
    """Sample the street asset ``kind`` (any key of STREET_SHAPES or BACKDROP_SHAPES)."""
    factory = STREET_SHAPES.get(kind) or BACKDROP_SHAPES.get(kind)
    if factory is None:
        raise KeyError(f"no street asset named {kind!r}")
    return factory(rng=rng)
