"""What a request handler, the worker or a CLI command needs: the dataclass only (fedblog/assembly.py builds it)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedblog.config import Settings
from fedblog.heap import HeapTender
from fedblog.i18n import I18n
from fedblog.models import RemoteActor
from fedblog.store.comments import CommentStore
from fedblog.store.db import Database
from fedblog.store.posts import PostStore
from fedblog.store.read_batch import ReadBatch
from fedblog.urls import Urls

if TYPE_CHECKING:  # the types of what services keep here; nothing is imported from services at run time
    from fedblog.events import CommentListener, PostListener
    from fedblog.services.http import HttpClient
    from fedblog.services.inbox_leases import InboxLeases
    from fedblog.services.inbox_limits import InboxLimits
    from fedblog.services.metrics import Metrics
    from fedblog.services.replies import AuthorFields


@dataclass
class Runtime:
    """What the process keeps between requests, for one context: typed, owned by the module named beside each."""

    # services/http.py: the outbound client, made on first use and closed with the context.
    http: HttpClient | None = None
    # services/inbox.py: activities being processed (awaited on close), ids taken for processing (oldest
    # first), and the read batch its preflight lookups share.
    inbox_tasks: set[asyncio.Task[str]] = field(default_factory=set)
    # digests of (activity id, signer) pairs: duplicates are judged by both, never by id alone.
    inbox_seen: dict[bytes, None] = field(default_factory=dict)
    inbox_reads: ReadBatch | None = None
    # services/inbox_leases.py: this process as the holder of inbox leases (its heartbeat row).
    inbox_leases: InboxLeases | None = None
    # services/inbox_limits.py: token buckets and fetch slots for senders not known yet.
    inbox_limits: InboxLimits | None = None
    # services/verification.py: digest of (key id, signature) → expiry, for the replay check.
    replay_cache: OrderedDict[bytes, float] = field(default_factory=OrderedDict)
    # services/remote.py: actors by id and by key id, one lock per actor or key fetched, last key refetches.
    actors_by_id: dict[str, RemoteActor] = field(default_factory=dict)
    actors_by_key: dict[str, RemoteActor] = field(default_factory=dict)
    actor_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    key_refreshes: dict[str, float] = field(default_factory=dict)
    # services/replies.py: a remote author as shown, made once per actor document.
    author_fields: dict[str, tuple[RemoteActor, AuthorFields]] = field(default_factory=dict)
    # Wake-ups of the background workers, set when work is queued for them.
    delivery_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    webmention_verify_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    webmention_send_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    backfill_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # services/integrity.py: the Ed25519 key of the actor's assertionMethod, derived from the site key once.
    integrity_key: Ed25519PrivateKey | None = None
    # services/wakeups.py: pokes from other processes reach this one; wake-ups waiting for their commit.
    wakeup_listening: bool = False
    wakeup_pokes: set[asyncio.Task[None]] = field(default_factory=set)
    wakeup_closer_added: bool = False
    # heap.py: freed memory handed back once the inbox, the deliveries and the page renders are quiet after a burst.
    heap: HeapTender = field(default_factory=HeapTender)
    # services/metrics.py: the Prometheus metrics when metrics.enabled (made by app.create_app), else None.
    metrics: Metrics | None = None


@dataclass
class Context:
    settings: Settings
    db: Database
    urls: Urls
    private_key: rsa.RSAPrivateKey
    public_key_pem: str
    i18n: I18n
    posts: PostStore
    comments: CommentStore
    post_listeners: list[PostListener] = field(default_factory=list)
    comment_listeners: list[CommentListener] = field(default_factory=list)
    runtime: Runtime = field(default_factory=Runtime)
    # Called in reverse order when the context closes (http sessions, background tasks).
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
