"""fedblog.protocol.xmlrpc: what Python's own xmlrpc.client writes is read back, hostile bodies are refused."""

from __future__ import annotations

import xmlrpc.client

import pytest

from fedblog.protocol import xmlrpc as rpc

SOURCE = "https://other.example/a-post"
TARGET = "https://blog.example/posts/hello"


def test_parse_method_call__reads_what_xmlrpc_client_sends() -> None:
    body = xmlrpc.client.dumps((SOURCE, TARGET), methodname="pingback.ping").encode()
    call = rpc.parse_method_call(body)
    assert call == rpc.MethodCall("pingback.ping", (SOURCE, TARGET))


def test_parse_method_call__every_value_type() -> None:
    binary = xmlrpc.client.Binary(b"\x00\x01")
    params = ("é ✓ 🎉", 42, True, 1.5, [1, "two", [False]], {"a": 1, "b": {"c": "d"}}, binary)
    body = xmlrpc.client.dumps(params, methodname="x.y", allow_none=True).encode()
    call = rpc.parse_method_call(body)
    assert call.params == ("é ✓ 🎉", 42, True, 1.5, [1, "two", [False]], {"a": 1, "b": {"c": "d"}}, b"\x00\x01")


def test_parse_method_call__untyped_value_is_a_string() -> None:
    body = b"<methodCall><methodName>m</methodName><params><param><value>plain</value></param></params></methodCall>"
    assert rpc.parse_method_call(body).params == ("plain",)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not well-formed"),
        (b"<methodCall><methodName>m</methodName>", "not well-formed"),
        (b"<methodResponse/>", "expected <methodCall>"),
        (b"<methodCall><params/></methodCall>", "no <methodName>"),
        (b"<methodCall><methodName>m</methodName><params><param/></params></methodCall>", "must hold a <value>"),
        (
            b"<methodCall><methodName>m</methodName><params><param><value><int>x</int></value></param></params>"
            b"</methodCall>",
            "not an integer",
        ),
        (
            b"<methodCall><methodName>m</methodName><params><param><value><blob/></value></param></params>"
            b"</methodCall>",
            "unknown value type",
        ),
    ],
)
def test_parse_method_call__malformed_body_is_refused(body: bytes, reason: str) -> None:
    with pytest.raises(rpc.XmlRpcError, match=reason):
        rpc.parse_method_call(body)


def test_parse_method_call__entity_bomb_is_refused() -> None:
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    body = (
        f'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY l0 "lol">{lol}]>'
        "<methodCall><methodName>&l9;</methodName></methodCall>"
    ).encode()
    with pytest.raises(rpc.XmlRpcError, match="DTDs and entity declarations are not accepted"):
        rpc.parse_method_call(body)


def test_parse_method_call__external_entity_is_refused() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY file SYSTEM "file:///etc/passwd">]>'
        b"<methodCall><methodName>pingback.ping</methodName><params><param><value>&file;</value></param></params>"
        b"</methodCall>"
    )
    with pytest.raises(rpc.XmlRpcError, match="not accepted"):
        rpc.parse_method_call(body)


def test_parse_method_call__oversized_body_is_refused_before_parsing() -> None:
    body = b"<methodCall><methodName>m</methodName>" + b" " * rpc.MAX_BODY_BYTES + b"</methodCall>"
    with pytest.raises(rpc.XmlRpcError, match="larger than"):
        rpc.parse_method_call(body)


def test_parse_method_call__deep_nesting_is_refused() -> None:
    value: object = "x"
    for _ in range(rpc.MAX_DEPTH + 1):
        value = [value]
    body = xmlrpc.client.dumps((value,), methodname="m").encode()
    with pytest.raises(rpc.XmlRpcError, match="nested deeper"):
        rpc.parse_method_call(body)


def test_dump_response__is_read_by_xmlrpc_client() -> None:
    (value,), method = xmlrpc.client.loads(rpc.dump_response("Thanks & <welcome>"))
    assert (value, method) == ("Thanks & <welcome>", None)


def test_dump_fault__is_read_by_xmlrpc_client_as_a_fault() -> None:
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc.client.loads(rpc.dump_fault(rpc.Fault(0x0021, "not a post <here>")))
    assert (raised.value.faultCode, raised.value.faultString) == (0x0021, "not a post <here>")


def test_parse_method_response__value_and_fault() -> None:
    assert rpc.parse_method_response(xmlrpc.client.dumps(("ok",), methodresponse=True).encode()) == "ok"
    fault = xmlrpc.client.dumps(xmlrpc.client.Fault(48, "already registered")).encode()
    assert rpc.parse_method_response(fault) == rpc.Fault(48, "already registered")


def test_dump_method_call__is_read_by_xmlrpc_client() -> None:
    params, method = xmlrpc.client.loads(rpc.dump_method_call("pingback.ping", (SOURCE, TARGET)))
    assert (params, method) == ((SOURCE, TARGET), "pingback.ping")
