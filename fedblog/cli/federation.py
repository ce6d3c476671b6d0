"""`fedblog followers …` and `fedblog queue status` (written with the federation issue)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Register the federation commands."""
