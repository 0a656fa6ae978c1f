"""Diffusion polishing: config, label-consistency check (pure numpy), and both modes end to end with tiny
random-weight pipelines on the CPU (no weights, no download). Tests that need the ``polish`` extra skip
without it, so the core suite runs on a bare install."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from omegaconf import OmegaConf

from simvision.config.paths import CONF_DIR
from simvision.polish import INSTALL_HINT, MissingExtraError, PolishWeightsError, require_polish
from simvision.polish.config import PolishConfig, PolishConfigError, to_polish_config
from simvision.polish.consistency import check_consistency, edge_map
from simvision.polish.image import build_mask, conditioning_image, working_size
from simvision.polish.textures import apply_texture, prompt_for, texture_cache_key, texture_for, texture_path_of
from simvision.scene.spec import MaterialSpec

H, W = 32, 48  # image-mode frames (multiples of the tiny pipeline's 4 px grid)
STEPS = 2


# -- synthetic frames ----------------------------------------------------------------------------------
def synthetic_frame(
    shift: tuple[int, int] = (0, 0), *, seed: int = 0, retexture: bool = False, size: tuple[int, int] = (96, 128)
) -> tuple[np.ndarray, np.ndarray]:
    """A textured background with a striped rectangle (id 1) and a circle (id 2), and the instance map
    of the *unshifted* layout; ``shift`` moves the rectangle's pixels, ``retexture`` recolours both."""
    rng = np.random.default_rng(seed)
    h, w = size
    low = cv2.resize(
        np.random.default_rng(0).random((6, 8, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC
    )
    img = np.clip(60 + 100 * low + rng.normal(0, 4, (h, w, 3)), 0, 255)
    dx, dy = shift
    rect, rect0, circ = (np.zeros((h, w), np.uint8) for _ in range(3))
    cv2.rectangle(rect, (20 + dx, 20 + dy), (55 + dx, 60 + dy), 1, -1)
    cv2.rectangle(rect0, (20, 20), (55, 60), 1, -1)
    cv2.circle(circ, (90, 50), 18, 1, -1)
    instance = np.zeros((h, w), np.uint16)
    instance[rect0 > 0] = 1
    instance[circ > 0] = 2
    c1, c2 = np.array([200.0, 40.0, 40.0]), np.array([30.0, 60.0, 210.0])
    if retexture:
        c1, c2 = c1 + 25, c2 - 20
    stripes = 20 * np.sin(np.arange(w) / 3.0)[None, :, None]
    img[rect > 0] = (c1 + stripes + rng.normal(0, 6, (h, w, 3)))[rect > 0]
    img[circ > 0] = (c2 + rng.normal(0, 6, (h, w, 3)))[circ > 0]
    return np.clip(img, 0, 255).astype(np.uint8), instance


def small_frame(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """rgb, instance, depth, semantic of an H x W frame with two objects."""
    rng = np.random.default_rng(seed)
    rgb = cv2.GaussianBlur((rng.random((H, W, 3)) * 255).astype(np.uint8), (0, 0), 1.5)
    instance = np.zeros((H, W), np.uint16)
    instance[6:18, 8:24] = 1
    cv2.circle(instance, (36, 20), 7, 2, -1)
    rgb[instance == 1] = (200, 50, 40)
    rgb[instance == 2] = (40, 70, 210)
    depth = np.full((H, W), 2.0, np.float32)
    depth[instance > 0] = 1.2
    semantic = np.where(instance == 1, 1, np.where(instance == 2, 3, 0)).astype(np.uint16)
    return rgb, instance, depth, semantic


# -- config ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["none", "textures", "image"])
def test_presets_load_and_validate(name: str) -> None:
    cfg = to_polish_config(OmegaConf.load(CONF_DIR / "polish" / f"{name}.yaml"))
    assert isinstance(cfg, PolishConfig) and cfg.mode == name
    assert cfg.model is None  # nothing is assumed to exist; users point at their weights


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (["strength=1.5"], "polish.strength"),
        (["mode=photoreal"], "polish.mode"),
        (["mask=cars"], "polish.mask"),
        (["action=drop"], "polish.action"),
        (["conditioning=normals"], "polish.conditioning"),
        (["no_such_key=1"], "no_such_key"),
        (["steps=many"], "steps"),
        (["mode=image", "steps=2", "strength=0.2"], "polish.steps"),
        (["mode=textures"], "polish.prompts"),
    ],
)
def test_bad_config_is_one_line_naming_the_field(overrides: list[str], field: str) -> None:
    with pytest.raises(PolishConfigError) as err:
        to_polish_config(None, overrides)
    assert field in str(err.value) and "\n" not in str(err.value)


def test_overrides_reach_nested_prompts() -> None:
    cfg = to_polish_config(OmegaConf.load(CONF_DIR / "polish" / "textures.yaml"), ["prompts.cup=blue enamel", "seed=3"])
    assert cfg.prompts["cup"] == "blue enamel" and cfg.prompts["floor"] and cfg.seed == 3


def test_polish_group_composes_and_sweeps_with_hydra(compose_cfg) -> None:
    """The conf/polish/ group as a render config uses it: ``polish=image polish.seed=5``. The group
    files hold only what differs from the schema; the render schema types them."""
    assert to_polish_config(compose_cfg("output_dir=/tmp/x").polish).mode == "none"
    for choice in ("textures", "image"):
        cfg = to_polish_config(compose_cfg("output_dir=/tmp/x", f"polish={choice}", "polish.seed=5").polish)
        assert cfg.mode == choice and cfg.seed == 5


# -- consistency (numpy + OpenCV only) -----------------------------------------------------------------
@pytest.mark.parametrize("metric", ["edge_f1", "boundary_recall"])
def test_consistency_accepts_unchanged_frame(metric: str) -> None:
    raw, instance = synthetic_frame()
    result = check_consistency(raw, raw.copy(), instance, metric=metric)
    assert result.passed and result.score == pytest.approx(1.0)
    assert [o.instance_id for o in result.objects] == [1, 2]


@pytest.mark.parametrize("metric", ["edge_f1", "boundary_recall"])
def test_consistency_accepts_retextured_objects_that_did_not_move(metric: str) -> None:
    raw, instance = synthetic_frame()
    polished, _ = synthetic_frame(seed=1, retexture=True)  # new colours and noise, same silhouettes
    polished = cv2.GaussianBlur(polished, (3, 3), 0.8)
    noise = np.random.default_rng(5).normal(0, 5, polished.shape)
    polished = np.clip(polished + noise, 0, 255).astype(np.uint8)
    result = check_consistency(raw, polished, instance, metric=metric)
    assert result.passed, result.record()
    assert min(o.score for o in result.objects) > 0.9


@pytest.mark.parametrize("metric", ["edge_f1", "boundary_recall"])
@pytest.mark.parametrize("shift", [(6, 0), (6, 6), (-6, 0)])
def test_consistency_rejects_shifted_object(metric: str, shift: tuple[int, int]) -> None:
    raw, instance = synthetic_frame()
    polished, _ = synthetic_frame(shift)  # the rectangle moved 6 px; its labels did not
    result = check_consistency(raw, polished, instance, metric=metric)
    assert not result.passed
    assert result.failed == [1]  # the circle (id 2) still agrees
    scores = {o.instance_id: o.score for o in result.objects}
    assert scores[1] < 0.6 and scores[2] == pytest.approx(1.0)
    assert result.score == scores[1]
    record = result.record()
    json.dumps(record, allow_nan=False)
    assert record["failed_objects"] == [1] and record["passed"] is False


def test_consistency_skips_objects_without_contrast() -> None:
    raw = np.full((40, 40, 3), 120, np.uint8)
    instance = np.zeros((40, 40), np.uint16)
    instance[10:30, 10:30] = 4  # same colour as the background: no edge can tell where it is
    result = check_consistency(raw, raw, instance)
    assert result.objects[0].score is None and result.score is None and result.passed


def test_edge_map_sees_colour_edges_of_equal_brightness() -> None:
    img = np.zeros((32, 32, 3), np.uint8)
    img[:, :16] = (150, 0, 0)
    img[:, 16:] = (0, 76, 0)  # about the same grey level as the red half
    assert edge_map(img)[:, 14:18].any()


# -- masks, conditioning, sizes ----------------------------------------------------------------------------
def test_masks_and_conditioning_images() -> None:
    rgb, instance, depth, semantic = small_frame()
    assert build_mask(instance, "objects").sum() == (instance > 0).sum()
    assert build_mask(instance, "background").sum() == (instance == 0).sum()
    assert build_mask(instance, "all").all()
    assert build_mask(instance, "objects", dilate=2).sum() > (instance > 0).sum()
    d = conditioning_image("depth", rgb, depth=depth)
    assert d.shape == (H, W, 3) and d[instance > 0].min() > d[instance == 0].max()  # near is bright
    s = conditioning_image("segmentation", rgb, semantic=semantic)
    assert (s[semantic == 0] == 0).all() and len({tuple(s[semantic == k][0]) for k in (1, 3)}) == 2
    assert conditioning_image("canny", rgb).shape == (H, W, 3)
    with pytest.raises(ValueError, match="depth"):
        conditioning_image("depth", rgb)
    assert working_size(240, 320, None, 64) == (256, 320)
    assert working_size(240, 320, 512, 64) == (512, 704)


# -- textures: pure parts ----------------------------------------------------------------------------------
def test_prompt_lookup_order_and_material_hook(tmp_path: Path) -> None:
    prompts = {"cup/object": "a", "cup": "b", "floor": "c", "default": "d"}
    assert prompt_for(prompts, "cup", "object") == ("cup/object", "a")
    assert prompt_for({"cup": "b"}, "cup", "object") == ("cup", "b")
    assert prompt_for(prompts, "cup", "floor") == ("floor", "c")
    assert prompt_for(prompts, None, "walls") == ("default", "d")
    assert prompt_for({"cup": "b"}, "bowl", "object") is None
    material = MaterialSpec(base_color=[0.5, 0.5, 0.5], roughness=0.4, metallic=0.0, texture="noise")
    textured = apply_texture(material, tmp_path / "t.png")
    assert textured.image_texture == str((tmp_path / "t.png").resolve()) and material.image_texture is None
    assert textured.texture == material.texture == "noise"
    assert texture_path_of(textured) == (tmp_path / "t.png").resolve()
    assert texture_path_of(material) is None and apply_texture(material, None) is material
    assert texture_for(PolishConfig(), "cup") is None  # mode none: the render keeps procedural materials
    key = {"negative_prompt": "", "seed": 0, "size": 32, "steps": 2, "guidance": 1.0, "tileable": True}
    assert texture_cache_key("m1", "p", **key) != texture_cache_key("m2", "p", **key)
    assert texture_cache_key("m1", "p", **key) != texture_cache_key("m1", "p", **{**key, "seed": 1})


# -- missing extra / missing weights -------------------------------------------------------------------
def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "diffusers", None)  # import diffusers -> ImportError
    with pytest.raises(MissingExtraError) as err:
        require_polish()
    msg = str(err.value)
    assert "uv sync --extra polish" in msg and "pip install 'simvision[polish]'" in msg and "\n" not in msg
    from simvision.polish.image import ImagePolisher

    polisher = ImagePolisher(to_polish_config(None, ["mode=image", "model=/nowhere"]))
    with pytest.raises(MissingExtraError):
        polisher.polish(*small_frame()[:2])


