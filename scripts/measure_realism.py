"""Issue 13's realism measurement: render a track's synthetic set (or reuse it) and measure its domain gap
against the real photos in ../shared/data/real with ``simvision-gap`` (EfficientNet-Lite0 features).

Tracks (settings fixed here, so before/after runs differ only in what ``--assets`` and ``--set`` change):

  tabletop  cup/bottle/bowl tabletop and bin scenes, 320x240, vs COCO128 (256 photos); crops cup, bottle, bowl
  street    dash-camera streets (621x188, hfov 78-84, height 1.6-1.7 m) vs COCO128's street photos (the 48
            images with a vehicle, traffic light, stop sign, hydrant or parking meter); crops car, person
  cones     the same camera with the construction-zone preset vs the traffic-cone photos (valid + test, 83);
            crops traffic_cone
  cones_near  the sim-to-real benchmark's cones frames (conf/benchmark/sim2real_cones.yaml, its CPU setting:
            near cones, a low pitched-down camera, 224x224) vs the same photos; crops traffic_cone

    python scripts/measure_realism.py tabletop --assets procedural --frames 80
    python scripts/measure_realism.py tabletop --assets infinigen --frames 80
    python scripts/measure_realism.py tabletop --assets infinigen --frames 80 --real-subset table
    python scripts/measure_realism.py cones_near --measure-only --tag=-framed --real-subset valid
    python scripts/measure_realism.py --table          # every measured run so far, as a markdown table
    python scripts/measure_realism.py cones_near --assets infinigen --frames 80 --studio 12 --tag=-studio
            # the last 12 of the 80 frames are product shots (+experiment=product_shots), merged in

Writes under ``--out`` (default out/realism): the dataset ``<track>-<assets><tag>/``, the gap run
``gap-<track>-<assets><tag>/`` (gap.json, gap.md, gap.html) and ``summary.json`` (one row per run). The
real photos are read in place (the street subset is chosen with ``real.with_any_of``; nothing is copied).
Rendering resumes: rerunning a command reuses the frames already written; ``--measure-only`` skips the render
step and measures the frames on disk. With ``--studio N`` the track's scenes fill the first ``--frames`` - N
frames (``<name>.parts/track``, ``--set`` applies to them) and N product shots the rest (``<name>.parts/studio``:
``+experiment=product_shots`` with the track's seed, resolution, samples and device); the dataset is their merge.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from simvision.metrics.report import relative_distance

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "real"
COCO128 = REAL / "coco128"
# COCO classes that make a photo a street photo (48 of COCO128's 256)
STREET_CLASSES = [
    "bicycle",
    "car",
    "motorcycle",
    "bus",
    "truck",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
]
# COCO classes that make a photo a table photo (57 of COCO128's 256: meals, kitchens, cafes, desks)
TABLE_CLASSES = ["cup", "bottle", "bowl", "wine glass", "dining table", "fork", "knife", "spoon"]
# --real-subset: compare against only the COCO128 photos labelling one of these classes
REAL_SUBSETS = {"table": TABLE_CLASSES, "street": STREET_CLASSES}
# --real-subset for the cone tracks: one split of the cone photos (valid: the sim-to-real benchmark's real
# training pool, the only photos its config may be chosen by; never the test split)
CONE_SUBSETS = ["valid"]
DASH_CAMERA = ["render.resolution=[621,188]", "scene.camera_hfov_deg=[78,84]", "scene.camera_height=[1.6,1.7]"]

TRACKS: dict[str, dict[str, Any]] = {
    "tabletop": {
        "render": ["scene=tabletop", "scene.classes=[cup,bottle,bowl]", "render.resolution=[320,240]", "seed=100"],
        "classes": ["cup", "bottle", "bowl"],
    },
    "street": {"render": ["scene=street", *DASH_CAMERA, "seed=200"], "classes": ["car", "person"]},
    "cones": {"render": ["+experiment=construction_zone", *DASH_CAMERA, "seed=300"], "classes": ["traffic_cone"]},
    # the sim-to-real benchmark's cones track as rendered for its CPU setting (near cones, low pitched camera)
    "cones_near": {"render": "cones", "classes": ["traffic_cone"]},
}


def benchmark_render(track: str, setting: str = "cpu") -> list[str]:
    """The render overrides of the sim-to-real benchmark's ``track`` and ``setting``
    (conf/benchmark/sim2real_<track>.yaml), minus the frame count, which ``--frames`` sets."""
    cfg = yaml.safe_load((ROOT / "conf" / "benchmark" / f"sim2real_{track}.yaml").read_text())
    overrides = [*cfg["render"], *cfg["settings"][setting]["render"]]
    return [str(o) for o in overrides if not str(o).startswith("num_frames=")]


def render_overrides(track: str) -> list[str]:
    spec = TRACKS[track]["render"]
    return benchmark_render(spec) if isinstance(spec, str) else list(spec)


def studio_overrides(track: str, samples: int, frames: int, parts: Path) -> list[str]:
    """simvision-render overrides for ``frames`` product shots beside ``track``'s frames: the track's seed,
    resolution, device and label formats, ``samples``, in ``parts/studio``."""
    kept = ("seed=", "render.resolution=", "render.device=", "output.formats=")
    same = [o for o in render_overrides(track) if o.startswith(kept)]
    return ["+experiment=product_shots", *same, f"render.samples={samples}", f"num_frames={frames}",
            f"output_dir={parts / 'studio'}"]  # fmt: skip


def real_overrides(track: str, subset: str = "") -> list[str]:
    if track == "street":
        subset = subset or "street"
    if track in ("tabletop", "street"):  # conf/gap.yaml's default: COCO128 (all of it unless a subset is named)
        wanted = REAL_SUBSETS[subset] if subset else None
        return [f"real.name=coco128_{subset}", f"real.with_any_of=[{','.join(wanted)}]"] if wanted else []
    return [
        f"real.name=traffic_cones{'_' + subset if subset else ''}",
        f"real.path={REAL / 'traffic_cones' / subset}",
        "real.format=yolo",
        "real.labels=null",
        "real.names=null",
        "real.aliases={cone: traffic_cone, Cone: traffic_cone, road-cone: traffic_cone}",
    ]


def run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


def ratio(entry: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """(FD synthetic vs real half B, FD of the real floor, their ratio); None where not computed."""
    matched = entry.get("matched", {}).get("frechet_distance")
    floor = entry.get("real_floor", {}).get("frechet_distance")
    if matched is None or floor is None:
        return matched, floor, None
    return matched, floor, matched / floor


def interval(entry: dict[str, Any], which: str) -> list[float] | None:
    """The 95 % resampling interval of FD for ``matched`` or ``real_floor``, if computed."""
    ci = entry.get(which, {}).get("ci", {}).get("frechet_distance")
    return None if ci is None else [ci["low"], ci["high"]]


def summarise(name: str, track: str, gap: dict[str, Any], frames: int, seconds: float) -> dict[str, Any]:
    matched, floor, r = ratio(gap["overall"])
    row: dict[str, Any] = {
        "run": name,
        "track": track,
        "frames": frames,
        "fd_matched": matched,
        "fd_floor": floor,
        "fd_ratio": r,
        "fd_matched_ci": interval(gap["overall"], "matched"),
        "fd_floor_ci": interval(gap["overall"], "real_floor"),
        "precision": gap["overall"].get("matched", {}).get("precision"),
        "recall": gap["overall"].get("matched", {}).get("recall"),
        "crops": {},
        "seconds": round(seconds, 1),
    }
    for cls, entry in sorted(gap.get("per_class", {}).items()):
        m, f, cr = ratio(entry)
        row["crops"][cls] = {
            "fd_matched": m,
            "fd_matched_ci": interval(entry, "matched"),
            "fd_floor": f,
            "fd_floor_ci": interval(entry, "real_floor"),
            "ratio": cr,
            "n_synthetic": entry.get("n_synthetic_crops"),
            "n_real": entry.get("n_real_crops"),
            "short_side_px": entry.get("crop_short_side_px"),  # medians, synthetic and real (since 2026-12-04)
            "farthest_conditions": farthest(entry.get("per_condition", {})),  # since 2026-12-04
        }
    row["farthest_conditions"] = farthest(gap.get("per_condition", {}))
    return row


def farthest(per_condition: dict[str, Any], n: int = 3) -> list[str]:
    """The ``n`` condition groups farthest from the real set: by FD over same-size random draws of the whole
    synthetic set where the gap run drew them (``rain (338; 1.23x)``), else by raw FD (runs before 2026-12-04),
    which favours the smallest groups."""
    scored = [
        (relative_distance(e), key, e) for key, e in per_condition.items() if e.get("frechet_distance") is not None
    ]
    out = []
    for _, key, entry in sorted(scored, reverse=True)[:n]:
        relative = (entry.get("same_size") or {}).get("relative")
        out.append(f"{key} ({entry['frechet_distance']:.0f}{'' if relative is None else f'; {relative:.2f}x'})")
    return out


def fmt(x: float | None, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def fd(value: float | None, ci: list[float] | None) -> str:
    """``FD [low, high]``."""
    return fmt(value, ".0f") + ("" if not ci else f" [{ci[0]:.0f}, {ci[1]:.0f}]")


def _px(crops: dict[str, Any]) -> str:
    """The crops' median short sides, synthetic/real, where the gap run kept them."""
    px = crops.get("short_side_px")
    return f", {px['synthetic']:.0f}/{px['real']:.0f} px" if px else ""


