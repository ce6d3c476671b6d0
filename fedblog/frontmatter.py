"""Markdown files with a YAML front matter block, as `fedblog post publish` reads them.

---
title: Hello
slug: hello
tags: [python, fediverse]
language: fr
summary: optional content warning / summary
date: 2026-02-21
draft: false
comments: open
kind: post              # or page: /SLUG/, not in the post lists, in the navigation unless `menu: false`
categories: [Travel, Food]
menu_order: 0           # pages: place in the navigation
menu: true              # pages: linked from the navigation
format: markdown        # or html (sanitized like rendered Markdown)
excerpt: optional text shown in lists
---
Body in Markdown.

The block is YAML read by PyYAML's safe loader (no tags that build objects), so `title: [unclosed` is an error
naming its line rather than a post titled "[unclosed". Values come out as the plain types the post service
expects: text as written (a title "yes" stays "yes"), a list of tags, a boolean draft flag and comments flag, the
date as the text written (ISO 8601, read by the post service).
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

KNOWN_KEYS = (
    "title",
    "slug",
    "tags",
    "language",
    "summary",
    "date",
    "draft",
    "comments",
    "kind",
    "categories",
    "menu_order",
    "menu",
    "format",
    "excerpt",
)
_TEXT_KEYS = ("title", "slug", "language", "summary", "kind", "menu_order", "format", "excerpt")


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
    meta = parse_block("\n".join(lines[1:end]), first_line=2)
    return Document(meta=meta, body="\n".join(lines[end + 1 :]).strip() + "\n")


def parse_block(block: str, first_line: int) -> dict[str, object]:
    """The YAML mapping of the block, checked key by key; errors name the line in the file."""
    loader = yaml.SafeLoader(block)
    try:
        root = loader.get_single_node()
        if root is None:
            return {}
        if not isinstance(root, yaml.MappingNode):
            got = block.splitlines()[root.start_mark.line].strip() if block.strip() else ""
            raise FrontMatterError(f"line {root.start_mark.line + first_line}: expected 'key: value', got {got!r}")
        meta: dict[str, object] = {}
        for key_node, value_node in root.value:
            line = key_node.start_mark.line + first_line
            key = str(key_node.value).strip().lower() if isinstance(key_node, yaml.ScalarNode) else ""
            if key not in KNOWN_KEYS:
                shown = key or block.splitlines()[key_node.start_mark.line].strip()
                raise FrontMatterError(f"line {line}: unknown key {shown!r} (known: {', '.join(KNOWN_KEYS)})")
            if key in meta:
                raise FrontMatterError(f"line {line}: {key!r} is given twice")
            meta[key] = convert_value(loader, key, value_node, line)
        return meta
    except yaml.MarkedYAMLError as error:
        raise FrontMatterError(yaml_error_message(error, first_line)) from None
    except yaml.YAMLError as error:
        raise FrontMatterError(f"the front matter is not valid YAML ({error})") from None
    except RecursionError:
        raise FrontMatterError("the front matter is nested too deeply") from None
    finally:
        loader.dispose()


def yaml_error_message(error: yaml.MarkedYAMLError, first_line: int) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"line {mark.line + first_line}: " if mark is not None else ""
    problem = error.problem or error.context or "not valid YAML"
    hint = ""
    if "mapping values are not allowed" in problem:
        hint = ' (put a value that contains ": " in quotes, e.g. title: "Hello: world")'
    return f"{where}{problem}{hint}"


def convert_value(loader: yaml.SafeLoader, key: str, node: yaml.Node, line: int) -> object:
    """Text fields keep the text as written (`title: yes` is "yes", `title: 1.10` is "1.10", not a boolean or a
    number); the flags are YAML booleans."""
    if key in ("tags", "categories"):
        return _tags(node, line)
    if key in ("draft", "comments", "menu"):
        if key == "comments" and isinstance(node, yaml.ScalarNode) and node.value.strip().lower() in ("open", "closed"):
            return node.value.strip().lower() == "open"
        message = "comments must be open or closed" if key == "comments" else f"{key} must be true or false"
        return _flag(loader.construct_object(node, deep=True), line, message, empty=key == "comments")
    assert key in _TEXT_KEYS or key == "date"
    return _text(key, node, line)


def _text(key: str, node: yaml.Node, line: int) -> str:
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    kind = "list" if isinstance(node, yaml.SequenceNode) else "map"
    raise FrontMatterError(f"line {line}: {key} must be text, got a {kind}")


def _tags(node: yaml.Node, line: int) -> list[str]:
    if isinstance(node, yaml.ScalarNode):
        return [part.strip() for part in str(node.value).split(",") if part.strip()]
    if isinstance(node, yaml.SequenceNode) and all(isinstance(item, yaml.ScalarNode) for item in node.value):
        return [str(item.value).strip() for item in node.value if str(item.value).strip()]
    raise FrontMatterError(f"line {line}: tags must be a list such as [python, fediverse]")


def _flag(value: object, line: int, message: str, empty: bool) -> bool:
    if value is None:
        return empty
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise FrontMatterError(f"line {line}: {message}, got {value!r}")
