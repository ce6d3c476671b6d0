"""Text to HTML: what a visitor types can never become markup; the author's Markdown is sanitized too."""

from __future__ import annotations

from fedblog.rendering import excerpt, html_to_text, plain_text_to_html, post_excerpt, render_markdown


def test_plain_text_to_html__escapes_markup() -> None:
    html = plain_text_to_html('<script>alert("x")</script> <img src=x onerror=alert(1)> & more')
    assert html == (
        "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt; &amp; more</p>"
    )


def test_plain_text_to_html__blank_lines_make_paragraphs_and_newlines_breaks() -> None:
    html = plain_text_to_html("First line\r\nsecond line\r\n\r\n\r\nNew paragraph\n")
    assert html == "<p>First line<br>\nsecond line</p><p>New paragraph</p>"


def test_plain_text_to_html__autolinks_http_urls_with_nofollow_ugc() -> None:
    html = plain_text_to_html("See https://example.org/a?b=1&c=2. Also javascript:alert(1) and www.example.org")
    assert html == (
        '<p>See <a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc">https://example.org/a?b=1&amp;c=2</a>.'
        " Also javascript:alert(1) and www.example.org</p>"
    )


def test_plain_text_to_html__url_cannot_break_out_of_the_attribute() -> None:
    html = plain_text_to_html('https://example.org/"onmouseover="alert(1)')
    assert 'onmouseover="' not in html
    assert html.startswith('<p><a href="https://example.org/" rel="nofollow ugc">')


def test_render_markdown__drops_script_and_event_handlers() -> None:
    html = render_markdown('Hi <script>alert(1)</script> <img src="a.png" onerror="alert(2)"> [x](javascript:alert(3))')
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert '<img src="a.png">' in html


def test_excerpt__cuts_on_a_word_with_an_ellipsis() -> None:
    text = excerpt("<p>" + "word " * 100 + "</p>", limit=22)
    assert text == "word word word word…"
    assert excerpt("<p>Short &amp; <b>sweet</b></p>") == "Short & sweet"


def test_html_to_text__collapses_whitespace() -> None:
    assert html_to_text("<h1>Title</h1>\n\n<p>Body   text</p>") == "Title Body text"


def test_excerpt__paragraphs_and_line_breaks_are_separated_by_a_space() -> None:
    text = excerpt("<p>First paragraph.</p><p>Second<br>line</p><ul><li>one</li><li>two</li></ul>")
    assert text == "First paragraph. Second line one two"


LONG_POST = """# A heading that is not the opening

The opening paragraph, with a note[^1] and `inline code`.

```python
print("a code block")
```

| column | other |
|--------|-------|
| cell   | cell  |

## Another heading

The closing paragraph.

[^1]: The footnote text.
"""


def test_post_excerpt__leaves_out_headings_code_blocks_tables_and_footnotes() -> None:
    opening = post_excerpt(render_markdown(LONG_POST))
    assert opening.text == "The opening paragraph, with a note and inline code. The closing paragraph."
    assert opening.shortened  # the post has more than its excerpt: its heading, code, table and footnote


def test_post_excerpt__a_short_post_shown_whole_is_not_shortened() -> None:
    opening = post_excerpt(render_markdown("Just *one* short paragraph.\n\nAnd a second."))
    assert opening.text == "Just one short paragraph. And a second."
    assert not opening.shortened


def test_post_excerpt__a_long_post_is_cut_on_a_word() -> None:
    opening = post_excerpt(render_markdown("word " * 100), limit=30)
    assert opening.text == "word word word word word word…" and opening.shortened


def test_post_excerpt__nested_markup_inside_left_out_parts_is_left_out_whole() -> None:
    html = (
        '<div class="footnote"><div><p>inner <b>bold</b></p></div></div>'
        "<p>kept</p><table><tr><td><p>x</p></td></tr></table>"
    )
    assert post_excerpt(html).text == "kept"
