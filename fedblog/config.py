"""Settings from one TOML file, each key overridable by FEDBLOG_<SECTION>_<KEY>.

Every problem is reported as a ConfigError naming the key, so the CLI can print one line and exit.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MODERATION_POLICIES = ("open", "first_time", "hold_all")
QUOTE_POLICIES = ("anyone", "followers", "nobody")  # who may quote the posts (fedblog.protocol.quotes)
LANGUAGES = ("en", "fr")
NOTIFICATION_EVENTS = ("held", "approved", "followers")
MAX_CACHE_MB = 4096  # a cache budget beyond this is a typo (server.page_cache_mb, server.comment_cache_mb)


class ConfigError(Exception):
    """A bad configuration value; the message names the key."""


@dataclass(frozen=True)
class SiteSettings:
    base_url: str = "http://127.0.0.1:8080"
    title: str = "fedblog"
    description: str = ""
    language: str = "en"
    posts_per_page: int = 10


@dataclass(frozen=True)
class AuthorSettings:
    username: str = "author"
    display_name: str = ""
    bio: str = ""
    avatar: str = ""
    header_image: str = ""
    # Profile links shown on the actor as PropertyValue pairs: "Label = https://…"
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatabaseSettings:
    path: str = "fedblog.sqlite3"
    # Wins over path when set: sqlite:///FILE (relative to the config file), sqlite:////ABSOLUTE/FILE, or
    # postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME (also postgres://).
    url: str = ""
    # PostgreSQL's password when the URL has none: better given as FEDBLOG_DATABASE_PASSWORD; never logged nor shown.
    password: str = ""
    # PostgreSQL: the server cancels a statement running longer (the request answers 503, one line in the log);
    # 0 for no limit. Migrations are not limited.
    statement_timeout_seconds: int = 30


SQLITE_URL = "sqlite:///"
POSTGRES_URLS = ("postgresql://", "postgres://")


def redacted_url(url: str) -> str:
    """`url` with any password replaced by ***: what an error message may show."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials.split("/", 1)[0]:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def database_password(settings: Settings) -> str | None:
    """PostgreSQL's password: the URL's, else database.password (FEDBLOG_DATABASE_PASSWORD); None for none."""
    if urlsplit(settings.database.url).password:
        return None  # asyncpg reads it from the URL
    return settings.database.password or None


@dataclass(frozen=True)
class CommentSettings:
    moderation: str = "first_time"
    max_length: int = 5000
    rate_limit_per_minute: int = 5
    # Close every post's comments this many days after publication (0: never), as WordPress's discussion setting.
    close_after_days: int = 0
    # A visitor may edit or delete their own comment this long after posting, from the same browser (0: never).
    edit_window_minutes: int = 15
    # Web commenters' faces: fedblog's own identicons, or Gravatar's (a request to Gravatar per reader; off).
    gravatar: bool = False
    # The form's "notify me" boxes (double opt-in e-mails to commenters); needs notifications.smtp_host.
    reply_notifications: bool = True
    # New-comment subscribers get at most one digest per post in this period.
    digest_minutes: int = 60


@dataclass(frozen=True)
class FederationSettings:
    manually_approves_followers: bool = False
    authorized_fetch: bool = False
    allow_private_addresses: bool = False
    delivery_concurrency: int = 32
    delivery_per_host: int = 4
    # A delivery that gets no complete answer in this time is a failed attempt (retried), and frees its slot.
    delivery_timeout_seconds: int = 15
    # A process holding leases (a delivery worker, a web process processing an inbox activity) says it is alive
    # every 2 s; one silent this long is taken for dead, on any machine, and its leases are taken over at once.
    heartbeat_stale_seconds: int = 15
    discoverable: bool = True
    # Hosts whose senders the inbox never throttles (see services/inbox_limits.py), e.g. ["social.example"].
    trusted_hosts: tuple[str, ...] = ()
    # Who may quote the blog's posts (FEP-044f): "anyone", "followers" or "nobody"; others' requests are refused.
    quote_policy: str = "anyone"
    # A reply just written has no replies yet: its sub-thread is first read this long after it was written (a
    # comment written earlier, or approved later, is read at once). Saves one signed fetch per arriving reply.
    backfill_first_crawl_minutes: int = 10


