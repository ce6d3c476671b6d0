"""BlurHash (https://blurha.sh): a short string that Mastodon and others paint while an image loads.

Pure code over RGB bytes. The image is projected on a few cosine components in linear light; the average colour
and the components are quantised and written in base 83, as the reference implementation does.
"""

from __future__ import annotations

import math

BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def base83(value: int, length: int) -> str:
    return "".join(BASE83[(value // 83 ** (length - index)) % 83] for index in range(1, length + 1))


def srgb_to_linear(value: int) -> float:
    channel = value / 255
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def linear_to_srgb(value: float) -> int:
    channel = min(1.0, max(0.0, value))
    if channel <= 0.0031308:
        return int(channel * 12.92 * 255 + 0.5)
    return int((1.055 * channel ** (1 / 2.4) - 0.055) * 255 + 0.5)


def sign_pow(value: float, exponent: float) -> float:
    return math.copysign(abs(value) ** exponent, value)


def encode_blurhash(width: int, height: int, rgb: bytes, x_components: int = 4, y_components: int = 3) -> str:
    """The BlurHash of an image given as width × height RGB bytes (row by row, 3 bytes a pixel)."""
    if not (1 <= x_components <= 9 and 1 <= y_components <= 9):
        raise ValueError("components must be between 1 and 9")
    if width < 1 or height < 1 or len(rgb) != width * height * 3:
        raise ValueError("rgb must hold width × height pixels of 3 bytes")
    table = [srgb_to_linear(value) for value in range(256)]
    linear = [table[value] for value in rgb]
    cos_x = [[math.cos(math.pi * i * x / width) for x in range(width)] for i in range(x_components)]
    cos_y = [[math.cos(math.pi * j * y / height) for y in range(height)] for j in range(y_components)]
    factors: list[tuple[float, float, float]] = []
    for j in range(y_components):
        for i in range(x_components):
            red = green = blue = 0.0
            for y in range(height):
                row_weight = cos_y[j][y]
                offset = y * width * 3
                for x in range(width):
                    weight = cos_x[i][x] * row_weight
                    index = offset + x * 3
                    red += weight * linear[index]
                    green += weight * linear[index + 1]
                    blue += weight * linear[index + 2]
            scale = (1 if i == 0 and j == 0 else 2) / (width * height)
            factors.append((red * scale, green * scale, blue * scale))
    dc, ac = factors[0], factors[1:]
    result = base83((x_components - 1) + (y_components - 1) * 9, 1)
    if ac:
        actual_max = max(abs(value) for factor in ac for value in factor)
        quantised_max = int(max(0, min(82, math.floor(actual_max * 166 - 0.5))))
        maximum = (quantised_max + 1) / 166
        result += base83(quantised_max, 1)
    else:
        maximum = 1.0
        result += base83(0, 1)
    red, green, blue = (linear_to_srgb(value) for value in dc)
    result += base83((red << 16) + (green << 8) + blue, 4)
    for factor in ac:
        quantised = [int(max(0, min(18, math.floor(sign_pow(value / maximum, 0.5) * 9 + 9.5)))) for value in factor]
        result += base83(quantised[0] * 19 * 19 + quantised[1] * 19 + quantised[2], 2)
    return result
