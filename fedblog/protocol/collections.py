"""Reading remote collections, pure: the `replies` of a Note and a conversation's `context` (FEP-7888, FEP-f228).

A collection comes embedded or by URL, with its items inline or in pages (`first`, then `next`); an item is an id,
an object with an id, or an activity (a context collection may list `Create`s) whose object is what counts. Only
ids are read from here: what they name is fetched from its own origin, never believed as embedded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fedblog.protocol.activitystreams import as_list, id_of, type_of
from fedblog.protocol.addresses import is_http_url

COLLECTION_TYPES = frozenset({"Collection", "OrderedCollection", "CollectionPage", "OrderedCollectionPage"})
# Activities whose object is the conversation's member (FEP-f228 lets a context list activities or objects).
WRAPPING_TYPES = frozenset({"Create", "Update", "Add"})


@dataclass(frozen=True)
class Page:
    """What one collection document gives: the ids it lists, and where to read more."""

    item_ids: tuple[str, ...]
    next: str | dict[str, Any] | None  # the next page (or the first, for a collection without items)


def is_collection(document: Any) -> bool:
    return isinstance(document, dict) and type_of(document) in COLLECTION_TYPES


def item_id(item: Any) -> str | None:
    """The member an item names: an id, an object's id, or the object of a Create/Update/Add."""
    if isinstance(item, dict) and type_of(item) in WRAPPING_TYPES:
        item = item.get("object")
    found = id_of(item)
    return found if found is not None and is_http_url(found) else None


def read_page(document: dict[str, Any]) -> Page:
    """The ids listed in a collection or page, and the next thing to read: a page's `next`, or a collection's
    `first` (embedded or by URL) when it lists nothing itself."""
    items = as_list(document.get("orderedItems")) + as_list(document.get("items"))
    ids = tuple(dict.fromkeys(found for found in map(item_id, items) if found is not None))
    following = document.get("next")
    if following is None and type_of(document) in ("Collection", "OrderedCollection") and not items:
        following = document.get("first")
    return Page(ids, _link(following))


def _link(value: Any) -> str | dict[str, Any] | None:
    """A link to read: an embedded page as it is, else its http(s) id."""
    if isinstance(value, dict):
        return value if is_collection(value) else _link(value.get("id") or value.get("href"))
    return value if isinstance(value, str) and is_http_url(value) else None
