"""The functions that attach feature modules to a Context (listeners, stores).

`open_context` calls each, so a context made by `serve`, the CLI or a test is always complete.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def installers() -> list[Callable[[Any], None]]:
    from fedblog.services import conversations, federation, webmention_send

    return [federation.install, conversations.install, webmention_send.install]