def table(rows: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| run | frames | whole images: FD / floor (FD vs real half B [95 %] vs floor) | precision | recall "
        "| crops: FD / floor (FD vs real half B vs floor; crops and their median short side, synthetic/real) "
        "| farthest conditions (FD vs all real; over same-size draws of the whole set) "
        "| farthest conditions of the crops |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows.values():
        crops = "; ".join(
            f"{c} **{fmt(v['ratio'])}**: {fd(v['fd_matched'], v.get('fd_matched_ci'))} vs "
            f"{fd(v['fd_floor'], v.get('fd_floor_ci'))} ({v['n_synthetic']}/{v['n_real']} crops{_px(v)})"
            for c, v in row["crops"].items()
        )
        crop_conditions = "; ".join(
            f"{c}: {', '.join(v['farthest_conditions'])}"
            for c, v in row["crops"].items()
            if v.get("farthest_conditions")
        )
        whole = (
            f"**{fmt(row['fd_ratio'])}**: {fd(row['fd_matched'], row.get('fd_matched_ci'))} vs "
            f"{fd(row['fd_floor'], row.get('fd_floor_ci'))}"
        )
        lines.append(
            f"| {row['run']} | {row['frames']} | {whole} | {fmt(row['precision'], '.3f')} | "
            f"{fmt(row['recall'], '.3f')} | {crops} | {', '.join(row['farthest_conditions'])} | {crop_conditions} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("track", nargs="?", choices=sorted(TRACKS))
    parser.add_argument("--assets", default="procedural", choices=["procedural", "infinigen"])
    parser.add_argument("--frames", type=int, default=80)
    parser.add_argument("--samples", type=int, default=8, help="render.samples (Cycles spp)")
    parser.add_argument("--tag", default="", help="suffix of the run's name (e.g. -before)")
    parser.add_argument("--set", action="append", default=[], help="extra simvision-render override (repeatable)")
    parser.add_argument(
        "--real-subset",
        default="",
        choices=["", *REAL_SUBSETS, *CONE_SUBSETS],
        help="compare with only COCO128's photos of a table (cup, bottle, bowl, wine glass, dining table, cutlery) "
        "or of a street (the street track's default), or for the cone tracks only the cone photos of "
        "traffic_cones/valid (the sim-to-real benchmark's real pool); the frames are the run's own (resumed, "
        "not re-rendered)",
    )
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="measure the run's frames already on disk, without the render step (e.g. after a change to the gap "
        "tool, or for frames rendered before a config field existed, which a resumed render refuses)",
    )
    parser.add_argument(
        "--studio",
        type=int,
        default=0,
        help="of the --frames, this many are product shots (+experiment=product_shots), merged after the track's",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "realism")
    parser.add_argument("--table", action="store_true", help="print the summary table of every run and exit")
    args = parser.parse_args()
    args.out = args.out.resolve()
    summary_path = args.out / "summary.json"
    rows: dict[str, dict[str, Any]] = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    if args.table or args.track is None:
        for name, row in rows.items():  # refresh from each run's gap.json (fields added since it ran)
            gap_json = args.out / f"gap-{name}" / "gap.json"
            if gap_json.is_file():
                fresh = summarise(name, row["track"], json.loads(gap_json.read_text()), row["frames"], row["seconds"])
                rows[name] = {**fresh, "overrides": row.get("overrides", [])}
        print(table(rows))
        return 0
    track = TRACKS[args.track]
    cone_track = args.track.startswith("cones")
    if args.real_subset and (args.real_subset in CONE_SUBSETS) != cone_track:
        parser.error(f"--real-subset {args.real_subset}: not a subset of the {args.track} track's real photos")
    if not 0 <= args.studio < args.frames:
        parser.error(f"--studio {args.studio}: must be at least 0 and below --frames {args.frames}")
    name = f"{args.track}-{args.assets}{args.tag}"
    dataset = args.out / name
    if args.real_subset and not (args.track == "street" and args.real_subset == "street"):
        name += f"-vs-{args.real_subset}"  # the same frames (the render resumes), another real reference
    gap_dir = args.out / f"gap-{name}"
    py = sys.executable
    if args.measure_only:
        if not (dataset / "images").is_dir():
            parser.error(f"--measure-only: {dataset} holds no rendered frames")
        render_s = rows.get(name, {}).get("seconds", 0.0)  # the render's own time, from when it ran
    else:
        started = time.perf_counter()
        parts = args.out / f"{name}.parts"
        run(
            [
                py,
                "-m",
                "simvision.cli.render",
                *render_overrides(args.track),
                f"scene.assets={args.assets}",
                f"render.samples={args.samples}",
                f"num_frames={args.frames - args.studio}",
                f"output_dir={parts / 'track' if args.studio else dataset}",
                *args.set,
            ]
        )
        if args.studio:
            run([py, "-m", "simvision.cli.render", *studio_overrides(args.track, args.samples, args.studio, parts)])
            if dataset.exists():  # derived from the parts, which resume: merged again
                shutil.rmtree(dataset)
            run([py, "-m", "simvision.cli.merge", str(parts / "track"), str(parts / "studio"), "-o", str(dataset)])
        render_s = time.perf_counter() - started
    classes = "[" + ",".join(track["classes"]) + "]"
    run(
        [
            py,
            "-m",
            "simvision.cli.gap",
            f"synthetic.path={dataset}",
            f"synthetic.name={name}",
            f"breakdown.classes={classes}",
            *real_overrides(args.track, args.real_subset),
            f"hydra.run.dir={gap_dir}",
        ]
    )
    gap = json.loads((gap_dir / "gap.json").read_text())
    # the frames measured (a --measure-only run's --frames is not what is on disk) and the render's overrides
    # (kept from when it rendered: --measure-only renders nothing, so its --set changes nothing)
    studio = [f"--studio {args.studio}"] if args.studio else []
    overrides = rows.get(name, {}).get("overrides", []) if args.measure_only else [*args.set, *studio]
    row = {**summarise(name, args.track, gap, gap["n_synthetic_images"], render_s), "overrides": overrides}
    rows[name] = row
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = summary_path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(rows, indent=1))
    os.replace(tmp, summary_path)
    print(table({name: row}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
