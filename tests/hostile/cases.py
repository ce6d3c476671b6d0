"""The hostile-input corpus: one row per case, naming its family, the input, and the safe answer.

Adding a case is adding a row. Placeholders in strings are filled in by the runner: {blog} the blog's base URL,
{post} the Note id of the post under attack, {remote} the loopback "remote instance", {alice}/{bob} its actors,
{listener} host:port of a server that counts every request it gets (SSRF probes must never reach it), {token}
a word unique to the case (XSS payloads carry it, so the page is shown to have rendered them, inertly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# -- probes: what the attacker sends ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """A request as bytes to the blog (no signature)."""

    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Signed:
    """An activity (or raw body) POSTed to the blog's inbox as alice, signed; `tweak` names how the signature is
    spoiled (see signing.py), `before` activities are sent first (validly)."""

    activity: dict[str, Any] | None = None
    body: bytes | None = None
    tweak: str = ""
    path: str = "/actor/inbox"
    content_type: str = "application/activity+json"
    key_id: str = ""
    before: tuple[dict[str, Any], ...] = ()
    twice: bool = False


@dataclass(frozen=True)
class Comment:
    """The public comment form of the post under attack, loaded and sent as a browser does (fields override)."""

    fields: dict[str, str]
    raw_body: bytes | None = None  # sent as is (with the page's token appended) instead of the form
    content_type: str = "application/x-www-form-urlencoded"
    no_token: bool = False


@dataclass(frozen=True)
class Profile:
    """A new actor (p{token}) whose document carries these fields replies to the post (a Note with `note` fields),
    or sends `activity` instead."""

    actor: dict[str, Any]
    note: dict[str, Any] = field(default_factory=dict)
    activity: dict[str, Any] | None = None


@dataclass(frozen=True)
class Mention:
    """A webmention of the post from a loopback page: an h-entry whose author h-card and content are these."""

    card: str
    content: str = "<p>mention {token}</p>"


@dataclass(frozen=True)
class Burst:
    """`count` actors never seen before, on a second loopback server, each Like the second post at once."""

    count: int


@dataclass(frozen=True)
class KeyAt:
    """A signed POST whose keyId is this URL, to a blog that refuses private addresses (the SSRF guard on)."""

    url: str


@dataclass(frozen=True)
class Address:
    """A URL the guard must refuse before any connection (addresses off loopback are never dialled here)."""

    url: str


@dataclass(frozen=True)
class Redirect:
    """A fetch of a "public" server (127.0.0.2, allowed for the case) that redirects to `to`."""

    to: str
    hops: int = 1


@dataclass(frozen=True)
class Rebind:
    """A fetch of http://rebind.test/, whose DNS answers (from a resolver the case controls) change from one question
    to the next: 127.0.0.2 stands for a public address, 127.0.0.1 (the counting server) for a private one."""

    answers: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Login:
    """The admin login with the right password and this `next`."""

    next: str


# -- safe answers -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Safe:
    status: frozenset[int]
    lacks: tuple[str, ...] = ()  # never in the answer nor in `page`
    page: str = ""  # a page fetched after the probe (placeholders allowed)
    shows: tuple[str, ...] = ()  # in `page`: the input reached it
    page_status: int = 200
    recorded: bool | None = None  # False: the activity's id is not recorded
    no_fetch: bool = False  # the counting listener got nothing
    local_location: bool = False  # a redirect, if any, stays on the blog
    refused: bool = False  # the pure guard refuses it
    inert: bool = False  # the answer and `page` hold no active content beyond the blog's own (see active.py)


def safe(*statuses: int, **kwargs: Any) -> Safe:
    return Safe(status=frozenset(statuses), **kwargs)


@dataclass(frozen=True)
class Case:
    family: str
    name: str
    probe: Any
    answer: Safe

    @property
    def id(self) -> str:
        return f"{self.family}/{self.name}"


REFUSED_401 = safe(401, recorded=False)
BAD_BODY = safe(400, recorded=False)
POST_PAGE = "/posts/target"


def follow(actor: str = "{alice}", number: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor}/follows/{{token}}-{number}",
        "type": "Follow",
        "actor": actor,
        "object": "{blog}/actor",
        **extra,
    }


def create_note(content: str = "reply {token}", **note: Any) -> dict[str, Any]:
    obj = {
        "id": "{alice}/statuses/{token}",
        "type": "Note",
        "attributedTo": "{alice}",
        "inReplyTo": "{post}",
        "content": content,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": ["{alice}/followers"],
        **note,
    }
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "{alice}/statuses/{token}/activity",
        "type": "Create",
        "actor": "{alice}",
        "to": obj["to"],
        "cc": obj["cc"],
        "object": obj,
    }


def activity(kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "{alice}/activities/{token}",
        "type": kind,
        "actor": "{alice}",
        "object": obj,
        **extra,
    }


SIGNATURE = [
    Case(
        "inbox-signature",
        "unsigned",
        Raw(
            "POST",
            "/actor/inbox",
            b'{"id":"http://127.0.0.1:9/f/1","type":"Follow","actor":"http://127.0.0.1:9/users/x","object":"x"}',
            {"Content-Type": "application/activity+json"},
        ),
        safe(401),
    ),
    Case("inbox-signature", "garbage-signature", Signed(follow(), tweak="garbage"), REFUSED_401),
    Case("inbox-signature", "signature-not-base64", Signed(follow(), tweak="not-base64"), REFUSED_401),
    Case("inbox-signature", "key-of-another-actor", Signed(follow(), tweak="bobs-key"), REFUSED_401),
    Case("inbox-signature", "foreign-key-id", Signed(follow(), key_id="{bob}#main-key", tweak="bobs-key"), REFUSED_401),
    Case(
        "inbox-signature",
        "key-id-on-another-host",
        Signed(follow(), key_id="http://127.0.0.9:9/users/alice#k"),
        REFUSED_401,
    ),
    Case("inbox-signature", "key-id-file", Signed(follow(), key_id="file:///etc/passwd"), REFUSED_401),
    Case("inbox-signature", "key-id-javascript", Signed(follow(), key_id="javascript:alert(1)"), REFUSED_401),
    Case("inbox-signature", "key-id-data", Signed(follow(), key_id="data:text/plain,key"), REFUSED_401),
    Case("inbox-signature", "key-id-empty", Signed(follow(), key_id=" "), REFUSED_401),
    Case("inbox-signature", "stale-date", Signed(follow(), tweak="date-2h-ago"), REFUSED_401),
    Case("inbox-signature", "future-date", Signed(follow(), tweak="date-2h-ahead"), REFUSED_401),
    Case("inbox-signature", "digest-mismatch", Signed(follow(), tweak="body-changed"), REFUSED_401),
    Case("inbox-signature", "digest-not-signed", Signed(follow(), tweak="digest-unsigned"), REFUSED_401),
    Case("inbox-signature", "digest-header-absent", Signed(follow(), tweak="digest-absent"), REFUSED_401),
    Case("inbox-signature", "digest-sha1-only", Signed(follow(), tweak="digest-sha1"), REFUSED_401),
    Case("inbox-signature", "date-not-signed", Signed(follow(), tweak="date-unsigned"), REFUSED_401),
    Case("inbox-signature", "hmac-algorithm", Signed(follow(), tweak="hmac"), REFUSED_401),
    Case("inbox-signature", "unknown-algorithm", Signed(follow(), tweak="algorithm-rot13"), REFUSED_401),
    Case("inbox-signature", "empty-signature-header", Signed(follow(), tweak="empty-header"), REFUSED_401),
    Case(
        "inbox-signature",
        "huge-signature-header",
        Signed(follow(), tweak="huge-header"),
        safe(400, 401, 413, 431, recorded=False),
    ),
    Case("inbox-signature", "rfc9421-garbage-input", Signed(follow(), tweak="rfc9421-garbage"), REFUSED_401),
    Case("inbox-signature", "actor-is-someone-else", Signed(follow(actor="{bob}")), REFUSED_401),
    Case(
        "inbox-signature",
        "replayed-request",
        Signed(create_note("replayed {token}"), twice=True),
        safe(202, page=POST_PAGE, shows=("replayed {token}",)),
    ),
]

BODY = [
    Case(
        "inbox-body", "ten-megabytes", Signed(body=b'{"type":"Note","content":"' + b"a" * 10_000_000 + b'"}'), safe(413)
    ),
    Case("inbox-body", "nested-100k-deep", Signed(body=b'{"a":' * 100_000 + b"1" + b"}" * 100_000), safe(400, 413)),
    Case(
        "inbox-body",
        "array-of-200k",
        Signed(body=b'{"type":"Follow","to":[' + b"1," * 200_000 + b"1]}"),
        safe(400, 413),
    ),
    Case("inbox-body", "nan", Signed(body=b'{"type":"Follow","actor":"x","n":NaN}'), BAD_BODY),
    Case("inbox-body", "infinity", Signed(body=b'{"type":"Follow","n":-Infinity}'), BAD_BODY),
    Case("inbox-body", "5000-digit-number", Signed(body=b'{"type":"Follow","n":' + b"9" * 5000 + b"}"), BAD_BODY),
    Case("inbox-body", "not-utf-8", Signed(body=b'{"type":"Follow","name":"\xff\xfe\xc3"}'), BAD_BODY),
    Case("inbox-body", "utf-16", Signed(body='{"type":"Follow"}'.encode("utf-16")), BAD_BODY),
    Case("inbox-body", "not-json", Signed(body=b"this is not json"), BAD_BODY),
    Case("inbox-body", "json-array", Signed(body=b"[1, 2, 3]"), BAD_BODY),
    Case("inbox-body", "json-string", Signed(body=b'"Follow"'), BAD_BODY),
    Case("inbox-body", "empty", Signed(body=b""), safe(400, 401)),
    Case("inbox-body", "text-plain", Signed(follow(), content_type="text/plain"), safe(415, recorded=False)),
    Case(
        "inbox-body",
        "form-encoded",
        Signed(follow(), content_type="application/x-www-form-urlencoded"),
        safe(415, recorded=False),
    ),
    Case("inbox-body", "trailing-garbage", Signed(body=b'{"type":"Follow"} {"type":"Delete"}'), BAD_BODY),
]

AUTHORITY = [
    Case(
        "inbox-authority",
        "foreign-attribution",
        Signed(create_note("forged {token}", attributedTo="{bob}")),
        safe(202, 400, 401, 403, page=POST_PAGE, lacks=("forged {token}",)),
    ),
    Case(
        "inbox-authority",
        "update-of-the-blogs-post",
        Signed(
            activity(
                "Update", {"id": "{post}", "type": "Note", "attributedTo": "{blog}/actor", "content": "defaced {token}"}
            )
        ),
        safe(202, 400, 401, 403, page=POST_PAGE, lacks=("defaced {token}",), shows=("Original words",)),
    ),
    Case(
        "inbox-authority",
        "delete-of-the-blogs-post",
        Signed(activity("Delete", "{post}")),
        safe(202, 400, 401, 403, page=POST_PAGE, shows=("Original words",)),
    ),
    Case(
        "inbox-authority",
        "delete-of-the-blogs-actor",
        Signed(activity("Delete", "{blog}/actor")),
        safe(202, 400, 401, 403, page="/actor", page_status=200),
    ),
    Case(
        "inbox-authority",
        "undo-of-someone-elses-follow",
        Signed(
            activity(
                "Undo", {"id": "{bob}/follows/{token}-1", "type": "Follow", "actor": "{bob}", "object": "{blog}/actor"}
            )
        ),
        safe(202, 400, 401, 403, page="/actor/followers?page=1", shows=("{bob}",)),
    ),
    Case(
        "inbox-authority",
        "announce-of-a-forged-copy",
        Signed(
            activity(
                "Announce",
                {"id": "{post}", "type": "Note", "attributedTo": "{blog}/actor", "content": "forged copy {token}"},
            )
        ),
        safe(202, 400, 401, 403, page=POST_PAGE, lacks=("forged copy {token}",), shows=("Original words",)),
    ),
    Case(
        "inbox-authority",
        "reply-to-itself",
        Signed(create_note("loop {token}", inReplyTo="{alice}/statuses/{token}")),
        safe(202, 400, page=POST_PAGE, lacks=("loop {token}",)),
    ),
    Case(
        "inbox-authority", "like-of-nothing", Signed(activity("Like", "{blog}/posts/no-such-post")), safe(202, 400, 404)
    ),
    Case("inbox-authority", "accept-never-asked", Signed(activity("Accept", "{blog}/follows/never")), safe(202, 400)),
    Case("inbox-authority", "object-is-a-list-of-1000", Signed(activity("Like", ["{post}"] * 1000)), safe(202, 400)),
    Case("inbox-authority", "create-without-object", Signed(activity("Create", None)), safe(202, 400)),
]

# The SSRF guard: every spelling of loopback as a key's address. {listener} counts what reaches it: nothing may.
LOOPBACK_SPELLINGS = [
    ("dotted", "http://127.0.0.1:{port}/actor#main-key"),
    ("localhost", "http://localhost:{port}/actor#main-key"),
    ("localhost-upper", "http://LOCALHOST:{port}/actor#main-key"),
    ("localhost-trailing-dot", "http://localhost.:{port}/actor#main-key"),
    ("short-127.1", "http://127.1:{port}/actor#main-key"),
    ("short-127.0.1", "http://127.0.1:{port}/actor#main-key"),
    ("decimal", "http://2130706433:{port}/actor#main-key"),
    ("hex", "http://0x7f000001:{port}/actor#main-key"),
    ("hex-dotted", "http://0x7f.0x0.0x0.0x1:{port}/actor#main-key"),
    ("octal", "http://0177.0.0.1:{port}/actor#main-key"),
    ("octal-whole", "http://017700000001:{port}/actor#main-key"),
    ("zero-padded", "http://127.000.000.001:{port}/actor#main-key"),
    ("other-127", "http://127.127.127.127:{port}/actor#main-key"),
    ("zero", "http://0.0.0.0:{port}/actor#main-key"),
    ("zero-short", "http://0:{port}/actor#main-key"),
    ("ipv6-loopback", "http://[::1]:{port}/actor#main-key"),
    ("ipv6-unspecified", "http://[::]:{port}/actor#main-key"),
    ("ipv4-mapped", "http://[::ffff:127.0.0.1]:{port}/actor#main-key"),
    ("ipv4-mapped-hex", "http://[::ffff:7f00:1]:{port}/actor#main-key"),
    ("ipv4-mapped-long", "http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/actor#main-key"),
    ("percent-encoded", "http://%31%32%37.0.0.1:{port}/actor#main-key"),
    ("userinfo", "http://user:pass@127.0.0.1:{port}/actor#main-key"),
    ("https", "https://127.0.0.1:{port}/actor#main-key"),
]
SSRF = [Case("ssrf-loopback", name, KeyAt(url), safe(401, no_fetch=True)) for name, url in LOOPBACK_SPELLINGS]

# Addresses off loopback are checked by the guard itself: the suite never dials an address off loopback.
PRIVATE_ADDRESSES = [
    ("rfc1918-10", "http://10.0.0.1/actor"),
    ("rfc1918-172", "http://172.16.0.1/actor"),
    ("rfc1918-192", "http://192.168.1.1/actor"),
    ("metadata", "http://169.254.169.254/latest/meta-data/"),
    ("cgnat", "http://100.64.0.1/actor"),
    ("benchmark-net", "http://198.18.0.1/actor"),
    ("multicast", "http://224.0.0.1/actor"),
    ("broadcast", "http://255.255.255.255/actor"),
    ("link-local-v6", "http://[fe80::1]/actor"),
    ("ula", "http://[fc00::1]/actor"),
    ("nat64-metadata", "http://[64:ff9b::a9fe:a9fe]/actor"),
    ("nat64-loopback", "http://[64:ff9b::127.0.0.1]/actor"),
    ("mapped-private", "http://[::ffff:10.0.0.1]/actor"),
    ("documentation-v6", "http://[2001:db8::1]/actor"),
    ("file-scheme", "file:///etc/passwd"),
    ("gopher-scheme", "gopher://127.0.0.1:25/"),
    ("credentials", "https://user:secret@example.org/actor"),
]
SSRF += [Case("ssrf-address", name, Address(url), safe(0, refused=True)) for name, url in PRIVATE_ADDRESSES]
SSRF += [
    Case("ssrf-redirect", "to-loopback", Redirect("http://127.0.0.1:{port}/actor"), safe(0, no_fetch=True)),
    Case("ssrf-redirect", "to-file", Redirect("file:///etc/passwd"), safe(0, no_fetch=True)),
    Case(
        "ssrf-dns",
        "public-then-private",
        Rebind((("127.0.0.2",), ("127.0.0.1",), ("127.0.0.1",))),
        safe(0, no_fetch=True),
    ),
    Case("ssrf-dns", "public-and-private-at-once", Rebind((("127.0.0.2", "127.0.0.1"),)), safe(0, no_fetch=True)),
    Case("ssrf-dns", "private-first", Rebind((("127.0.0.1",), ("127.0.0.2",))), safe(0, no_fetch=True)),
    Case(
        "ssrf-redirect",
        "too-many-hops",
        Redirect("http://127.0.0.2:{public_port}/actor", hops=5),
        safe(0, no_fetch=True),
    ),
]

XSS_FORM = [
    ("message-script", {"message": "<script>alert('{token}')</script> {token}"}),
    ("message-img-onerror", {"message": '<img src=x onerror="alert(1)"> {token}'}),
    ("message-javascript-link", {"message": '<a href="javascript:alert(1)">{token}</a>'}),
    ("message-markdown-javascript-link", {"message": "[{token}](javascript:alert(1))"}),
    ("message-svg-onload", {"message": "<svg onload=alert(1)>{token}</svg>"}),
    ("message-iframe", {"message": '<iframe srcdoc="<script>alert(1)</script>"></iframe>{token}'}),
    ("message-attribute-breakout", {"message": '"><img src=x onerror=alert(1)>{token}'}),
    ("name-script", {"name": "<script>alert(1)</script>{token}"}),
    ("name-attribute-breakout", {"name": '{token}" onmouseover="alert(1)'}),
    ("website-javascript", {"website": "javascript:alert(1)//{token}", "message": "site {token}"}),
]
XSS = [
    Case("xss-form", name, Comment(fields), safe(200, 303, 400, page=POST_PAGE, inert=True))
    for name, fields in XSS_FORM
]
XSS += [
    Case(
        "xss-fediverse",
        "display-name",
        Profile({"name": "<img src=x onerror=alert(1)>{token}"}),
        safe(202, page=POST_PAGE, inert=True, shows=("{token}",)),
    ),
    Case(
        "xss-fediverse",
        "display-name-script",
        Profile({"name": "<script>alert(1)</script>{token}"}),
        safe(202, page=POST_PAGE, inert=True, shows=("{token}",)),
    ),
    Case(
        "xss-fediverse",
        "icon-javascript",
        Profile({"icon": {"type": "Image", "url": "javascript:alert(1)"}}),
        safe(202, page=POST_PAGE, inert=True),
    ),
    Case(
        "xss-fediverse",
        "content-script",
        Profile({}, {"content": "<p>{token}<script>alert(1)</script></p>"}),
        safe(202, page=POST_PAGE, inert=True, shows=("{token}",)),
    ),
    Case(
        "xss-fediverse",
        "content-javascript-link",
        Profile({}, {"content": '<p><a href="javascript:alert(1)">{token}</a></p>'}),
        safe(202, page=POST_PAGE, inert=True, shows=("{token}",)),
    ),
    Case(
        "xss-fediverse",
        "content-img-onerror",
        Profile({}, {"content": "<p>{token}<img src=x onerror=alert(1)></p>"}),
        safe(202, page=POST_PAGE, inert=True, shows=("{token}",)),
    ),
    Case(
        "xss-fediverse",
        "content-iframe",
        Profile({}, {"content": '<p>{token}</p><iframe srcdoc="x"></iframe>'}),
        safe(202, page=POST_PAGE, inert=True, shows=("{token}",)),
    ),
    Case(
        "xss-fediverse",
        "content-form",
        Profile({}, {"content": '<p>{token}</p><form action="/admin/logout">'}),
        safe(202, page=POST_PAGE, inert=True, shows=("{token}",)),
    ),
    Case(
        "xss-fediverse",
        "content-data-url",
        Profile({}, {"content": '<p><a href="data:text/html,<script>alert(1)</script>">{token}</a></p>'}),
        safe(202, page=POST_PAGE, inert=True, shows=("{token}",)),
    ),
    Case(
        "xss-fediverse",
        "summary-onerror",
        Profile({}, {"summary": "<img src=x onerror=alert(1)>cw {token}", "sensitive": True}),
        safe(202, page=POST_PAGE, inert=True),
    ),
    Case(
        "xss-fediverse",
        "attachment-javascript-url",
        Profile(
            {},
            {
                "attachment": [
                    {
                        "type": "Document",
                        "mediaType": "image/png",
                        "url": "javascript:alert(1)",
                        "name": "<script>alert(1)</script>",
                    }
                ]
            },
        ),
        safe(202, page=POST_PAGE, inert=True),
    ),
    Case(
        "xss-fediverse",
        "emoji-onerror",
        Profile(
            {},
            {
                "content": "<p>:blob: {token}</p>",
                "tag": [
                    {
                        "type": "Emoji",
                        "name": ':blob:" onerror="alert(1)',
                        "icon": {"type": "Image", "url": "javascript:alert(1)"},
                    }
                ],
            },
        ),
        safe(202, page=POST_PAGE, inert=True, shows=("{token}",)),
    ),
    Case(
        "xss-webmention",
        "h-card-name-markup",
        Mention('<a class="u-url p-name" href="/about"><img src=x onerror=alert(1)>Ann {token}</a>'),
        safe(202, page=POST_PAGE, inert=True, shows=("mention {token}",)),
    ),
    Case(
        "xss-webmention",
        "h-card-name-escaped-markup",
        Mention('<a class="u-url p-name" href="/about">&lt;script&gt;alert(1)&lt;/script&gt; {token}</a>'),
        safe(202, page=POST_PAGE, inert=True, shows=("mention {token}",)),
    ),
    Case(
        "xss-webmention",
        "h-card-url-javascript",
        Mention('<a class="u-url p-name" href="javascript:alert(1)">Ann {token}</a>'),
        safe(202, page=POST_PAGE, inert=True, shows=("mention {token}",)),
    ),
    Case(
        "xss-webmention",
        "h-card-photo-javascript",
        Mention('<img class="u-photo" src="javascript:alert(1)" alt=""><a class="p-name" href="/a">Ann</a>'),
        safe(202, page=POST_PAGE, inert=True, shows=("mention {token}",)),
    ),
    Case(
        "xss-webmention",
        "content-script",
        Mention('<a class="p-name" href="/a">Ann</a>', "<p>mention {token}</p><script>alert(1)</script>"),
        safe(202, page=POST_PAGE, inert=True, shows=("mention {token}",)),
    ),
    Case(
        "xss-webmention",
        "content-img-onerror",
        Mention('<a class="p-name" href="/a">Ann</a>', '<p>mention {token}<img src=x onerror="alert(1)"></p>'),
        safe(202, page=POST_PAGE, inert=True, shows=("mention {token}",)),
    ),
    Case(
        "xss-search",
        "query-script",
        Raw("GET", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E"),
        safe(200, lacks=("<script>alert",)),
    ),
    Case(
        "xss-search",
        "query-attribute-breakout",
        Raw("GET", "/search?q=%22%3E%3Csvg%20onload%3Dalert(1)%3E"),
        safe(200, lacks=("<svg onload",)),
    ),
    Case(
        "xss-search",
        "snippet-of-a-post",
        Raw("GET", "/search?q=Original"),
        safe(200, lacks=("<script>alert",), shows=()),
    ),
]

FORM = [
    Case("form", "message-over-the-limit", Comment({"message": "x" * 5001}), safe(400)),
    Case("form", "body-of-65-kib", Comment({"message": "y" * (65 * 1024)}), safe(400, 413)),
    Case("form", "name-of-10k", Comment({"name": "n" * 10_000}), safe(400, 413)),
    Case(
        "form",
        "invalid-utf-8",
        Comment({}, raw_body=b"name=Ana&email=a%40b.org&message=%FF%FE"),
        safe(303, 400, page=POST_PAGE),
    ),
    Case(
        "form",
        "lone-surrogate",
        Comment({}, raw_body=b"name=Ana&email=a%40b.org&message=%ED%A0%80"),
        safe(303, 400, page=POST_PAGE),
    ),
    Case("form", "parent-id-letters", Comment({"parent_id": "abc"}), safe(400, 404)),
    Case("form", "parent-id-negative", Comment({"parent_id": "-1"}), safe(400, 404)),
    Case("form", "parent-id-unknown", Comment({"parent_id": "987654"}), safe(400, 404)),
    Case("form", "missing-csrf-token", Comment({}, no_token=True), safe(403)),
    Case(
        "form",
        "json-instead-of-form",
        Comment({}, raw_body=b'{"message":"hi"}', content_type="application/json"),
        safe(400, 403, 415),
    ),
    Case("form", "email-header-injection", Comment({"email": "a@b.org\r\nBcc: victim@example.org"}), safe(400)),
    Case("form", "nul-in-name", Comment({"name": "Ana\x00Admin"}), safe(303, 400)),
]

PATHS = [
    ("dot-dot", "/static/../fedblog.toml"),
    ("encoded-dot-dot", "/static/%2e%2e/fedblog.toml"),
    ("encoded-slash", "/static/..%2f..%2ffedblog.toml"),
    ("private-key", "/static/%2e%2e%2f%2e%2e%2fkeys%2fprivate.pem"),
    ("double-encoded", "/static/%252e%252e/fedblog.toml"),
    ("backslash", "/static/..%5c..%5cfedblog.toml"),
    ("absolute", "/static//etc/passwd"),
    ("nul-byte", "/static/style.css%00.pem"),
    ("post-slug", "/posts/..%2f..%2ffedblog.toml"),
    ("tag", "/tags/..%2f..%2fkeys"),
]
TRAVERSAL = [
    Case(
        "path-traversal", name, Raw("GET", path), safe(400, 403, 404, lacks=("password_hash", "private key", "root:x:"))
    )
    for name, path in PATHS
]

NEXTS = [
    ("absolute-url", "https://evil.example/"),
    ("protocol-relative", "//evil.example/"),
    ("backslash", "/\\evil.example/"),
    ("javascript", "javascript:alert(1)"),
    ("scheme-without-slashes", "https:evil.example"),
    ("tab-inside", "/\t/evil.example/"),
    ("encoded-slashes", "/%2F%2Fevil.example"),
]
REDIRECTS = [Case("open-redirect", name, Login(target), safe(303, local_location=True)) for name, target in NEXTS]
REDIRECTS += [
    Case(
        "open-redirect",
        "interact-uri",
        Raw("GET", "/interact?uri=https%3A%2F%2Fevil.example%2F"),
        safe(200, 400, 404, local_location=True),
    ),
    Case(
        "open-redirect",
        "authorize-interaction",
        Raw("GET", "/authorize_interaction?uri=https%3A%2F%2Fevil.example"),
        safe(200, 303, 400, 404, local_location=True),
    ),
]

# The defects found by the hardening review, one row each (all fixed: they are part of CASES).
SURROGATE = b'{"id":"{alice}/s/{token}","type":"Note","actor":"{alice}","content":"\\ud800"}'
HARDENED = [
    Case(
        "inbox-signature",
        "unsigned-echo-request",
        Raw("POST", "/inbox", b'{"type":"EchoRequest"}', {"Content-Type": "application/activity+json"}),
        safe(401),
    ),
    Case(
        "inbox-signature",
        "unsigned-not-an-activity",
        Raw("POST", "/actor/inbox", b'{"hello":"world"}', {"Content-Type": "application/activity+json"}),
        safe(401),
    ),
    Case("inbox-signature", "request-target-not-signed", Signed(follow(), tweak="target-unsigned"), REFUSED_401),
    Case("inbox-signature", "host-not-signed", Signed(follow(), tweak="host-unsigned"), REFUSED_401),
    Case("inbox-signature", "signed-for-another-host", Signed(follow(), tweak="host-evil"), REFUSED_401),
    Case(
        "inbox-body",
        "lone-surrogate-unsigned",
        Raw("POST", "/actor/inbox", b'{"id":"\\ud800","type":"Follow"}', {"Content-Type": "application/activity+json"}),
        safe(400),
    ),
    Case(
        "inbox-body",
        "lone-surrogate-in-actor",
        Raw(
            "POST",
            "/inbox",
            b'{"id":"x","actor":"\\udfff","type":"Like"}',
            {"Content-Type": "application/activity+json"},
        ),
        safe(400),
    ),
    Case("inbox-body", "lone-surrogate-in-signed-content", Signed(body=SURROGATE), safe(400)),
    Case("inbox-body", "lone-surrogate-in-a-key", Signed(body=b'{"\\ud83d":1,"type":"Like"}'), safe(400)),
    Case(
        "inbox-authority",
        "activity-id-on-another-origin",
        Signed({**activity("Like", "{post}"), "id": "http://127.0.0.9:9/users/carol/likes/{token}"}),
        safe(400, recorded=False),
    ),
    Case(
        "inbox-authority",
        "created-object-on-another-origin",
        Signed(create_note("squat {token}", id="http://127.0.0.9:9/users/carol/statuses/{token}")),
        safe(400, recorded=False, page=POST_PAGE, lacks=("squat {token}",)),
    ),
    Case(
        "inbox-authority",
        "follow-naming-the-blogs-inbox",
        Profile({"inbox": "{blog}/actor/inbox", "endpoints": {"sharedInbox": "{blog}/inbox"}}, activity=follow()),
        safe(202, 400, 401, 403, page="/actor/followers?page=1", lacks=("p{token}",)),
    ),
    Case(
        "inbox-authority",
        "follow-with-a-non-http-inbox",
        Profile({"inbox": "ftp://127.0.0.1/inbox", "endpoints": {}}, activity=follow()),
        safe(202, 400, 401, 403, page="/actor/followers?page=1", lacks=("p{token}",)),
    ),
    Case(
        "inbox-authority",
        "follow-with-an-inbox-on-another-origin",
        Profile({"inbox": "http://127.0.0.9:9/inbox", "endpoints": {}}, activity=follow()),
        safe(202, 400, 401, 403, page="/actor/followers?page=1", lacks=("p{token}",)),
    ),
    Case(
        "inbox-authority",
        "follow-with-credentials-in-the-inbox",
        Profile({"inbox": "http://user:secret@127.0.0.1:9/inbox", "endpoints": {}}, activity=follow()),
        safe(202, 400, 401, 403, page="/actor/followers?page=1", lacks=("p{token}",)),
    ),
    Case("form", "parent-id-of-400-nines", Comment({"parent_id": "9" * 400}), safe(400)),
    Case("form", "parent-id-superscript-digit", Comment({"parent_id": "\u00b2"}), safe(400, 404)),
    Case("form", "name-is-the-authors", Comment({"name": "author"}), safe(400)),
    Case("form", "name-with-a-cyrillic-letter", Comment({"name": "\u0430uthor"}), safe(400)),
    Case("form", "name-with-a-zero-width-space", Comment({"name": "auth\u200bor"}), safe(400)),
    Case("form", "name-of-invisible-characters", Comment({"name": "\u200b\u200d\u2060"}), safe(400)),
    Case("inbox-limits", "40-likes-from-new-actors", Burst(40), safe(429)),
    Case("path-traversal", "comment-id-of-23-digits", Raw("GET", "/comments/99999999999999999999999"), safe(404)),
    Case("path-traversal", "comment-id-superscript", Raw("GET", "/comments/%C2%B2"), safe(404)),
]

CASES: list[Case] = [*SIGNATURE, *BODY, *AUTHORITY, *SSRF, *XSS, *FORM, *TRAVERSAL, *REDIRECTS, *HARDENED]
