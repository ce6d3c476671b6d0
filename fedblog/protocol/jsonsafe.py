"""JSON from other servers, parsed with limits (INTEROP §7 #11-12): size first, then depth and width. Pure."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_ITEMS = 10_000  # keys of one object or items of one array


# A \uD800-\uDFFF escape: the only way JSON text can carry a surrogate (UTF-8 bytes cannot encode one).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


class UnsafeJSON(ValueError):
    """A document refused by the limits or not a JSON object; str(error) says why."""


def parse_json_object(data: bytes, *, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """Parse bytes as a JSON object (the top level must be an object) within the size, depth and width caps."""
    if len(data) > max_bytes:
        raise UnsafeJSON("document too large")
    try:
        # What json.loads does with bytes, with one decoder built once (json.loads with an option built a
        # decoder and its scanner for every document: ~10 µs of each inbox request).
        value = _DECODER.decode(data.decode(json.detect_encoding(data), "surrogatepass"))
    except RecursionError:
        raise UnsafeJSON("document nested too deeply") from None
    except (UnicodeDecodeError, ValueError):
        raise UnsafeJSON("not valid JSON") from None
    if not isinstance(value, dict):
        raise UnsafeJSON("top level is not a JSON object")
    if not _cannot_break_limits(data):
        check_shape(value)
    if _SURROGATE_ESCAPE.search(data) and has_lone_surrogate(value):
        # A lone surrogate is no character: it cannot be stored, shown or sent on (UTF-8 has no form for it).
        raise UnsafeJSON("a string holds a lone surrogate (not Unicode text)")
    return value


def has_lone_surrogate(value: Any) -> bool:
    """True when a string anywhere in the parsed document (keys too) holds a surrogate code point (json.loads
    joins escaped pairs into one character, so any surrogate left is a lone one). Iterative, like check_shape."""
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _cannot_break_limits(data: bytes) -> bool:
    """True when the bytes alone prove the caps hold: no more openers than MAX_DEPTH (so no deeper nesting), and
    too short to hold MAX_ITEMS items in one container (each takes at least a byte and a comma). Counting bytes
    in C costs a microsecond; walking an activity of ~100 nodes in Python cost seven, on every inbox request."""
    return len(data) < 2 * MAX_ITEMS and data.count(b"{") + data.count(b"[") <= MAX_DEPTH


def check_shape(value: Any) -> None:
    """Depth ≤ MAX_DEPTH and no container wider than MAX_ITEMS (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            raise UnsafeJSON("document nested too deeply")
        if len(children) > MAX_ITEMS:
            raise UnsafeJSON("document has too many items")
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
