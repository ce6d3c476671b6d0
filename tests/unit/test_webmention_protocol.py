"""fedblog.protocol.webmention: request checks, discovery (the webmention.rocks cases), link checking, mf2."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fedblog.protocol import webmention as wm

PAGE = "https://site.example/notes/1"
TARGET = "https://blog.example/posts/hello"


@pytest.mark.parametrize(
    ("headers", "document", "expected"),
    [
        (['<https://wm.example/endpoint>; rel="webmention"'], None, "https://wm.example/endpoint"),
        (["</endpoint>; rel=webmention"], None, "https://site.example/endpoint"),
        (
            ['<https://x.example/a>; rel="other", </e2>; rel="webmention somethingelse"'],
            None,
            "https://site.example/e2",
        ),
        (['</first>; rel="other"', "</second>; rel=webmention"], None, "https://site.example/second"),
        (['</header>; rel="webmention"'], '<link rel="webmention" href="/html">', "https://site.example/header"),
        (
            [],
            '<html><head><link rel="webmention" href="endpoint?a=1&amp;b=2"></head></html>',
            PAGE[:-1] + "endpoint?a=1&b=2",
        ),
        (
            [],
            '<a rel="webmention" href="/from-a">x</a><link rel="webmention" href="/later">',
            "https://site.example/from-a",
        ),
        ([], '<link rel="webmention" href="">', PAGE),
        (
            [],
            '<!-- <link rel="webmention" href="/commented"> --><a rel="webmention" href="/real">',
            "https://site.example/real",
        ),
        ([], '<link rel="not-webmention" href="/no"><link rel="webmention" href="/yes">', "https://site.example/yes"),
        ([], '<link rel="webmention"><a href="/x" rel="webmention">', "https://site.example/x"),
        ([], "<p>nothing here</p>", None),
        ([], '<link rel="webmention" href="javascript:alert(1)">', None),
    ],
)
def test_discover_endpoint__spec_cases(headers: list[str], document: str | None, expected: str | None) -> None:
    assert wm.discover_endpoint(headers, document, PAGE) == expected


@pytest.mark.parametrize(
    ("document", "content_type", "links"),
    [
        (f'<a href="{TARGET}">x</a>', "text/html", True),
        ('<a href="HTTPS://Blog.Example:443/posts/hello/#comments">x</a>', "text/html", True),
        ('<base href="https://blog.example/posts/"><img src="hello">', "text/html", True),
        (f'<blockquote cite="{TARGET}">quoted</blockquote>', "text/html", True),
        (f"<p>{TARGET}</p>", "text/html", False),  # text in HTML is not a link
        (f'<a href="{TARGET}-two">x</a>', "text/html", False),  # a longer URL containing the target
        (f'<!-- <a href="{TARGET}">x</a> -->', "text/html", False),
        (f"I liked {TARGET}.", "text/plain", True),
        (f"I liked {TARGET}-two", "text/plain", False),
    ],
)
def test_source_links_to__real_links_only(document: str, content_type: str, links: bool) -> None:
    assert wm.source_links_to(document, content_type, PAGE, TARGET) is links


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("", TARGET, "required"),
        ("mailto:a@b.example", TARGET, "'source' must be"),
        (PAGE, "/posts/hello", "'target' must be"),
        ("https://user@site.example/", TARGET, "'source' must be"),
        (TARGET + "#frag", TARGET, "different"),
    ],
)
def test_check_request__refusals(source: str, target: str, message: str) -> None:
    with pytest.raises(wm.InvalidRequest, match=message):
        wm.check_request(source, target)


def entry(kind_class: str, author: str = "") -> str:
    return f"""<div class="h-entry"><a class="u-url" href="{PAGE}">permalink</a>
      {author}<a class="{kind_class}" href="{TARGET}">target</a>
      <div class="e-content"><p>Hello <b>there</b> &amp; welcome</p><script>alert(1)</script></div></div>"""


@pytest.mark.parametrize(
    ("kind_class", "kind"),
    [
        ("u-in-reply-to", wm.REPLY),
        ("u-like-of", wm.LIKE),
        ("u-repost-of", wm.REPOST),
        ("u-bookmark-of", wm.BOOKMARK),
        ("u-mention-of", wm.MENTION),
    ],
)
def test_parse_mention__kind_from_the_entry(kind_class: str, kind: str) -> None:
    assert wm.parse_mention(entry(kind_class), "text/html", PAGE, TARGET).kind == kind


def test_parse_mention__author_from_the_h_card_and_a_plain_excerpt() -> None:
    card = (
        '<span class="p-author h-card"><a class="u-url p-name" href="/me">Ann <i>E.</i></a>'
        '<img class="u-photo" src="/a.png"></span>'
    )
    mention = wm.parse_mention(entry("u-in-reply-to", card), "text/html", PAGE, TARGET)
    assert (mention.author_name, mention.author_url, mention.author_photo) == (
        "Ann E.",
        "https://site.example/me",
        "https://site.example/a.png",
    )
    assert mention.excerpt == "Hello there & welcome"
    assert wm.excerpt_html(mention.excerpt) == "<p>Hello there &amp; welcome</p>"


def test_parse_mention__without_microformats_the_author_is_the_host() -> None:
    mention = wm.parse_mention(f'<p><a href="{TARGET}">x</a></p>', "text/html", PAGE, TARGET)
    assert (mention.kind, mention.author_name, mention.author_url) == (wm.MENTION, "site.example", None)


def test_parse_mention__long_content_is_cut() -> None:
    words = "word " * 200
    document = (
        f'<div class="h-entry"><a class="u-in-reply-to" href="{TARGET}">t</a><p class="e-content">{words}</p></div>'
    )
    excerpt = wm.parse_mention(document, "text/html", PAGE, TARGET).excerpt
    assert len(excerpt) <= wm.EXCERPT_CHARS and excerpt.endswith("…")


def test_parse_mention__an_author_photo_must_be_http() -> None:
    card = (
        '<span class="p-author h-card"><span class="p-name">Eve</span><img class="u-photo" src="javascript:x"></span>'
    )
    assert wm.parse_mention(entry("u-like-of", card), "text/html", PAGE, TARGET).author_photo is None


def test_outbound_links__external_pages_without_mentions_and_tags() -> None:
    body = (
        '<p><a href="https://a.example/x#part">a</a> <a href="/posts/mine">mine</a> <a href="mailto:x@y.example">m</a>'
        ' <a class="mention" href="https://social.example/@bob">@bob</a> <a href="https://a.example/x">again</a></p>'
    )
    assert wm.outbound_links(body, "https://blog.example/posts/p") == [
        "https://a.example/x",
        "https://blog.example/posts/mine",
    ]


def test_author_key__a_claimed_url_on_another_host_does_not_count() -> None:
    assert wm.author_key("https://site.example/me/", PAGE) == "https://site.example/me"
    assert wm.author_key("https://famous.example/", PAGE) == "site.example"


def test_retry_delay__a_few_tries_then_give_up() -> None:
    assert wm.retry_delay(1) == timedelta(minutes=1)
    assert wm.retry_delay(2, retry_after=3600) == timedelta(hours=1)
    assert wm.retry_delay(len(wm.RETRY_DELAYS) + 1) is None
    assert wm.is_retryable(None) and wm.is_retryable(503) and not wm.is_retryable(404)


def test_source_links_to__hostile_markup_is_read_in_linear_time() -> None:
    # Python 3.11's html.parser took minutes over these (quadratic); the scan reads html5ever's rewrite of them.
    unclosed_comments = "<!--" * 250_000 + f'<a href="{TARGET}">x</a>'
    unclosed_quotes = "<a b='" * 60_000
    real_link_after_junk = "<a b='" * 20_000 + f'\'>\n<p><a href="{TARGET}">the post</a></p>'
    assert not wm.source_links_to(unclosed_comments, "text/html", PAGE, TARGET)  # all of it is one comment
    assert not wm.source_links_to(unclosed_quotes, "text/html", PAGE, TARGET)
    assert wm.source_links_to(f'<p><a href="{TARGET}">ok</a></p>' + real_link_after_junk, "text/html", PAGE, TARGET)


def test_parse_mention__an_author_on_another_host_keeps_only_the_name() -> None:
    card = (
        '<span class="p-author h-card"><a class="u-url p-name" href="https://mastodon.example/@famous">Famous</a>'
        '<img class="u-photo" src="https://mastodon.example/famous.png"></span>'
    )
    mention = wm.parse_mention(entry("u-in-reply-to", card), "text/html", PAGE, TARGET)
    assert (mention.author_name, mention.author_url, mention.author_photo) == ("Famous", None, None)


def test_parse_mention__a_reply_to_one_comment_names_it_by_the_links_fragment() -> None:
    def page(kind_class: str, href: str) -> str:
        return f'<div class="h-entry"><a class="{kind_class}" href="{href}">x</a><p class="e-content">Hi</p></div>'

    reply = wm.parse_mention(page("u-in-reply-to", f"{TARGET}#comment-12"), "text/html", PAGE, TARGET)
    assert (reply.kind, reply.replied_comment) == (wm.REPLY, 12)
    for kind_class, href in (
        ("u-in-reply-to", TARGET),  # the post itself
        ("u-in-reply-to", f"{TARGET}#comments"),  # not one comment
        ("u-like-of", f"{TARGET}#comment-12"),  # not a reply
    ):
        assert wm.parse_mention(page(kind_class, href), "text/html", PAGE, TARGET).replied_comment is None
