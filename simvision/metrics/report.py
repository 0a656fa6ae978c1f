"""Gap report: ``gap.json`` (all numbers), ``gap.md`` and ``gap.html`` (tables + plots) in one folder.

Tables are built once as rows and rendered to both markdown and HTML so the two never disagree.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from simvision.metrics.gap import GapResult

__all__ = ["gap_tables", "relative_distance", "write_gap_report"]

Table = tuple[str, list[str], list[list[str]]]


def _fmt(value: float | None, digits: int = 3, scale: float = 1.0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    v = value * scale
    return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:.0f}"


def _with_ci(cmp: dict[str, Any], key: str, digits: int = 3, scale: float = 1.0) -> str:
    text = _fmt(cmp.get(key), digits, scale)
    ci = cmp.get("ci", {}).get(key)
    if ci and text != "-":
        text += f" [{_fmt(ci['low'], digits, scale)}, {_fmt(ci['high'], digits, scale)}]"
    return text


METRIC_HEADER = [
    "n synth",
    "n real",
    "FD [95% CI]",
    "KID x1e3 [CI]",
    "precision [CI]",
    "recall [CI]",
    "density",
    "coverage",
]


def _metric_cells(cmp: dict[str, Any]) -> list[str]:
    return [
        str(cmp["n_fake"]),
        str(cmp["n_real"]),
        _with_ci(cmp, "frechet_distance"),
        _with_ci(cmp, "kid", scale=1e3),
        _with_ci(cmp, "precision", 2),
        _with_ci(cmp, "recall", 2),
        _fmt(cmp.get("density"), 2),
        _fmt(cmp.get("coverage"), 2),
    ]


def _ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    if not a or not b or not b.get("frechet_distance"):
        return "-"
    return f"{a['frechet_distance'] / b['frechet_distance']:.2f}"


def _crop_px(px: dict[str, float] | None) -> str:
    """Median short side of the crops, synthetic / real (absent in reports written before it was kept)."""
    return f"{px['synthetic']:.0f} / {px['real']:.0f}" if px else "-"


def gap_tables(summary: dict[str, Any]) -> list[Table]:
    """(title, header, rows) for the overall, per-class and per-condition results."""
    tables: list[Table] = []
    overall = summary["overall"]
    rows = [["synthetic vs real (all images)", *_metric_cells(overall["synthetic_vs_real"])]]
    if "real_floor" in overall:
        rows.append(["floor: real half A vs real half B", *_metric_cells(overall["real_floor"])])
        rows.append(["synthetic (n = |A|) vs real half B", *_metric_cells(overall["matched"])])
    tables.append(("Whole images", ["comparison", *METRIC_HEADER], rows))

    per_class = summary.get("per_class") or {}
    if per_class:
        rows = []
        for cls, e in per_class.items():
            floor, matched = e.get("real_floor"), e.get("matched")
            rows.append(
                [
                    cls,
                    str(e["n_synthetic_crops"]),
                    str(e["n_real_crops"]),
                    _crop_px(e.get("crop_short_side_px")),
                    _with_ci(e["synthetic_vs_real"], "frechet_distance"),
                    _with_ci(floor, "frechet_distance") if floor else "-",
                    _with_ci(matched, "frechet_distance") if matched else "-",
                    _ratio(matched, floor),
                    _with_ci(e["synthetic_vs_real"], "precision", 2),
                    _with_ci(e["synthetic_vs_real"], "recall", 2),
                    _fmt(e["synthetic_vs_real"].get("coverage"), 2),
                ]
            )
        header = [
            "class",
            "synth crops",
            "real crops",
            "crop px (synth / real)",
            "FD synth vs real",
            "FD floor (real A vs B)",
            "FD synth vs real B",
            "matched / floor",
            "precision",
            "recall",
            "coverage",
        ]
        tables.append(("Per class (object crops)", header, rows))

    per_condition = summary.get("per_condition") or {}
    if per_condition:
        rows = [[name, *_metric_cells(cmp), _same_size(cmp)] for name, cmp in per_condition.items()]
        rows.append(["(all synthetic images)", *_metric_cells(overall["synthetic_vs_real"]), "-"])
        tables.append(
            (
                "Per recorded condition (synthetic group vs all real)",
                ["condition", *METRIC_HEADER, SAME_SIZE_HEADER],
                rows,
            )
        )
    rows = [
        [cls, name, str(cmp["n_fake"]), _with_ci(cmp, "frechet_distance"), _same_size(cmp)]
        for cls, e in per_class.items()
        for name, cmp in sorted(e.get("per_condition", {}).items(), key=lambda kv: -relative_distance(kv[1]))
    ]
    if rows:
        header = ["class", "condition", "synth crops", "FD vs all real crops [95% CI]", SAME_SIZE_HEADER]
        tables.append(("Per class and recorded condition (object crops, farthest first)", header, rows))
    return tables


SAME_SIZE_HEADER = "FD / same-size draws (draws' FD mean [5-95%]; share as far)"


def relative_distance(cmp: dict[str, Any]) -> float:
    """How far a condition group is, for ranking: its FD over same-size random draws of the whole set (its raw
    FD where none were drawn, as in reports written before the draws existed)."""
    same = cmp.get("same_size") or {}
    value = same.get("relative")
    return float(value) if value is not None else float(cmp.get("frechet_distance") or 0.0)


def _same_size(cmp: dict[str, Any]) -> str:
    """``1.12x (208 [190, 230]; 0.05)``: a group's FD against random draws of the whole set as large as it."""
    same = cmp.get("same_size")
    if not same or same.get("relative") is None:
        return "-"
    return (
        f"{same['relative']:.2f}x ({_fmt(same['frechet_distance_mean'])} [{_fmt(same['frechet_distance_low'])}, "
        f"{_fmt(same['frechet_distance_high'])}]; {same['share_at_least']:.2f})"
    )


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


