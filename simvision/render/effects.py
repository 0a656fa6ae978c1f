"""Camera effects applied to the rendered RGB only (pure numpy/OpenCV, seeded).

Geometry is untouched, so labels still match: blur kernels are at most a few pixels and centred,
streaks, dirt, bloom and noise change colours, not where objects are.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from simvision.scene.conditions import Conditions


def fog(image: np.ndarray, depth: np.ndarray, density: float, airlight: np.ndarray | None = None) -> np.ndarray:
    """Koschmieder's law on the exact metric depth: I = I0 * t + A * (1 - t), t = exp(-density * d).

    Pixels with no surface (depth 0: the sky) take the airlight. Compositing on the rendered depth
    keeps every label exact; Cycles volume scattering would also scatter the object-index pass.
    """
    if density <= 0:
        return image
    f = image.astype(np.float32)
    sky = depth <= 0
    if airlight is None:
        airlight = f[sky].mean(axis=0) if sky.sum() > 16 else np.percentile(f.reshape(-1, 3), 90, axis=0)
        airlight = 0.5 * airlight + 0.5 * airlight.mean()  # fog is greyer than the sky behind it
    t = np.where(sky, 0.0, np.exp(-density * depth)).astype(np.float32)[..., None]
    return np.clip(f * t + np.asarray(airlight, dtype=np.float32) * (1 - t), 0, 255).astype(np.uint8)


def motion_blur(image: np.ndarray, length_px: float, angle_deg: float) -> np.ndarray:
    """Linear motion blur, a centred line kernel (so edges do not move on average)."""
    n = int(round(length_px))
    if n < 2:
        return image
    size = 2 * n + 1
    kernel = np.zeros((size, size), dtype=np.float32)
    c = n
    dx, dy = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    cv2.line(
        kernel,
        (int(round(c - dx * n / 2)), int(round(c - dy * n / 2))),
        (int(round(c + dx * n / 2)), int(round(c + dy * n / 2))),
        1.0,
        1,
    )
    kernel /= kernel.sum()
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT)


WIDE_BLUR_PX = 160  # wide blurs (a fortieth of the frame and more) run on a copy this wide: same result, any size


def wide_blur(image: np.ndarray, sigma_fraction: float) -> np.ndarray:
    """A Gaussian blur of ``sigma_fraction`` of the frame's longer side, computed on a copy
    :data:`WIDE_BLUR_PX` across and scaled back (float32): a blur this wide has no detail a smaller copy
    loses, and on a 1080p frame it takes milliseconds instead of seconds."""
    h, w = image.shape[:2]
    scale = min(1.0, WIDE_BLUR_PX / max(h, w))
    small = image.astype(np.float32)
    if scale < 1.0:
        small = cv2.resize(small, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), sigma_fraction * max(small.shape[:2]))
    if scale < 1.0:
        blurred = cv2.resize(blurred, (w, h), interpolation=cv2.INTER_LINEAR)
    return blurred.reshape(image.shape).astype(np.float32)


def bloom(image: np.ndarray, threshold: float = 0.92, strength: float = 0.6) -> np.ndarray:
    """Glow around the brightest pixels: how headlights and a low sun flood a real sensor."""
    f = image.astype(np.float32) / 255.0
    bright = np.clip((f.max(axis=2, keepdims=True) - threshold) / (1 - threshold), 0, 1) * f
    glow = wide_blur(bright, 1 / 40.0) + wide_blur(bright, 4 / 40.0)
    return np.clip((f + strength * glow) * 255.0, 0, 255).astype(np.uint8)


# falling drops as a camera sees them, in three depth layers: (share of the drops, streak length as a fraction
# of the image height, width as a fraction of the image width (at least 1 px), opacity range, blur in pixels).
# A drop crosses a pixel in a small part of the exposure, so its streak is faint; far drops are thin and many,
# near ones are wide, soft (out of focus) and few
RAIN_LAYERS: tuple[tuple[float, tuple[float, float], float, tuple[float, float], float], ...] = (
    (0.65, (0.02, 0.05), 0.0, (0.15, 0.35), 0.5),
    (0.3, (0.05, 0.12), 0.0, (0.2, 0.4), 0.8),
    (0.05, (0.15, 0.35), 0.015, (0.08, 0.18), 2.5),
)


def rain_streaks(image: np.ndarray, count: int, rng: np.random.Generator, *, long_exposure: bool = False) -> np.ndarray:
    """Falling rain as a camera records it (after Garg and Nayar's streak model): each drop is a slanted
    streak as long as its fall during the exposure (twice as long with ``long_exposure``: night), faint, in
    three depth layers (:data:`RAIN_LAYERS`), and as bright as the light a drop gathers: a drop refracts a wide
    view of the scene, the bright sky included, so a streak shows against a dark facade or road and vanishes
    against the sky (the brighter of the scene around it and the scene's bright end, not a fixed white)."""
    if count <= 0:
        return image
    h, w = image.shape[:2]
    alpha = np.zeros((h, w), dtype=np.float32)
    slant = rng.uniform(-0.3, 0.3)
    stretch = 2.0 if long_exposure else 1.0
    for share, (l0, l1), width, (a0, a1), blur in RAIN_LAYERS:
        layer = np.zeros((h, w), dtype=np.float32)
        thickness = max(1, int(round(width * w)))
        for _ in range(int(round(count * share))):
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            length = rng.uniform(l0, l1) * h * stretch
            end = (int(x + slant * length), int(y + length))
            cv2.line(layer, (int(x), int(y)), end, float(rng.uniform(a0, a1)), thickness)
        alpha = np.maximum(alpha, cv2.GaussianBlur(layer, (0, 0), blur))
    ys, xs = np.nonzero(alpha > 1e-3)  # streaks cover a small part of the frame: blend only there
    around = wide_blur(image, 1 / 12.0)  # the light around each pixel
    p90 = np.percentile(image[:: max(1, h // 128), :: max(1, w // 128)].reshape(-1, 3), 90, axis=0)
    light = np.minimum(np.maximum(around[ys, xs], p90) + 10.0, 255.0)
    a = alpha[ys, xs][:, None]
    out = image.copy()
    out[ys, xs] = np.clip(image[ys, xs].astype(np.float32) * (1 - a) + light * a, 0, 255).astype(np.uint8)
    return out


def lens_dirt(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Soft smudges on the lens, lit by the scene's bright regions."""
    h, w = image.shape[:2]
    dirt = np.zeros((h, w), dtype=np.float32)
    for _ in range(int(rng.integers(6, 20))):
        cv2.circle(
            dirt,
            (int(rng.uniform(0, w)), int(rng.uniform(0, h))),
            int(rng.uniform(0.02, 0.1) * w),
            float(rng.uniform(0.2, 1.0)),
            -1,
        )
    dirt = wide_blur(dirt, w / 60.0 / max(h, w))
    light = wide_blur(image.astype(np.float32).mean(axis=2), w / 15.0 / max(h, w)) / 255.0
    f = image.astype(np.float32) + (80.0 * dirt * light)[..., None]
    return np.clip(f, 0, 255).astype(np.uint8)


def sensor_noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Shot noise (grows with signal) plus read noise, sigma as a fraction of full scale."""
    if sigma <= 0:
        return image
    f = image.astype(np.float32) / 255.0
    noise = rng.normal(0.0, 1.0, size=f.shape).astype(np.float32) * (sigma * (0.5 + np.sqrt(f)))
    return np.clip((f + noise) * 255.0, 0, 255).astype(np.uint8)


def apply_camera_effects(
    image: np.ndarray, depth: np.ndarray, conditions: Conditions, rng: np.random.Generator
) -> np.ndarray:
    """All effects in order: atmosphere (fog), optics (bloom, dirt), motion, rain on the lens, noise."""
    out = fog(image, depth, conditions.fog_density)
    if conditions.glare or conditions.night:
        out = bloom(out, strength=0.8 if conditions.glare else 0.4)
    if conditions.lens_dirt:
        out = lens_dirt(out, rng)
    out = motion_blur(out, conditions.motion_blur_px, float(rng.uniform(-10, 10)))
    out = rain_streaks(out, conditions.rain_streaks, rng, long_exposure=conditions.night)
    return sensor_noise(out, conditions.sensor_noise, rng)


def cutout(image: np.ndarray, instance: np.ndarray, keep: float) -> np.ndarray:
    """A catalogue cut-out: every pixel no labelled object covers (``instance`` 0) goes to white, keeping ``keep``
    of its distance from white (0: pure white; 0.3: a faint shadow and the sweep's shading stay)."""
    out = image.copy()
    background = instance == 0
    out[background] = (255.0 - (255.0 - image[background].astype(np.float32)) * keep).round().astype(np.uint8)
    return out


def final_colours(spec: Any, seed: list[int], cam_index: int, view: Any) -> np.ndarray:
    """A frame's RGB after its scene's camera effects (colours only, never geometry).

    The writer is handed this function (it never imports the renderer or the scene samplers);
    the effects draw from their own seed, so they are the same wherever they run. ``spec.effects`` holds a
    street scene's :class:`Conditions`, or a studio scene's ``cutout_keep`` (:func:`cutout`).
    """
    if spec.effects is None:
        return view.rgb
    if "cutout_keep" in spec.effects:
        return cutout(view.rgb, view.instance, float(spec.effects["cutout_keep"]))
    effects_rng = np.random.default_rng(np.random.SeedSequence([*seed, cam_index, 1]))
    return apply_camera_effects(view.rgb, view.depth, Conditions(**spec.effects), effects_rng)
