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
