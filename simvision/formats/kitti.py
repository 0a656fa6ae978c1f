"""KITTI object-detection labels and calib files from a dataset folder, and boxes read back from KITTI labels.

Layout written (``out_dir`` defaults to ``<root>/kitti``): ``training/image_2/{frame}.png`` (hard
links), ``training/label_2/{frame}.txt`` and ``training/calib/{frame}.txt``.

Conventions (the KITTI devkit's, in our OpenCV camera frame: x right, y down, z forward):

- Only labelled objects (``category_id`` in the class table) with at least one visible pixel
  (``bbox`` not null) get a line, as in COCO; distractors (``category_id`` 0) are left out.
- ``type``: the class's ``aliases["kitti"]`` when the class table gives one, else the class name
  with its first letter upper-cased.
- ``truncated``: the object's ``truncation`` (fraction of its silhouette outside the image).
- ``occluded`` from ``visible_fraction`` (visible / unoccluded pixels), see ``occlusion_level``.
- 2D box ``left top right bottom``: the tight box ``[x, y, w, h]`` as pixel edges ``x, y, x+w, y+h``.
- 3D box: object frame z-up (assets sit on z = 0) with x the heading (length) axis and y the width
  axis, so an upright object gets ``h, w, l = size_z, size_y, size_x`` (times any scale in
  ``pose_cam``); ``location`` is the centre of the box's bottom face in the camera frame;
  ``rotation_y`` is the heading's angle about the camera y axis. This is exact when the object's
  up axis is the camera's -y axis (upright object, level camera, as in KITTI's street scenes).
  Otherwise KITTI's yaw-only box cannot represent the pose and ``kitti_box3d`` gives the closest
  reading: see its docstring (tabletop shards with a pitched camera are better served by BOP).
- ``alpha = rotation_y - atan2(x, z)`` of ``location``, wrapped to [-pi, pi).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simvision.formats.base import LabelFormat, LabelledImage, image_size, list_images, valid_boxes
from simvision.formats.registry import register
from simvision.io.atomic import atomic_write_text
from simvision.io.folder import (
    FRAMES_PATH,
    DatasetError,
    frame_stem,
    link_or_copy,
    load_coco,
    load_frames,
    path_inside,
)

__all__ = [
    "KittiFormat",
    "OCCLUSION_THRESHOLDS",
    "KittiObject",
    "kitti_type_name",
    "occlusion_level",
    "wrap_angle",
    "kitti_box3d",
    "observation_angle",
    "kitti_corners",
    "kitti_object",
    "calib_text",
    "write_kitti",
    "read_kitti",
]

# visible_fraction >= 0.8 -> 0 (fully visible), >= 0.5 -> 1 (partly occluded),
# > 0 -> 2 (largely occluded), 0 or unknown -> 3 (unknown / fully occluded)
OCCLUSION_THRESHOLDS: tuple[float, float] = (0.8, 0.5)


@dataclass(frozen=True)
class KittiObject:
    """One KITTI label line (ground truth: no score)."""

    type: str
    truncated: float
    occluded: int
    alpha: float
    bbox: tuple[float, float, float, float]  # left, top, right, bottom (pixels)
    dimensions: tuple[float, float, float]  # height, width, length (metres)
    location: tuple[float, float, float]  # bottom centre, camera frame (metres)
    rotation_y: float

    def to_line(self) -> str:
        """The 15 space-separated fields of KITTI's ``label_2`` files."""
        left, top, right, bottom = self.bbox
        h, w, ln = self.dimensions
        x, y, z = self.location
        return (
            f"{self.type} {self.truncated:.2f} {self.occluded:d} {self.alpha:.4f} "
            f"{left:.2f} {top:.2f} {right:.2f} {bottom:.2f} "
            f"{h:.4f} {w:.4f} {ln:.4f} {x:.4f} {y:.4f} {z:.4f} {self.rotation_y:.4f}"
        )


def kitti_type_name(category: dict[str, Any]) -> str:
    """KITTI type for a class-table entry: its ``kitti`` alias, else the capitalised name."""
    aliases = category.get("aliases") or {}
    alias = aliases.get("kitti") if isinstance(aliases, dict) else None
    if alias:
        return str(alias)
    name = str(category["name"])
    return name[:1].upper() + name[1:]


def occlusion_level(visible_fraction: float | None) -> int:
    """KITTI occlusion state 0..3 from the visible fraction (see ``OCCLUSION_THRESHOLDS``)."""
    if visible_fraction is None or not math.isfinite(float(visible_fraction)):
        return 3
    v = float(visible_fraction)
    if v >= OCCLUSION_THRESHOLDS[0]:
        return 0
    if v >= OCCLUSION_THRESHOLDS[1]:
        return 1
    if v > 0.0:
        return 2
    return 3