@dataclass(frozen=True)
class ServerSettings:
    # Behind a reverse proxy on the same machine: take the client address from X-Forwarded-For (rate limits).
    behind_proxy: bool = False
    # "plain" lines or "json" (one object per line); `--log-format` wins. Secrets are redacted in both (logs.py).
    log_format: str = "plain"
    # Memory each process gives its caches (MiB): the rendered public pages as served (web/page_cache.py; a post
    # with 10,000 comments is a page of ~13 MB, and a page larger than the budget is rendered for every read), and
    # the rendered comments a post's page is put together from after a new reply (web/comment_fragments.py).
    page_cache_mb: int = 64
    comment_cache_mb: int = 16


@dataclass(frozen=True)
class WebmentionSettings:
    # Webmention (W3C): tell the pages a post links to, and take mentions from other sites as comments.
    send: bool = True
    receive: bool = True


@dataclass(frozen=True)
class PingbackSettings:
    # Pingback 1.0 (XML-RPC, as WordPress): ping the pages without a Webmention endpoint, take pings at /xmlrpc.php.
    send: bool = True
    receive: bool = True


@dataclass(frozen=True)
class TrackbackSettings:
    # Trackback pings at /posts/SLUG/trackback: the most spammed channel of old blogs, so off unless asked for.
    receive: bool = False


@dataclass(frozen=True)
class NotificationSettings:
    # One e-mail digest per period to the author: comments held, comments published, new followers. Empty: off.
    email: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: str = ""  # better given as FEDBLOG_NOTIFICATIONS_SMTP_PASSWORD; never logged nor shown
    from_address: str = ""  # empty: the author's address
    on: tuple[str, ...] = NOTIFICATION_EVENTS
    interval_seconds: int = 60


@dataclass(frozen=True)
class MediaSettings:
    # Uploaded images: the folder (relative to the config file) served at /media/, and the largest upload.
    path: str = "media"
    max_upload_mb: int = 10


@dataclass(frozen=True)
class MetricsSettings:
    # Prometheus metrics at /metrics: off by default; with no token, only for clients on loopback that came
    # through no proxy. Give the token as FEDBLOG_METRICS_TOKEN rather than in the file.
    enabled: bool = False
    token: str = ""
    # Where `fedblog worker` run on its own serves /metrics (it has no site of its own to serve it on); port 0:
    # nowhere. Under `serve` the web processes serve the worker's figures.
    worker_host: str = "127.0.0.1"
    worker_port: int = 9465


@dataclass(frozen=True)
class AdminSettings:
    password_hash: str = ""


