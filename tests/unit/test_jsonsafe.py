"""Remote JSON is parsed within limits: size, depth, width, and an object at the top."""

from __future__ import annotations

import pytest

from fedblog.protocol.jsonsafe import MAX_DEPTH, MAX_ITEMS, UnsafeJSON, parse_json_object


def test_parse_json_object__reads_an_object():
    assert parse_json_object(b'{"type": "Note", "tag": [1, {"a": null}]}') == {"type": "Note", "tag": [1, {"a": None}]}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"[1]", "not a JSON object"),
        (b'"text"', "not a JSON object"),
        (b"{nope", "not valid JSON"),
        (b'{"a": NaN}', "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b'{"a": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}", "nested too deeply"),
        (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
        (b'{"a": [' + b",".join([b"1"] * (MAX_ITEMS + 1)) + b"]}", "too many items"),
    ],
)
def test_parse_json_object__refuses_unsafe_documents(data, reason):
    with pytest.raises(UnsafeJSON, match=reason):
        parse_json_object(data)


def test_parse_json_object__refuses_documents_over_the_size_cap():
    with pytest.raises(UnsafeJSON, match="too large"):
        parse_json_object(b'{"a": "' + b"x" * 100 + b'"}', max_bytes=50)


@pytest.mark.parametrize(
    "data",
    [
        b'{"id": "\\ud800"}',
        b'{"actor": "x\\uDFFFy"}',
        b'{"object": {"content": ["ok", "\\udbff"]}}',
        b'{"\\ud83d": 1}',
        b'{"a": "\\ude00\\ud83d"}',  # a pair in the wrong order is two lone surrogates
    ],
)
def test_parse_json_object__refuses_lone_surrogates_anywhere(data):
    with pytest.raises(UnsafeJSON, match="lone surrogate"):
        parse_json_object(data)


def test_parse_json_object__keeps_escaped_pairs_and_escaped_backslashes():
    assert parse_json_object(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}
    assert parse_json_object(b'{"a": "\\\\ud800"}') == {"a": "\\ud800"}
