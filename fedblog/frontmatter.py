"""Markdown files with a front matter block, as `fedblog post publish` reads them.

---
title: Hello
slug: hello
tags: [python, fediverse]
language: fr
summary: optional content warning / summary
date: 2026-02-21
draft: false
comments: open
---
Body in Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass

KNOWN_KEYS = ("title", "slug", "tags", "language", "summary", "date", "draft", "comments")


class FrontMatterError(ValueError):
    pass


@dataclass(frozen=True)
class Document:
    meta: dict[str, object]
    body: str


def parse_document(text: str) -> Document:
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError("the file must start with a '---' front matter block (title: …)")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        raise FrontMatterError("the front matter block is not closed by '---'") from None
    meta: dict[str, object] = {}
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep:
            raise FrontMatterError(f"line {number}: expected 'key: value', got {line.strip()!r}")
        if key not in KNOWN_KEYS:
            raise FrontMatterError(f"line {number}: unknown key {key!r} (known: {', '.join(KNOWN_KEYS)})")
        meta[key] = _parse_value(key, value.strip(), number)
    return Document(meta=meta, body="\n".join(lines[end + 1 :]).strip() + "\n")


def _parse_value(key: str, value: str, number: int) -> object:
    if key == "tags":
        inner = value[1:-1] if value.startswith("[") and value.endswith("]") else value
        return [_unquote(part.strip()) for part in inner.split(",") if part.strip()]
    if key == "draft":
        lowered = value.lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0", ""):
            return False
        raise FrontMatterError(f"line {number}: draft must be true or false, got {value!r}")
    if key == "comments":
        lowered = value.lower()
        if lowered in ("open", "true", "yes", "1", ""):
            return True
        if lowered in ("closed", "false", "no", "0"):
            return False
        raise FrontMatterError(f"line {number}: comments must be open or closed, got {value!r}")
    return _unquote(value)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value
