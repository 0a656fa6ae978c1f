"""Procedural street scenes for driving, as plain numpy (no Blender needed).

Assets: ``meshes`` (primitives, PartsMesh), ``vehicles``, ``people``, ``furniture``, ``obstacles``,
``buildings``, and the registry in ``assets``. Scenes: ``sampler`` (StreetSampler) draws a ``road``,
its ``population`` (put in place by ``placement``), ``materials``, ``sky`` and ``cameras``; ``draws``
reads the config's ranges. The scene type (``scene``) and its schema and checks (``config``) are
what ``conf/scene/street.yaml`` names.
"""

from simvision.scene.street.assets import (
    BACKDROP_SHAPES,
    KIND_CLASS,
    STREET_GROUPS,
    STREET_SHAPES,
    make_street_shape,
)
from simvision.scene.street.cameras import vehicle_camera
from simvision.scene.street.meshes import LIGHT_ROLES, PartsMesh
from simvision.scene.street.people import CYCLIST_SLOTS, PERSON_SLOTS
from simvision.scene.street.sampler import StreetSampler
from simvision.scene.street.scene import StreetScene
from simvision.scene.street.vehicles import TRUCK_SLOTS, VEHICLE_SLOTS

SCENE_TYPE = StreetScene  # a built-in scene type: its schema is registered as scene/street_schema

__all__ = [
    "SCENE_TYPE",
    "StreetScene",
    "BACKDROP_SHAPES",
    "CYCLIST_SLOTS",
    "KIND_CLASS",
    "LIGHT_ROLES",
    "PERSON_SLOTS",
    "STREET_GROUPS",
    "STREET_SHAPES",
    "TRUCK_SLOTS",
    "VEHICLE_SLOTS",
    "PartsMesh",
    "StreetSampler",
    "make_street_shape",
    "vehicle_camera",
]
