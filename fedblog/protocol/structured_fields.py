"""A small RFC 8941 structured-field parser and serializer: what RFC 9421 signatures and Content-Digest need
(dictionaries of items and inner lists with parameters). Pure: no I/O."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any


class StructuredFieldError(ValueError):
    """A header that is not a well-formed structured field."""


class Token(str):
    """An RFC 8941 token: serialized bare, unlike a string."""


@dataclass(frozen=True)
class Item:
    """An RFC 8941 item or inner list with its parameters."""

    value: Any
    params: dict[str, Any]


_KEY = re.compile(r"[a-z*][a-z0-9_.*-]*")
_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9:/!#$%&'*+.^_`|~-]*")
_NUMBER = re.compile(r"-?\d{1,15}(?:\.\d{1,3})?")


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self) -> StructuredFieldError:
        return StructuredFieldError("malformed structured header")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1

    def key(self) -> str:
        match = _KEY.match(self.text, self.pos)
        if not match:
            raise self.fail()
        self.pos = match.end()
        return match.group()

    def dictionary(self) -> dict[str, Item]:
        out: dict[str, Item] = {}
        self.skip_spaces()
        while self.pos < len(self.text):
            name = self.key()
            if self.peek() == "=":
                self.pos += 1
                member = self.inner_list() if self.peek() == "(" else self.item()
            else:
                member = Item(True, self.params())
            out[name] = member
            self.skip_spaces()
            if self.pos >= len(self.text):
                break
            if self.peek() != ",":
                raise self.fail()
            self.pos += 1
            self.skip_spaces()
            if self.pos >= len(self.text):
                raise self.fail()
        return out

    def inner_list(self) -> Item:
        self.pos += 1
        items: list[Item] = []
        while True:
            self.skip_spaces()
            if self.peek() == ")":
                self.pos += 1
                return Item(items, self.params())
            if not self.peek():
                raise self.fail()
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail()

    def item(self) -> Item:
        return Item(self.bare_item(), self.params())

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip_spaces()
            name = self.key()
            value: Any = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            out[name] = value
        return out

    def bare_item(self) -> Any:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == ":":
            end = self.text.find(":", self.pos + 1)
            if end < 0:
                raise self.fail()
            encoded = self.text[self.pos + 1 : end]
            self.pos = end + 1
            try:
                return base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise StructuredFieldError("byte sequence is not valid base64") from None
        if char == "?":
            value = self.text[self.pos + 1 : self.pos + 2]
            if value not in ("0", "1"):
                raise self.fail()
            self.pos += 2
            return value == "1"
        number = _NUMBER.match(self.text, self.pos)
        if number:
            self.pos = number.end()
            text = number.group()
            return float(text) if "." in text else int(text)
        token = _TOKEN.match(self.text, self.pos)
        if token:
            self.pos = token.end()
            return Token(token.group())
        raise self.fail()

    def string(self) -> str:
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                if self.pos >= len(self.text) or self.text[self.pos] not in '"\\':
                    raise self.fail()
                chars.append(self.text[self.pos])
                self.pos += 1
            elif char == '"':
                return "".join(chars)
            elif not " " <= char <= "~":
                raise self.fail()
            else:
                chars.append(char)
        raise self.fail()


def parse_dictionary(text: str) -> dict[str, Item]:
    return Parser(text.strip()).dictionary()


def _serialize_bare(value: Any) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Token):
        return str.__str__(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    raise StructuredFieldError("unsupported parameter value")


def _serialize_params(params: dict[str, Any]) -> str:
    return "".join(
        f";{name}" if value is True else f";{name}={_serialize_bare(value)}" for name, value in params.items()
    )


def serialize_inner_list(inner: Item) -> str:
    members = " ".join(_serialize_bare(item.value) + _serialize_params(item.params) for item in inner.value)
    return f"({members}){_serialize_params(inner.params)}"
