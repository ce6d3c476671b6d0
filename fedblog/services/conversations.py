"""Conversation wiring (issue: conversations): installs its comment listeners on a Context."""

from __future__ import annotations

from typing import Any


def install(ctx: Any) -> None:
    """Attach conversation listeners to the context."""
