"""What a request handler, the worker or a CLI command needs: the dataclass only (fedblog/assembly.py builds it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import rsa

from fedblog.config import Settings
from fedblog.i18n import I18n
from fedblog.store.comments import CommentStore
from fedblog.store.db import Database
from fedblog.store.posts import PostStore
from fedblog.urls import Urls

if TYPE_CHECKING:
    from fedblog.events import CommentListener, PostListener


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
    # Filled by the modules that own them (federation stores, http client…), looked up by name.
    extras: dict[str, Any] = field(default_factory=dict)
    # Called in reverse order when the context closes (http sessions, background tasks).
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
