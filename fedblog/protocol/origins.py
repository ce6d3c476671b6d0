"""Origin rules for inbound activities (INTEROP §7 #6, FEP-fe34; Mastodon's): pure checks, no I/O.

An activity's `id`, and the `id` of an object it creates or changes, must be on the origin (scheme, host, port) of
the actor that claims it: otherwise one server could take another's ids (an id recorded first as a duplicate would
make the real activity be dropped), or plant objects in another server's name.
"""

from __future__ import annotations

from typing import Any

from fedblog.protocol.activitystreams import as_list, first_id
from fedblog.protocol.addresses import same_origin

# Activities whose embedded object is created or changed by the actor.
OBJECT_WRITING_TYPES = frozenset({"Create", "Update"})


def foreign_id_problem(activity: dict[str, Any]) -> str | None:
    """Why the activity claims an id outside its actor's origin, or None when every claimed id is its actor's."""
    actor_id = first_id(activity.get("actor"))
    activity_id = activity.get("id")
    if not actor_id or not isinstance(activity_id, str):
        return "an activity needs string id, type and actor"
    if not same_origin(activity_id, actor_id):
        return "the activity's id is not on its actor's server"
    if activity.get("type") in OBJECT_WRITING_TYPES:
        for embedded in as_list(activity.get("object")):
            object_id = embedded.get("id") if isinstance(embedded, dict) else None
            if isinstance(object_id, str) and not same_origin(object_id, actor_id):
                return "the object's id is not on its actor's server"
    return None
