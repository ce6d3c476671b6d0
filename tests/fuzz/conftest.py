"""Hypothesis profiles: `ci` (the default) is derandomized, so every run tries the same inputs and a failure
reproduces; `fuzz` (make fuzz) tries many more, with fresh randomness each run."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile(os.environ.get("FEDBLOG_FUZZ_PROFILE", "ci"))
