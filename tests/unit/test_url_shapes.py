"""The URL shape checks every inbound id goes through (protocol/addresses.py): one regex scan and a cache now,
the same answers as the character loop they replace; plain URLs read without urlsplit, with urlsplit's answers."""

from __future__ import annotations

import random
from urllib.parse import urlsplit

import pytest

from fedblog.protocol.addresses import MAX_URL_CHARS, _http_origin, is_http_url, same_origin


@pytest.mark.parametrize(
    "url",
    ["http://example.test/a", "https://example.test:8443/users/x?y=1#z", "http://127.0.0.1/inbox", "https://h/\x7f"],
)
def test_http_urls_accepted(url: str) -> None:
    assert is_http_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "", "ftp://example.test/", "javascript:alert(1)", "http:///path", "https://user@example.test/",
        "https://user:pw@example.test/", "http://example.test:99999/", "http://example.test:x/",
        "http://exa mple.test/", "http://example.test/\t", "http://example.test/\x00", "http://example.test/\x1f",
        "http://example.test/\u00a0", "http://example.test/\u2028", "http://example.test/\u0085",
        "http://example.test/\u3000", "http://example.test/" + "a" * MAX_URL_CHARS,
    ],
)  # fmt: skip
def test_malformed_or_dangerous_urls_refused(url: str) -> None:
    assert not is_http_url(url)
    assert not is_http_url(url)  # the cached answer is the same


@pytest.mark.parametrize("value", [None, 3, b"http://example.test/", ["http://example.test/"]])
def test_non_strings_refused(value: object) -> None:
    assert not is_http_url(value)


def test_same_origin_compares_scheme_host_and_port() -> None:
    assert same_origin("https://a.test/users/x", "https://A.test/notes/1")
    assert not same_origin("https://a.test/users/x", "http://a.test/notes/1")
    assert not same_origin("https://a.test/users/x", "https://a.test:444/notes/1")
    assert not same_origin("https://a.test/users/x", "https://b.test/users/x")
    assert not same_origin("https://a.test/users/x", "https://a.test/\u00a0")
    assert not same_origin("https://a.test/users/x", None)


def _origin_by_urlsplit(value: str) -> tuple[str, str, int | None] | None:
    """The reading the plain-URL fast path must agree with: urlsplit's, as _http_origin did it for every URL."""
    if not value or len(value) > MAX_URL_CHARS or any(ch.isspace() or ord(ch) < 32 for ch in value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.username:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port


_PIECES = ["a", "A.b", "1.2.3.4", "x-y.z", ".", "-", "_", "@", "u@", "[::1]", ":80", ":0", ":65535", ":65536",
           ":99999", ":00080", ":", "?q", "#f", "/p", "%2e", "é", ";", "\\", ":8a", "//"]  # fmt: skip


def test_origin_fast_path_agrees_with_urlsplit() -> None:
    # Every shape of URL an id may take, plain or not: the fast path answers only the plain ones.
    shuffled = random.Random(13)
    for _ in range(5_000):
        scheme = shuffled.choice(["http", "https", "HTTP", "Https", "httpx", "ftp", ""])
        url = scheme + "://" + "".join(shuffled.choice(_PIECES) for _ in range(shuffled.randint(0, 5)))
        _http_origin.cache_clear()
        assert _http_origin(url) == _origin_by_urlsplit(url), url


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://A.Example:8443/users/x?y#z", ("https", "a.example", 8443)),
        ("http://127.20.0.4:54771/users/reader1/statuses/2/activity", ("http", "127.20.0.4", 54771)),
        ("http://example.test?q", ("http", "example.test", None)),
        ("http://example.test:/x", ("http", "example.test", None)),
        ("http://exa_mple.test/x", ("http", "exa_mple.test", None)),
        ("http://[::1]:8080/x", ("http", "::1", 8080)),
        ("http://example.test:65536/", None),
    ],
)
def test_origin_of_plain_and_unusual_urls(url: str, origin: tuple[str, str, int | None] | None) -> None:
    _http_origin.cache_clear()
    assert _http_origin(url) == origin
