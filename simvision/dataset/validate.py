"""Dataset checks: every label must agree with the pixels and files it describes.

``validate_dataset`` is a pure function of the folder returning a ``ValidationResult`` (embedded in
the dataset card); ``simvision-validate`` prints it. Each ``Violation`` names its kind, the file /
frame / annotation at fault and what is wrong, one line each.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from simvision.io.folder import (
    COCO_FIELDS,
    COCO_PATH,
    FRAMES_PATH,
    REQUIRED_FRAME_FILES,
    DatasetError,
    annotations_by_image,
    coco_field_errors,
    frame_files,
    frame_labels_path,
    frame_path,
    load_coco,
    load_frames,
    path_inside,
    read_json,
)
from simvision.io.frames import LINE_CHECKSUM, labels_sha256, seal_holds, sha256
from simvision.labels.rle import coco_rle, decode_rle

__all__ = ["Violation", "ValidationResult", "validate_dataset", "VIOLATION_KINDS"]

VIOLATION_KINDS = (
    "bad_file",  # a JSON file missing or unparsable: nothing else can be checked
    "bad_field",  # a COCO entry without a field every tool needs, or with a wrongly typed one: left out
    "missing_file",
    "unreadable_image",
    "image_size",
    "duplicate_image_id",
    "duplicate_annotation_id",
    "duplicate_category_id",
    "duplicate_frame_id",
    "unknown_category",
    "unknown_image",
    "bad_segmentation",
    "empty_mask",
    "bbox_mismatch",
    "area_mismatch",
    "mask_mismatch",
    "depth_nonfinite",
    "depth_negative",
    "depth_empty",
    "bad_normals",  # a normals file of the wrong shape or dtype, non-finite, or with a non-unit foreground normal
    "bad_amodal",  # an amodal_segmentation that does not decode, has the wrong size or disagrees with amodal_area
    "amodal_mismatch",  # an amodal mask that does not contain the visible mask
    "missing_metadata",
    "missing_image_entry",
    "file_name_mismatch",
    "unsafe_path",  # a file name that leaves the dataset (``..``, absolute, a symlink out): never opened
    "checksum_mismatch",  # a manifest line, a file or a frame's labels changed after the render wrote them
    "checksum_missing",  # a line without the seal the other lines of its manifest carry
)


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``kind`` (see ``VIOLATION_KINDS``), ``where`` (file/frame/annotation), ``message``."""

    kind: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: {self.message}"


@dataclass
class ValidationResult:
    """Outcome of ``validate_dataset``; ``ok`` when no violation was found."""

    root: str
    n_images: int = 0
    n_annotations: int = 0
    n_categories: int = 0
    n_frames: int = 0
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def counts_by_kind(self) -> dict[str, int]:
        return dict(sorted(Counter(v.kind for v in self.violations).items()))

    def summary(self) -> str:
        """One line: OK with counts, or the number of violations per kind."""
        base = (
            f"{self.root}: {self.n_images} images, {self.n_annotations} annotations, "
            f"{self.n_categories} categories, {self.n_frames} metadata frames"
        )
        if self.ok:
            return f"OK {base}, no violations"
        kinds = ", ".join(f"{k}={n}" for k, n in self.counts_by_kind().items())
        return f"FAILED {base}, {len(self.violations)} violations ({kinds})"

    def to_dict(self, max_violations: int | None = None) -> dict[str, Any]:
        vs = self.violations if max_violations is None else self.violations[:max_violations]
        return {
            "root": self.root,
            "ok": self.ok,
            "summary": self.summary(),
            "n_images": self.n_images,
            "n_annotations": self.n_annotations,
            "n_categories": self.n_categories,
            "n_frames": self.n_frames,
            "n_violations": len(self.violations),
            "violations_by_kind": self.counts_by_kind(),
            "violations": [asdict(v) for v in vs],
        }


