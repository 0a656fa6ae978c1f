"""Procedural street scenes for driving: road layout, traffic, people, obstacles, conditions.

Pure sampling (no Blender): the result is a SceneSpec whose labelled objects carry their own
meshes and multi-material slots, plus static scenery meshes (road, kerbs, buildings, furniture)
and the lights that go with them (street lamps, head and tail lights at night).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simvision.scene.base import load_layout
from simvision.scene.conditions import CLEAR_SUN_STRENGTH, Conditions, sample_conditions
from simvision.scene.spec import CameraSpec, SceneSpec
from simvision.scene.street import distances, population
from simvision.scene.street.assets import KIND_CLASS
from simvision.scene.street.cameras import forward_camera, rig_cameras
from simvision.scene.street.draws import count_in, tagged_rng, uniform_in
from simvision.scene.street.dressing import dress_street, street_materials
from simvision.scene.street.furniture import color_cones
from simvision.scene.street.knocked import knock_over
from simvision.scene.street.placement import Placer
from simvision.scene.street.props import enabled_with_library, place_props
from simvision.scene.street.road import Road, road_scenery, sample_road
from simvision.scene.street.shop_fronts import add_shop_fronts
from simvision.scene.street.sky import sky_background, sun_lights
from simvision.scene.street.vegetation import GROUND_Z, OpenGround, place_vegetation, vegetation_variants
from simvision.scene.street.verge import CAR_PARK_TAG, Verge, draw_verge


class StreetSampler:
    """Draws street scenes within the config ranges and the ``scenes/<layout>.yaml`` layout.

    The order of the draws is part of the output: the same seed gives the same scene only as long as every
    step below draws in the same order.
    """

    def __init__(
        self, scene_cfg: Any, conditions_cfg: Any, class_ids: dict[str, int], resolution: tuple[int, int]
    ) -> None:
        self.cfg = scene_cfg
        self.conditions_cfg = conditions_cfg
        self.class_ids = class_ids
        self.resolution = resolution
        self.layout = load_layout(scene_cfg.layout)
        # scene.assets=infinigen: Infinigen materials for sidewalks, kerbs and facades, and vegetation (kind ->
        # cached variants); both cached by the job before sampling, empty for procedural streets
        infinigen = scene_cfg.get("assets", "procedural") == "infinigen"
        self.materials = street_materials(scene_cfg.infinigen) if infinigen else {}
        vegetation = scene_cfg.get("vegetation")
        self.vegetation = (
            vegetation_variants(vegetation, scene_cfg.infinigen) if infinigen and vegetation.enabled else {}
        )
        assets = scene_cfg.get("assets", "procedural")
        self.props = enabled_with_library(scene_cfg.get("props"), assets)
        self.shop_fronts = enabled_with_library(scene_cfg.get("shop_fronts"), assets)

    def _weight(self, class_name: str) -> float:
        return float(self.cfg.class_weights.get(class_name, 1.0)) if self.cfg.class_weights else 1.0

    def sample(self, scene_index: int, seed: list[int], n_cameras: int, *, rng: np.random.Generator) -> SceneSpec:
        """One street with ``n_cameras`` views from the ego car."""
        road = sample_road(self.cfg.road, self.cfg.lanes, self.layout, rng)
        verge = draw_verge(self.cfg.get("verge_view"), road, seed)  # its own generator; None: the ego lane's camera
        yaw_jitter = uniform_in(rng, self.cfg.camera_yaw_jitter_deg)
        turned = yaw_jitter + (verge.yaw_deg if verge else 0.0)  # the camera's yaw from the road's heading
        conditions = sample_conditions(self.conditions_cfg, turned, rng=rng)
        scenery = road_scenery(road, self.layout, conditions, rng)
        placer = Placer(road.path, self.class_ids, conditions.night, rng, scenery)
        cameras = None
        if int(self.cfg.lane_cones[1]) > 0:  # lane cones are framed by the forward camera: the rig comes first
            cameras = self._cameras(road, turned, n_cameras, rng, verge)
        construction, placement = self._populate(placer, road, conditions, rng, cameras, verge)
        if verge is not None and verge.car_park:  # after the cones, which keep their spots; its own generator
            types = {k: float(v) for k, v in self.cfg.vehicle_types.items()}
            car_park_rng = tagged_rng(seed, CAR_PARK_TAG)
            placement["car_park"] = population.car_park(
                placer, road, verge, turned, self.cfg.verge_view, types, car_park_rng
            )
        if float(self.cfg.get("cones_knocked_over", 0.0)) > 0:  # its own generator: other scenes stay as they were
            placement["cones_knocked_over"] = knock_over(placer, float(self.cfg.cones_knocked_over), seed)
        if self.cfg.get("cone_colors"):  # its own generator too; before the dressing's wear reads the colour
            placement["cone_colors"] = color_cones(placer.objects, self.cfg.cone_colors, seed)
        for i, obj in enumerate(placer.objects, start=1):
            obj.instance_id = i
        container = {**_container(road, construction), "placement": placement}
        if verge is not None:
            container["verge_view"] = verge.record()
        if self.shop_fronts:  # own generator from the seed; first, so props and trees keep clear of the awnings
            container["shop_fronts"] = add_shop_fronts(placer.scenery, self.cfg.shop_fronts, conditions.night, seed)
        if self.props:  # own generator from the seed, like vegetation; before it, so trees keep clear of props
            container["props"] = place_props(placer, road, self.cfg.props, seed)
        if self.vegetation:  # its own generator from the seed: the scene's draws stay those of a bare street
            container["vegetation"] = place_vegetation(
                placer, road, self.cfg.vegetation, self.vegetation, seed, self._open_ground(road, verge, turned)
            )
        sun = float(self.conditions_cfg.get("sun_strength", CLEAR_SUN_STRENGTH))
        lights = [*placer.lights, *sun_lights(conditions, sun)]
        if cameras is None:  # without lane cones the rig is drawn here, after the scene (as it always was)
            cameras = self._cameras(road, turned, n_cameras, rng, verge)
        background = sky_background(conditions, rng)  # drawn after the cameras
        record = conditions.record()
        spec = SceneSpec(
            scene_index=scene_index,
            seed=seed,
            scene_name=self.cfg.name,
            container=container,
            objects=placer.objects,
            lights=lights,
            cameras=cameras,
            background=background,
            physics={"min_time": 0.0, "max_time": 0.0},
            conditions={"scene": self.cfg.name, **record, **self._verge_condition(verge)},
            scenery=placer.scenery,
            effects=record,
        )
        if self.materials:  # after every procedural draw: procedural streets stay exactly as they were
            dress_street(
                spec,
                self.materials,
                rng,
                self.cfg.get("road_surface"),
                self.cfg.get("ground_surface"),
                self.cfg.get("cone_wear"),
                self.cfg.get("verge_view"),
            )
        return spec

    def _cameras(
        self, road: Road, yaw: float, n_cameras: int, rng: np.random.Generator, verge: Verge | None
    ) -> list[CameraSpec]:
        if verge is None:
            return rig_cameras(self.cfg, self.resolution, road.path, road.ego_offset, yaw, n_cameras, rng)
        pitch = self.cfg.verge_view.get("pitch_deg")  # None: the scene's camera_pitch_deg
        return rig_cameras(self.cfg, self.resolution, road.path, verge.t, yaw, n_cameras, rng, pitch)

    def _verge_condition(self, verge: Verge | None) -> dict[str, bool]:
        """Whether the camera stands on the verge, among the frame's recorded conditions (so the gap report's
        per-condition tables split on it) when verge views are on, and whether its cones stand in a row and its
        ground is a car park when those are on; nothing when they are off."""
        cfg = self.cfg.get("verge_view")
        if cfg is None or float(cfg.probability) <= 0:
            return {}
        recorded = {"verge_view": verge is not None}
        if float(cfg.get("cone_row_probability", 0.0)) > 0:
            recorded["cone_row"] = verge is not None and verge.row
        if float(cfg.get("car_park_probability", 0.0)) > 0:
            recorded["car_park"] = verge is not None and verge.car_park
        return recorded

    def _open_ground(self, road: Road, verge: Verge | None, yaw_deg: float) -> OpenGround | None:
        """A verge scene's open ground, for vegetation to scatter trees over where its camera looks."""
        if verge is None:
            return None
        xy = road.path.point(0.0, verge.t)
        rig = [float(v) for v in self.cfg.rig_yaw_deg]  # a rig's cameras: the open ground all of them see
        yaw = float(road.path.heading(0.0)) + math.radians(yaw_deg + (max(rig) + min(rig)) / 2)
        half_fov = math.radians(float(self.cfg.camera_hfov_deg[1]) / 2 + (max(rig) - min(rig)) / 2)
        return OpenGround(verge.side, verge.edge, (float(xy[0]), float(xy[1])), yaw, half_fov, self.cfg.verge_view)

    def _populate(
        self,
        placer: Placer,
        road: Road,
        conditions: Conditions,
        rng: np.random.Generator,
        cameras: list[CameraSpec] | None,
        verge: Verge | None = None,
    ) -> tuple[bool, dict[str, Any]]:
        """Traffic, people, road works, obstacles, furniture and buildings, in that order; True when a
        construction zone closes a lane, and the placement draws of the scene (near traffic, parked rows, lane
        cones left out because the forward camera could not see them whole)."""
        cfg, weight = self.cfg, self._weight
        camera_t = verge.t if verge is not None else road.ego_offset
        placer.reserve(0.0, float(camera_t), float(cfg.ego_clearance_m))  # the ego car (camera) itself
        vehicle_types = {k: float(v) * weight(KIND_CLASS.get(k, k)) for k, v in cfg.vehicle_types.items()}
        headlights_ahead = bool(conditions.glare and conditions.night)
        placement = cfg.placement
        # distance targets, with box-height targets (placement.box_height_px) turned into distance targets
        targets = distances.class_targets(placement, self.resolution, cfg.camera_hfov_deg)
        if placement.get("distance_bins"):  # the distance-bin target multiplies every class's density
            edges, bin_weights = placement.distance_bins, placement.distance_bin_weights
            targets = {k: distances.with_bins(v, edges, bin_weights) for k, v in targets.items()}
        car = targets.get("car")
        # a vehicle kind whose class has no target of its own follows the car's
        vehicle_targets = {k: targets.get(KIND_CLASS.get(k, k), car) for k in vehicle_types}
        population.moving_vehicles(
            placer, road, count_in(rng, cfg.moving_vehicles), vehicle_types, vehicle_targets, headlights_ahead, rng
        )
        n_near = count_in(rng, placement.near_traffic)
        population.near_traffic(
            placer, road, n_near, vehicle_types, vehicle_targets, float(placement.near_traffic_within_m), rng
        )
        population.pedestrians(
            placer, road, count_in(rng, cfg.pedestrians, weight("person")), targets.get("person"), rng
        )
        population.cyclists(placer, road, count_in(rng, cfg.cyclists, weight("cyclist")), targets.get("cyclist"), rng)
        # parked vehicles after the people beside and in front of them: a slot that would overlap one stays empty
        rows = population.parked_rows(placer, road, placement, vehicle_types, car, rng)
        population.parked_vehicles(placer, road, count_in(rng, cfg.parked_vehicles), vehicle_types, car, rng)
        construction = rng.uniform() < float(cfg.construction_zone_probability)
        if construction:
            population.construction_zone(placer, road, rng)
        n_cones = count_in(rng, cfg.traffic_cones, weight("traffic_cone"))
        population.roadside_cones(placer, road, n_cones, targets.get("traffic_cone"), rng)
        lane_left_out = cone_row = None
        if cameras is not None:  # lane cones on; no draw at all when off: frames without them stay unchanged
            n_lane = count_in(rng, cfg.lane_cones, weight("traffic_cone"))
            camera = forward_camera(cameras, cfg.rig_yaw_deg)
            ground = None
            if verge is not None:  # on the open ground in front of the camera
                ground = population.LaneGround(verge.t, verge.cone_band(), 0.0, GROUND_Z, "verge_cone")
            target = targets.get("traffic_cone")
            if verge is not None and verge.row:  # one row of cones across the open ground instead
                cone_row = population.cone_row(placer, road, cfg.verge_view, target, rng, camera, ground)
            else:
                lane_left_out = population.lane_cones(placer, road, n_lane, target, rng, camera, ground)
        population.roadside_barriers(placer, road, count_in(rng, cfg.barriers, weight("barrier")), rng)
        n_obstacles = count_in(rng, cfg.obstacles, weight("obstacle"))
        population.obstacles(placer, road, n_obstacles, dict(cfg.obstacle_types), rng)
        population.street_lamps(placer, road, uniform_in(rng, cfg.street_lamp_spacing), rng)
        population.traffic_signs(placer, road, count_in(rng, cfg.traffic_signs), rng)
        if road.crossing_at is not None:
            population.traffic_lights(placer, road, road.crossing_at)
        if cfg.buildings:
            population.buildings(placer, road, self.layout["buildings"], rng, verge.side if verge else None)
        record: dict[str, Any] = {"near_traffic": n_near, "parked_row_sides": rows}
        if lane_left_out is not None:
            record["lane_cones_left_out"] = lane_left_out
        if cone_row is not None:
            record["cone_row"] = cone_row
        if placement.get("box_height_px"):  # the distance targets the box-height targets became
            record["distance_targets_m"] = {k: targets[k] for k in placement.box_height_px}
        return construction, record


def _container(road: Road, construction: bool) -> dict[str, Any]:
    """The scene record's description of the road."""
    return {
        "kind": "none",
        "road": road.kind,
        "lanes": road.lanes,
        "lane_width": road.lane_width,
        "curvature": road.path.curvature,
        "intersection_at": road.crossing_at,
        "construction_zone": construction,
        "sidewalk_width": road.sidewalk_width,
    }