@dataclass(frozen=True)
class Settings:
    site: SiteSettings = field(default_factory=SiteSettings)
    author: AuthorSettings = field(default_factory=AuthorSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    comments: CommentSettings = field(default_factory=CommentSettings)
    federation: FederationSettings = field(default_factory=FederationSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    webmention: WebmentionSettings = field(default_factory=WebmentionSettings)
    pingback: PingbackSettings = field(default_factory=PingbackSettings)
    trackback: TrackbackSettings = field(default_factory=TrackbackSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    # The directory of the config file: relative paths (database, keys) are resolved against it.
    root: Path = Path()

    @property
    def database_backend(self) -> str:
        """ "postgresql" when database.url names a PostgreSQL server, else "sqlite"."""
        return "postgresql" if self.database.url.startswith(POSTGRES_URLS) else "sqlite"

    @property
    def database_path(self) -> Path:
        """The SQLite file: database.url's when set (checked by validate()), else database.path. On PostgreSQL,
        a name in the site's folder that holds no database: what sits beside it (the wake-up sockets) still has
        a place."""
        if self.database_backend == "postgresql":
            return self.root / "postgresql"
        if self.database.url:
            return resolve_path(self.root, self.database.url[len(SQLITE_URL) :])
        return resolve_path(self.root, self.database.path)

    @property
    def database_key(self) -> str:
        """The setting that names the database, for messages."""
        return "database.url" if self.database.url else "database.path"

    @property
    def media_path(self) -> Path:
        return resolve_path(self.root, self.media.path)

    @property
    def key_path(self) -> Path:
        return self.root / "keys" / "private.pem"

    @property
    def is_https(self) -> bool:
        return self.site.base_url.startswith("https://")


SECTIONS: dict[str, type] = {
    "site": SiteSettings,
    "author": AuthorSettings,
    "database": DatabaseSettings,
    "comments": CommentSettings,
    "federation": FederationSettings,
    "admin": AdminSettings,
    "server": ServerSettings,
    "webmention": WebmentionSettings,
    "pingback": PingbackSettings,
    "trackback": TrackbackSettings,
    "notifications": NotificationSettings,
    "media": MediaSettings,
    "metrics": MetricsSettings,
}


def _validate_postgres_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        parts = None
    if parts is None or not parts.path.strip("/") or "/" in parts.path.strip("/") or parts.fragment:
        raise ConfigError(
            "database.url: expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME (or postgres://),"
            f" got {redacted_url(url)!r}"
        )


def _validate_database_url(url: str) -> None:
    if not url:
        return
    if url.startswith(POSTGRES_URLS):
        _validate_postgres_url(url)
        return
    path = url[len(SQLITE_URL) :] if url.startswith(SQLITE_URL) else ""
    if not path or "?" in path or "#" in path or path.endswith("/"):
        raise ConfigError(
            "database.url: expected sqlite:///FILE (relative to the config file) or sqlite:////ABSOLUTE/FILE,"
            f" got {redacted_url(url)!r}"
        )


def resolve_path(root: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else root / path


def load_settings(path: str | os.PathLike[str], environ: dict[str, str] | None = None) -> Settings:
    """Read the TOML file, apply FEDBLOG_* overrides, validate; raise ConfigError on any problem."""
    environ = dict(os.environ if environ is None else environ)
    config_path = Path(path)
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {str(config_path)!r} not found (run `fedblog init` first)") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {str(config_path)!r} is not valid TOML: {error}") from None
    return settings_from_mapping(raw, environ, root=config_path.resolve().parent)


# FEDBLOG_* variables that are not a key: the config file's path (read by the CLI), the property tests' profile,
# the tests' backend (tests/postgres.py; the commands the tests start inherit it).
OTHER_VARIABLES = ("FEDBLOG_CONFIG", "FEDBLOG_FUZZ_PROFILE", "FEDBLOG_TEST_BACKEND")


def environment_names() -> dict[str, str]:
    """Every FEDBLOG_<SECTION>_<KEY> there is, with the key it sets."""
    return {
        f"FEDBLOG_{section.upper()}_{spec.name.upper()}": f"{section}.{spec.name}"
        for section, cls in SECTIONS.items()
        for spec in fields(cls)
    }


def check_environment(environ: dict[str, str]) -> None:
    """A misspelt FEDBLOG_ variable is refused as a misspelt key in the file is: silently ignoring it would run
    the site with a setting the author believes changed."""
    known = environment_names()
    for name in sorted(environ):
        if name.startswith("FEDBLOG_") and name not in known and name not in OTHER_VARIABLES:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]}?" if close else "no such key; see the README's table"
            raise ConfigError(f"{name}: unknown environment variable ({hint})")


def settings_from_mapping(raw: dict[str, Any], environ: dict[str, str], root: Path) -> Settings:
    check_environment(environ)
    sections: dict[str, Any] = {}
    for name in raw:
        if name not in SECTIONS:
            raise ConfigError(f"[{name}]: unknown section (known: {', '.join(SECTIONS)})")
    for name, cls in SECTIONS.items():
        values = raw.get(name, {})
        if not isinstance(values, dict):
            raise ConfigError(f"{name}: must be a table")
        sections[name] = build_section(name, cls, values, environ)
    settings = Settings(**sections, root=root)
    validate(settings)
    return settings


def build_section(section: str, cls: type, values: dict[str, Any], environ: dict[str, str]) -> Any:
    known = {f.name: f for f in fields(cls)}
    for key in values:
        if key not in known:
            raise ConfigError(f"{section}.{key}: unknown key (known: {', '.join(known)})")
    kwargs: dict[str, Any] = {}
    for name, spec in known.items():
        default = spec.default
        env_name = f"FEDBLOG_{section.upper()}_{name.upper()}"
        if env_name in environ:
            kwargs[name] = coerce(f"{section}.{name} (from {env_name})", environ[env_name], default)
        elif name in values:
            kwargs[name] = check_type(f"{section}.{name}", values[name], default)
    return cls(**kwargs)


def coerce(key: str, text: str, default: Any) -> Any:
    """Turn an environment string into the type of the default."""
    if isinstance(default, bool):
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{key}: expected true or false, got {text!r}")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{key}: expected an integer, got {text!r}") from None
    if isinstance(default, tuple):
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return text


