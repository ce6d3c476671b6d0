"""An activity as the inbox hands it to its handler (see inbox_dispatch.py for which handler)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fedblog.context import Context
    from fedblog.store.inbox import InboxRecord


@dataclass(frozen=True)
class IncomingActivity:
    id: str
    type: str
    actor_id: str
    # The activity's `object` as received: an id string, an embedded dict, or a list.
    object: Any
    raw: dict[str, Any]
    # The actor whose key signed the request (may differ from actor_id for forwarded activities).
    signer_id: str
    # Set when the activity is not recorded yet: a handler may write it (InboxStore.settle_sync, status processed)
    # in the commit that stores its effects and mark it settled; otherwise the inbox records it afterwards.
    record: InboxRecord | None = None

    @property
    def object_id(self) -> str | None:
        value = self.object
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, dict):
            value = value.get("id")
        return value if isinstance(value, str) else None

    @property
    def object_type(self) -> str | None:
        value = self.object
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, dict):
            kind = value.get("type")
            if isinstance(kind, list) and kind:
                kind = kind[0]
            return kind if isinstance(kind, str) else None
        return None


# What a handler returns is not used (some say whether they recognised the object, for named fallbacks).
Handler = Callable[["Context", IncomingActivity], Awaitable[object]]
