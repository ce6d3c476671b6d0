"""Identicons (pure SVG from a seed) and the resizing of remote icons (Pillow), on real image bytes."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from fedblog.protocol.identicon import GRID, identicon_cells, identicon_svg
from fedblog.services.faces import FACE_SIZE, BadImage, resize_face


def test_identicon__same_seed_same_face_mirrored_and_seeds_differ() -> None:
    seed = bytes.fromhex("8f3a61c2d4e5f60718293a4b5c6d7e8f")
    svg = identicon_svg(seed)
    assert svg == identicon_svg(seed)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "<script" not in svg
    cells = set(identicon_cells(seed))
    assert cells and all((GRID - 1 - column, row) in cells for column, row in cells)
    assert re.search(r'<g fill="#[0-9a-f]{6}">', svg)
    others = {identicon_svg(bytes([n]) * 16) for n in range(1, 40)}
    assert len(others) > 30


def png(width: int, height: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), "red" if mode == "RGB" else 1).save(out, format="PNG")
    return out.getvalue()


def test_resize_face__a_large_icon_becomes_a_small_png() -> None:
    face = resize_face(png(400, 300))
    with Image.open(io.BytesIO(face)) as image:
        assert image.format == "PNG" and max(image.size) == FACE_SIZE


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "not a readable image"),
        (b"GIF89a broken", "not a readable image"),
        (png(5000, 4000, mode="1"), "too large"),  # a few kilobytes claiming 20 million pixels
    ],
)
def test_resize_face__refuses_what_is_not_a_small_image(data: bytes, reason: str) -> None:
    with pytest.raises(BadImage, match=reason):
        resize_face(data)
