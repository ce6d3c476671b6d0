"""A fetched page's charset is the sender's word: only real text encodings are used to read it."""

from __future__ import annotations

import pytest

from fedblog.services.webmention_http import _decode


@pytest.mark.parametrize("charset", ["punycode", "idna", "rot13", "uu_codec", "no-such-codec", None])
def test_decode__codecs_no_page_uses_read_as_utf8(charset: str | None) -> None:
    assert _decode("café <a href=x>".encode(), charset) == "café <a href=x>"


def test_decode__a_declared_text_encoding_is_honoured() -> None:
    assert _decode("café".encode("latin-1"), "ISO-8859-1") == "café"
