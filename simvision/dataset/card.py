"""Dataset card (``dataset_card.md`` + ``dataset_card.json``) written beside every dataset.

A dataset without its provenance cannot be trusted or reproduced: the card records what made it
(generator version, git commit, full resolved config, seeds), what is in it (counts per class and
condition, box size and visibility histograms, a contact sheet), whose assets it contains (licences)
and whether its labels passed ``validate_dataset``. ``build_card`` returns the JSON-ready dict;
``write_card`` also writes the plots and the contact sheet.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import io
import json
import math
import os
import subprocess
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from simvision.dataset.preview import write_contact_sheet
from simvision.dataset.validate import ValidationResult, validate_dataset
from simvision.io.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text, writing
from simvision.io.folder import CONFIG_PATH, DatasetError, load_coco, load_frames, path_inside, read_json
from simvision.scene.street.config import StreetSceneConfig
from simvision.scene.street.distances import KITTI_HEIGHT_PX, class_targets
from simvision.scene.street.distances import QUANTILES as TARGET_QUANTILES
from simvision.scene.street.distances import knots as target_knots

__all__ = [
    "DEFAULT_PURPOSE",
    "DEFAULT_KNOWN_LIMITS",
    "generator_version",
    "git_commit",
    "find_seeds",
    "asset_licences",
    "class_counts",
    "condition_counts",
    "box_sizes",
    "visible_fractions",
    "build_card",
    "card_markdown",
    "write_card",
]

CARD_MD = "dataset_card.md"
CARD_JSON = "dataset_card.json"
CONTACT_SHEET = "contact_sheet.png"
BOX_SIZE_PLOT = Path("plots/box_size_hist.png")
VISIBILITY_PLOT = Path("plots/visibility_hist.png")
DISTANCE_PLOT = Path("plots/distance_hist.png")
BOX_HEIGHT_PLOT = Path("plots/box_height_hist.png")
TALL_BOX_PX = 40.0
PACKAGE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_ASSETS_MANIFEST = PACKAGE_DIR.parent / "assets" / "manifest.yaml"
DEFAULT_PURPOSE = (
    "Synthetic images with exact labels (boxes, instance masks, depth, 3D poses) for training and "
    "evaluating perception models, rendered by simvision with Blender/BlenderProc."
)
DEFAULT_KNOWN_LIMITS = (
    "Synthetic renders: the appearance gap to real photos is not measured by this card "
    "(use simvision-gap per condition).",
    "Objects with no visible pixel get no COCO/YOLO annotation; they stay in metadata/frames.jsonl.",
    "KITTI 3D boxes are yaw-only: exact for upright objects seen by a level camera, approximate otherwise.",
    "BOP export: obj_id is the class id (procedural objects have no shared CAD model); mask/ and bbox_obj "
    "come from the amodal masks (output.amodal), without them bbox_obj is the projected 3D box clipped to "
    "the image and no mask/ is written.",
    "YOLO segmentation polygons trace outer contours only (no holes); split parts are joined by zero-width bridges.",
)
VISIBILITY_BINS = np.linspace(0.0, 1.0, 11)


def generator_version() -> str:
    """``simvision.__version__`` if the package defines it, else its installed metadata version."""
    import simvision

    version = getattr(simvision, "__version__", None)
    if version:
        return str(version)
    try:
        return importlib.metadata.version("simvision")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def git_commit(path: str | os.PathLike[str] = PACKAGE_DIR) -> str:
    """Commit of the source tree at ``path`` (+``-dirty`` with local changes), or ``unknown``."""
    try:
        head = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        commit = head.stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return commit + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def find_seeds(config: Any, prefix: str = "") -> dict[str, Any]:
    """Every config value whose key is ``seed`` or ends in ``_seed``/``seeds``, by dotted path."""
    found: dict[str, Any] = {}
    if isinstance(config, dict):
        for k, v in config.items():
            name = str(k)
            if not name.replace("_", "a").replace("-", "a").isalnum():  # e.g. a shard path as key
                path = f"{prefix}[{json.dumps(name)}]"
            else:
                path = f"{prefix}.{name}" if prefix else name
            key = str(k).lower()
            if key in ("seed", "seeds") or key.endswith(("_seed", "_seeds")):
                found[path] = v
            else:
                found.update(find_seeds(v, path))
    elif isinstance(config, list):
        for i, v in enumerate(config):
            found.update(find_seeds(v, f"{prefix}[{i}]"))
    return found


def _load_manifest(path: Path | None) -> dict[str, dict[str, Any]]:
    """Assets manifest as id -> entry; accepts a list, ``{assets: [...]}`` or an id-keyed mapping."""
    if path is None or not path.is_file():
        return {}
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DatasetError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    if isinstance(doc, dict) and isinstance(doc.get("assets"), list | dict):
        doc = doc["assets"]
    entries: dict[str, dict[str, Any]] = {}
    if isinstance(doc, list):
        for e in doc:
            if isinstance(e, dict) and e.get("id") is not None:
                entries[str(e["id"])] = e
    elif isinstance(doc, dict):
        for k, e in doc.items():
            if isinstance(e, dict):
                entries[str(k)] = e
    return entries


def _licence(entry: dict[str, Any]) -> str | None:
    for key in ("licence", "license"):
        if entry.get(key):
            return str(entry[key])
    return None


def _asset_key(info: dict[str, Any]) -> str:
    """Manifest id when recorded; unregistered procedural shapes (distractors) group by generator."""
    for k in ("id", "path", "name"):
        if info.get(k):
            return str(info[k])
    kind = info.get("kind", "asset")
    what = info.get("generator") or info.get("shape")
    return f"{kind}:{what}" if what else json.dumps(info, sort_keys=True)


def asset_licences(
    frames: Sequence[dict[str, Any]], manifest_path: str | os.PathLike[str] | None = None
) -> list[dict[str, Any]]:
    """One row per asset used: id, licence and source (object record first, then manifest), use count."""
    manifest = _load_manifest(Path(manifest_path) if manifest_path is not None else None)
    rows: dict[str, dict[str, Any]] = {}
    for f in frames:
        for obj in f.get("objects", []):
            asset = obj.get("asset")
            if asset is None:
                continue
            info = asset if isinstance(asset, dict) else {"id": asset}
            key = _asset_key(info)
            row = rows.setdefault(key, {"asset": key, "licence": None, "source": None, "objects": 0, "classes": []})
            row["objects"] += 1
            row["licence"] = row["licence"] or _licence(info)
            row["source"] = row["source"] or info.get("source")
            cls = obj.get("class_name")
            if cls is not None and cls not in row["classes"]:
                row["classes"].append(cls)
        # surface materials from Infinigen (tabletop room, street sidewalk / kerb / facades): one row per material
        for m in ((f.get("background") or {}).get("infinigen_materials") or {}).values():
            key = f"infinigen:{str(m['module']).rsplit('.', 1)[-1]}.{m['class']}:{m['seed']}"
            source = f"infinigen {m.get('version', '')} material {m['module']}.{m['class']} (seed {m['seed']})"
            row = rows.setdefault(key, {"asset": key, "licence": None, "source": source, "objects": 0, "classes": []})
            row["objects"] += 1
            row["licence"] = row["licence"] or _licence(m)
    for key, row in rows.items():
        entry = manifest.get(key, {})
        row["licence"] = row["licence"] or _licence(entry) or "unknown"
        unregistered = (
            "unknown" if not key.startswith("procedural:") else "simvision procedural shape, not in the manifest"
        )
        row["source"] = row["source"] or entry.get("source") or unregistered
    return sorted(rows.values(), key=lambda r: r["asset"])


def class_counts(coco: dict[str, Any], frames: Sequence[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per class name: annotations, images with the class, and metadata objects (visible or not)."""
    names = {int(c["id"]): str(c["name"]) for c in coco["categories"]}
    out: dict[str, dict[str, int]] = {n: {"annotations": 0, "images": 0, "objects": 0} for n in names.values()}
    imgs: dict[str, set[int]] = defaultdict(set)
    for a in coco["annotations"]:
        n = names.get(int(a["category_id"]), f"unknown:{a['category_id']}")
        out.setdefault(n, {"annotations": 0, "images": 0, "objects": 0})["annotations"] += 1
        imgs[n].add(int(a["image_id"]))
    for n, s in imgs.items():
        out[n]["images"] = len(s)
    for f in frames:
        for obj in f.get("objects", []):
            cid = int(obj.get("category_id") or 0)
            n = names.get(cid, "unlabelled distractor" if cid == 0 else f"unknown:{cid}")
            out.setdefault(n, {"annotations": 0, "images": 0, "objects": 0})["objects"] += 1
    return out


