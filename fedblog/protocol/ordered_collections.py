"""OrderedCollection and its pages, pure: the outbox, followers, replies and context collections fedblog serves."""

from __future__ import annotations

from typing import Any

from fedblog.protocol.activitystreams import AS_CONTEXT


def ordered_collection(collection_id: str, total: int, first: str | None, last: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first:
        found["first"] = first
    if last:
        found["last"] = last
    return found


def ordered_collection_page(
    page_id: str,
    part_of: str,
    items: list[Any],
    next_page: str | None,
    prev_page: str | None,
    total: int | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": page_id,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": items,
    }
    if total is not None:
        found["totalItems"] = total
    if next_page:
        found["next"] = next_page
    if prev_page:
        found["prev"] = prev_page
    return found
