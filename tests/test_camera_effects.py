"""Camera effects on the rendered RGB (simvision/render/effects.py): rain as a camera records it."""

from __future__ import annotations

import numpy as np

from simvision.render.effects import rain_streaks


def _sky_over_road(h: int = 120, w: int = 160) -> np.ndarray:
    """A bright sky over a dark road: the two backgrounds rain streaks meet."""
    image = np.full((h, w, 3), 30, dtype=np.uint8)
    image[: h // 2] = 235
    return image


def test_rain_streaks_show_against_dark_ground_and_vanish_against_the_sky() -> None:
    image = _sky_over_road()
    rainy = rain_streaks(image, 400, np.random.default_rng(0))
    change = rainy.astype(np.float64) - image
    road, sky = change[80:], change[:40]  # away from the horizon, where the blur mixes the two
    assert (road.max(axis=2) > 10).mean() > 0.05 and road.max() > 40  # streaks brighten the dark road
    assert np.abs(sky).max() <= 12  # a drop is about as bright as the sky it refracts: no white lines on it
    # faint: a drop crosses a pixel in part of the exposure, so the road is not washed out, nor lines opaque
    assert road.mean() < 12 and np.percentile(road, 99.9) < 0.45 * (255 + 10 - 30)
    assert rain_streaks(image, 0, np.random.default_rng(0)) is image
    assert np.array_equal(rain_streaks(image, 400, np.random.default_rng(0)), rainy)  # seeded


def test_rain_streaks_are_longer_in_a_long_night_exposure() -> None:
    image = _sky_over_road()
    day = rain_streaks(image, 150, np.random.default_rng(1))
    night = rain_streaks(image, 150, np.random.default_rng(1), long_exposure=True)
    touched = {
        name: int((np.abs(img.astype(int) - image)[60:].max(axis=2) > 3).sum())
        for name, img in (("day", day), ("night", night))
    }
    assert touched["night"] > 1.3 * touched["day"], touched


def test_glow_and_lens_dirt_on_a_large_frame_match_full_resolution_blurs() -> None:
    """Bloom and lens dirt blur over a fortieth to a fifteenth of the frame; they do it on a small copy
    (seconds to milliseconds on 1080p). Against the same formulas blurred at full resolution: within 2 levels."""
    import cv2

    from simvision.render.effects import bloom, lens_dirt

    h, w = 300, 800
    image = np.full((h, w, 3), 20, dtype=np.uint8)
    cv2.circle(image, (200, 150), 6, (255, 250, 240), -1)  # a headlight
    cv2.rectangle(image, (500, 0), (800, 90), (120, 130, 150), -1)  # a lit sky corner
    f = image.astype(np.float32) / 255.0
    bright = np.clip((f.max(axis=2, keepdims=True) - 0.92) / 0.08, 0, 1) * f
    sigma = max(h, w) / 40.0
    glow = cv2.GaussianBlur(bright, (0, 0), sigma) + cv2.GaussianBlur(bright, (0, 0), 4 * sigma)
    reference = np.clip((f + 0.6 * glow) * 255.0, 0, 255).astype(np.uint8)
    fast = bloom(image)
    assert np.abs(fast.astype(int) - reference).max() <= 2
    assert fast[150, 215].mean() >= image[150, 215].mean() + 4  # the glow spreads past the light (6 px)
    dirty = lens_dirt(image, np.random.default_rng(3))
    assert (dirty.astype(int) - image).max() > 3 and (dirty.astype(int) >= image).all()  # smudges only add light
