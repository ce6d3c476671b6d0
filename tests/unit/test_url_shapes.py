"""The URL shape checks every inbound id goes through (protocol/addresses.py): one regex scan and a cache now,
the same answers as the character loop they replace."""

from __future__ import annotations

import pytest

from fedblog.protocol.addresses import MAX_URL_CHARS, is_http_url, same_origin


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
