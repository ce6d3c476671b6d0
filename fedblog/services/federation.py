"""Federation wiring (issue: federation): installs its stores and post listeners on a Context."""

from __future__ import annotations

from typing import Any


def install(ctx: Any) -> None:
    """Attach federation listeners and stores to the context."""
