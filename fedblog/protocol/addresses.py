"""Which network addresses and URL shapes fedblog may fetch (SSRF rules). Pure: no I/O, no DNS."""

from __future__ import annotations


class UnsafeURL(ValueError):
    """A URL or address fedblog refuses to fetch; str(error) says why."""


def is_public_address(ip: str) -> bool:
    raise NotImplementedError


def check_url_shape(url: str) -> None:
    raise NotImplementedError