def _duplicates(ids: Iterable[Any]) -> list[Any]:
    return sorted((i for i, n in Counter(ids).items() if n > 1), key=str)


def _load_npy(path: Path, what: str, where: str, out: list[Violation]) -> np.ndarray | None:
    """A per-frame ``.npy`` (depth, normals), or None with an ``unreadable_image`` violation."""
    try:
        return np.load(path)
    except (OSError, ValueError) as exc:
        out.append(Violation("unreadable_image", where, f"cannot load {what}: {exc}"))
        return None


def _check_depth(path: Path, fid: int, shape: tuple[Any, Any], out: list[Violation]) -> None:
    where = f"{path} (frame {fid})"
    depth = _load_npy(path, "depth", where, out)
    if depth is None:
        return
    if depth.shape[:2] != shape:
        out.append(Violation("image_size", where, f"depth shape {depth.shape} != image height/width {shape}"))
        return
    finite = np.isfinite(depth)
    if not finite.all():
        out.append(Violation("depth_nonfinite", where, f"{int((~finite).sum())} NaN/inf pixels"))
    neg = int((depth[finite] < 0).sum())
    if neg:
        out.append(Violation("depth_negative", where, f"{neg} negative pixels"))
    if not (depth[finite] > 0).any():
        out.append(Violation("depth_empty", where, "no pixel with positive depth"))


NORMAL_LENGTH_TOLERANCE = 1e-2  # float16 storage keeps unit length to about 1e-3


def _check_normals(path: Path, fid: int, shape: tuple[Any, Any], out: list[Violation]) -> None:
    """normals/{frame}.npy: float16 (H, W, 3), finite, each pixel unit length or exactly (0, 0, 0)."""
    where = f"{path} (frame {fid})"
    normals = _load_npy(path, "normals", where, out)
    if normals is None:
        return
    if normals.shape != (*shape, 3):
        out.append(Violation("bad_normals", where, f"shape {normals.shape} != (image height, width, 3) {(*shape, 3)}"))
        return
    if normals.dtype != np.float16:
        out.append(Violation("bad_normals", where, f"dtype {normals.dtype} != float16"))
        return
    n = normals.astype(np.float32)
    finite = np.isfinite(n).all(axis=-1)
    if not finite.all():
        out.append(Violation("bad_normals", where, f"{int((~finite).sum())} NaN/inf pixels"))
        return
    length = np.linalg.norm(n, axis=-1)
    off = (length > 0) & (np.abs(length - 1.0) > NORMAL_LENGTH_TOLERANCE)
    if off.any():
        worst = float(length[off][np.argmax(np.abs(length[off] - 1.0))])
        out.append(
            Violation("bad_normals", where, f"{int(off.sum())} pixels neither unit length nor 0 (one has {worst:.3f})")
        )


def _check_amodal(ann: dict[str, Any], mask: np.ndarray, where: str, out: list[Violation]) -> None:
    """``amodal_segmentation`` (when present): decodes at the visible mask's size, contains it, and its
    pixel count is ``amodal_area``."""
    seg = ann["amodal_segmentation"]
    try:
        if not isinstance(seg, dict) or "counts" not in seg or "size" not in seg:
            raise ValueError("not a COCO RLE dict")
        amodal = decode_rle(seg)
    except Exception as exc:  # noqa: BLE001 - pycocotools raises bare Exceptions on bad RLE
        out.append(Violation("bad_amodal", where, f"amodal_segmentation does not decode: {exc}"))
        return
    if amodal.shape != mask.shape:
        out.append(Violation("bad_amodal", where, f"amodal RLE size {list(amodal.shape)} != {list(mask.shape)}"))
        return
    outside = int((mask & ~amodal).sum())
    if outside:
        out.append(Violation("amodal_mismatch", where, f"{outside} visible pixels lie outside the amodal mask"))
    area = ann.get("amodal_area")
    if area is not None and abs(float(area) - int(amodal.sum())) > 0.5:
        out.append(Violation("bad_amodal", where, f"amodal_area {area} != amodal mask pixel count {int(amodal.sum())}"))


