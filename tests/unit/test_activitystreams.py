"""ActivityStreams readers: how the forms peers send are read."""

from __future__ import annotations

from fedblog.protocol import activitystreams as as2


def test_as_list__accepts_every_form() -> None:
    assert as2.as_list(None) == []
    assert as2.as_list("a") == ["a"]
    assert as2.as_list({"id": "a"}) == [{"id": "a"}]
    assert as2.as_list(["a", "b"]) == ["a", "b"]


def test_first_id__string_object_link_and_list() -> None:
    assert as2.first_id("https://a/1") == "https://a/1"
    assert as2.first_id({"id": "https://a/2", "type": "Note"}) == "https://a/2"
    assert as2.first_id({"type": "Link", "href": "https://a/3"}) == "https://a/3"
    assert as2.first_id([{"name": "no id"}, "https://a/4"]) == "https://a/4"
    assert as2.first_id(None) is None
    assert as2.first_id(42) is None


def test_is_public__every_spelling_and_shape() -> None:
    assert as2.is_public("https://www.w3.org/ns/activitystreams#Public")
    assert as2.is_public(["https://x/followers"], ["as:Public"])
    assert as2.is_public(None, "Public")
    assert not as2.is_public(["https://x/followers"], None)
