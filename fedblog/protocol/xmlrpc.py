"""XML-RPC (the 1999 specification, as WordPress speaks it) as pure functions over bytes: read a method call or a
method response, write a call, a response or a fault. No I/O.

Bodies come from anyone, so they are read with defusedxml (no DTD, no entity declarations, no external entities:
no billion laughs, no file or network reads), after a size check, and decoded with a bounded nesting depth. Writing
goes through the standard library's `xmlrpc.client.dumps`, which escapes every string.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET  # the Element type and ParseError; parsing goes through defusedxml
import xmlrpc.client
from dataclasses import dataclass
from typing import TypeAlias

import defusedxml
import defusedxml.ElementTree as SafeET

MAX_BODY_BYTES = 64 * 1024  # a pingback.ping call is two URLs: a few hundred bytes
MAX_DEPTH = 16  # arrays and structs nested in one another
MAX_ITEMS = 1000  # members of a struct, items of an array, params of a call

Value: TypeAlias = "str | int | float | bool | bytes | list[Value] | dict[str, Value] | None"


class XmlRpcError(ValueError):
    """A body that is not a well-formed XML-RPC document; the message says what is wrong, for a fault string."""


@dataclass(frozen=True)
class MethodCall:
    name: str
    params: tuple[Value, ...]


@dataclass(frozen=True)
class Fault:
    code: int
    message: str


# --- reading ----------------------------------------------------------------------------------------------------


def _root(body: bytes, expected: str) -> ET.Element:
    if len(body) > MAX_BODY_BYTES:
        raise XmlRpcError(f"the request is larger than {MAX_BODY_BYTES} bytes")
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException:
        raise XmlRpcError("DTDs and entity declarations are not accepted") from None
    except ET.ParseError as error:
        raise XmlRpcError(f"not well-formed XML ({error})") from None
    if root.tag != expected:
        raise XmlRpcError(f"expected <{expected}>, got <{root.tag[:40]}>")
    return root


def _only_child(element: ET.Element, where: str) -> ET.Element | None:
    children = list(element)
    if len(children) > 1:
        raise XmlRpcError(f"<{where}> holds more than one element")
    return children[0] if children else None


def _decode_value(value: ET.Element, depth: int) -> Value:
    if value.tag != "value":
        raise XmlRpcError(f"expected <value>, got <{value.tag[:40]}>")
    if depth > MAX_DEPTH:
        raise XmlRpcError(f"values nested deeper than {MAX_DEPTH}")
    typed = _only_child(value, "value")
    if typed is None:  # an untyped value is a string
        return value.text or ""
    text = (typed.text or "").strip()
    tag = typed.tag
    if tag == "string":
        return typed.text or ""
    if tag in ("int", "i4", "i8"):
        try:
            return int(text)
        except ValueError:
            raise XmlRpcError(f"<{tag}> is not an integer") from None
    if tag == "boolean":
        if text not in ("0", "1"):
            raise XmlRpcError("<boolean> must be 0 or 1")
        return text == "1"
    if tag == "double":
        try:
            return float(text)
        except ValueError:
            raise XmlRpcError("<double> is not a number") from None
    if tag == "dateTime.iso8601":
        return text
    if tag == "base64":
        try:
            return base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            raise XmlRpcError("<base64> is not base64") from None
    if tag == "nil":
        return None
    if tag == "array":
        data = _only_child(typed, "array")
        if data is None or data.tag != "data":
            raise XmlRpcError("<array> must hold <data>")
        items = list(data)
        if len(items) > MAX_ITEMS:
            raise XmlRpcError(f"an array of more than {MAX_ITEMS} items")
        return [_decode_value(item, depth + 1) for item in items]
    if tag == "struct":
        members = list(typed)
        if len(members) > MAX_ITEMS:
            raise XmlRpcError(f"a struct of more than {MAX_ITEMS} members")
        result: dict[str, Value] = {}
        for member in members:
            name, inner = member.find("name"), member.find("value")
            if member.tag != "member" or name is None or inner is None:
                raise XmlRpcError("a <struct> member needs a <name> and a <value>")
            result[name.text or ""] = _decode_value(inner, depth + 1)
        return result
    raise XmlRpcError(f"unknown value type <{tag[:40]}>")


def parse_method_call(body: bytes) -> MethodCall:
    """A <methodCall>: its method name and decoded params. Raises XmlRpcError."""
    root = _root(body, "methodCall")
    name_element = root.find("methodName")
    name = (name_element.text or "").strip() if name_element is not None else ""
    if not name:
        raise XmlRpcError("the call has no <methodName>")
    params_element = root.find("params")
    params: list[Value] = []
    if params_element is not None:
        found = list(params_element)
        if len(found) > MAX_ITEMS:
            raise XmlRpcError(f"more than {MAX_ITEMS} params")
        for param in found:
            value = param.find("value")
            if param.tag != "param" or value is None:
                raise XmlRpcError("each <param> must hold a <value>")
            params.append(_decode_value(value, 1))
    return MethodCall(name[:200], tuple(params))


def parse_method_response(body: bytes) -> Value | Fault:
    """A <methodResponse>: its one value, or its Fault. Raises XmlRpcError."""
    root = _root(body, "methodResponse")
    child = _only_child(root, "methodResponse")
    if child is None:
        raise XmlRpcError("an empty <methodResponse>")
    if child.tag == "fault":
        value = child.find("value")
        decoded = _decode_value(value, 1) if value is not None else None
        if not isinstance(decoded, dict):
            raise XmlRpcError("a <fault> must hold a struct")
        code, message = decoded.get("faultCode"), decoded.get("faultString")
        return Fault(code if isinstance(code, int) and not isinstance(code, bool) else 0, str(message or "")[:500])
    if child.tag != "params":
        raise XmlRpcError(f"expected <params> or <fault>, got <{child.tag[:40]}>")
    param = _only_child(child, "params")
    value = param.find("value") if param is not None else None
    if value is None:
        raise XmlRpcError("a response must hold one <param> with a <value>")
    return _decode_value(value, 1)


# --- writing ----------------------------------------------------------------------------------------------------


def dump_method_call(name: str, params: tuple[str | int, ...]) -> bytes:
    return xmlrpc.client.dumps(params, methodname=name, encoding="utf-8").encode()


def dump_response(value: str | int | bool) -> bytes:
    return xmlrpc.client.dumps((value,), methodresponse=True, encoding="utf-8").encode()


def dump_fault(fault: Fault) -> bytes:
    return xmlrpc.client.dumps(xmlrpc.client.Fault(fault.code, fault.message), encoding="utf-8").encode()
