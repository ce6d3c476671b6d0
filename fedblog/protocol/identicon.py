"""Identicons made by fedblog itself: a 5×5 symmetric pattern and a colour from a digest, as SVG. Pure.

Faces for web commenters without asking any third party (no Gravatar request, so readers' browsers are not
tracked): the seed is a keyed hash of the e-mail address (web/faces.py), so the picture reveals nothing of it.
"""

from __future__ import annotations

import colorsys

GRID = 5
CELL = 8
SIZE = GRID * CELL


def identicon_cells(seed: bytes) -> list[tuple[int, int]]:
    """The filled (column, row) cells: the left three columns from the seed's bits, mirrored to the right."""
    cells = []
    for row in range(GRID):
        for column in range((GRID + 1) // 2):
            bit = row * 3 + column
            if seed[bit // 8] >> (bit % 8) & 1:
                cells.append((column, row))
                if column != GRID - 1 - column:
                    cells.append((GRID - 1 - column, row))
    return sorted(cells)


def identicon_colour(seed: bytes) -> str:
    hue = int.from_bytes(seed[2:4], "big") / 65535
    red, green, blue = colorsys.hls_to_rgb(hue, 0.45, 0.55)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def identicon_svg(seed: bytes) -> str:
    """An SVG document for a seed of at least 4 bytes."""
    if len(seed) < 4:
        raise ValueError("an identicon needs a seed of 4 bytes or more")
    colour = identicon_colour(seed)
    rects = "".join(
        f'<rect x="{column * CELL}" y="{row * CELL}" width="{CELL}" height="{CELL}"/>'
        for column, row in identicon_cells(seed)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}">'
        f'<rect width="{SIZE}" height="{SIZE}" fill="#f0f0f0"/><g fill="{colour}">{rects}</g></svg>'
    )
