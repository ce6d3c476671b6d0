"""fedblog/frontmatter.py: the Markdown files `fedblog post publish` reads, and what becomes of their fields."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from fedblog.frontmatter import FrontMatterError, parse_document
from fedblog.services.posts import PostError, input_from_document

FULL = """---
title: "Hello: a post with a colon"
slug: hello
tags: [python, "fédivers", 'blog']
language: fr
summary: A content warning
date: 2026-02-21
draft: false
---

Body in **Markdown**.

Second paragraph.
"""


def test_parse_document__reads_every_known_key() -> None:
    document = parse_document(FULL)
    assert document.meta == {
        "title": "Hello: a post with a colon",
        "slug": "hello",
        "tags": ["python", "fédivers", "blog"],
        "language": "fr",
        "summary": "A content warning",
        "date": "2026-02-21",
        "draft": False,
    }
    assert document.body == "Body in **Markdown**.\n\nSecond paragraph.\n"


def test_parse_document__tags_without_brackets_and_quoted_values() -> None:
    document = parse_document('---\ntitle: "Quoted: title"\ntags: one, two ,three\n---\nx\n')
    assert document.meta["title"] == "Quoted: title"
    assert document.meta["tags"] == ["one", "two", "three"]


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("yes", True), ("1", True), ("no", False), ("", False)])
def test_parse_document__draft_flag_spellings(text: str, expected: bool) -> None:
    assert parse_document(f"---\ntitle: t\ndraft: {text}\n---\nx\n").meta["draft"] is expected


def test_parse_document__byte_order_mark_comments_blank_lines_and_crlf() -> None:
    text = "\ufeff---\r\n# a comment\r\n\r\nTitle: Windows\r\n---\r\nBody\r\n"
    document = parse_document(text)
    assert document.meta == {"title": "Windows"}
    assert document.body == "Body\n"


def test_parse_document__dots_also_close_the_block_and_later_dashes_stay_in_the_body() -> None:
    document = parse_document("---\ntitle: t\n...\nAbove\n\n---\n\nBelow\n")
    assert document.body == "Above\n\n---\n\nBelow\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title: no block\n", "must start with a '---'"),
        ("", "must start with a '---'"),
        ("---\ntitle: never closed\n", "not closed"),
        ("---\ntitle: t\nauthor: me\n---\n", "line 3: unknown key 'author'"),
        ("---\njust words\n---\n", "line 2: expected 'key: value'"),
        ("---\ntitle: t\ndraft: maybe\n---\n", "line 3: draft must be true or false"),
        ("---\ntitle: [unclosed\n---\n", "line 2: expected ',' or ']'"),
        ("---\nslug: s\ntitle: Hello: world\n---\n", "line 3: mapping values are not allowed here (put a value"),
        ("---\ntitle: t\ntitle: u\n---\n", "line 3: 'title' is given twice"),
        ("---\ntitle: t\ntags: {a: 1}\n---\n", "line 3: tags must be a list"),
        ("---\ntitle: [a, b]\n---\n", "line 2: title must be text, got a list"),
    ],
)
def test_parse_document__errors_name_the_line_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(FrontMatterError, match=re.escape(message)):
        parse_document(text)


def test_input_from_document__becomes_a_post_input() -> None:
    data = input_from_document(parse_document(FULL))
    assert data.title == "Hello: a post with a colon"
    assert data.slug == "hello"
    assert data.tags == ("python", "fédivers", "blog")
    assert data.language == "fr"
    assert data.summary == "A content warning"
    assert data.published_at == datetime(2026, 2, 21, tzinfo=UTC)
    assert data.draft is False
    assert data.body_markdown.startswith("Body in **Markdown**.")


def test_input_from_document__date_with_time_and_zone() -> None:
    data = input_from_document(parse_document("---\ntitle: t\ndate: 2026-02-21T10:30:00+01:00\n---\nx\n"))
    assert data.published_at == datetime(2026, 2, 21, 9, 30, tzinfo=UTC)


def test_input_from_document__bad_date_names_the_field() -> None:
    with pytest.raises(PostError, match=r"^date: "):
        input_from_document(parse_document("---\ntitle: t\ndate: next tuesday\n---\nx\n"))


def test_parse_document__text_is_kept_as_written_and_yaml_tags_build_nothing() -> None:
    text = "---\ntitle: yes\nslug: 0x1F\nsummary: !!python/object/apply:os.system [echo owned]\n---\nx\n"
    with pytest.raises(FrontMatterError, match=r"line 4: summary must be text, got a list"):
        parse_document(text)
    tagged = "---\ntitle: yes\nslug: 0x1F\nsummary: !!python/name:os.system\nlanguage: 1.10\n---\nx\n"
    meta = parse_document(tagged).meta
    assert meta == {"title": "yes", "slug": "0x1F", "summary": "", "language": "1.10"}


def test_parse_document__deep_nesting_is_one_error() -> None:
    with pytest.raises(FrontMatterError, match=r"nested too deeply|expected"):
        parse_document("---\ntitle: " + "[" * 5000 + "\n---\nx\n")
