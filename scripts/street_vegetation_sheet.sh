#!/usr/bin/env bash
# Before/after contact sheet of street frames: scene.assets=procedural (no vegetation) vs infinigen (vegetation),
# same seed, dash-cam set-up (621x188), clear day. Usage: scripts/street_vegetation_sheet.sh OUT_DIR CACHE_DIR
# [FRAMES] [OVERRIDE ...] (overrides apply to the infinigen run, e.g. scene.vegetation.factories.tree=...).
# The sheet (procedural row, infinigen row, changed-pixel row) is written to docs/street_vegetation.png.
set -euo pipefail
out=$1; cache=$2; frames=${3:-3}; shift 3 || shift $#
py=${PYTHON:-python}
common=(scene=street "num_frames=$frames" seed=4 "render.resolution=[621,188]" render.samples=16 render.device=cpu
  output.card=false "scene.camera_hfov_deg=[78,84]" "scene.camera_height=[1.6,1.7]"
  "scene.conditions.weather={clear:1.0,overcast:0.0,fog:0.0,rain:0.0}"
  "scene.conditions.time_of_day={day:1.0,low_sun:0.0,dusk:0.0,night:0.0}"
  "scene.infinigen.variants=1" "scene.infinigen.cache_dir=$cache")
for assets in procedural infinigen; do
  extra=(); [ "$assets" = infinigen ] && extra=("$@")
  "$py" -m simvision.cli.render "output_dir=$out/$assets" "scene.assets=$assets" "${common[@]}" \
    "hydra.run.dir=$out/hydra" hydra.output_subdir=null "${extra[@]}"
done
"$py" scripts/vegetation_diff_sheet.py docs/street_vegetation.png "$out/procedural" "$out/infinigen" --n "$frames" --width 560