def _check_annotation(
    ann: dict[str, Any],
    image: dict[str, Any] | None,
    instance: np.ndarray | None,
    out: list[Violation],
) -> None:
    where = f"annotation {ann.get('id')} (image {ann.get('image_id')})"
    seg = ann.get("segmentation")
    if not isinstance(seg, dict) or "counts" not in seg or "size" not in seg:
        out.append(Violation("bad_segmentation", where, "segmentation is not a COCO RLE dict"))
        return
    rle = coco_rle(seg)
    try:
        mask = decode_rle(rle)
        rle_box = [float(v) for v in mask_utils.toBbox(rle)]
    except Exception as exc:  # pycocotools raises bare Exceptions / TypeErrors on bad RLE
        out.append(Violation("bad_segmentation", where, f"RLE does not decode: {exc}"))
        return
    if image is not None and list(mask.shape) != [int(image.get("height", -1)), int(image.get("width", -1))]:
        out.append(Violation("bad_segmentation", where, f"RLE size {list(mask.shape)} != image height/width"))
    pixels = int(mask.sum())
    if pixels == 0:
        out.append(Violation("empty_mask", where, "mask has no pixel"))
        return
    bbox = ann.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4 or not np.allclose(bbox, rle_box, atol=1e-3):
        out.append(Violation("bbox_mismatch", where, f"bbox {bbox} != mask tight box {rle_box}"))
    area = ann.get("area")
    if area is None or abs(float(area) - pixels) > 0.5:
        out.append(Violation("area_mismatch", where, f"area {area} != mask pixel count {pixels}"))
    if "amodal_segmentation" in ann:
        _check_amodal(ann, mask, where, out)
    if instance is not None and "instance_id" in ann and instance.shape == mask.shape:
        inst = instance == int(ann["instance_id"])
        if not np.array_equal(inst, mask):
            diff = int((inst ^ mask).sum())
            out.append(
                Violation(
                    "mask_mismatch",
                    where,
                    f"RLE differs from instance PNG id {ann['instance_id']} in {diff} pixels",
                )
            )


def _check_image(path: Path, img: dict[str, Any], where: str, check_pixels: bool, out: list[Violation]) -> None:
    if not img.get("file_name") or not path.is_file():
        out.append(Violation("missing_file", where, f"{path} not found"))
    elif check_pixels:
        pix = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if pix is None:
            out.append(Violation("unreadable_image", where, f"{path} does not decode"))
        elif pix.shape[:2] != (img.get("height"), img.get("width")):
            out.append(
                Violation(
                    "image_size",
                    where,
                    f"decoded {pix.shape[1]}x{pix.shape[0]} != {img.get('width')}x{img.get('height')}",
                )
            )


def _frame_files(root: Path, frame: dict[str, Any] | None, image_id: Any) -> dict[str, Path]:
    """The frame's files plus the conventional path of each required kind it does not list."""
    files = frame_files(root, frame if frame is not None else {"frame_id": image_id})
    for kind in REQUIRED_FRAME_FILES:
        if kind not in files:
            files[kind] = path_inside(root, frame_path("", kind, image_id), f"frame {image_id} {kind}")
    return files


