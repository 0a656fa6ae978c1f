"""The closed loop (issue 15): find where the detector fails, render more of exactly that, compare with
uniform sampling. ``weights`` (the pure rule), ``knobs`` (strata -> generator overrides), ``run`` (the loop)."""
