"""scripts/crop_sheet.py: the crops of one class from several labelled sets, one block per set."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from tests.toy_data import COLOURS, write_toy_dataset

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "crop_sheet.py"
_spec = importlib.util.spec_from_file_location("crop_sheet", SCRIPT)
crop_sheet = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(crop_sheet)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> SimpleNamespace:
    """The script's main() in this process (its imports are the gap tool's, too slow to pay per subprocess)."""
    try:
        code = crop_sheet.main(list(args))
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    out = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)


def test_one_block_per_set_with_the_class_crops(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # one cone per frame and nothing over it: every crop is the cone's rectangle
    a = write_toy_dataset(tmp_path / "a", n=6, size=96, seed=0, objects=1)
    b = write_toy_dataset(tmp_path / "b", n=4, size=96, seed=1, objects=1)
    out = tmp_path / "sheet.png"
    sets = (f"A={a}", f"B={b}")
    done = _run(
        capsys,
        str(out),
        "traffic_cone",
        *sets,
        "--n",
        "3",
        "--tile",
        "40",
        "--columns",
        "4",
        "--stats",
        "--by",
        "time_of_day",
    )
    assert done.returncode == 0, done.stderr
    # the toy cones are rectangles twice as tall as wide: the box statistics say so, per set
    assert "A: 6 crops; height/width 2.00 (2.00-2.00)" in done.stdout
    assert "B: 4 crops; height/width 2.00 (2.00-2.00)" in done.stdout
    # half the toy frames are night (the cone's colour halved): 3 crops of value 240 and 3 of 120 in set A
    # (the toy cone fills its box: centre and top corners read the same)
    first = done.stdout.splitlines()[0]
    assert first.startswith("A: 6 crops;")
    assert "brightness (HSV value): box 180 (120-240), centre 180 (120-240), top corners 180 (120-240)" in first
    # the toy cone's colour (240, 110, 20): hue 24.5 degrees, saturation 255 * 220 / 240 = 233.75 (PIL
    # truncates), by day and (halved) by night alike
    assert "centre colour (6 crops with saturated pixels): hue 24 deg (24-24), saturation 233 (233-233)" in first
    # --by splits the brightness by the frames' recorded condition: day 240, night 120 (3 crops each in A)
    lines = done.stdout.splitlines()
    day = "box 240 (240-240), centre 240 (240-240), top corners 240 (240-240)"
    assert lines[1] == f"  time_of_day=day: 3 crops; brightness (HSV value): {day}"
    assert lines[2].startswith("  time_of_day=night: 3 crops; brightness (HSV value): box 120 (120-120)")
    sheet = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert sheet.shape == (2 * (18 + 40), 4 * 40, 3)  # two blocks, each a header and one row of 3 crops
    for top in (18, 18 + 58):
        cells = [sheet[top + 5 : top + 35, x * 40 + 15 : x * 40 + 25] for x in range(4)]
        day = np.asarray(COLOURS["traffic_cone"])
        # each crop is a cone rectangle (the day or night shade of its colour); the 4th cell is empty
        for cell in cells[:3]:
            mean = cell.reshape(-1, 3).mean(axis=0)
            assert np.allclose(mean / mean.max(), day / day.max(), atol=0.1), mean
        assert np.all(cells[3] == 128)


def test_box_regions_tell_the_object_from_what_is_behind_it() -> None:
    # a 30x60 crop: background 20, a bright upright object (a cone's middle) 200 in the central columns
    value = np.full((60, 30), 20, dtype=np.uint8)
    value[:, 10:20] = 200
    regions = crop_sheet.box_regions(value)
    assert regions["centre"].size == 10 * 24 and np.all(regions["centre"] == 200)  # x 10-20, y 18-42
    assert regions["top corners"].size == 2 * 5 * 12 and np.all(regions["top corners"] == 20)
    assert regions["box"].size == 60 * 30 and np.median(regions["box"]) == 20
    # tiny crops still give every region a pixel
    assert all(r.size >= 1 for r in crop_sheet.box_regions(np.zeros((2, 2))).values())


def test_bad_set_names_the_argument(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write_toy_dataset(tmp_path / "a", n=2, size=64, objects=1)
    done = _run(capsys, str(tmp_path / "s.png"), "box", f"A={a}")  # a class the set does not label
    assert done.returncode != 0 and "no 'box' box" in done.stderr
    done = _run(capsys, str(tmp_path / "s.png"), "traffic_cone", str(a))
    assert done.returncode != 0 and "NAME=PATH" in done.stderr
    done = _run(capsys, str(tmp_path / "s.png"), "traffic_cone", f"A={tmp_path / 'missing'}")
    assert done.returncode != 0 and "missing: no such file or folder" in done.stderr
    (a / "annotations" / "instances.json").write_text('{"images": [')  # truncated
    done = _run(capsys, str(tmp_path / "s.png"), "traffic_cone", f"A={a}")
    assert done.returncode != 0 and "cannot be read as a labelled set" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "s.png").exists()
