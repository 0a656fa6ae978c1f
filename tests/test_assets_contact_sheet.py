"""scripts/assets_contact_sheet.py --where (only the frames whose recorded conditions match) and --real-pick (these
real photos); scripts/image_brightness.py's shots on white and vegetation colour."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sheet = _load("assets_contact_sheet")
brightness = _load("image_brightness")


def test_where_keeps_only_the_frames_recorded_with_the_condition(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "metadata").mkdir()
    lines = []
    for i, (verge, weather) in enumerate([(True, "rain"), (False, "rain"), (True, "clear"), (False, "clear")]):
        Image.new("RGB", (8, 8)).save(tmp_path / "images" / f"{i:06d}.png")
        record = {"file_name": f"images/{i:06d}.png", "conditions": {"verge_view": verge, "weather": weather}}
        lines.append(json.dumps(record))
    (tmp_path / "metadata" / "frames.jsonl").write_text("\n".join(lines) + "\n")
    names = lambda found: [p.name for p in found]  # noqa: E731
    assert names(sheet._frames(tmp_path, [])) == [f"{i:06d}.png" for i in range(4)]
    assert names(sheet._frames(tmp_path, ["verge_view=true"])) == ["000000.png", "000002.png"]
    assert names(sheet._frames(tmp_path, ["verge_view=true", "weather=clear"])) == ["000002.png"]
    assert sheet._frames(tmp_path, ["preset=none"]) == []  # a condition not recorded matches nothing


def test_real_pick_shows_those_photos_in_that_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "set" / "images").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(tmp_path / "set" / "images" / "000000.png")
    (tmp_path / "real").mkdir()
    for i in range(5):
        Image.new("RGB", (8, 8), (i * 50, 0, 0)).save(tmp_path / "real" / f"photo{i}.png")
    shown: list[list[str]] = []
    monkeypatch.setattr(sheet, "sheet_of_files", lambda paths, n, width: shown.append([Path(p).name for p in paths]))
    monkeypatch.setattr(sheet, "write_rgb_png", lambda *a: None)
    argv = ["x", str(tmp_path / "out.png"), str(tmp_path / "set"), "--n", "2", "--real", str(tmp_path / "real")]
    monkeypatch.setattr(sys, "argv", [*argv, "--real-pick", "3,1"])
    sheet.main()
    assert shown[-1] == ["000000.png", "photo3.png", "photo1.png"]
    monkeypatch.setattr(sys, "argv", argv)
    sheet.main()
    assert shown[-1] == ["000000.png", "photo0.png", "photo1.png"]
    monkeypatch.setattr(sys, "argv", [*argv, "--real-pick", "7"])
    with pytest.raises(SystemExit):
        sheet.main()


def test_shots_on_white_and_the_green_of_vegetation(tmp_path: Path) -> None:
    product = np.full((100, 100, 3), 255, np.uint8)
    product[30:95, 35:65] = (0, 90, 240)  # an orange cone (BGR) on white, standing on the bottom edge
    street = np.full((100, 100, 3), 90, np.uint8)
    lawn = street.copy()
    lawn[50:] = (40, 110, 70)  # a green lawn (BGR) over half the frame
    for name, image in (("product", product), ("street", street), ("lawn", lawn)):
        cv2.imwrite(str(tmp_path / f"{name}.png"), image)
    assert brightness.on_white(cv2.cvtColor(product, cv2.COLOR_BGR2GRAY))
    assert not brightness.on_white(cv2.cvtColor(street, cv2.COLOR_BGR2GRAY))
    assert len(brightness.green_pixels(lawn)) == 50 * 100 and len(brightness.green_pixels(product)) == 0
    levels, white, greens = brightness.grey_levels(sorted(tmp_path.glob("*.png")))
    assert white == 1 and len(levels) == 3 and len(greens) == 1
    assert "RGB 70, 110, 40" in brightness._green_cell(greens)
