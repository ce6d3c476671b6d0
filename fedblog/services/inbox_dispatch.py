"""The inbox's one flat table: (activity type, object type) → one named handler.

Federation registers Follow/Undo(Follow)/…, conversations register Create(Note), Like, Announce, …
Unknown types are acknowledged and ignored by the caller.
"""

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


Handler = Callable[["Context", IncomingActivity], Awaitable[None]]


class Dispatcher:
    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str | None], Handler] = {}

    def register(self, activity_type: str, handler: Handler, object_type: str | None = None) -> None:
        """object_type None is the fallback for that activity type."""
        self._handlers[(activity_type, object_type)] = handler

    def find(self, activity: IncomingActivity) -> Handler | None:
        return self._handlers.get((activity.type, activity.object_type)) or self._handlers.get((activity.type, None))

    def handles(self, activity_type: str) -> bool:
        return any(kind == activity_type for kind, _ in self._handlers)


DISPATCHER_KEY = "inbox_dispatcher"


def get_dispatcher(ctx: Context) -> Dispatcher:
    """The context's dispatcher, made on first use so that installers can register in any order."""
    dispatcher = ctx.extras.get(DISPATCHER_KEY)
    if dispatcher is None:
        dispatcher = ctx.extras[DISPATCHER_KEY] = Dispatcher()
    return dispatcher
