"""The activities fedblog sends, pure: Create, Update and Delete by the blog's actor; Accept and Reject of a Follow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fedblog.clock import to_text
from fedblog.protocol.activitystreams import AS_CONTEXT, PUBLIC
from fedblog.protocol.actors import ACTOR_CONTEXT
from fedblog.protocol.notes import NOTE_CONTEXT, tombstone
from fedblog.urls import Urls


def _without_context(value: dict[str, Any]) -> dict[str, Any]:
    return {key: item for key, item in value.items() if key != "@context"}


def create_activity(urls: Urls, activity_id: str, note: dict[str, Any]) -> dict[str, Any]:
    obj = _without_context(note)
    return {
        "@context": NOTE_CONTEXT,
        "id": activity_id,
        "type": "Create",
        "actor": urls.actor(),
        "published": obj.get("published"),
        "to": obj.get("to", [PUBLIC]),
        "cc": obj.get("cc", [urls.followers()]),
        "object": obj,
    }


def update_activity(urls: Urls, activity_id: str, obj: dict[str, Any], published: datetime) -> dict[str, Any]:
    obj = _without_context(obj)
    return {
        "@context": ACTOR_CONTEXT if obj.get("type") == "Person" else NOTE_CONTEXT,
        "id": activity_id,
        "type": "Update",
        "actor": urls.actor(),
        "published": to_text(published),
        "to": obj.get("to", [PUBLIC]),
        "cc": obj.get("cc", [urls.followers()]),
        "object": obj,
    }


def delete_activity(urls: Urls, activity_id: str, object_id: str, former_type: str = "Note") -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": activity_id,
        "type": "Delete",
        "actor": urls.actor(),
        "to": [PUBLIC],
        "cc": [urls.followers()],
        "object": tombstone(object_id, former_type),
    }


def _follow_answer(kind: str, urls: Urls, activity_id: str, follow: dict[str, Any]) -> dict[str, Any]:
    """Accept/Reject echoing the Follow in full (Mastodon matches it by id or by the embedded Follow)."""
    return {
        "@context": AS_CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": urls.actor(),
        "to": [follow["actor"]] if isinstance(follow.get("actor"), str) else [],
        "object": _without_context(follow),
    }


def accept_follow(urls: Urls, activity_id: str, follow: dict[str, Any]) -> dict[str, Any]:
    return _follow_answer("Accept", urls, activity_id, follow)


def reject_follow(urls: Urls, activity_id: str, follow: dict[str, Any]) -> dict[str, Any]:
    return _follow_answer("Reject", urls, activity_id, follow)
