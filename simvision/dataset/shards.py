"""Which scenes and frames a shard renders, and the seed of each scene: pure arithmetic."""

from __future__ import annotations

import math


def scene_seed(seed: int, scene_index: int) -> list[int]:
    """Seed words of one scene: independent of num_frames and of sharding, so a frame is the same
    whether it is rendered alone, in a shard, or in one big job."""
    return [int(seed), int(scene_index)]


def shard_scenes(num_frames: int, per_scene: int, index: int, count: int) -> range:
    """Contiguous block of scene indices of shard ``index`` out of ``count``."""
    n_scenes = math.ceil(num_frames / per_scene)
    size = math.ceil(n_scenes / count)
    return range(min(index * size, n_scenes), min((index + 1) * size, n_scenes))


def scene_frames(scene_index: int, per_scene: int, num_frames: int) -> list[int]:
    """Frame ids rendered from one scene (the last scene may have fewer views)."""
    first = scene_index * per_scene
    return list(range(first, min(first + per_scene, num_frames)))
