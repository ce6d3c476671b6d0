"""The list of functions that attach feature modules to a Context (listeners, stores).

Each feature adds its `install(ctx)` here, so `open_context` stays the one place a context is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

INSTALLERS: list[Callable[[Any], None]] = []
