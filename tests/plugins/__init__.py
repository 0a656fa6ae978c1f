"""Plug-ins defined only in the tests: they prove that a new scene type or label format needs no edit elsewhere."""
