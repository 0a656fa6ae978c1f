#!/usr/bin/env bash
# Render the same small procedural street with a base commit and with the working tree; list every output
# file that differs. Usage: scripts/check_procedural_unchanged.sh BASE_COMMIT OUT_DIR [OVERRIDE ...]
set -euo pipefail
base=$1; out=$2; shift 2
py=${PYTHON:-python}
here=$(pwd)
mkdir -p "$out/base_src"
git archive "$base" | tar -x -C "$out/base_src"
args=(scene=street num_frames=2 seed=11 "render.resolution=[96,48]" render.samples=2 render.device=cpu
  render.denoiser=none output.card=false hydra.output_subdir=null "$@")
(cd "$out/base_src" && PYTHONPATH=$PWD "$py" -m simvision.cli.render "output_dir=$out/base" "hydra.run.dir=$out/hydra" "${args[@]}")
(cd "$here" && PYTHONPATH=$PWD "$py" -m simvision.cli.render "output_dir=$out/new" "hydra.run.dir=$out/hydra" "${args[@]}")
cd "$out/base"
for f in $(find images instance semantic annotations metadata -type f | sort); do
  cmp -s "$f" "../new/$f" && echo "same $f" || echo "DIFF $f"
done
