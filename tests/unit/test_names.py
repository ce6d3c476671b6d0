"""Names: what is visible of them (no format characters, one space per run) and UTS #39 look-alikes."""

from __future__ import annotations

import pytest

from fedblog.protocol.names import could_pass_for, skeleton, visible_name


@pytest.mark.parametrize(
    ("name", "visible"),
    [("\u200b\u200d\u2060", ""), (" a \u3000 b\u200b ", "a b"), ("Ana\u00adïs", "Anaïs"), ("\u202eevil", "evil")],
)
def test_visible_name__drops_format_characters_and_folds_spaces(name: str, visible: str) -> None:
    assert visible_name(name) == visible


def test_skeleton__maps_homoglyphs_to_one_prototype() -> None:
    assert skeleton("bl\u043eg") == skeleton("blog")  # Cyrillic о
    assert skeleton("\u0440aypal") == skeleton("paypal")  # Cyrillic р
    assert skeleton("rn") == skeleton("m")  # a multi-character prototype
    assert skeleton("blog") != skeleton("blag")


@pytest.mark.parametrize(
    ("name", "other", "alike"),
    [
        ("bl\u043eg", "blog", True),
        ("BLOG", "blog", True),
        ("b l o g", "blog", True),
        ("@blog", "blog", True),
        ("paypaI", "paypal", True),
        ("AUTH0R", "author", True),
        ("Dominique", "Dominic", False),
        ("Ana", "Anna", False),
        ("anyone", "", False),
    ],
)
def test_could_pass_for(name: str, other: str, alike: bool) -> None:
    assert could_pass_for(name, other) is alike
