"""What a commenter types, made usable: a website without a scheme, and a comment's HTML back into editable text."""

from __future__ import annotations

import pytest

from fedblog.rendering import html_to_plain_message, plain_text_to_html
from fedblog.services.comments import normalize_website


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("jean.example", "https://jean.example"),
        ("  jean.example/blog ", "https://jean.example/blog"),
        ("jean.example:8080/x", "https://jean.example:8080/x"),
        ("//jean.example", "https://jean.example"),
        ("http://jean.example", "http://jean.example"),
        ("HTTPS://jean.example", "HTTPS://jean.example"),
        ("javascript:alert(1)", "javascript:alert(1)"),  # left as typed: validation refuses it
        ("mailto:jean@example.org", "mailto:jean@example.org"),
        ("", ""),
    ],
)
def test_normalize_website(typed: str, kept: str) -> None:
    assert normalize_website(typed) == kept


def test_html_to_plain_message__gives_back_what_the_visitor_typed() -> None:
    typed = "First line\nsecond line <b>not bold</b> & more\n\nSee https://example.org/a?b=1&c=2 now"
    assert html_to_plain_message(plain_text_to_html(typed)) == typed