def _condition_value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True)


def condition_counts(coco: dict[str, Any], frames: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, int]]]:
    """Per condition key and value: number of frames and of annotations recorded under it."""
    anns_per_image = Counter(int(a["image_id"]) for a in coco["annotations"])
    conditions = {int(f["frame_id"]): f.get("conditions") or {} for f in frames}
    for img in coco["images"]:  # frames missing from metadata still count through COCO's copy
        conditions.setdefault(int(img["id"]), img.get("conditions") or {})
    out: dict[str, dict[str, dict[str, int]]] = {}
    for fid, cond in sorted(conditions.items()):
        for k, v in cond.items():
            if isinstance(v, float):  # continuous values (sun elevation, fog density) go in histograms
                continue
            cell = out.setdefault(str(k), {}).setdefault(_condition_value(v), {"frames": 0, "annotations": 0})
            cell["frames"] += 1
            cell["annotations"] += anns_per_image.get(fid, 0)
    return out


def box_sizes(coco: dict[str, Any]) -> dict[str, list[float]]:
    """Per class name: ``sqrt(w * h)`` of every COCO box, in pixels."""
    names = {int(c["id"]): str(c["name"]) for c in coco["categories"]}
    out: dict[str, list[float]] = defaultdict(list)
    for a in coco["annotations"]:
        w, h = float(a["bbox"][2]), float(a["bbox"][3])
        out[names.get(int(a["category_id"]), str(a["category_id"]))].append(math.sqrt(max(w * h, 0.0)))
    return dict(out)


