"""SSRF rules: only globally routable addresses and plain http(s) URLs are fetched."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from fedblog.protocol.addresses import UnsafeURL, check_url_shape, host_of, is_public_address


@pytest.mark.parametrize("ip", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_is_public_address__global_unicast_is_public(ip):
    assert is_public_address(ip)


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "100.127.255.254",
        "169.254.169.254",
        "224.0.0.1",
        "239.255.255.250",
        "0.0.0.0",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.10",
        "::1",
        "::",
        "fc00::1",
        "fd00:ec2::254",
        "fe80::1",
        "fe80::1%eth0",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",
        "64:ff9b::a00:1",
        "not an address",
        "",
    ],
)
def test_is_public_address__internal_addresses_are_refused(ip):
    assert not is_public_address(ip)


@pytest.mark.parametrize("url", ["https://mastodon.example/users/alice", "http://127.0.0.1:8080/actor?x=1"])
def test_check_url_shape__plain_http_urls_pass(url):
    check_url_shape(url)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://example.com/",
        "ftp://example.com/x",
        "https://user:pass@example.com/",
        "https://user@example.com/",
        "https:///nohost",
        "https://example.com:99999/",
        "https://exa mple.com/",
        "javascript:alert(1)",
        "",
    ],
)
def test_check_url_shape__unsafe_urls_are_refused(url):
    with pytest.raises(UnsafeURL):
        check_url_shape(url)


@pytest.mark.parametrize(
    "url",
    ["http://%31%32%37.0.0.1/actor", "http://a..b/", "http://-bad-.example/", "http://x" + "y" * 64 + ".example/"],
)
def test_check_url_shape__refuses_host_names_no_resolver_should_see(url: str) -> None:
    with pytest.raises(UnsafeURL, match="invalid host name"):
        check_url_shape(url)


@pytest.mark.parametrize(
    "url", ["http://bücher.example/", "https://x_y.example/", "http://[::1]:8/", "http://0x7f000001/"]
)
def test_check_url_shape__keeps_names_and_literals_a_resolver_reads(url: str) -> None:
    check_url_shape(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://Mastodon.Example/users/a",
        "http://127.10.0.1:8000/inbox",
        "https://h.example?x=1",
        "https://h.example#top",
        "https://h.example",
        "https://user@h.example:443/x",
        "https://[::1]:8000/x",
        "https://bücher.example/a",
        "https://h.ex\tample/a",
        "HTTPS://H.EXAMPLE/a",
        "ftp://h.example/a",
        "https:///nohost",
    ],
)
def test_host_of__the_url_netloc_lowercased(url: str) -> None:
    assert host_of(url) == urlsplit(url).netloc.lower()
