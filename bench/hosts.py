"""Simulated remote servers are distinct loopback addresses: 127.10.0.1, 127.10.0.2, … (all of 127/8 is local)."""

from __future__ import annotations


def host_address(index: int) -> str:
    """The address of simulated host number `index`; never 127.0.0.1, where the blog listens."""
    return f"127.{10 + index // 62_500}.{(index // 250) % 250}.{index % 250 + 1}"
