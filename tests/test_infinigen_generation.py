"""How a first-run Infinigen generation shares its work between helper processes (no Blender here; the real
helpers run in tests/test_infinigen.py::test_generation_is_offline_and_quiet)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from simvision.config.checks import ConfigError
from simvision.render.infinigen_assets import (
    HELPER_BYTES,
    HELPERS_ENV,
    generate_cost,
    helper_count,
    split_work,
)
from simvision.scene.infinigen_library import MaterialVariant, Variant


def _variant(factory: str, seed: int) -> Variant:
    return Variant("tree", factory, seed, f"/c/{factory}/{seed}.blend", f"/c/{factory}/{seed}.npz")


def _material(cls: str, seed: int) -> MaterialVariant:
    return MaterialVariant("ceramic", cls, seed, f"/c/materials/{cls}/{seed}.blend")


def _street_first_run() -> list:
    """What the first scene.assets=infinigen street job generates: 3 trees, 3 bushes, rocks, grass tufts and
    facade materials (the order the scene asks for them)."""
    return [
        *(_variant("TreeFactory", s) for s in range(3)),
        *(_variant("BushFactory", s) for s in range(3)),
        *(_variant("BoulderFactory", s) for s in range(3)),
        *(_variant("GrassTuftFactory", s) for s in range(3)),
        *(_material(cls, s) for cls in ("Brick", "Concrete", "Plaster", "Tile") for s in range(2)),
    ]


def test_the_costly_variants_are_spread_over_the_helpers() -> None:
    todo = _street_first_run()
    for helpers in (1, 2, 3, 6):
        batches = split_work(todo, helpers)
        assert len(batches) == helpers
        # every variant exactly once
        assert sorted(id(v) for b in batches for v in b) == sorted(id(v) for v in todo)
        loads = sorted(sum(generate_cost(v) for v in b) for b in batches)
        # no helper waits on more than the costliest single variant beyond the fair share
        assert loads[-1] - loads[0] <= max(generate_cost(v) for v in todo)
        # each batch starts with its costliest variant (the slow ones begin at once)
        for b in batches:
            assert generate_cost(b[0]) == max(generate_cost(v) for v in b)
    two = split_work(todo, 2)
    trees = [sum(v.factory == "TreeFactory" for v in b if isinstance(v, Variant)) for b in two]
    assert sorted(trees) == [1, 2]  # the three trees are not all on one helper
    assert split_work(todo, 2) == two  # deterministic
    # more helpers than variants: one variant each, no empty batch
    assert [len(b) for b in split_work(todo[:3], 8)] == [1, 1, 1]


def test_helper_count_follows_the_machine_and_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    import simvision.render.infinigen_assets as assets

    monkeypatch.setattr(assets.os, "sched_getaffinity", lambda _pid: set(range(16)), raising=False)
    monkeypatch.setattr(assets, "available_memory", lambda: 64 * (1 << 30))
    assert helper_count(20, "") == 8  # a helper keeps about two cores busy
    assert helper_count(3, "") == 3  # never more than the variants
    monkeypatch.setattr(assets, "available_memory", lambda: 3 * HELPER_BYTES + 1)
    assert helper_count(20, "") == 3  # memory caps it
    monkeypatch.setattr(assets, "available_memory", lambda: HELPER_BYTES // 2)
    assert helper_count(20, "") == 1  # always at least one
    monkeypatch.setattr(assets.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setattr(assets, "available_memory", lambda: None)  # unknown memory: the cores decide
    assert helper_count(20, "") == 1
    assert helper_count(20, "4") == 4 and helper_count(2, "4") == 2  # the setting wins, capped by the work
    monkeypatch.setenv(HELPERS_ENV, "3")
    assert helper_count(20) == 3
    for bad in ("0", "-2", "many"):
        with pytest.raises(ConfigError, match=f"^{HELPERS_ENV}: expected a whole number >= 1, got '{bad}'$"):
            helper_count(20, bad)


def test_nothing_to_generate_starts_no_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import simvision.render.infinigen_assets as assets

    blend, npz = tmp_path / "0.blend", tmp_path / "0.npz"
    blend.write_bytes(b"x")
    npz.write_bytes(b"x")
    cached = Variant("cup", "CupFactory", 0, str(blend), str(npz))

    def no_helper(*_args, **_kwargs):
        raise AssertionError("a helper was started for cached variants")

    monkeypatch.setattr(assets.subprocess, "Popen", no_helper)
    assert assets.prepare([cached]) == []


@pytest.mark.skipif(importlib.util.find_spec("infinigen") is None, reason="infinigen is not installed")
def test_a_bad_helper_setting_stops_the_job_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import TINY
    from tests.render_cli import error_lines, render_cli

    monkeypatch.setenv(HELPERS_ENV, "lots")
    out = tmp_path / "out"
    args = [f"output_dir={out}", *TINY, "scene.assets=infinigen", f"scene.infinigen.cache_dir={tmp_path / 'cache'}"]
    proc = render_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert error_lines(proc) == [f"simvision-render: error: {HELPERS_ENV}: expected a whole number >= 1, got 'lots'"]
    assert "Traceback" not in proc.stderr
    assert not list((tmp_path / "cache").rglob("*.blend"))  # stopped before generating anything
    assert not (out / "images").exists() or not list((out / "images").iterdir())
