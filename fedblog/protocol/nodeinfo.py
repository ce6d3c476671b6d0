"""NodeInfo 2.1 (FEP-f1d5, FEP-0151), pure: the discovery document and the node's description."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fedblog import SOFTWARE_NAME, __version__

SCHEMA_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
CONTENT_TYPE = 'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'


def discovery(nodeinfo_url: str) -> dict[str, Any]:
    return {"links": [{"rel": SCHEMA_21, "href": nodeinfo_url}]}


def document(
    *, node_name: str, node_description: str, local_posts: int, last_post_at: datetime | None, now: datetime
) -> dict[str, Any]:
    """One user, never open for sign-up; the author counts as active when they posted in the period."""

    def active_within(days: int) -> int:
        return int(last_post_at is not None and now - last_post_at <= timedelta(days=days))

    return {
        "version": "2.1",
        "software": {"name": SOFTWARE_NAME, "version": __version__},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0"]},
        "openRegistrations": False,
        "usage": {
            "users": {"total": 1, "activeMonth": active_within(30), "activeHalfyear": active_within(180)},
            "localPosts": local_posts,
        },
        "metadata": {"nodeName": node_name, "nodeDescription": node_description},
    }