def test_core_imports_and_cli_error_without_the_extra(tmp_path: Path) -> None:
    """A bare install: config, consistency and the CLI import; running one gives the one-line hint."""
    code = textwrap.dedent(f"""
        import sys
        for name in ("diffusers", "transformers"):
            sys.modules[name] = None
        import simvision.polish.config, simvision.polish.consistency, simvision.polish.textures
        import simvision.polish.image, simvision.polish.dataset
        from simvision.cli.polish import main
        sys.exit(main([{str(tmp_path)!r}, "model=/models/sd15"]))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("simvision-polish: error:") and INSTALL_HINT in last


@pytest.fixture(scope="module")
def tiny() -> Iterator[dict[str, Any]]:
    """Tiny random-weight pipelines sharing one set of components (built once: importing diffusers is slow).

    One torch thread while they run: the models are tiny, and on a shared CPU spinning worker threads
    only slow everyone down; the previous setting is restored afterwards.
    """
    pytest.importorskip("diffusers")
    pytest.importorskip("transformers")
    import torch
    from diffusers import StableDiffusionControlNetInpaintPipeline, StableDiffusionInpaintPipeline

    from simvision.polish.tiny import tiny_controlnet, tiny_text2img_pipeline

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    t2i = tiny_text2img_pipeline(seed=0)
    parts = {**t2i.components, "requires_safety_checker": False}
    inpaint = StableDiffusionInpaintPipeline(**parts)
    control = StableDiffusionControlNetInpaintPipeline(**parts, controlnet=tiny_controlnet())
    for pipe in (inpaint, control):
        pipe.set_progress_bar_config(disable=True)
    # warm up once (torch's first convolutions are slow), so the tests time only their own work
    t2i("warm up", height=16, width=16, num_inference_steps=1, output_type="np")
    from PIL import Image

    image, mask = Image.new("RGB", (16, 16)), Image.new("L", (16, 16), 255)
    inpaint("warm up", image=image, mask_image=mask, height=16, width=16, num_inference_steps=2, output_type="np")
    control(
        "warm up",
        image=image,
        mask_image=mask,
        control_image=image,
        height=16,
        width=16,
        num_inference_steps=2,
        output_type="np",
    )
    yield {"t2i": t2i, "inpaint": inpaint, "control": control}
    torch.set_num_threads(threads)


def test_missing_weights_say_how_to_provide_them(tmp_path: Path) -> None:
    pytest.importorskip("huggingface_hub")
    from simvision.polish.models import resolve_model_path

    cases = [None, str(tmp_path / "missing"), "simvision-test/no-such-model", str(tmp_path)]
    for name in cases:
        with pytest.raises(PolishWeightsError) as err:
            resolve_model_path(name)
        msg = str(err.value)
        assert "docs/polish.md" in msg and "\n" not in msg, msg
    with pytest.raises(PolishWeightsError, match="nothing is downloaded"):
        resolve_model_path("simvision-test/no-such-model")
    with pytest.raises(PolishWeightsError, match="model_index.json"):
        resolve_model_path(str(tmp_path))


def test_missing_weights_in_image_mode_and_cli(
    tiny: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("diffusers")
    from simvision.cli.polish import main
    from simvision.polish.image import ImagePolisher

    cfg = to_polish_config(None, ["mode=image", f"model={tmp_path / 'sd15'}"])
    with pytest.raises(PolishWeightsError, match="polish.model"):
        ImagePolisher(cfg).polish(*small_frame()[:2])
    dataset = make_dataset(tmp_path / "ds", frames=1)
    assert main([str(dataset), f"model={tmp_path / 'sd15'}", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("simvision-polish: error: polish.model=") and "docs/polish.md" in err[-1]


# -- textures end to end -------------------------------------------------------------------------------------
class CountingPipe:
    """Forwards everything to a pipeline and counts its calls."""

    def __init__(self, pipe: Any) -> None:
        self._pipe = pipe
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self._pipe(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipe, name)


def texture_cfg(cache: Path, **extra: Any) -> PolishConfig:
    return to_polish_config(
        {
            "mode": "textures",
            "prompts": {"cup": "red glazed ceramic", "floor": "oak planks"},
            "texture_size": 32,
            "steps": STEPS,
            "guidance": 3.0,
            "cache_dir": str(cache),
            "texture_variants": 2,
            **extra,
        }
    )


def test_textures_end_to_end_cache_and_determinism(tiny: dict[str, Any], tmp_path: Path) -> None:
    from simvision.polish.textures import TextureGenerator

    pipe = CountingPipe(tiny["t2i"])
    gen = TextureGenerator(texture_cfg(tmp_path / "a"), pipe=pipe, model_id="tiny")
    path = gen.texture_for("cup", "object")
    assert path is not None and path.is_file() and path.parent.parent == tmp_path / "a" / "textures"
    texture = cv2.imread(str(path))
    assert texture.shape == (32, 32, 3) and texture.std() > 0
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["prompt"] == "red glazed ceramic" and sidecar["model_id"] == "tiny" and sidecar["seed"] == 0
    assert pipe.calls == 1
    # cache hit: same path, no pipeline call
    assert gen.texture_for("cup", "object") == path and pipe.calls == 1
    assert TextureGenerator(texture_cfg(tmp_path / "a"), pipe=pipe, model_id="tiny").texture_for("cup") == path
    assert pipe.calls == 1
    assert gen.texture_for("bowl", "object") is None and pipe.calls == 1  # no prompt: procedural material stays
    # another variant = another seed = another texture
    other = gen.texture_for("cup", variant=1)
    assert other != path and pipe.calls == 2
    assert not np.array_equal(cv2.imread(str(other)), texture)
    assert gen.texture_for("cup", variant=3) == other  # variants wrap around
    # determinism: a fresh cache, same seed -> identical bytes
    again = TextureGenerator(texture_cfg(tmp_path / "b"), pipe=pipe, model_id="tiny").texture_for("cup")
    assert again is not None and again.read_bytes() == path.read_bytes() and pipe.calls == 3
    # another model id never reuses the cache entry
    assert TextureGenerator(texture_cfg(tmp_path / "a"), pipe=pipe, model_id="other").texture_for("cup") != path
    # pregenerate: 2 prompts x 2 variants, 2 of them already there
    paths = gen.pregenerate()
    assert len(set(paths)) == 4 and all(p.is_file() for p in paths)


def test_circular_padding_makes_textures_tileable(tiny: dict[str, Any]) -> None:
    """On a torus, rolling the initial noise rolls the texture: no seam anywhere, edges wrap."""
    import torch

    from simvision.polish.textures import circular_padding

    pipe = tiny["t2i"]
    latents = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(0))
    rolled = torch.roll(latents, shifts=(2, 4), dims=(2, 3))  # multiples of the UNet's 2x downsampling

    def sample(lat: torch.Tensor) -> np.ndarray:
        return pipe(
            "oak", height=32, width=32, num_inference_steps=STEPS, guidance_scale=3.0, latents=lat, output_type="np"
        ).images[0]

    with circular_padding(pipe.unet, pipe.vae) as n:
        assert n > 10
        a, b = sample(latents), sample(rolled)
    np.testing.assert_allclose(np.roll(a, (4, 8), axis=(0, 1)), b, atol=1e-4)  # latent x2 = pixels
    assert all(m.padding_mode == "zeros" for m in pipe.unet.modules() if isinstance(m, torch.nn.Conv2d))
    a, b = sample(latents), sample(rolled)  # zero padding: the borders break the symmetry
    assert np.abs(np.roll(a, (4, 8), axis=(0, 1)) - b).max() > 1e-2


# -- image polishing ---------------------------------------------------------------------------------------
def image_cfg(**extra: Any) -> PolishConfig:
    return to_polish_config(
        {
            "mode": "image",
            "steps": 4,
            "strength": 0.5,
            "guidance": 3.0,
            "prompt": "a photo",
            "negative_prompt": "",
            **extra,
        }
    )


@pytest.mark.parametrize(
    ("pipe_name", "mask", "conditioning"),
    [
        ("inpaint", "objects", "depth"),
        ("inpaint", "background", "depth"),
        ("control", "objects", "depth"),
        ("control", "all", "segmentation"),
        ("control", "background", "canny"),
    ],
)
def test_image_polish_masking_is_exact(tiny: dict[str, Any], pipe_name: str, mask: str, conditioning: str) -> None:
    from simvision.polish.image import ImagePolisher

    rgb, instance, depth, semantic = small_frame()
    polisher = ImagePolisher(image_cfg(mask=mask, conditioning=conditioning), pipe=tiny[pipe_name], model_id="tiny")
    result = polisher.polish_frame(rgb, instance, depth, semantic, seed=7)
    inside = build_mask(instance, mask)
    assert result.polished.shape == rgb.shape and result.polished.dtype == np.uint8
    assert np.array_equal(result.polished[~inside], rgb[~inside])  # bit-identical outside the mask
    assert (result.polished[inside] != rgb[inside]).any()  # and the model did paint inside
    assert (result.control is not None) == (pipe_name == "control")
    record = result.record()
    json.dumps(record, allow_nan=False)
    for key in ("score", "objects", "accepted", "applied", "model_id", "seed", "strength", "steps", "mask"):
        assert key in record
    assert record["seed"] == 7 and record["conditioning"] == (conditioning if pipe_name == "control" else None)


def test_image_polish_is_deterministic(tiny: dict[str, Any]) -> None:
    from simvision.polish.image import ImagePolisher

    rgb, instance, depth, semantic = small_frame()
    polisher = ImagePolisher(image_cfg(mask="all"), pipe=tiny["control"], model_id="tiny")
    a = polisher.polish(rgb, instance, depth, semantic, seed=1)
    b = polisher.polish(rgb, instance, depth, semantic, seed=1)
    c = polisher.polish(rgb, instance, depth, semantic, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_image_polish_resizes_to_the_working_resolution_and_back(tiny: dict[str, Any]) -> None:
    from simvision.polish.image import ImagePolisher

    rgb, instance, depth, semantic = small_frame()
    polisher = ImagePolisher(image_cfg(resolution=16), pipe=tiny["inpaint"], model_id="tiny")
    out = polisher.polish(rgb, instance, depth, semantic)
    assert out.shape == rgb.shape and np.array_equal(out[instance == 0], rgb[instance == 0])


class ShiftingPipe:
    """A stand-in 'model' that moves the first object 6 px to the right: what the check must catch."""

    vae_scale_factor = 1
    controlnet = None

    class unet:  # noqa: N801 - mimics pipe.unet.config.block_out_channels
        class config:  # noqa: N801
            block_out_channels = (4,)

    def __init__(self, shift: int = 6) -> None:
        self.shift = shift
        self.calls = 0

    def __call__(self, *, image: Any, **kwargs: Any) -> Any:
        self.calls += 1
        rgb = np.asarray(image).copy()
        rgb[:, self.shift :] = rgb[:, : -self.shift].copy()
        return type("Out", (), {"images": rgb[None].astype(np.float32) / 255.0})()


# -- datasets -----------------------------------------------------------------------------------------------
def make_dataset(root: Path, frames: int = 2) -> Path:
    """A minimal simvision dataset folder (images, instance, semantic, depth, frames.jsonl, COCO)."""
    for sub in ("images", "instance", "semantic", "depth", "metadata", "annotations"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    records = []
    for fid in range(frames):
        rgb, instance, depth, semantic = small_frame(seed=fid)
        stem = f"{fid:06d}"
        cv2.imwrite(str(root / "images" / f"{stem}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(root / "instance" / f"{stem}.png"), instance)
        cv2.imwrite(str(root / "semantic" / f"{stem}.png"), semantic)
        np.save(root / "depth" / f"{stem}.npy", depth)
        records.append({"frame_id": fid, "file_name": f"images/{stem}.png", "objects": [{"instance_id": 1}]})
    (root / "metadata" / "frames.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (root / "annotations" / "instances.json").write_text(
        json.dumps({"images": [], "annotations": [], "categories": []})
    )
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_polish_dataset_into_a_copy_then_in_place_is_idempotent(tiny: dict[str, Any], tmp_path: Path) -> None:
    from simvision.polish.dataset import polish_dataset
    from simvision.polish.image import ImagePolisher

    src = make_dataset(tmp_path / "src")
    before = snapshot(src)
    cfg = image_cfg(controlnet="tiny-controlnet", threshold=0.0)
    polisher = ImagePolisher(cfg, pipe=tiny["control"], model_id="tiny")
    summary = polish_dataset(src, cfg, out_dir=tmp_path / "out", polisher=polisher)
    assert snapshot(src) == before  # the source is never modified
    out = tmp_path / "out"
    assert summary.frames == 2 and summary.accepted == 2 and polisher.calls == 2
    frames = [json.loads(line) for line in (out / "metadata/frames.jsonl").read_text().splitlines()]
    for frame in frames:
        stem = f"{frame['frame_id']:06d}"
        raw = cv2.imread(str(out / "images_raw" / f"{stem}.png"))
        new = cv2.imread(str(out / "images" / f"{stem}.png"))
        instance = cv2.imread(str(out / "instance" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        assert (out / "images_raw" / f"{stem}.png").read_bytes() == before[f"images/{stem}.png"]
        assert np.array_equal(new[instance == 0], raw[instance == 0]) and not np.array_equal(new, raw)
        p = frame["polish"]
        assert p["accepted"] and p["applied"] and p["raw_file"] == f"images_raw/{stem}.png"
        assert p["model_id"] == "tiny" and p["strength"] == 0.5 and p["conditioning"] == "depth"
        assert {o["instance_id"] for o in p["objects"]} == {1, 2} and frame["objects"] == [{"instance_id": 1}]
    assert (out / "annotations/instances.json").read_bytes() == before["annotations/instances.json"]
    assert json.loads((out / "metadata/polish.json").read_text())["accepted"] == 2
    first = snapshot(out)
    # in place, again: starts from images_raw, so the result is the same bytes (seeded per frame)
    polish_dataset(out, cfg, polisher=polisher)
    assert snapshot(out) == first


@pytest.mark.parametrize("action", ["reject", "flag"])
def test_polish_dataset_rejects_or_flags_moved_objects(tmp_path: Path, action: str) -> None:
    from simvision.polish.dataset import polish_dataset
    from simvision.polish.image import ImagePolisher

    src = make_dataset(tmp_path / "ds", frames=1)
    raw_bytes = (src / "images/000000.png").read_bytes()
    cfg = image_cfg(mask="all", action=action)
    summary = polish_dataset(src, cfg, polisher=ImagePolisher(cfg, pipe=ShiftingPipe(), model_id="shift"))
    frame = json.loads((src / "metadata/frames.jsonl").read_text())
    p = frame["polish"]
    assert p["accepted"] is False and p["score"] < cfg.threshold and 1 in p["failed_objects"]
    if action == "reject":
        assert summary.rejected == 1 and p["applied"] is False
        assert (src / "images/000000.png").read_bytes() == raw_bytes  # the raw render and its labels stay
    else:
        assert summary.flagged == 1 and p["applied"] is True
        assert (src / "images/000000.png").read_bytes() != raw_bytes
    assert (src / "images_raw/000000.png").read_bytes() == raw_bytes


def test_polish_in_place_keeps_a_rendered_frames_checksums_true(tmp_path: Path) -> None:
    """A rendered frame's line is sealed with its image's SHA-256: polishing records the new image."""
    from simvision.io.frames import seal, seal_holds, sha256
    from simvision.polish.dataset import polish_dataset
    from simvision.polish.image import ImagePolisher

    src = make_dataset(tmp_path / "ds", frames=1)
    manifest = src / "metadata/frames.jsonl"
    frame = json.loads(manifest.read_text())
    frame["checksums"] = {"rgb": sha256((src / "images/000000.png").read_bytes())}
    manifest.write_text(json.dumps(seal(frame)) + "\n")
    cfg = image_cfg(mask="all", action="flag")  # applied: the image changes
    polish_dataset(src, cfg, polisher=ImagePolisher(cfg, pipe=ShiftingPipe(), model_id="shift"))
    frame = json.loads(manifest.read_text())
    assert frame["polish"]["applied"] and seal_holds(frame)
    assert (
        frame["checksums"]["rgb"]
        == sha256((src / "images/000000.png").read_bytes())
        != sha256((src / "images_raw/000000.png").read_bytes())
    )


def test_render_hook_matches_polishing_afterwards(tiny: dict[str, Any], tmp_path: Path) -> None:
    """Polishing inside the render loop and polishing the written dataset give the same image."""
    from simvision.polish.dataset import polish_dataset, polish_rendered_frame
    from simvision.polish.image import ImagePolisher

    cfg = image_cfg(threshold=0.0, seed=11)
    polisher = ImagePolisher(cfg, pipe=tiny["inpaint"], model_id="tiny")
    rgb, instance, depth, semantic = small_frame(seed=1)
    image, record = polish_rendered_frame(polisher, tmp_path / "live", 1, rgb, instance, depth, semantic)
    assert record["raw_file"] == "images_raw/000001.png" and record["applied"]
    raw = cv2.imread(str(tmp_path / "live/images_raw/000001.png"))
    assert np.array_equal(cv2.cvtColor(raw, cv2.COLOR_BGR2RGB), rgb)
    dataset = make_dataset(tmp_path / "ds", frames=2)
    polish_dataset(dataset, cfg, polisher=polisher, frame_ids=[1])
    after = cv2.cvtColor(cv2.imread(str(dataset / "images/000001.png")), cv2.COLOR_BGR2RGB)
    assert np.array_equal(after, image)
    frames = [json.loads(line) for line in (dataset / "metadata/frames.jsonl").read_text().splitlines()]
    assert "polish" not in frames[0] and frames[1]["polish"]["seed"] == record["seed"]


@pytest.mark.gpu
def test_image_polish_on_the_gpu_in_half_precision(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    from simvision.polish.image import ImagePolisher
    from simvision.polish.tiny import save_tiny_model

    save_tiny_model(tmp_path / "sd", controlnet_folder=tmp_path / "cn")
    cfg = image_cfg(model=str(tmp_path / "sd"), controlnet=str(tmp_path / "cn"), device="auto", dtype="auto")
    polisher = ImagePolisher(cfg)
    rgb, instance, depth, semantic = small_frame()
    a = polisher.polish(rgb, instance, depth, semantic, seed=3)
    assert polisher.pipe.device.type == "cuda" and polisher.pipe.unet.dtype == torch.float16
    assert np.array_equal(a[instance == 0], rgb[instance == 0])
    assert np.array_equal(a, polisher.polish(rgb, instance, depth, semantic, seed=3))


def test_polish_dataset_refuses_texture_mode(tmp_path: Path) -> None:
    from simvision.polish.dataset import polish_dataset

    with pytest.raises(PolishConfigError, match="before render"):
        polish_dataset(make_dataset(tmp_path / "ds", frames=1), texture_cfg(tmp_path))


# -- real loading path: a tiny model saved as an ordinary diffusers folder -------------------------------------
def test_models_load_from_local_folders_offline(
    tiny: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simvision.polish.dataset import polish_dataset
    from simvision.polish.textures import TextureGenerator
    from simvision.polish.tiny import save_tiny_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model, controlnet = tmp_path / "sd", tmp_path / "cn"
    save_tiny_model(model, controlnet_folder=controlnet)
    # textures: loaded lazily on the first miss, keyed by the folder's fingerprint
    cfg = texture_cfg(tmp_path / "cache", model=str(model), device="cpu")
    gen = TextureGenerator(cfg)
    path = gen.texture_for("cup")
    assert path is not None and path.is_file() and gen.calls == 1 and len(gen.model_id) == 16
    fresh = TextureGenerator(cfg)
    assert fresh.texture_for("cup") == path and fresh._pipe is None  # cache hit: the model is never loaded
    # image mode with a ControlNet, from folders
    dataset = make_dataset(tmp_path / "ds", frames=1)
    icfg = image_cfg(model=str(model), controlnet=str(controlnet), conditioning="depth", device="cpu", threshold=0.0)
    summary = polish_dataset(dataset, icfg, progress=False)
    assert summary.frames == 1
    p = json.loads((dataset / "metadata/frames.jsonl").read_text())["polish"]
    assert "+" in p["model_id"] and p["model"] == str(model) and p["controlnet"] == str(controlnet)


# -- CLI -----------------------------------------------------------------------------------------------------
def test_cli_tiny_smoke_runs_both_modes(
    tiny: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from simvision.cli.polish import main

    dataset = make_dataset(tmp_path / "ds", frames=1)
    rc = main(
        [
            str(dataset),
            "--tiny",
            "--out",
            str(tmp_path / "out"),
            "--no-progress",
            "steps=2",
            "strength=0.5",
            "guidance=2.0",
            "prompt=a photo",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    assert "1 frames polished" in capsys.readouterr().out
    assert "polish" in json.loads((tmp_path / "out/metadata/frames.jsonl").read_text())
    rc = main(
        [
            "--preset",
            "textures",
            "--tiny",
            "texture_size=32",
            "steps=2",
            "texture_variants=1",
            f"cache_dir={tmp_path / 'cache'}",
        ]
    )
    assert rc == 0
    assert len(list((tmp_path / "cache/textures").rglob("*.png"))) == len(
        set(to_polish_config(OmegaConf.load(CONF_DIR / "polish/textures.yaml")).prompts.values())
    )
    assert main([str(dataset), "strength=7"]) == 2
    assert "polish.strength" in capsys.readouterr().err


def test_tiny_builders_do_not_touch_the_global_rng() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from simvision.polish.tiny import tiny_controlnet

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = tiny_controlnet(seed=5)
    assert torch.equal(torch.rand(3), expected)
    b = tiny_controlnet(seed=5)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
