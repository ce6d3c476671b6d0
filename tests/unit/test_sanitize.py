"""The remote-HTML allowlist: what Mastodon keeps survives, everything dangerous is gone."""

from __future__ import annotations

from fedblog.protocol.sanitize import plain_text, sanitize_html


def test_sanitize__keeps_mastodon_mention_and_hashtag_markup() -> None:
    source = (
        '<p><span class="h-card" translate="no"><a href="https://m.example/@a" class="u-url mention">@<span>a</span>'
        '</a></span> hi <a href="https://m.example/tags/x" class="mention hashtag" rel="tag">#<span>x</span></a></p>'
    )
    clean = sanitize_html(source)
    assert '<span class="h-card" translate="no">' in clean
    assert 'href="https://m.example/@a" class="u-url mention" rel="nofollow ugc noopener"' in clean
    assert 'class="mention hashtag"' in clean
    assert 'rel="tag"' not in clean


def test_sanitize__drops_script_tags_with_their_content() -> None:
    clean = sanitize_html("<p>before<script>alert('x')</script>after</p><style>p{}</style>")
    assert clean == "<p>beforeafter</p>"


def test_sanitize__drops_javascript_and_data_links_but_keeps_the_text() -> None:
    clean = sanitize_html('<a href="javascript:alert(1)">one</a> <a href="data:text/html,x">two</a>')
    assert "javascript" not in clean and "data:" not in clean
    assert "one" in clean and "two" in clean


def test_sanitize__drops_event_handlers_images_and_unknown_attributes() -> None:
    clean = sanitize_html('<p onclick="x()" style="color:red" id="a">t<img src="x" onerror="alert(1)"></p>')
    assert clean == "<p>t</p>"


def test_sanitize__drops_relative_links_and_foreign_classes() -> None:
    clean = sanitize_html('<a href="/admin" class="button mention">x</a><span class="evil h-card">y</span>')
    assert "/admin" not in clean
    assert 'class="mention"' in clean
    assert 'class="h-card"' in clean and "evil" not in clean


def test_sanitize__unwraps_tags_outside_the_allowlist() -> None:
    assert sanitize_html("<h1>Title</h1><div><em>x</em></div><iframe src='https://e.example'>y</iframe>") == (
        "Title<em>x</em>"
    )


def test_sanitize__keeps_lists_quotes_code_and_valid_lang() -> None:
    clean = sanitize_html('<blockquote lang="fr"><ol start="3"><li>a</li></ol><pre><code>x</code></pre></blockquote>')
    assert clean == '<blockquote lang="fr"><ol start="3"><li>a</li></ol><pre><code>x</code></pre></blockquote>'
    assert 'lang="' not in sanitize_html('<p lang="x&quot;onmouseover=1">t</p>')


def test_plain_text__strips_markup_controls_and_bidi_overrides_and_caps_length() -> None:
    assert plain_text("<b>Eve</b>\u202e\n<script>x</script> &amp; co") == "Eve & co"
    assert plain_text("a" * 300, 100) == "a" * 100
    assert plain_text(None) == ""