def wrap_angle(a: float) -> float:
    """Wrap an angle to [-pi, pi)."""
    return (a + math.pi) % (2.0 * math.pi) - math.pi


def kitti_box3d(
    pose_cam: Sequence[Sequence[float]] | np.ndarray,
    center_obj: Sequence[float],
    size: Sequence[float],
) -> tuple[tuple[float, float, float], tuple[float, float, float], float]:
    """(h, w, l), bottom-centre location and rotation_y from an object->camera pose and its box.

    The height axis is the object axis closest to the camera's vertical (object z when upright);
    length and width are the next axes in cyclic order (object x and y when upright), so a toppled
    object still gets its vertical extent as height. ``location`` is the box centre moved down by
    h/2, which is the bottom-face centre for an upright object; the KITTI box is thus centred on
    the true box even when a yaw-only box cannot represent the object's pose.
    """
    pose = np.asarray(pose_cam, dtype=np.float64)
    if pose.shape != (4, 4):
        raise DatasetError(f"pose_cam must be 4x4, got shape {pose.shape}")
    rs = pose[:3, :3]
    scale = np.linalg.norm(rs, axis=0)
    if np.any(scale <= 0):
        raise DatasetError("pose_cam has a zero-length axis")
    rot = rs / scale
    extent = np.asarray(size, dtype=np.float64) * scale  # metres along the object's x, y, z
    up = int(np.argmax(np.abs(rot[1])))
    ax_l, ax_w = (up + 1) % 3, (up + 2) % 3
    height, length, width = float(extent[up]), float(extent[ax_l]), float(extent[ax_w])
    centre = rs @ np.asarray(center_obj, dtype=np.float64) + pose[:3, 3]
    bottom = centre + np.array([0.0, height / 2.0, 0.0])
    # R_y(ry) maps KITTI's x axis to (cos ry, 0, -sin ry): invert with the heading's x and z
    heading = rot[:, ax_l]
    ry = wrap_angle(math.atan2(-heading[2], heading[0]))
    return (height, width, length), (float(bottom[0]), float(bottom[1]), float(bottom[2])), ry


def observation_angle(rotation_y: float, location: Sequence[float]) -> float:
    """KITTI ``alpha``: yaw relative to the ray from the camera to the object."""
    return wrap_angle(rotation_y - math.atan2(float(location[0]), float(location[2])))


def kitti_corners(dimensions: Sequence[float], location: Sequence[float], rotation_y: float) -> np.ndarray:
    """8x3 box corners in the camera frame from KITTI fields (the devkit's reconstruction)."""
    h, w, ln = (float(v) for v in dimensions)
    x = np.array([1, 1, -1, -1, 1, 1, -1, -1]) * ln / 2
    y = np.array([0, 0, 0, 0, -1, -1, -1, -1]) * h
    z = np.array([1, -1, -1, 1, 1, -1, -1, 1]) * w / 2
    c, s = math.cos(rotation_y), math.sin(rotation_y)
    r = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return (r @ np.stack([x, y, z])).T + np.asarray(location, dtype=np.float64)


def kitti_object(obj: dict[str, Any], type_name: str) -> KittiObject:
    """KITTI fields of one ``frames.jsonl`` object record (needs a non-null ``bbox``)."""
    iid = obj.get("instance_id")
    try:
        bx, by, bw, bh = (float(v) for v in obj["bbox"])
        box3d = obj["bbox3d"]
        dims, loc, ry = kitti_box3d(obj["pose_cam"], box3d["center_obj"], box3d["size"])
        truncation = min(max(float(obj.get("truncation") or 0.0), 0.0), 1.0)
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetError(f"object instance_id={iid}: bad or missing field {exc}") from None
    return KittiObject(
        type=type_name,
        truncated=truncation,
        occluded=occlusion_level(obj.get("visible_fraction")),
        alpha=observation_angle(ry, loc),
        bbox=(bx, by, bx + bw, by + bh),
        dimensions=dims,
        location=loc,
        rotation_y=ry,
    )


def calib_text(k: Sequence[Sequence[float]] | np.ndarray) -> str:
    """KITTI ``calib`` file for a single pinhole camera.

    ``P2 = K [I | 0]`` (our images play the left colour camera, no baseline). ``P0``, ``P1`` and
    ``P3`` repeat ``P2`` and ``R0_rect``, ``Tr_velo_to_cam``, ``Tr_imu_to_velo`` are identities:
    placeholders so KITTI loaders parse the file; there is no lidar and no stereo rig, and labels
    are already in the (rectified) camera frame.
    """
    kk = np.asarray(k, dtype=np.float64)
    if kk.shape != (3, 3):
        raise DatasetError(f"camera K must be 3x3, got shape {kk.shape}")
    p = np.hstack([kk, np.zeros((3, 1))])
    eye34 = np.hstack([np.eye(3), np.zeros((3, 1))])

    def row(name: str, m: np.ndarray) -> str:
        return f"{name}: " + " ".join(f"{v:.12e}" for v in m.reshape(-1))

    lines = [row(f"P{i}", p) for i in range(4)]
    lines += [row("R0_rect", np.eye(3)), row("Tr_velo_to_cam", eye34), row("Tr_imu_to_velo", eye34)]
    return "\n".join(lines) + "\n"


