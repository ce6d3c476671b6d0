"""The BlurHash encoder, checked against vectors made by the reference algorithm's Python port
(blurhash-python 1.2.2) on the same pixels."""

from __future__ import annotations

import pytest

from fedblog.protocol.blurhash import encode_blurhash


def pattern(k: int, width: int = 40, height: int = 30) -> bytes:
    pixels = bytearray()
    for y in range(height):
        for x in range(width):
            if (x // 10 + y // 10 + k) % 2:
                pixels += bytes(((x * 7 + k * 31) % 256, (y * 11 + k * 17) % 256, (x * y + k * 5) % 256))
            else:
                pixels += bytes((10, 200, 30))
    return bytes(pixels)


@pytest.mark.parametrize(
    ("k", "expected"),
    [(0, "LRCu?t3esRt]m-XOa~kpu=P2$8LA"), (1, "LNCu:u9v29_onMava_jFqJVNN^*s"), (2, "LSBsPct[6eUNoZf6WrjdHytKsXCG")],
)
def test_encode_blurhash__matches_the_reference_encoder(k: int, expected: str) -> None:
    assert encode_blurhash(40, 30, pattern(k)) == expected


def test_encode_blurhash__one_component_is_the_average_colour() -> None:
    assert encode_blurhash(8, 8, b"\xff" * 8 * 8 * 3, 1, 1) == "00TSUA"


def test_encode_blurhash__refuses_pixels_that_do_not_match_the_size() -> None:
    with pytest.raises(ValueError, match="width × height"):
        encode_blurhash(4, 4, b"\x00" * 10)
