"""fedblog.protocol.pingback and trackback: the ping's arguments and faults, discovery, the source's context."""

from __future__ import annotations

import pytest

from fedblog.protocol import pingback, trackback
from fedblog.protocol.xmlrpc import MethodCall

PAGE = "https://site.example/2024/05/a-post/"
TARGET = "https://blog.example/posts/hello"


def test_ping_arguments__source_and_target() -> None:
    call = MethodCall("pingback.ping", (f" {PAGE} ", TARGET))
    assert pingback.ping_arguments(call) == (PAGE, TARGET)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (MethodCall("system.listMethods", ()), pingback.METHOD_NOT_FOUND),
        (MethodCall("wp.getUsersBlogs", ("admin", "secret")), pingback.METHOD_NOT_FOUND),
        (MethodCall("pingback.ping", (PAGE,)), pingback.INVALID_PARAMS),
        (MethodCall("pingback.ping", (PAGE, 3)), pingback.INVALID_PARAMS),
        (MethodCall("pingback.ping", ("file:///etc/passwd", TARGET)), pingback.SOURCE_NOT_FOUND),
        (MethodCall("pingback.ping", (PAGE, "javascript:alert(1)")), pingback.TARGET_NOT_FOUND),
        (MethodCall("pingback.ping", (TARGET, TARGET + "#frag")), pingback.SOURCE_HAS_NO_LINK),
    ],
)
def test_ping_arguments__faults(call: MethodCall, code: int) -> None:
    with pytest.raises(pingback.PingbackFault) as raised:
        pingback.ping_arguments(call)
    assert raised.value.fault.code == code


@pytest.mark.parametrize(
    ("header", "document", "expected"),
    [
        ("https://site.example/xmlrpc.php", None, "https://site.example/xmlrpc.php"),
        ("/xmlrpc.php", '<link rel="pingback" href="https://elsewhere.example/x">', "https://site.example/xmlrpc.php"),
        (None, '<html><head><link rel="pingback" href="https://site.example/xmlrpc.php" /></head>',
         "https://site.example/xmlrpc.php"),
        (None, '<link rel="stylesheet" href="/s.css"><link rel="pingback" href="../../xmlrpc.php">',
         "https://site.example/2024/xmlrpc.php"),
        (None, '<!-- <link rel="pingback" href="/commented"> --><p>none</p>', None),
        (None, '<a rel="pingback" href="/xmlrpc.php">an anchor is not discovery</a>', None),
        (None, '<link rel="pingback" href="javascript:x">', None),
        ("", None, None),
    ],
)  # fmt: skip
def test_discover_server(header: str | None, document: str | None, expected: str | None) -> None:
    assert pingback.discover_server(header, document, PAGE) == expected


def test_source_context__title_and_words_around_the_link() -> None:
    words = " ".join(f"word{i}" for i in range(60))
    document = f"""<html><head><title>Que ferait le Community manager ? | Manager une communauté</title></head>
    <body><script>document.write('<a href="{TARGET}">not this</a>')</script><p>{words}
    Comme le dit <a href="/posts/../../posts/hello">ce billet</a>, il écoute &amp; répond. {words}</p></body></html>"""
    found = pingback.source_context(document, "https://blog.example/x/y", TARGET)
    assert found.title == "Que ferait le Community manager ? | Manager une communauté"
    assert "Comme le dit ce billet, il écoute & répond." in found.excerpt
    assert found.excerpt.startswith("word") and found.excerpt.endswith(tuple(f"word{i}" for i in range(60)))
    assert len(found.excerpt) <= 2 * pingback.CONTEXT_CHARS + len("ce billet")
    assert "not this" not in found.excerpt


def test_source_context__no_link_no_excerpt() -> None:
    found = pingback.source_context("<title>T</title><p>No <a href='https://x.example/'>link</a></p>", PAGE, TARGET)
    assert found == pingback.SourceContext("T", "")


def test_parse_trackback__fields_as_plain_text() -> None:
    ping = trackback.parse_trackback(
        {"url": f" {PAGE} ", "title": "<b>Bold</b> title", "excerpt": "x" * 1000, "blog_name": "<script>1</script>B"}
    )
    assert ping == trackback.Trackback(PAGE, "Bold title", "x" * trackback.EXCERPT_CHARS, "B")


@pytest.mark.parametrize("fields", [{}, {"url": ""}, {"url": "ftp://x.example/"}, {"title": "no url"}])
def test_parse_trackback__needs_an_http_url(fields: dict[str, str]) -> None:
    with pytest.raises(trackback.InvalidTrackback):
        trackback.parse_trackback(fields)


def test_response_xml__success_and_error() -> None:
    assert b"<response>\n<error>0</error>\n</response>" in trackback.response_xml()
    assert b"<error>1</error>\n<message>no &lt;url&gt;</message>" in trackback.response_xml("no <url>")