def visible_fractions(frames: Sequence[dict[str, Any]]) -> dict[str, list[float]]:
    """Per class name: ``visible_fraction`` of every labelled object, fully occluded ones included."""
    out: dict[str, list[float]] = defaultdict(list)
    for f in frames:
        for obj in f.get("objects", []):
            v = obj.get("visible_fraction")
            if int(obj.get("category_id") or 0) == 0 or v is None:
                continue
            out[str(obj.get("class_name", obj.get("category_id")))].append(float(v))
    return dict(out)


def object_distances(frames: Sequence[dict[str, Any]]) -> dict[str, list[float]]:
    """Per class name: camera-to-centre distance (metres) of every labelled object with a visible pixel."""
    out: dict[str, list[float]] = defaultdict(list)
    for f in frames:
        for obj in f.get("objects", []):
            d = obj.get("distance_m")
            if int(obj.get("category_id") or 0) == 0 or not d or not obj.get("visible_pixels"):
                continue
            out[str(obj.get("class_name", obj.get("category_id")))].append(float(d["euclidean"]))
    return dict(out)


def box_heights(coco: dict[str, Any]) -> dict[str, list[float]]:
    """Per class name: COCO box height scaled to a 375-px-high image (KITTI's), in pixels."""
    names = {int(c["id"]): str(c["name"]) for c in coco["categories"]}
    heights = {int(im["id"]): float(im.get("height") or KITTI_HEIGHT_PX) for im in coco["images"]}
    out: dict[str, list[float]] = defaultdict(list)
    for a in coco["annotations"]:
        scale = KITTI_HEIGHT_PX / heights.get(int(a["image_id"]), KITTI_HEIGHT_PX)
        out[names.get(int(a["category_id"]), str(a["category_id"]))].append(float(a["bbox"][3]) * scale)
    return dict(out)