def _check_checksums(
    root: Path,
    frames: list[dict[str, Any]],
    image_by_id: dict[Any, dict[str, Any]],
    by_image: dict[int, list[dict[str, Any]]],
    check_files: bool,
    out: list[Violation],
) -> None:
    """The seals of a rendered (or merged) dataset: each manifest line, the files and the COCO labels
    of its frame (in ``instances.json`` and, in a shard, the frame's sidecar). Unsealed datasets (made
    by other tools) have nothing to check; in a sealed one, a line without its seal is a violation."""
    sealed = any(LINE_CHECKSUM in f for f in frames)
    for frame in frames:
        fid = frame["frame_id"]
        where = f"frame {fid} ({frame.get('file_name')})"
        holds = seal_holds(frame)
        if holds is None and sealed:
            out.append(Violation("checksum_missing", where, f"its line in {FRAMES_PATH} has no {LINE_CHECKSUM}"))
        elif holds is False:
            out.append(
                Violation("checksum_mismatch", where, f"its line in {FRAMES_PATH} was edited after it was written")
            )
        checksums = frame.get("checksums")
        if not isinstance(checksums, dict):
            continue
        try:
            files = frame_files(root, frame) if check_files else {}
        except DatasetError:  # reported as unsafe_path; such a file is never opened
            files = {}
        for kind, path in files.items():
            if kind in checksums and path.is_file() and sha256(path.read_bytes()) != checksums[kind]:
                out.append(Violation("checksum_mismatch", where, f"{path} ({kind}) differs from its SHA-256"))
        expected = checksums.get("labels")
        if expected is None:
            continue
        image = image_by_id.get(fid)
        if image is not None and labels_sha256(image, by_image.get(fid, [])) != expected:
            out.append(Violation("checksum_mismatch", where, f"its labels in {COCO_PATH} differ from their checksum"))
        sidecar = frame_labels_path(root, fid)
        if sidecar.is_file():
            try:
                part = read_json(sidecar)
                changed = labels_sha256(part["image"], part["annotations"]) != expected
            except (DatasetError, KeyError, TypeError, AttributeError):
                changed = True
            if changed:
                out.append(Violation("checksum_mismatch", where, f"{sidecar} differs from its labels checksum"))


