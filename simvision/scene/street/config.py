"""Schema, defaults and checks of the street scene (``scene=street`` and the driving presets).

The defaults are written here once; ``conf/scene/street.yaml`` and the presets hold only what differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simvision.config.checks import (
    ConfigError,
    check_choice,
    check_probability,
    check_range,
    check_weights,
)
from simvision.scene.conditions import ConditionsConfig, validate_conditions
from simvision.scene.infinigen_library import INDIRECT_SHADING
from simvision.scene.street.assets import KIND_CLASS
from simvision.scene.street.distances import NOMINAL_HEIGHT_M
from simvision.scene.street.furniture import CONE_COLORS
from simvision.scene.street.props import PropsConfig, validate_props
from simvision.scene.street.shop_fronts import ShopFrontsConfig, validate_shop_fronts
from simvision.scene.street.vegetation import VegetationConfig, validate_vegetation
from simvision.scene.street.verge import VergeViewConfig, validate_verge_view

ROADS = ("straight", "curve", "intersection")
ASSET_LIBRARIES = ("procedural", "infinigen")
ROAD_SURFACES = ("asphalt", "concrete", "pavers")
GROUND_SURFACES = ("lawn", "gravel", "soil", "pavers", "concrete")
VEHICLE_TYPES = ("car", "van", "truck", "bus")
OBSTACLE_TYPES = ("debris", "fallen_cargo", "animal", "tyre")
COUNTS = (
    "lanes",
    "moving_vehicles",
    "parked_vehicles",
    "pedestrians",
    "cyclists",
    "traffic_cones",
    "lane_cones",
    "barriers",
    "obstacles",
    "traffic_signs",
)


def _default_distances() -> dict[str, dict[str, float]]:
    """Target distance (metres, camera to object centre) per class: car from KITTI's published object labels
    (median ~26 m, 10-90 %: 10-52 m); the others as written in docs/realism.md "Placement statistics"."""
    return {
        "car": {"median": 26.0, "p10": 10.0, "p90": 52.0},
        "person": {"median": 16.0, "p10": 7.0, "p90": 35.0},
        "cyclist": {"median": 18.0, "p10": 8.0, "p90": 38.0},
        "traffic_cone": {"median": 22.0, "p10": 9.0, "p90": 40.0},
    }


@dataclass
class PlacementConfig:
    """Where road users stand, as statistics of real driving data (docs/realism.md, "Placement statistics")."""

    parked_rows: float = 0.6  # probability that a kerb side has a row of parked cars
    parked_gap_m: list[float] = field(default_factory=lambda: [0.6, 2.5])  # bumper-to-bumper gap in a row
    near_traffic: list[int] = field(default_factory=lambda: [1, 3])  # vehicles in the ego and adjacent lanes...
    near_traffic_within_m: float = 30.0  # ...within this distance ahead
    # class -> {median, p10, p90} target distance in metres; the sampler draws positions from a piecewise-linear
    # quantile function through these (tails to p10^2/median and 1.5 p90); a class not named is uniform
    distance_m: dict[str, dict[str, float]] = field(default_factory=_default_distances)
    # class -> {median, p10, p90[, object_height_m]} target box height in pixels at a 375-px-high image (KITTI's),
    # in place of that class's distance target: turned into one by the pinhole model at the render resolution
    # and the middle of camera_hfov_deg, with a typical height per class (distances.NOMINAL_HEIGHT_M) unless
    # object_height_m is given; e.g. ++scene.placement.box_height_px.car={median: 46, p10: 20, p90: 130}; empty = off
    box_height_px: dict[str, dict[str, float]] = field(default_factory=dict)
    # distance-bin target (the closed loop, simvision/loop/, sets it): bin edges in metres (bin i is
    # [edges[i], edges[i+1]), the last one open) and one weight per bin that multiplies every class's target
    # density above, e.g. distance_bins=[0,10,20,40] distance_bin_weights=[1,1,2,3]; empty = off
    distance_bins: list[float] = field(default_factory=list)
    distance_bin_weights: list[float] = field(default_factory=list)


@dataclass
class StreetInfinigenConfig:
    """``scene.infinigen`` of the street: Infinigen content generated once into the shared cache
    (``simvision/scene/infinigen_library.py``) and drawn by every scene with its own generator."""

    variants: int = 3  # factory seeds per asset kind, each generated once into the cache
    seed: int = 0  # first factory seed (variants use seed, seed + 1, ...)
    cache_dir: str = ""  # "" = $SIMVISION_CACHE/infinigen, else ~/.cache/simvision/infinigen
    material_variants: int = 2  # seeds per Infinigen material, each generated once
    # what rays other than camera rays see of the sidewalk, kerb and facade materials: "mean" (their baked mean
    # colour and roughness: Cycles skips the node tree at indirect bounces) | "full" (the whole tree everywhere)
    indirect_shading: str = "mean"


@dataclass
class StreetSceneConfig:
    """Driving: a procedural street (road, kerbs, sidewalks, buildings, furniture, traffic and obstacles)
    seen from a camera on the ego car. Counts are [low, high] per scene."""

    _target_: str = "simvision.scene.street.scene.StreetScene"
    name: str = "street"
    layout: str = "street"  # file in scenes/ (scenes/<layout>.yaml): road, sidewalk, building dimensions
    road: list[str] = field(default_factory=lambda: list(ROADS))
    lanes: list[int] = field(default_factory=lambda: [2, 4])
    moving_vehicles: list[int] = field(default_factory=lambda: [2, 8])
    parked_vehicles: list[int] = field(default_factory=lambda: [2, 8])
    vehicle_types: dict[str, float] = field(
        default_factory=lambda: {"car": 0.65, "van": 0.15, "truck": 0.1, "bus": 0.1}
    )
    pedestrians: list[int] = field(default_factory=lambda: [2, 10])
    cyclists: list[int] = field(default_factory=lambda: [0, 3])
    traffic_cones: list[int] = field(default_factory=lambda: [0, 4])
    # cones standing in the driving lanes ahead, from 1 m (a lane closed right in front, a cone in the path),
    # at the traffic_cone distance target, each seen whole by the forward camera (a spot the frame would cut
    # is drawn again; a cone no spot frames is left out, counted in the scene's placement record as
    # lane_cones_left_out); [0, 0] (the default) draws nothing
    lane_cones: list[int] = field(default_factory=lambda: [0, 0])
    barriers: list[int] = field(default_factory=lambda: [0, 2])
    obstacles: list[int] = field(default_factory=lambda: [0, 1])
    obstacle_types: dict[str, float] = field(
        default_factory=lambda: {"debris": 1.0, "fallen_cargo": 1.0, "animal": 1.0, "tyre": 1.0}
    )
    construction_zone_probability: float = 0.1
    buildings: bool = True
    street_lamp_spacing: list[float] = field(default_factory=lambda: [22.0, 35.0])
    traffic_signs: list[int] = field(default_factory=lambda: [1, 4])
    # class -> weight multiplier for spawning, to over-sample rare classes (1 = natural),
    # e.g. {cyclist: 3.0, obstacle: 5.0}
    class_weights: dict[str, float] = field(default_factory=dict)
    # camera on the ego car
    camera_height: list[float] = field(default_factory=lambda: [1.3, 1.8])
    camera_pitch_deg: list[float] = field(default_factory=lambda: [-6.0, 1.0])
    camera_roll_deg: list[float] = field(default_factory=lambda: [-1.5, 1.5])
    camera_yaw_jitter_deg: list[float] = field(default_factory=lambda: [-3.0, 3.0])
    camera_hfov_deg: list[float] = field(default_factory=lambda: [55.0, 90.0])
    rig_yaw_deg: list[float] = field(default_factory=lambda: [0.0])  # one camera per entry, e.g. [-60, 0, 60]
    # radius (m) of the disc around the camera that nothing stands in: the ego car's bonnet for a dash camera
    # (3 m); a camera on a low robot or a tripod needs far less, and objects can then come close to the lens
    ego_clearance_m: float = 3.0
    placement: PlacementConfig = field(default_factory=PlacementConfig)
    conditions: ConditionsConfig = field(default_factory=ConditionsConfig)
    # content library: procedural (our meshes and flat materials: fast, CI) | infinigen (Infinigen's
    # vegetation, rocks and materials on top of the same street layout; generated once into a cache)
    assets: str = "procedural"
    infinigen: StreetInfinigenConfig = field(default_factory=StreetInfinigenConfig)
    # what the road is made of, one kind per scene (scene.assets=infinigen only; dressing.py): asphalt with
    # aggregate, cracks and patches | concrete slabs with sawn joints | pavers (brick, concrete blocks or granite
    # setts); asphalt dominates paved roads (well over 90 % of US paved road miles), concrete is the next
    # surface, pavers are town centres, shared streets and car parks
    road_surface: dict[str, float] = field(default_factory=lambda: {"asphalt": 0.85, "concrete": 0.1, "pavers": 0.05})
    # what the open ground beside the street is (verges, front yards, the land beyond), one kind per scene
    # (scene.assets=infinigen only; dressing.py): lawn (two greens, dry and bare patches, blade-scale grain,
    # mowing stripes on some) | gravel (stones in two tones) | soil (bare earth with sparse weeds) | pavers and
    # concrete (a car park, a plaza, a forecourt: the road surfaces' patterns); a judgement, not a measurement:
    # grass verges are the usual roadside ground, gravel and bare earth the rest
    # (the paved kinds are named at 0 so that a dict override can set them: Hydra merges it into these keys)
    ground_surface: dict[str, float] = field(
        default_factory=lambda: {"lawn": 0.7, "gravel": 0.15, "soil": 0.15, "pavers": 0.0, "concrete": 0.0}
    )
    # how worn each traffic cone is, drawn per cone in [low, high] (scene.assets=infinigen only; dressing.py):
    # 0 = new, 1 = years on site (grime climbing from the base, blotches, scuffs, bands worn to the PVC); the
    # bands are retroreflective sheeting at any wear. A judgement from the cone photos, most of which show
    # used cones: null = clean cones with plain white bands, as before
    cone_wear: list[float] | None = field(default_factory=lambda: [0.0, 0.8])
    # Infinigen trees, bushes, grass and rocks on the verges (scene.assets=infinigen only; vegetation.py)
    vegetation: VegetationConfig = field(default_factory=VegetationConfig)
    # unlabelled fences, bollards, poles, bins and parked bicycles on the sidewalks and verges (props.py);
    # scene.props.enabled null = on with scene.assets=infinigen only
    props: PropsConfig = field(default_factory=PropsConfig)
    # shop fronts (display windows, a fascia sign, awnings) on the road-facing ground floors (shop_fronts.py);
    # scene.shop_fronts.enabled null = on with scene.assets=infinigen only
    shop_fronts: ShopFrontsConfig = field(default_factory=ShopFrontsConfig)
    # a camera on foot on the open ground beside the street in a share of scenes, the lane cones on that ground
    # in front of it, no buildings on its side (verge.py); probability 0 (the default) = every camera in the lane
    verge_view: VergeViewConfig = field(default_factory=VergeViewConfig)
    # share of the traffic cones lying on their side, knocked over (knocked.py; drawn per cone from a generator of
    # its own, so 0, the default, changes nothing)
    cones_knocked_over: float = 0.0
    # traffic cones' body colours: weights over furniture.CONE_COLORS (orange, red_orange, red, salmon, pink), drawn
    # per cone from a generator of its own; empty (the default) = every cone the fluorescent orange, as before
    cone_colors: dict[str, float] = field(default_factory=dict)


def validate_street(scene: Any, table: dict[str, int]) -> None:
    """Raise :class:`ConfigError` naming the first bad ``scene.*`` field."""
    for key in COUNTS:
        check_range(scene[key], f"scene.{key}", minimum=0, integer=True)
    if int(scene.lanes[0]) < 1:
        raise ConfigError(f"scene.lanes: at least one lane, got {list(scene.lanes)}")
    for i, road in enumerate(scene.road):
        check_choice(road, f"scene.road[{i}]", ROADS)
    check_weights(scene.vehicle_types, "scene.vehicle_types", VEHICLE_TYPES)
    check_weights(scene.obstacle_types, "scene.obstacle_types", OBSTACLE_TYPES)
    for name, weight in (scene.class_weights or {}).items():
        if name not in table:
            raise ConfigError(f"scene.class_weights.{name}: unknown class (not in the class table)")
        if float(weight) < 0:
            raise ConfigError(f"scene.class_weights.{name}: must be >= 0, got {weight}")
    for kind in scene.vehicle_types:
        if KIND_CLASS[kind] not in table:
            raise ConfigError(f"scene.vehicle_types.{kind}: class {KIND_CLASS[kind]!r} is not in the class table")
    check_range(scene.camera_height, "scene.camera_height", minimum=0.1)
    check_range(scene.camera_hfov_deg, "scene.camera_hfov_deg", minimum=1)
    if not 0.3 <= float(scene.ego_clearance_m) <= 20.0:
        raise ConfigError(f"scene.ego_clearance_m: must be between 0.3 and 20 m, got {scene.ego_clearance_m}")
    if float(scene.camera_hfov_deg[1]) >= 179:
        raise ConfigError(f"scene.camera_hfov_deg: must be below 179, got {list(scene.camera_hfov_deg)}")
    if not scene.rig_yaw_deg:
        raise ConfigError("scene.rig_yaw_deg: the camera rig needs at least one camera")
    check_probability(scene.construction_zone_probability, "scene.construction_zone_probability")
    check_choice(scene.assets, "scene.assets", ASSET_LIBRARIES)
    check_weights(scene.road_surface, "scene.road_surface", ROAD_SURFACES)
    check_weights(scene.ground_surface, "scene.ground_surface", GROUND_SURFACES)
    if scene.get("cone_wear") is not None:
        check_range(scene.cone_wear, "scene.cone_wear", minimum=0)
        if float(scene.cone_wear[1]) > 1:
            raise ConfigError(f"scene.cone_wear: wear runs from 0 (new) to 1, got {list(scene.cone_wear)}")
    check_choice(scene.infinigen.indirect_shading, "scene.infinigen.indirect_shading", INDIRECT_SHADING)
    for key in ("variants", "material_variants"):
        if int(scene.infinigen[key]) < 1:
            raise ConfigError(f"scene.infinigen.{key}: must be >= 1, got {scene.infinigen[key]}")
    validate_vegetation(scene.vegetation)
    validate_props(scene.props)
    validate_shop_fronts(scene.shop_fronts)
    validate_verge_view(scene.verge_view)
    check_probability(scene.cones_knocked_over, "scene.cones_knocked_over")
    if scene.get("cone_colors"):
        check_weights(scene.cone_colors, "scene.cone_colors", CONE_COLORS)
    validate_placement(scene.placement, table)
    validate_conditions(scene.conditions, "scene.conditions")


def validate_placement(placement: Any, table: dict[str, int]) -> None:
    """Raise :class:`ConfigError` naming the first bad ``scene.placement.*`` field."""
    check_probability(placement.parked_rows, "scene.placement.parked_rows")
    check_range(placement.parked_gap_m, "scene.placement.parked_gap_m", minimum=0.0)
    check_range(placement.near_traffic, "scene.placement.near_traffic", minimum=0, integer=True)
    if float(placement.near_traffic_within_m) <= 0:
        raise ConfigError(f"scene.placement.near_traffic_within_m: must be > 0, got {placement.near_traffic_within_m}")
    edges, weights = list(placement.get("distance_bins") or []), list(placement.get("distance_bin_weights") or [])
    if len(edges) != len(weights):
        raise ConfigError(
            f"scene.placement.distance_bin_weights: one weight per bin of distance_bins ({len(edges)}), "
            f"got {len(weights)}"
        )
    if any(float(a) >= float(b) for a, b in zip(edges[:-1], edges[1:], strict=True)) or (edges and float(edges[0]) < 0):
        raise ConfigError(f"scene.placement.distance_bins: needs increasing edges >= 0, got {edges}")
    if any(not float(w) >= 0 for w in weights) or (weights and sum(float(w) for w in weights) <= 0):
        raise ConfigError(f"scene.placement.distance_bin_weights: needs weights >= 0, not all 0, got {weights}")
    for block, extra in (("distance_m", set()), ("box_height_px", {"object_height_m"})):
        for name, target in (placement.get(block) or {}).items():
            where = f"scene.placement.{block}.{name}"
            if name not in table:
                raise ConfigError(f"{where}: unknown class (not in the class table)")
            if not {"median", "p10", "p90"} <= set(target) <= {"median", "p10", "p90", *extra}:
                named = "median, p10 and p90" + (f" (and optionally {', '.join(sorted(extra))})" if extra else "")
                raise ConfigError(f"{where}: needs exactly {named}, got {sorted(target)}")
            p10, median, p90 = (float(target[k]) for k in ("p10", "median", "p90"))
            if not 0 < p10 < median < p90:
                raise ConfigError(f"{where}: needs 0 < p10 < median < p90, got p10={p10} median={median} p90={p90}")
            if block == "box_height_px":
                height = target.get("object_height_m")
                if height is None and name not in NOMINAL_HEIGHT_M:
                    raise ConfigError(f"{where}: no typical height for {name!r}: add object_height_m (metres)")
                if height is not None and not float(height) > 0:
                    raise ConfigError(f"{where}.object_height_m: must be > 0, got {height}")
