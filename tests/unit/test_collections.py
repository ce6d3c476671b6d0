"""Reading remote collections (fedblog.protocol.collections): ids only, from every shape peers send."""

from __future__ import annotations

from fedblog.protocol.collections import item_id, read_page

NOTE = "https://social.example/users/bob/statuses/2"


def test_read_page__mastodon_replies_collection_goes_to_its_embedded_first_page() -> None:
    first = {"type": "CollectionPage", "next": "https://social.example/r?page=true", "items": []}
    page = read_page({"id": "https://social.example/r", "type": "Collection", "first": first})
    assert page.item_ids == () and page.next == first


def test_read_page__a_page_lists_ids_objects_and_activities_once_and_links_its_next_page() -> None:
    page = read_page(
        {
            "type": "OrderedCollectionPage",
            "orderedItems": [NOTE, {"id": NOTE, "type": "Note"}, {"type": "Create", "object": {"id": NOTE + "0"}}],
            "next": {"id": "https://social.example/c?page=2", "type": "Link"},
        }
    )
    assert page.item_ids == (NOTE, NOTE + "0")
    assert page.next == "https://social.example/c?page=2"


def test_item_id__refuses_what_is_not_an_http_url() -> None:
    assert item_id("javascript:alert(1)") is None
    assert item_id({"type": "Note"}) is None
    assert item_id(42) is None
    assert read_page({"type": "Collection", "first": "file:///etc/passwd"}).next is None