def validate_dataset(root: str | os.PathLike[str], *, check_pixels: bool = True) -> ValidationResult:
    """Check one dataset folder against docs/dataset_format.md; never raises on bad content.

    ``check_pixels=False`` skips decoding images, depth and masks and hashing files (file existence,
    ids and the checksums of manifest lines and labels only).
    """
    root = Path(root)
    res = ValidationResult(root=str(root))
    out = res.violations
    try:
        coco = load_coco(root, check_fields=False)  # bad fields are reported below, one violation each
    except DatasetError as exc:
        out.append(Violation("bad_file", str(root / COCO_PATH), str(exc)))
        coco = None
    try:
        frames = load_frames(root)
    except DatasetError as exc:
        out.append(Violation("bad_file", str(root / FRAMES_PATH), str(exc)))
        frames = None
    if coco is None:
        return res
    res.n_images, res.n_annotations, res.n_categories = (len(coco[k]) for k in ("images", "annotations", "categories"))
    coco_where = str(root / COCO_PATH)
    bad_entries = set()
    for key, index, message in coco_field_errors(coco):
        out.append(Violation("bad_field", coco_where, message))
        bad_entries.add((key, index))
    # entries with a missing or wrongly typed field are left out of every other check (they would crash it)
    coco = {
        k: [x for i, x in enumerate(v) if (k, i) not in bad_entries] if k in COCO_FIELDS else v for k, v in coco.items()
    }
    images, anns, cats = coco["images"], coco["annotations"], coco["categories"]
    for i in _duplicates(img["id"] for img in images):
        out.append(Violation("duplicate_image_id", coco_where, f"image id {i} used more than once"))
    for i in _duplicates(a["id"] for a in anns):
        out.append(Violation("duplicate_annotation_id", coco_where, f"annotation id {i} used more than once"))
    for i in _duplicates(c["id"] for c in cats):
        out.append(Violation("duplicate_category_id", coco_where, f"category id {i} used more than once"))
    cat_ids = {c["id"] for c in cats}
    image_by_id = {img["id"]: img for img in images}
    for a in anns:
        if a.get("category_id") not in cat_ids:
            out.append(
                Violation(
                    "unknown_category",
                    f"annotation {a['id']}",
                    f"category_id {a.get('category_id')} not in categories",
                )
            )
        if a.get("image_id") not in image_by_id:
            out.append(
                Violation("unknown_image", f"annotation {a['id']}", f"image_id {a.get('image_id')} not in images")
            )

    frame_by_id: dict[Any, dict[str, Any]] = {}
    if frames is not None:
        res.n_frames = len(frames)
        for i in _duplicates(f["frame_id"] for f in frames):
            out.append(Violation("duplicate_frame_id", str(root / FRAMES_PATH), f"frame_id {i} used more than once"))
        frame_by_id = {f["frame_id"]: f for f in frames}
        for fid in frame_by_id:
            if fid not in image_by_id:
                out.append(
                    Violation(
                        "missing_image_entry",
                        f"{root / FRAMES_PATH} frame {fid}",
                        "metadata frame has no COCO image",
                    )
                )
    by_image = annotations_by_image(coco)
    if frames is not None:
        _check_checksums(root, frames, image_by_id, by_image, check_pixels, out)
    for img in images:
        iid = img["id"]
        where = f"image {iid} ({img.get('file_name')})"
        frame = frame_by_id.get(iid)
        if frames is not None and frame is None:
            out.append(Violation("missing_metadata", where, f"no line with frame_id {iid} in {FRAMES_PATH}"))
        elif frame is not None and frame.get("file_name") not in (None, img.get("file_name")):
            out.append(Violation("file_name_mismatch", where, f"metadata file_name {frame.get('file_name')!r}"))
        instance: np.ndarray | None = None
        try:
            img_path = path_inside(root, img.get("file_name", ""), f"{root / COCO_PATH}: image {iid} file_name")
            files = _frame_files(root, frame, iid)
        except DatasetError as exc:  # no file of this frame is opened; its labels are still checked
            out.append(Violation("unsafe_path", where, str(exc)))
            img_path, files = None, {}
        if img_path is not None:
            _check_image(img_path, img, where, check_pixels, out)
        for kind, path in files.items():
            if kind == "rgb" and path == img_path:
                continue  # checked above
            if not path.is_file():
                out.append(Violation("missing_file", where, f"{path} ({kind}) not found"))
                continue
            if not check_pixels:
                continue
            if kind == "depth":
                _check_depth(path, iid, (img.get("height"), img.get("width")), out)
            elif kind == "normals":
                _check_normals(path, iid, (img.get("height"), img.get("width")), out)
            elif path.suffix.lower() == ".png":
                arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
                if arr is None:
                    out.append(Violation("unreadable_image", where, f"{path} ({kind}) does not decode"))
                elif arr.shape[:2] != (img.get("height"), img.get("width")):
                    out.append(Violation("image_size", where, f"{path} is {arr.shape[1]}x{arr.shape[0]}"))
                elif kind == "instance":
                    instance = arr
        if check_pixels:
            for a in by_image.get(iid, []):
                _check_annotation(a, img, instance, out)
            if frame is not None and instance is not None:
                _check_frame_amodal(frame, instance, where, out)
    return res


def _check_frame_amodal(frame: dict[str, Any], instance: np.ndarray, where: str, out: list[Violation]) -> None:
    """Each object's ``amodal_segmentation`` in the manifest (when recorded) contains its instance pixels."""
    objects = frame.get("objects")
    for obj in objects if isinstance(objects, list) else []:
        if not isinstance(obj, dict) or "amodal_segmentation" not in obj or not obj.get("instance_id"):
            continue
        mask = instance == int(obj["instance_id"])
        what = f"{where} object {obj['instance_id']}"
        seg = obj["amodal_segmentation"]
        if seg is None:
            if mask.any():
                out.append(Violation("amodal_mismatch", what, "visible but its amodal_segmentation is null"))
            continue
        _check_amodal({"amodal_segmentation": seg, "amodal_area": obj.get("unoccluded_pixels")}, mask, what, out)