def distance_targets(config: Any) -> dict[str, dict[str, float]]:
    """The configured target distances per class (``scene.placement.distance_m``, and the distances that
    ``scene.placement.box_height_px`` targets stand for; a merged dataset: its first shard's), or {} where the
    config has none."""
    if not isinstance(config, dict):
        return {}
    if "shards" in config and "scene" not in config:
        return next((distance_targets(c) for c in config["shards"].values() if distance_targets(c)), {})
    scene = config.get("scene") or {}
    placement = scene.get("placement") if isinstance(scene, dict) else None
    if not isinstance(placement, dict):
        return {}
    # box-height targets (placement.box_height_px) as the distance targets the sampler drew from
    resolution = (config.get("render") or {}).get("resolution") or [1242, 375]
    return class_targets(placement, resolution, scene.get("camera_hfov_deg") or StreetSceneConfig().camera_hfov_deg)


def distance_summary(distances: dict[str, list[float]], targets: dict[str, Any]) -> dict[str, Any]:
    """Per class: realised count, p10 / median / p90 (metres) and the configured target where there is one."""
    out = {}
    for name in sorted(set(distances) | set(targets)):
        v = distances.get(name, [])
        row: dict[str, Any] = {"n": len(v)}
        if v:
            p10, med, p90 = np.percentile(v, [10, 50, 90])
            row.update(p10=round(float(p10), 3), median=round(float(med), 3), p90=round(float(p90), 3))
        if name in targets:
            row["target"] = {k: float(targets[name][k]) for k in ("p10", "median", "p90")}
        out[name] = row
    return out


def _distance_plot(distances: dict[str, list[float]], targets: dict[str, Any]) -> bytes:
    """One panel per class: the realised distance histogram (density) and the configured target's density
    with its p10 / median / p90 marked."""
    names = sorted(n for n, v in distances.items() if v) or ["(none)"]
    fig = Figure(figsize=(6.0, 2.4 * len(names)), dpi=100)
    canvas = FigureCanvasAgg(fig)
    top = max([max(v) for v in distances.values() if v] + [60.0])
    edges = np.linspace(0.0, top, 31)
    for i, name in enumerate(names, start=1):
        ax = fig.add_subplot(len(names), 1, i)
        v = distances.get(name, [])
        if v:
            ax.hist(
                v, bins=edges.tolist(), density=True, histtype="stepfilled", alpha=0.5, label=f"rendered ({len(v)})"
            )
        if name in targets:
            knots = target_knots(targets[name])
            dens = np.diff(TARGET_QUANTILES) / np.maximum(np.diff(knots), 1e-9)
            ax.stairs(dens, knots, color="k", linewidth=1.5, label="configured target")
            for q in ("p10", "median", "p90"):
                ax.axvline(float(targets[name][q]), color="k", linestyle=":", linewidth=1)
        ax.set_title(name, fontsize="small")
        ax.set_ylabel("density")
        ax.legend(fontsize="x-small")
    fig.axes[-1].set_xlabel("distance camera to object centre [m]")
    fig.tight_layout()
    canvas.draw()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _histogram(values: dict[str, list[float]], edges: np.ndarray) -> dict[str, Any]:
    return {
        "bin_edges": [round(float(e), 6) for e in edges],
        "counts": {k: np.histogram(v, bins=edges)[0].astype(int).tolist() for k, v in sorted(values.items())},
    }


def _size_edges(values: dict[str, list[float]]) -> np.ndarray:
    top = max((max(v) for v in values.values() if v), default=1.0)
    return np.linspace(0.0, max(top, 1.0), 21)


