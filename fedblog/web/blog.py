"""(to be written)"""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register this module's routes."""