NOTES = [
    "FD: Frechet distance between Gaussians fitted to the features (FID when the extractor is the FID "
    "InceptionV3; other extractors give other scales). Lower is closer. FD is biased upwards for small "
    "samples, so compare 'synthetic vs real half B' with the floor, which has the same sample sizes.",
    "KID: unbiased polynomial-kernel MMD^2 (x1e3), mean over random subsets; near 0 when the sets match.",
    "precision: share of synthetic samples inside the real k-NN manifold (realism); recall: share of real "
    "samples inside the synthetic manifold (diversity) - Kynkaanniemi et al. 2019. density/coverage: "
    "Naeem et al. 2020.",
    "Per condition: FD grows as samples shrink, so a small group's raw FD overstates its distance; 'FD / "
    "same-size draws' divides it by the mean FD of random draws of the whole synthetic set as large as the "
    "group (crops: whole photos), and 'share as far' is the share of those draws at least as far: above 1x "
    "with a share near 0, the condition itself is farther than the set.",
    "Intervals: 95% resampling intervals from random halves (without replacement) centred on the estimate; "
    "object crops are resampled and split into floor halves by source photo, since crops of one photo are "
    "correlated.",
]


def _plots(result: GapResult, out: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = result.summary
    made: list[tuple[str, str]] = []

    def bars(
        ax: Any,
        labels: list[str],
        cmps: list[dict[str, Any]],
        color: str,
        offset: float = 0.0,
        width: float = 0.8,
        name: str | None = None,
    ) -> None:
        ys = np.arange(len(labels)) + offset
        vals = [c["frechet_distance"] for c in cmps]
        err: list[list[float]] | None = None
        if all("ci" in c and "frechet_distance" in c["ci"] for c in cmps):
            lo = [max(v - c["ci"]["frechet_distance"]["low"], 0) for v, c in zip(vals, cmps, strict=True)]
            hi = [max(c["ci"]["frechet_distance"]["high"] - v, 0) for v, c in zip(vals, cmps, strict=True)]
            err = [lo, hi]  # lists: a (2, 1) array trips a NumPy deprecation inside matplotlib
        ax.barh(ys, vals, height=width, xerr=err, color=color, capsize=3, label=name)

    ov = s["overall"]
    names, cmps = ["synthetic vs real"], [ov["synthetic_vs_real"]]
    if "real_floor" in ov:
        names += ["synthetic vs real B", "floor: real A vs B"]
        cmps += [ov["matched"], ov["real_floor"]]
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(names) + 1.2))
    bars(ax, names, cmps, "tab:blue")
    ax.set_yticks(np.arange(len(names)), names)
    ax.set_xlabel(f"Frechet distance ({s['extractor']['name']} features)")
    ax.set_title("Whole images (bars: 95% bootstrap interval)")
    fig.tight_layout()
    fig.savefig(out / "gap_overall.png", dpi=110)
    plt.close(fig)
    made.append(("Whole images", "gap_overall.png"))

    per_class = {k: v for k, v in (s.get("per_class") or {}).items() if "real_floor" in v}
    if per_class:
        labels = list(per_class)
        fig, ax = plt.subplots(figsize=(7, 0.7 * len(labels) + 1.5))
        bars(ax, labels, [per_class[c]["matched"] for c in labels], "tab:orange", -0.2, 0.4, "synthetic vs real B")
        bars(ax, labels, [per_class[c]["real_floor"] for c in labels], "tab:gray", 0.2, 0.4, "floor: real A vs B")
        ax.set_yticks(np.arange(len(labels)), labels)
        ax.set_xlabel("Frechet distance of object crops")
        ax.legend()
        ax.set_title("Per class: gap vs real-vs-real floor")
        fig.tight_layout()
        fig.savefig(out / "gap_per_class.png", dpi=110)
        plt.close(fig)
        made.append(("Per class", "gap_per_class.png"))

    per_condition = s.get("per_condition") or {}
    if per_condition:
        labels = list(per_condition)
        fig, ax = plt.subplots(figsize=(7, 0.5 * len(labels) + 1.5))
        bars(ax, labels, [per_condition[c] for c in labels], "tab:green")
        same = [
            (i, per_condition[c]["same_size"]["frechet_distance_mean"])
            for i, c in enumerate(labels)
            if "same_size" in per_condition[c]
        ]
        if same:
            ys, xs = zip(*same, strict=True)
            ax.scatter(xs, ys, marker="|", s=300, color="tab:red", zorder=3, label="random draws of the same size")
        if "real_floor" in ov:
            ax.axvline(ov["real_floor"]["frechet_distance"], color="k", ls="--", label="floor (real A vs B)")
        if "real_floor" in ov or same:
            ax.legend()
        ax.set_yticks(np.arange(len(labels)), labels)
        ax.set_xlabel("Frechet distance to all real images")
        ax.set_title("Per recorded condition")
        fig.tight_layout()
        fig.savefig(out / "gap_per_condition.png", dpi=110)
        plt.close(fig)
        made.append(("Per condition", "gap_per_condition.png"))

    points = [("all", ov["synthetic_vs_real"])]
    points += [(f"class {k}", v["synthetic_vs_real"]) for k, v in (s.get("per_class") or {}).items()]
    points += list(per_condition.items())
    points = [(n, c) for n, c in points if "precision" in c]
    if points:
        fig, ax = plt.subplots(figsize=(5.5, 5))
        for name, c in points:
            ax.scatter(c["recall"], c["precision"])
            ax.annotate(name, (c["recall"], c["precision"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
        if "real_floor" in ov and "precision" in ov["real_floor"]:
            f = ov["real_floor"]
            ax.scatter(f["recall"], f["precision"], marker="*", s=150, color="k", label="floor (real A vs B)")
            ax.legend(loc="lower right")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("recall (diversity)")
        ax.set_ylabel("precision (realism)")
        ax.set_title("Improved precision / recall")
        fig.tight_layout()
        fig.savefig(out / "gap_precision_recall.png", dpi=110)
        plt.close(fig)
        made.append(("Precision and recall", "gap_precision_recall.png"))

    f_syn, f_real = result.features.get("synthetic"), result.features.get("real")
    if f_syn is not None and f_real is not None and len(f_syn) + len(f_real) >= 3:
        x = torch.cat([f_syn, f_real]).double()
        x = x - x.mean(0)
        _, _, v = torch.linalg.svd(x, full_matrices=False)
        p = (x @ v[:2].T).numpy()
        fig, ax = plt.subplots(figsize=(5.5, 5))
        ax.scatter(p[len(f_syn) :, 0], p[len(f_syn) :, 1], s=8, alpha=0.6, label="real")
        ax.scatter(p[: len(f_syn), 0], p[: len(f_syn), 1], s=8, alpha=0.6, label="synthetic")
        ax.set_title("Image features, first two principal components")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "gap_pca.png", dpi=110)
        plt.close(fig)
        made.append(("Feature PCA", "gap_pca.png"))
    context = float((s.get("breakdown_config") or {}).get("crop_context", 0.1))
    sets = [("whole images", "gap_examples.png", ov.get("examples"))]
    sets += [
        (f"{cls} crops", f"gap_examples_{_file_safe(cls)}.png", e.get("examples"))
        for cls, e in (s.get("per_class") or {}).items()
    ]
    for name, file, examples in sets:
        if examples and _example_sheet(examples, out / file, context):
            made.append((f"Examples, {name}: what the synthetic set misses, its least and most realistic", file))
    return made


EXAMPLE_ROWS = [
    ("real_least_covered", "real, farthest outside the synthetic manifold (what it misses)"),
    ("synthetic_least_realistic", "synthetic, farthest outside the real manifold (least realistic)"),
    ("synthetic_most_realistic", "synthetic, deepest inside the real manifold (most realistic)"),
]


def _file_safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _example_sheet(examples: dict[str, Any], path: Path, context: float, tile: int = 96) -> bool:
    """One row per list of :func:`simvision.metrics.gap.pick_examples`, each sample as the extractor sees it
    (crops square with their context) with its margin (<= 1: inside the other set's manifold)."""
    from PIL import Image, ImageDraw

    from simvision.metrics.sources import square_crop

    rows = [(title, examples.get(key) or []) for key, title in EXAMPLE_ROWS]
    columns = max((len(r) for _, r in rows), default=0)
    if not columns:
        return False
    head, label = 14, 12
    sheet = Image.new("RGB", (columns * tile, len(rows) * (head + tile + label)), (128, 128, 128))
    draw = ImageDraw.Draw(sheet)
    for r, (title, items) in enumerate(rows):
        y = r * (head + tile + label)
        draw.text((2, y + 1), title, fill=(255, 255, 255))
        for c, item in enumerate(items):
            try:
                with Image.open(item["path"]) as src:
                    im = square_crop(src.convert("RGB"), item.get("box"), context)
            except OSError:  # a photo moved since the run: leave its tile grey
                continue
            im.thumbnail((tile, tile))
            sheet.paste(im, (c * tile + (tile - im.width) // 2, y + head + (tile - im.height) // 2))
            draw.text((c * tile + 2, y + head + tile), f"{item['margin']:.2f}", fill=(255, 255, 255))
    sheet.save(path)
    return True


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")


def write_gap_report(
    result: GapResult,
    out_dir: str | Path,
    *,
    title: str = "Synthetic-to-real domain gap",
    formats: Sequence[str] = ("md", "html", "json"),
    plots: bool = True,
    context: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write the report files; ``context`` (sources, command, config) is echoed at the top and in JSON."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    summary = {**({"context": context} if context else {}), **result.summary}
    if "json" in formats:
        path = out / "gap.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(summary, indent=2, default=_json_default))
        tmp.replace(path)
        written["json"] = path
    images = _plots(result, out) if plots else []
    tables = gap_tables(result.summary)
    ext = result.summary["extractor"]
    intro = [
        f"Extractor: {ext['name']} ({ext['num_features']}-d, {ext['input_size']} px input) on {ext['device']}.",
        f"Images: {result.summary['n_synthetic_images']} synthetic, {result.summary['n_real_images']} real.",
    ]
    if context:
        intro += [f"{k}: {v}" for k, v in context.items() if isinstance(v, str | int | float)]
    skipped = result.summary.get("skipped") or []
    cautions = result.summary.get("cautions") or []
    if "md" in formats:
        md = [f"# {title}", "", *[f"- {line}" for line in intro], ""]
        if cautions:  # first: they say how far to trust the tables
            md += ["## Cautions", "", *[f"- {c}" for c in cautions], ""]
        for name, header, rows in tables:
            md += [f"## {name}", "", _markdown_table(header, rows), ""]
        md += [f"![{name}]({file})" for name, file in images]
        md += ["", "## Notes", "", *[f"- {n}" for n in NOTES]]
        if skipped:
            md += ["", "## Skipped", "", *[f"- {s}" for s in skipped]]
        path = out / "gap.md"
        path.write_text("\n".join(md) + "\n")
        written["md"] = path
    if "html" in formats:
        parts = [
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
            "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse;"
            "margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
            "td:first-child{text-align:left}img{max-width:100%}</style></head><body>",
            f"<h1>{html.escape(title)}</h1><ul>",
            *[f"<li>{html.escape(x)}</li>" for x in intro],
            "</ul>",
        ]
        if cautions:
            parts += ["<h2>Cautions</h2><ul>", *[f"<li>{html.escape(c)}</li>" for c in cautions], "</ul>"]
        for name, header, rows in tables:
            parts += [f"<h2>{html.escape(name)}</h2>", _html_table(header, rows)]
        parts += [f"<h3>{html.escape(name)}</h3><img src='{file}' alt='{html.escape(name)}'>" for name, file in images]
        parts += ["<h2>Notes</h2><ul>", *[f"<li>{html.escape(n)}</li>" for n in NOTES], "</ul>"]
        if skipped:
            parts += ["<h2>Skipped</h2><ul>", *[f"<li>{html.escape(s)}</li>" for s in skipped], "</ul>"]
        parts.append("</body></html>")
        path = out / "gap.html"
        path.write_text("\n".join(parts))
        written["html"] = path
    for _, file in images:
        written[file] = out / file
    return written