def _plot(values: dict[str, list[float]], edges: np.ndarray, xlabel: str, title: str) -> bytes:
    """Per-class step histograms as PNG bytes, drawn without pyplot (no global backend state)."""
    fig = Figure(figsize=(6.0, 3.6), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for name, v in sorted(values.items()):
        if v:
            ax.hist(v, bins=edges.tolist(), histtype="step", linewidth=1.5, label=f"{name} ({len(v)})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    ax.set_title(title)
    if any(values.values()):
        ax.legend(fontsize="small")
    fig.tight_layout()
    canvas.draw()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _config(root: Path) -> tuple[str, Any]:
    """The resolved config: ``config.yaml``, else the shard configs of a merged dataset."""
    path = path_inside(root, CONFIG_PATH, str(root))
    if path.is_file():
        try:
            return str(CONFIG_PATH), yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise DatasetError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    manifest = path_inside(root, "merge_manifest.json", str(root))
    if manifest.is_file():
        shards = read_json(manifest).get("shards", [])
        return "merge_manifest.json", {
            "shards": {s.get("shard", str(i)): s.get("config") for i, s in enumerate(shards)}
        }
    return "none", None


def build_card(
    root: str | os.PathLike[str],
    *,
    purpose: str = DEFAULT_PURPOSE,
    validation: ValidationResult | None = None,
    known_limits: Sequence[str] = (),
    assets_manifest: str | os.PathLike[str] | None = DEFAULT_ASSETS_MANIFEST,
    max_violations: int = 100,
) -> dict[str, Any]:
    """Everything the card says, as a JSON-ready dict (runs ``validate_dataset`` when not given)."""
    root = Path(root)
    coco = load_coco(root)
    frames = load_frames(root)
    config_source, config = _config(root)
    if validation is None:
        validation = validate_dataset(root)
    frame_seeds = [json.dumps(f.get("seed"), sort_keys=True) for f in frames if f.get("seed") is not None]
    sizes, vis = box_sizes(coco), visible_fractions(frames)
    dists, heights = object_distances(frames), box_heights(coco)
    n_objects = sum(len(f.get("objects", [])) for f in frames)
    card = {
        "name": root.resolve().name,
        "purpose": purpose,
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generator": {"name": "simvision", "version": generator_version(), "git_commit": git_commit()},
        "config_source": config_source,
        "config": config,
        "seeds": {
            "config": find_seeds(config),
            "frames_with_seed": len(frame_seeds),
            "unique_frame_seeds": len(set(frame_seeds)),
            "note": "per-frame seed words are the 'seed' key of metadata/frames.jsonl",
        },
        "assets": asset_licences(frames, assets_manifest),
        "counts": {
            "images": len(coco["images"]),
            "annotations": len(coco["annotations"]),
            "objects": n_objects,
            "categories": len(coco["categories"]),
            "per_class": class_counts(coco, frames),
            "per_condition": condition_counts(coco, frames),
            "outputs": output_counts(frames),
        },
        "class_table": coco["categories"],
        "histograms": {
            "box_size_px": _histogram(sizes, _size_edges(sizes)),
            "visible_fraction": _histogram(vis, VISIBILITY_BINS),
            "distance_m": _histogram(dists, _size_edges(dists)),
            "box_height_px_at_375": _histogram(heights, _size_edges(heights)),
        },
        "distance_m": distance_summary(dists, distance_targets(config)),
        "tall_box_share": {
            k: round(float(np.mean(np.asarray(v) >= TALL_BOX_PX)), 4) for k, v in sorted(heights.items()) if v
        },
        "files": {
            "contact_sheet": CONTACT_SHEET,
            "box_size_plot": str(BOX_SIZE_PLOT),
            "visibility_plot": str(VISIBILITY_PLOT),
            "distance_plot": str(DISTANCE_PLOT),
            "box_height_plot": str(BOX_HEIGHT_PLOT),
        },
        "validation": validation.to_dict(max_violations=max_violations),
        "known_limits": [*DEFAULT_KNOWN_LIMITS, *known_limits],
    }
    return _jsonable(card)


def output_counts(frames: list[dict[str, Any]]) -> dict[str, int]:
    """Frames holding each per-frame file kind (rgb, depth, normals, ...) and, as ``amodal_masks``, the
    labelled objects with a recorded amodal mask (docs/dataset_format.md)."""
    counts: Counter[str] = Counter()
    for frame in frames:
        files = frame.get("files")
        counts.update(str(k) for k in (files if isinstance(files, dict) else {}))
        objects = frame.get("objects")
        for obj in objects if isinstance(objects, list) else []:
            if isinstance(obj, dict) and obj.get("amodal_segmentation") is not None:
                counts["amodal_masks"] += 1
    return dict(sorted(counts.items()))


def _jsonable(obj: Any) -> Any:
    """Strict-JSON copy: NaN/inf -> None, YAML dates and other objects -> str."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, str | int | bool):
        return obj
    return str(obj)


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return lines


def card_markdown(card: dict[str, Any]) -> str:
    """Human-readable rendering of ``build_card``'s dict."""
    g, c, v = card["generator"], card["counts"], card["validation"]
    md = [f"# Dataset card: {card['name']}", "", "## Purpose", "", card["purpose"], ""]
    md += [
        "## Provenance",
        "",
        f"- generator: simvision {g['version']}",
        f"- git commit: `{g['git_commit']}`",
        f"- card written: {card['created_utc']}",
        f"- config source: `{card['config_source']}`",
        "",
    ]
    md += ["## Seeds", ""]
    md += [f"- `{k}`: `{json.dumps(s)}`" for k, s in card["seeds"]["config"].items()] or ["- no seed in config"]
    md += [
        f"- frames with a recorded seed: {card['seeds']['frames_with_seed']} "
        f"({card['seeds']['unique_frame_seeds']} unique); {card['seeds']['note']}",
        "",
    ]
    md += [
        "## Counts",
        "",
        f"{c['images']} images, {c['annotations']} annotations, {c['objects']} objects "
        f"in metadata, {c['categories']} classes.",
        "",
    ]
    outputs = c.get("outputs") or {}
    if outputs:
        kinds = ", ".join(f"{k} {n}" for k, n in outputs.items() if k != "amodal_masks")
        amodal = outputs.get("amodal_masks", 0)
        md += [f"Per-frame files (frames holding each): {kinds}; objects with an amodal mask: {amodal}.", ""]
    md += _md_table(
        ["class", "annotations", "images", "objects"],
        [[k, r["annotations"], r["images"], r["objects"]] for k, r in c["per_class"].items()],
    )
    md += [""]
    if c["per_condition"]:
        rows = [
            [k, val, r["frames"], r["annotations"]] for k, vals in c["per_condition"].items() for val, r in vals.items()
        ]
        md += ["### Per condition", ""] + _md_table(["condition", "value", "frames", "annotations"], rows) + [""]
    sheet = card["files"]["contact_sheet"]
    md += [
        "## Distributions",
        "",
        f"![box sizes]({card['files']['box_size_plot']})",
        "",
        f"![visibility]({card['files']['visibility_plot']})",
        "",
        f"![distance against the configured target]({card['files']['distance_plot']})",
        "",
        f"![box heights at 375 px image height]({card['files']['box_height_plot']})",
        "",
    ]
    if card.get("distance_m"):
        rows = []
        for name, r in card["distance_m"].items():
            t = r.get("target") or {}
            rows.append(
                [
                    name,
                    r["n"],
                    *(r.get(q, "-") for q in ("p10", "median", "p90")),
                    *(t.get(q, "-") for q in ("p10", "median", "p90")),
                ]
            )
        md += ["### Distance from the camera (m), rendered vs configured target", ""]
        md += _md_table(["class", "n", "p10", "median", "p90", "target p10", "target median", "target p90"], rows)
        md += [""]
    md += ["### Share of boxes >= 40 px high (image scaled to 375 px)", ""]
    md += [f"- {k}: {100 * v:.0f} %" for k, v in card.get("tall_box_share", {}).items()] or ["- no boxes"]
    md += [
        "",
        "## Contact sheet",
        "",
        f"![contact sheet]({sheet})" if sheet else "No frame could be read for a contact sheet.",
        "",
    ]
    md += ["## Asset licences", ""]
    if card["assets"]:
        md += _md_table(
            ["asset", "licence", "source", "objects", "classes"],
            [
                [a["asset"], a["licence"], a["source"], a["objects"], ", ".join(map(str, a["classes"]))]
                for a in card["assets"]
            ],
        )
    else:
        md += ["No asset recorded in the metadata."]
    md += ["", "## Validation", "", f"`{v['summary']}`", ""]
    if v["violations"]:
        shown = v["violations"]
        md += [f"- {x['kind']}: {x['where']}: {x['message']}" for x in shown]
        if v["n_violations"] > len(shown):
            md += [f"- ... and {v['n_violations'] - len(shown)} more (run simvision-validate)"]
        md += [""]
    md += ["## Known limits", ""] + [f"- {x}" for x in card["known_limits"]] + [""]
    md += [
        "## Full resolved config",
        "",
        "```yaml",
        yaml.safe_dump(card["config"], sort_keys=False).rstrip() if card["config"] is not None else "# none found",
        "```",
        "",
    ]
    return "\n".join(md)


def write_card(
    root: str | os.PathLike[str],
    *,
    purpose: str = DEFAULT_PURPOSE,
    validation: ValidationResult | None = None,
    known_limits: Sequence[str] = (),
    assets_manifest: str | os.PathLike[str] | None = DEFAULT_ASSETS_MANIFEST,
    contact_sheet_frames: int = 16,
) -> dict[str, Path]:
    """Write card markdown + JSON, histogram PNGs and the contact sheet into ``root``; returns their paths.

    A failed write (disk full, no permission) raises ``WriteError``: one line naming the file."""
    root = Path(root)
    card = build_card(
        root,
        purpose=purpose,
        validation=validation,
        known_limits=known_limits,
        assets_manifest=assets_manifest,
    )
    sizes, vis = box_sizes(load_coco(root)), visible_fractions(load_frames(root))
    size_plot = _plot(sizes, _size_edges(sizes), "box size sqrt(w*h) [px]", "Box sizes per class")
    visibility_plot = _plot(vis, VISIBILITY_BINS, "visible fraction", "Visibility per class")
    heights = box_heights(load_coco(root))
    height_plot = _plot(heights, _size_edges(heights), "box height [px] at 375 px image height", "Box heights")
    distance_plot = _distance_plot(object_distances(load_frames(root)), distance_targets(card["config"]))
    paths: dict[str, Path] = {}
    with writing(root / BOX_SIZE_PLOT):
        paths["box_size_plot"] = atomic_write_bytes(root / BOX_SIZE_PLOT, size_plot)
    with writing(root / VISIBILITY_PLOT):
        paths["visibility_plot"] = atomic_write_bytes(root / VISIBILITY_PLOT, visibility_plot)
    with writing(root / DISTANCE_PLOT):
        paths["distance_plot"] = atomic_write_bytes(root / DISTANCE_PLOT, distance_plot)
    with writing(root / BOX_HEIGHT_PLOT):
        paths["box_height_plot"] = atomic_write_bytes(root / BOX_HEIGHT_PLOT, height_plot)
    with writing(root / CONTACT_SHEET):
        sheet = write_contact_sheet(root, root / CONTACT_SHEET, n=contact_sheet_frames)
    if sheet is not None:
        paths["contact_sheet"] = sheet
    else:
        card["files"]["contact_sheet"] = None
    with writing(root / CARD_JSON):
        paths["json"] = atomic_write_json(root / CARD_JSON, card, indent=2)
    with writing(root / CARD_MD):
        paths["markdown"] = atomic_write_text(root / CARD_MD, card_markdown(card))
    return paths