def check_type(key: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{key}: expected a list of strings")
        return tuple(value)
    if not isinstance(value, str):
        raise ConfigError(f"{key}: expected a string, got {value!r}")
    return value


def validate(settings: Settings) -> None:
    _validate_database_url(settings.database.url)
    if not 0 <= settings.database.statement_timeout_seconds <= 3600:
        raise ConfigError("database.statement_timeout_seconds: expected 0 (no limit) to 3600 seconds")
    base = urlsplit(settings.site.base_url)
    if base.scheme not in ("http", "https") or not base.hostname:
        raise ConfigError(f"site.base_url: expected an http(s) URL, got {settings.site.base_url!r}")
    if base.path not in ("", "/") or base.query or base.fragment:
        raise ConfigError("site.base_url: must be scheme://host[:port] without a path")
    for key in ("page_cache_mb", "comment_cache_mb"):
        if not 0 <= getattr(settings.server, key) <= MAX_CACHE_MB:
            raise ConfigError(f"server.{key}: expected 0 (no cache) to {MAX_CACHE_MB} MiB")
    if not 0 <= settings.metrics.worker_port <= 65535:
        raise ConfigError(f"metrics.worker_port: expected 0 to 65535, got {settings.metrics.worker_port}")
    if settings.site.language not in LANGUAGES:
        raise ConfigError(f"site.language: expected one of {', '.join(LANGUAGES)}, got {settings.site.language!r}")
    if settings.site.posts_per_page < 1:
        raise ConfigError("site.posts_per_page: must be at least 1")
    username = settings.author.username
    if not username or not all(c.isalnum() or c in "_-." for c in username) or not username.isascii():
        raise ConfigError(f"author.username: letters, digits, '_', '-' and '.' only, got {username!r}")
    if settings.comments.moderation not in MODERATION_POLICIES:
        raise ConfigError(
            f"comments.moderation: expected one of {', '.join(MODERATION_POLICIES)}, "
            f"got {settings.comments.moderation!r}"
        )
    if settings.federation.quote_policy not in QUOTE_POLICIES:
        raise ConfigError(
            f"federation.quote_policy: expected one of {', '.join(QUOTE_POLICIES)}, "
            f"got {settings.federation.quote_policy!r}"
        )
    if settings.comments.max_length < 1:
        raise ConfigError("comments.max_length: must be at least 1")
    if settings.server.log_format not in ("plain", "json"):
        raise ConfigError(f"server.log_format: expected plain or json, got {settings.server.log_format!r}")
    if settings.comments.close_after_days < 0:
        raise ConfigError("comments.close_after_days: must be 0 (never) or a number of days")
    for key in ("avatar", "header_image"):
        image = getattr(settings.author, key)
        on_site = image.startswith("/") and not image.startswith("//")
        if image and not on_site and (urlsplit(image).scheme not in ("http", "https") or not urlsplit(image).hostname):
            raise ConfigError(f"author.{key}: expected an image URL (https://… or /path on this site), got {image!r}")
    if not 0 <= settings.comments.edit_window_minutes <= 24 * 60:
        raise ConfigError("comments.edit_window_minutes: expected 0 (never) to 1440 minutes")
    if settings.comments.digest_minutes < 1:
        raise ConfigError("comments.digest_minutes: must be at least 1")
    for link in settings.author.links:
        label, sep, url = link.partition("=")
        if not sep or not label.strip() or not url.strip().startswith(("http://", "https://")):
            raise ConfigError(f"author.links: expected 'Label = https://…', got {link!r}")
    if settings.federation.delivery_concurrency < 1 or settings.federation.delivery_per_host < 1:
        raise ConfigError("federation.delivery_concurrency: must be at least 1")
    if not 0 <= settings.federation.backfill_first_crawl_minutes <= 1440:
        raise ConfigError("federation.backfill_first_crawl_minutes: expected 0 to 1440 minutes")
    if not 1 <= settings.federation.delivery_timeout_seconds <= 300:
        raise ConfigError("federation.delivery_timeout_seconds: expected 1 to 300 seconds")
    if not 6 <= settings.federation.heartbeat_stale_seconds <= 600:
        # At least three heartbeats (every 2 s): a busy process must not be taken for dead.
        raise ConfigError("federation.heartbeat_stale_seconds: expected 6 to 600 seconds")
    validate_notifications(settings.notifications)
    if not settings.media.path.strip():
        raise ConfigError("media.path: must name a folder")
    if not 1 <= settings.media.max_upload_mb <= 100:
        raise ConfigError(f"media.max_upload_mb: expected 1 to 100 (megabytes), got {settings.media.max_upload_mb}")


def validate_notifications(notifications: NotificationSettings) -> None:
    for key in ("email", "from_address"):
        value = getattr(notifications, key)
        if value and not looks_like_address(value):
            raise ConfigError(f"notifications.{key}: expected an e-mail address such as me@example.org, got {value!r}")
    for event in notifications.on:
        if event not in NOTIFICATION_EVENTS:
            raise ConfigError(f"notifications.on: expected some of {', '.join(NOTIFICATION_EVENTS)}, got {event!r}")
    if notifications.interval_seconds < 1:
        raise ConfigError("notifications.interval_seconds: must be at least 1")
    if not 0 < notifications.smtp_port < 65536:
        raise ConfigError(f"notifications.smtp_port: expected a port number, got {notifications.smtp_port}")
    if not notifications.email:
        return
    if not notifications.smtp_host:
        raise ConfigError("notifications.smtp_host: required when notifications.email is set")
    in_clear = not notifications.smtp_starttls and notifications.smtp_port != 465
    loopback = notifications.smtp_host in ("127.0.0.1", "::1", "localhost")
    if notifications.smtp_password and in_clear and not loopback:
        raise ConfigError("notifications.smtp_starttls: must be true to send smtp_password to a server not on loopback")


def looks_like_address(value: str) -> bool:
    """One plain address (no display name, no line breaks: it goes into mail headers)."""
    local, at, domain = value.rpartition("@")
    return bool(at and local and "." in domain) and not any(char.isspace() or char in '<>,;"' for char in value)


def render_config(base_url: str, username: str, title: str, language: str, password_hash: str, database: str) -> str:
    """The TOML written by `fedblog init` (every key listed, so the author sees what exists)."""

    def q(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return f"""# fedblog configuration. Any key can be overridden by FEDBLOG_<SECTION>_<KEY>.
[site]
base_url = {q(base_url.rstrip("/"))}
title = {q(title)}
description = ""
language = {q(language)}
posts_per_page = 10

[author]
username = {q(username)}
display_name = {q(username)}
bio = ""
avatar = ""
header_image = ""
links = []

[database]
path = {q(database)}
# Wins over path when set: sqlite:///FILE (relative to this file) or sqlite:////ABSOLUTE/FILE,
# or postgresql://USER@HOST:PORT/DBNAME (docs/DATABASES.md).
url = ""
# PostgreSQL's password when the URL has none: better given as FEDBLOG_DATABASE_PASSWORD.
password = ""
# PostgreSQL: a statement running longer is cancelled and its request answers 503 (0: no limit).
statement_timeout_seconds = 30

[comments]
# open | first_time (hold a commenter's first comment) | hold_all
moderation = "first_time"
max_length = 5000
rate_limit_per_minute = 5
# close comments this many days after a post is published (0: never)
close_after_days = 0
# a visitor may edit or delete their comment this many minutes after posting, from the same browser (0: never)
edit_window_minutes = 15
# faces of web commenters: fedblog's identicons (false) or Gravatar's (true: each reader's browser asks Gravatar)
gravatar = false
# "notify me of replies / new comments" boxes on the form (double opt-in), when notifications.smtp_host is set
reply_notifications = true
digest_minutes = 60

[federation]
manually_approves_followers = false
authorized_fetch = false
allow_private_addresses = false
delivery_concurrency = 32
delivery_per_host = 4
delivery_timeout_seconds = 15
# a process holding deliveries or inbox activities silent this long is taken for dead: its work is taken over
heartbeat_stale_seconds = 15
discoverable = true
# hosts whose senders the inbox never throttles, e.g. ["social.example"]
trusted_hosts = []
# who may quote the blog's posts: "anyone", "followers" or "nobody"
quote_policy = "anyone"
# a fediverse reply's own replies are first looked for this long after it was written
backfill_first_crawl_minutes = 10

[server]
# true when a reverse proxy (nginx, Caddy) forwards to fedblog: client addresses come from X-Forwarded-For
behind_proxy = false
# "plain" or "json" (one JSON object per line, for a log collector); secrets are redacted in both
log_format = "plain"
# memory (MiB) each process keeps for rendered pages (a post with 10,000 comments is ~13 MB) and rendered comments
page_cache_mb = 64
comment_cache_mb = 16

[webmention]
# send: notify the pages a post links to; receive: accept mentions from other sites (moderated like comments)
send = true
receive = true

[pingback]
# send: ping the pages a post links to that have no Webmention endpoint; receive: accept pings at /xmlrpc.php
send = true
receive = true

[trackback]
# accept trackbacks at /posts/SLUG/trackback (verified and moderated; the channel spammers love: off by default)
receive = false

[notifications]
# e-mail the author one digest per interval: "held" comments, "approved" (published) comments, new "followers".
# email empty = off. Give the password as FEDBLOG_NOTIFICATIONS_SMTP_PASSWORD rather than here.
# `fedblog notifications test` sends a test message with these settings.
email = ""
smtp_host = ""
smtp_port = 587
smtp_starttls = true
smtp_username = ""
from_address = ""
on = ["held", "approved", "followers"]
interval_seconds = 60

[media]
# uploaded images live in this folder (beside this file unless absolute), served at /media/
path = "media"
max_upload_mb = 10

[metrics]
# Prometheus metrics at /metrics; without a token only loopback clients not behind a proxy may read them.
# Give the token as FEDBLOG_METRICS_TOKEN (sent as "Authorization: Bearer TOKEN").
enabled = false
token = ""
# `fedblog worker` run on its own serves /metrics here (port 0: nowhere; the same token or loopback rule)
worker_host = "127.0.0.1"
worker_port = 9465

[admin]
password_hash = {q(password_hash)}
"""


# What the author may change from the admin's settings page; kept in the database, they win over the file.
EDITABLE_KEYS = (
    "site.title",
    "site.description",
    "site.language",
    "site.posts_per_page",
    "author.display_name",
    "author.bio",
    "author.avatar",
    "author.header_image",
    "author.links",
    "comments.moderation",
    "comments.close_after_days",
    "federation.manually_approves_followers",
    "notifications.email",
    "notifications.on",
)
# Kept with them but never shown in the form: the password changed from the admin.
PRIVATE_KEYS = ("admin.password_hash",)


def apply_overrides(settings: Settings, overrides: dict[str, Any]) -> Settings:
    """The settings with the database's values put over the file's, checked like the file (ConfigError naming the
    key); keys the admin cannot set are refused, so a stray row never changes the database path or the key."""
    by_section: dict[str, dict[str, Any]] = {}
    for dotted, value in overrides.items():
        if dotted not in EDITABLE_KEYS and dotted not in PRIVATE_KEYS:
            raise ConfigError(f"{dotted}: cannot be set from the admin")
        section, key = dotted.split(".", 1)
        default = getattr(SECTIONS[section](), key)
        by_section.setdefault(section, {})[key] = check_type(dotted, value, default)
    changed = {section: replace(getattr(settings, section), **values) for section, values in by_section.items()}
    result = replace(settings, **changed)
    validate(result)
    return result


def editable_values(settings: Settings) -> dict[str, Any]:
    """The current value of every editable key (lists as lists, as TOML and JSON have them)."""
    values: dict[str, Any] = {}
    for dotted in EDITABLE_KEYS:
        section, key = dotted.split(".", 1)
        value = getattr(getattr(settings, section), key)
        values[dotted] = list(value) if isinstance(value, tuple) else value
    return values
