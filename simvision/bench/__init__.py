"""Benchmarks: simvision against a plain BlenderProc loop, and worker scaling. Numbers, never
assertions; the scripts in ``scripts/`` are thin wrappers over these modules."""