def write_kitti(
    root: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None, *, split: str = "training"
) -> dict[str, int]:
    """Write KITTI images, labels and calib for every frame in ``metadata/frames.jsonl``.

    All lines are computed before anything is written, so bad metadata leaves no partial output.
    """
    root = Path(root)
    out = (Path(out_dir) if out_dir is not None else root / "kitti") / split
    coco = load_coco(root)
    types = {int(c["id"]): kitti_type_name(c) for c in coco["categories"]}
    labels: dict[str, str] = {}
    calibs: dict[str, str] = {}
    images: dict[str, Path] = {}
    n_objects = 0
    for frame in load_frames(root):
        fid = int(frame["frame_id"])
        stem = frame_stem(fid)
        lines = []
        for obj in frame.get("objects", []):
            cid = int(obj.get("category_id") or 0)
            if cid == 0 or obj.get("bbox") is None:
                continue
            if cid not in types:
                raise DatasetError(
                    f"frame {fid} instance {obj.get('instance_id')}: category_id {cid} not in the class table"
                )
            try:
                lines.append(kitti_object(obj, types[cid]).to_line())
            except DatasetError as exc:
                raise DatasetError(f"frame {fid}: {exc}") from None
        try:
            calibs[stem] = calib_text(frame["camera"]["K"])
        except (KeyError, TypeError) as exc:
            raise DatasetError(f"frame {fid}: camera K missing ({exc})") from None
        except DatasetError as exc:
            raise DatasetError(f"frame {fid}: {exc}") from None
        labels[stem] = "\n".join(lines) + ("\n" if lines else "")
        name = frame.get("file_name", f"images/{stem}.png")
        images[stem] = path_inside(root, name, f"{root / FRAMES_PATH}: frame {fid} file_name")
        n_objects += len(lines)
    for path in images.values():
        if not path.is_file():
            raise DatasetError(f"{path}: image file not found")
    for stem in labels:
        link_or_copy(images[stem], out / "image_2" / f"{stem}{images[stem].suffix}")
        atomic_write_text(out / "label_2" / f"{stem}.txt", labels[stem])
        atomic_write_text(out / "calib" / f"{stem}.txt", calibs[stem])
    return {"frames": len(labels), "objects": n_objects}


def read_kitti(images: str | Path, labels: str | Path | None = None) -> list[LabelledImage]:
    """KITTI object labels (``type trunc occ alpha left top right bottom ...``); 'DontCare' regions are
    dropped. ``images`` is ``.../image_2`` (or its parent), labels default to the sibling ``label_2``."""
    images_root = Path(images)
    if (images_root / "image_2").is_dir():
        images_root = images_root / "image_2"
    labels_root = Path(labels) if labels else images_root.parent / "label_2"
    records = []
    for i, path in enumerate(list_images(images_root)):
        w, h = image_size(path)
        label_file = path_inside(labels_root, f"{path.stem}.txt", f"label of {path}")
        boxes, names = [], []
        if label_file.is_file():
            for line in label_file.read_text().splitlines():
                parts = line.split()
                if len(parts) < 8 or parts[0] == "DontCare":
                    continue
                boxes.append([float(v) for v in parts[4:8]])
                names.append(parts[0])
        arr = np.asarray(boxes, np.float32).reshape(-1, 4)
        keep = valid_boxes(arr)
        records.append(LabelledImage(path, i, w, h, arr[keep], [n for n, k in zip(names, keep, strict=True) if k]))
    return records


class KittiFormat(LabelFormat):
    """KITTI object detection: ``image_2/``, ``label_2/`` (and ``calib/``) under one split folder."""

    name = "kitti"

    def write(self, root: str | os.PathLike[str]) -> dict[str, int]:
        return write_kitti(root)

    def read(self, path: str | Path, *, labels: str | Path | None = None, **_: Any) -> list[LabelledImage]:
        return read_kitti(path, labels)

    def detect(self, path: str | Path) -> bool:
        p = Path(path)
        return (p / "image_2").is_dir() or (p.name == "image_2" and (p.parent / "label_2").is_dir())


register(KittiFormat())
