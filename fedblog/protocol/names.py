"""Names people give themselves: what is visible of them, and whether one could pass for another. Pure.

- `visible_name`: format characters (Unicode category Cf: zero-width spaces and joiners, bidi controls, soft
  hyphens…) removed, every run of spaces (category Zs, tabs) made one space, trimmed. A name empty after that is
  made only of invisible characters.
- `skeleton`: the UTS #39 skeleton (NFD, each character replaced by the prototype of its confusables class, NFD
  again), so that `blоg` with a Cyrillic о and `blog` get the same skeleton. The classes come from the
  Unicode confusables data that `confusable_homoglyphs` ships (read once, when first needed; never fetched).
- `could_pass_for`: the names' skeletons, compared without case, spacing or a leading "@", are equal.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_BIDI_MARKS = str.maketrans("", "", "\u200e\u200f\u061c")


def visible_name(name: str) -> str:
    kept = "".join(char for char in name if unicodedata.category(char) != "Cf")
    return _SPACES.sub(" ", kept).strip()


def skeleton(text: str) -> str:
    table = _prototypes()
    mapped = "".join(table.get(char, char) for char in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


def could_pass_for(name: str, other: str) -> bool:
    """True when `name`, as shown, could be taken for `other` (homoglyphs, invisible characters, case, spaces)."""
    if not visible_name(other):
        return False
    return any(_comparable(name, fold) == _comparable(other, fold) for fold in _FOLDS)


# Case and spacing do not tell names apart on a page. Folded before the skeleton (its prototypes are case-
# sensitive: "I" passes for "l", "0" for "O"), in each of three ways, any of which may show the likeness.
_FOLDS = (str, str.casefold, str.upper)


def _comparable(name: str, fold: Callable[[str], str]) -> str:
    visible = visible_name(unicodedata.normalize("NFKC", name)).lstrip("@")
    return skeleton(fold(visible)).replace(" ", "")


@functools.cache
def _prototypes() -> dict[str, str]:
    """Each character with confusables → its class's prototype. The package lists, for every character, the
    characters confusable with it (both ways); a class is a connected group. Its prototype is the multi-character
    sequence when the class has one (UTS #39 maps "m" to "rn"), else an ASCII member, else the lowest code point."""
    # Imported here: loading the confusables data costs ~0.6 s, paid by the first comment, not at every start.
    from confusable_homoglyphs.confusables import confusables_data

    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for char, entries in confusables_data.items():
        for entry in entries:
            other = str(entry.get("c", "")).translate(_BIDI_MARKS)
            if other and other != char:
                parent[find(char)] = find(other)
    members: dict[str, list[str]] = {}
    for node in list(parent):
        members.setdefault(find(node), []).append(node)
    table: dict[str, str] = {}
    for group in members.values():
        prototype = min(group, key=lambda member: (len(member) == 1, not member.isascii(), member))
        for member in group:
            if len(member) == 1 and member != prototype:
                table[member] = prototype
    return table
