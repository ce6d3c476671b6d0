"""Numbers from requests: ASCII digits, 1..maximum, else None."""

from __future__ import annotations

import pytest

from fedblog.protocol.ids import MAX_ROW_ID, parse_positive_int


@pytest.mark.parametrize(("text", "expected"), [("1", 1), ("42", 42), (str(MAX_ROW_ID), MAX_ROW_ID), ("007", 7)])
def test_parse_positive_int__reads_plain_numbers(text: str, expected: int) -> None:
    assert parse_positive_int(text) == expected


@pytest.mark.parametrize(
    "text", [None, "", "0", "-1", "+1", " 1", "1.0", "²", "١٢", "1e3", str(MAX_ROW_ID + 1), "9" * 400]
)
def test_parse_positive_int__refuses_anything_else(text: str | None) -> None:
    assert parse_positive_int(text) is None


def test_parse_positive_int__honours_the_maximum() -> None:
    assert parse_positive_int("10", maximum=10) == 10
    assert parse_positive_int("11", maximum=10) is None
