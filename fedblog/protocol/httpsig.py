"""HTTP Signatures: sign (cavage rsa-sha256, RFC 9421 rsa-v1_5-sha256), verify (cavage rsa-sha256/hs2019 and RFC 9421).
Pure: no I/O. Which one a request is signed with is the client's choice (services/http.py: RFC 9421 first, cavage
after a 400/401, remembered per host, as Fedify does).

Verification follows Mastodon's rules (app/lib/signed_request.rb), which every fediverse server targets:
- the signing string is rebuilt from the signature's own `headers` list, in its order (Fedify signs every header);
- `date` or `(created)` must be signed, `(request-target)` and `host` too, `digest` on POST; the Host must be the
  verifier's own (`expected_host`), so a request captured on its way to another server cannot be replayed here;
- the body must match the signed `Digest` (SHA-256 entry, matched case-insensitively);
- time window: the send time is `(created)` when signed, else `Date`. It is rejected when more than 1 h in the
  future, or when now is past expiry + 1 h, expiry being `expires` or send time + 5 min, capped at send time + 12 h.
  With only `Date` that accepts a request from Date − 1 h to Date + 1 h 05 min (the issue's "12 hours back" is
  the cap on a sender's `expires`, not the window for a plain `Date`);
- `(request-target)` is tried with the query string, then without it (older Mastodon, GoToSocial).
RFC 9421 (Signature-Input + Signature) is verified the way Mastodon 4.5 does: one signature, `created` and `keyid`
required, `@method` and `@target-uri` (or `@authority` + `@path`) covered, `content-digest` on POST, RSA-SHA256.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fedblog.protocol.structured_fields import (
    Item,
    StructuredFieldError,
    parse_dictionary,
    serialize_inner_list,
)

CLOCK_SKEW = timedelta(hours=1)
DEFAULT_EXPIRY = timedelta(minutes=5)
EXPIRY_CAP = timedelta(hours=12)
CAVAGE_ALGORITHMS = ("rsa-sha256", "hs2019")
RFC9421_ALGORITHM = "rsa-v1_5-sha256"
SIGNATURE_LABEL = "sig1"
MAX_SIGNED_HEADERS = 32


class SignatureError(Exception):
    """A signature that cannot be verified; str(error) is a short reason fit for a 401 body."""


class SignatureMismatch(SignatureError):
    """Well-formed and in time, but the key does not verify it: worth refetching the key once (rotation)."""


@dataclass(frozen=True)
class SignatureParams:
    key_id: str
    algorithm: str
    headers: list[str]
    signature: bytes
    created: int | None
    expires: int | None


# -- signing ------------------------------------------------------------------------------------------------------


def body_digest(body: bytes) -> str:
    """The draft-cavage `Digest` header value."""
    return BodyDigests.of(body).digest


@dataclass(frozen=True)
class BodyDigests:
    """A body's `Digest` (draft-cavage) and `Content-Digest` (RFC 9530) header values: the same for every request
    that sends this body, so a sender of one activity to many inboxes makes them once (`of`) and passes them on."""

    digest: str
    content_digest: str

    @classmethod
    def of(cls, body: bytes) -> BodyDigests:
        encoded = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
        return cls(f"SHA-256={encoded}", f"sha-256=:{encoded}:")


def http_date(moment: datetime) -> str:
    """IMF-fixdate, e.g. 'Sun, 06 Nov 1994 08:49:37 GMT'."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def sign_request(
    *,
    private_key: Any,
    key_id: str,
    method: str,
    url: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
    digests: BodyDigests | None = None,
) -> dict[str, str]:
    """The headers to send: the given ones plus Host, Date, Digest (with a body) and a cavage rsa-sha256 Signature.
    `digests`: the body's, made once by a caller that sends it many times (else made here)."""
    start = _start_signing(private_key, url, headers, now)
    out, target = start.headers, start.path_qs
    signed = ["(request-target)", "host", "date"]
    if body is not None:
        out["Digest"] = (digests or BodyDigests.of(body)).digest
        signed.append("digest")
    lowered = {name.lower(): value for name, value in out.items()}
    if body is None and "accept" in lowered:
        signed.append("accept")
    lines = [f"(request-target): {method.lower()} {target}"]
    lines += [f"{name}: {lowered[name]}" for name in signed[1:]]
    signature = private_key.sign("\n".join(lines).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    out["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(signed)}",'
        f'signature="{base64.b64encode(signature).decode("ascii")}"'
    )
    return out


def sign_request_rfc9421(
    *,
    private_key: Any,
    key_id: str,
    method: str,
    url: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
    digests: BodyDigests | None = None,
) -> dict[str, str]:
    """The headers to send, signed per RFC 9421 as Fedify does and Mastodon 4.5 verifies: the given ones plus Host,
    Date, Content-Digest (RFC 9530, with a body), Signature-Input and Signature covering @method, @target-uri,
    @authority, and content-type and content-digest when there is a body (label `sig1`, `created`, `keyid`,
    `alg="rsa-v1_5-sha256"`). The signature base is built by the verifier's own `_signature_base`. `digests`: the
    body's, made once by a caller that sends it many times (else made here)."""
    start = _start_signing(private_key, url, headers, now)
    out, moment = start.headers, start.moment
    components = ["@method", "@target-uri", "@authority"]
    if body is not None:
        out["Content-Digest"] = (digests or BodyDigests.of(body)).content_digest
    lowered = _lower_headers(out)
    if body is not None:
        components += [name for name in ("content-type", "content-digest") if name in lowered]
    inner = Item(
        [Item(name, {}) for name in components],
        {"created": int(moment.timestamp()), "keyid": key_id, "alg": RFC9421_ALGORITHM},
    )
    params = serialize_inner_list(inner)
    base = _signature_base(components, method.upper(), start.path_qs, start.scheme, lowered)
    base += f'"@signature-params": {params}'
    signature = private_key.sign(base.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    out["Signature-Input"] = f"{SIGNATURE_LABEL}={params}"
    out["Signature"] = f"{SIGNATURE_LABEL}=:{base64.b64encode(signature).decode('ascii')}:"
    return out


# Headers a signature sets: any the caller passes are replaced, never sent twice.
_SET_BY_SIGNING = frozenset({"host", "date", "digest", "content-digest", "signature", "signature-input"})


@dataclass(frozen=True)
class _Signing:
    """What both signing schemes start from: the headers to send so far (the caller's, then Host and Date)."""

    headers: dict[str, str]
    path_qs: str
    scheme: str
    moment: datetime


def _start_signing(private_key: Any, url: str, headers: Mapping[str, str] | None, now: datetime | None) -> _Signing:
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise TypeError("signing a request needs an RSA private key")
    host, path_qs, scheme = _request_target(url)
    out = {name: value for name, value in (headers or {}).items() if name.lower() not in _SET_BY_SIGNING}
    out["Host"] = host
    moment = now or datetime.now(UTC)
    out["Date"] = http_date(moment)
    return _Signing(out, path_qs, scheme, moment)


# A fan-out signs for the same inboxes again with every activity: each URL is read once.
@functools.lru_cache(maxsize=4096)
def _request_target(url: str) -> tuple[str, str, str]:
    """(Host header, path and query, scheme) of a URL."""
    parts = urlsplit(url)
    path_qs = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _host_header(parts.scheme, parts.hostname or "", parts.port), path_qs, parts.scheme


def _host_header(scheme: str, hostname: str, port: int | None) -> str:
    host = f"[{hostname}]" if ":" in hostname else hostname
    default = {"http": 80, "https": 443}.get(scheme)
    return host if port is None or port == default else f"{host}:{port}"


# -- parsing ------------------------------------------------------------------------------------------------------

# The quoted value as "unrolled loop" (runs of plain characters, then one escape): the per-character alternation
# `(?:[^"\\]|\\.)*` took ~60 µs on a 344-character RSA signature, a twentieth of the inbox's CPU per reply.
_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|([^",\s]*))\s*(?:,|$)')


# The inbox reads the key id before the signature check, which parses the header again: one parse serves both.
@functools.lru_cache(maxsize=256)
def parse_signature_header(value: str) -> SignatureParams:
    """Parse a draft-cavage `Signature` header (keyId, algorithm, headers, signature, created, expires)."""
    params: dict[str, str] = {}
    position = 0
    value = value.strip()
    if value.lower().startswith("signature "):  # the Authorization-header form
        value = value[len("signature ") :]
    while position < len(value):
        match = _PARAM.match(value, position)
        if not match or match.end() == position:
            raise SignatureError("malformed Signature header")
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        params[match.group(1)] = re.sub(r"\\(.)", r"\1", raw) if "\\" in raw else raw
        position = match.end()
    key_id = params.get("keyId", "")
    encoded = params.get("signature", "")
    if not key_id or not encoded:
        raise SignatureError("Signature header needs keyId and signature")
    algorithm = params.get("algorithm", "hs2019").lower()
    default_headers = "(created)" if algorithm == "hs2019" else "date"
    headers = params.get("headers", default_headers).lower().split()
    if not headers or len(headers) > MAX_SIGNED_HEADERS:
        raise SignatureError("bad headers parameter")
    return SignatureParams(
        key_id=key_id,
        algorithm=algorithm,
        headers=headers,
        signature=_b64decode(encoded, "signature"),
        created=_int_param(params.get("created"), "created"),
        expires=_int_param(params.get("expires"), "expires"),
    )


def key_id_of(headers: Mapping[str, str]) -> str:
    """The signer's key id, from `Signature-Input` (RFC 9421) or `Signature` (draft-cavage)."""
    lowered = _lower_headers(headers)
    if "signature-input" in lowered:
        return _parse_rfc9421(lowered)[1].key_id
    if "signature" not in lowered:
        raise SignatureError("request is not signed")
    return parse_signature_header(lowered["signature"]).key_id


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{what} is not valid base64") from None


def _int_param(text: str | None, name: str) -> int | None:
    if text is None or text == "":
        return None
    if not re.fullmatch(r"-?\d{1,12}(?:\.\d+)?", text):
        raise SignatureError(f"bad {name} parameter")
    return int(float(text))


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names lowercased; repeated headers joined with ', ' as both drafts specify."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value.strip()}" if key in out else value.strip()
    return out


# -- verification: draft-cavage -----------------------------------------------------------------------------------


def verify_request(
    *,
    method: str,
    path_qs: str,
    headers: Mapping[str, str],
    body: bytes | None,
    public_key_pem: str,
    now: datetime,
    scheme: str | None = None,
    expected_host: str | None = None,
) -> SignatureParams:
    """Check the request's signature against the key; return its parameters or raise SignatureError(reason).

    `scheme` (http/https) rebuilds an RFC 9421 `@target-uri`; when None both are tried.
    `expected_host`: this server's own host[:port]; the (signed) Host must be it, so that a request signed for
    another server cannot be replayed here.
    """
    lowered = _lower_headers(headers)
    method = method.upper()
    if expected_host is not None and lowered.get("host", "").strip().lower() != expected_host.lower():
        raise SignatureError("the Host header is not this server's")
    if "signature-input" in lowered:
        return _verify_rfc9421(method, path_qs, lowered, body, public_key_pem, now, scheme)
    if "signature" not in lowered:
        raise SignatureError("request is not signed")
    params = parse_signature_header(lowered["signature"])
    if params.algorithm not in CAVAGE_ALGORITHMS:
        raise SignatureError("unsupported signature algorithm (rsa-sha256 and hs2019 only)")
    _check_cavage_strength(method, params)
    sent, expires = _cavage_times(params, lowered)
    _check_time_window(sent, expires, now)
    if "digest" in params.headers:
        _check_digest(lowered.get("digest"), body or b"")
    key = _load_public_key(public_key_pem)
    candidates = [path_qs]
    if "?" in path_qs:
        candidates.append(path_qs.split("?", 1)[0])
    for target in candidates:
        signing_string = _cavage_signing_string(params, method, target, lowered)
        if _rsa_verifies(key, params.signature, signing_string):
            return params
    raise SignatureMismatch("signature does not match")


def _check_cavage_strength(method: str, params: SignatureParams) -> None:
    signed = params.headers
    if "date" not in signed and "(created)" not in signed:
        raise SignatureError("date or (created) must be signed")
    if "(request-target)" not in signed:
        raise SignatureError("(request-target) must be signed")
    if "host" not in signed:
        raise SignatureError("host must be signed")
    if method == "POST" and "digest" not in signed:
        raise SignatureError("digest must be signed on POST")


def _cavage_times(params: SignatureParams, lowered: dict[str, str]) -> tuple[datetime, datetime | None]:
    """The send time ((created) when signed, else Date) and the explicit expiry, if any."""
    expires = _from_timestamp(params.expires) if params.expires is not None else None
    if "(created)" in params.headers:
        if params.algorithm != "hs2019" or params.created is None:
            raise SignatureError("(created) is signed but unusable")
        return _from_timestamp(params.created), expires
    return _parse_http_date(lowered.get("date")), expires


# The Date every server sends (RFC 9110's IMF-fixdate), read without email.utils (~5 µs a request there);
# any other form, or a value out of range, goes to parsedate_to_datetime as before.
_IMF_FIXDATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) "
    r"(\d\d):(\d\d):(\d\d) GMT"
)
_MONTHS = {"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10,
           "Nov": 11, "Dec": 12}  # fmt: skip


def _parse_http_date(text: str | None) -> datetime:
    if not text:
        raise SignatureError("Date header missing")
    fixdate = _IMF_FIXDATE.fullmatch(text)
    if fixdate is not None:
        day, month, year, hour, minute, second = fixdate.groups()
        try:
            return datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC)
        except ValueError:
            pass  # out of range: email.utils decides, as it always did
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise SignatureError("invalid Date header") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _from_timestamp(value: int) -> datetime:
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise SignatureError("timestamp out of range") from None


def _check_time_window(sent: datetime, expires: datetime | None, now: datetime) -> None:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if sent > now + CLOCK_SKEW:
        raise SignatureError("signed request date is in the future")
    expiry = min(expires or sent + DEFAULT_EXPIRY, sent + EXPIRY_CAP)
    if now > expiry + CLOCK_SKEW:
        raise SignatureError("signed request date is too old")


def _check_digest(header: str | None, body: bytes) -> None:
    if not header:
        raise SignatureError("Digest header missing")
    entries = dict(
        (name.strip().lower(), value.strip()) for name, _, value in (p.partition("=") for p in header.split(","))
    )
    encoded = entries.get("sha-256")
    if encoded is None:
        raise SignatureError("Digest has no SHA-256 entry")
    given = _b64decode(encoded, "Digest")
    if len(given) != 32:
        raise SignatureError("Digest is not a SHA-256 digest")
    if not hmac.compare_digest(given, hashlib.sha256(body).digest()):
        raise SignatureError("Digest does not match the body")


def _cavage_signing_string(params: SignatureParams, method: str, target: str, lowered: dict[str, str]) -> bytes:
    lines = []
    for name in params.headers:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name == "(created)":
            lines.append(f"(created): {params.created}")
        elif name == "(expires)":
            if params.algorithm != "hs2019" or params.expires is None:
                raise SignatureError("(expires) is signed but unusable")
            lines.append(f"(expires): {params.expires}")
        elif name in lowered:
            lines.append(f"{name}: {lowered[name]}")
        else:
            raise SignatureError(f"signed header {name[:40]!r} is missing")
    return "\n".join(lines).encode("utf-8")


@functools.lru_cache(maxsize=1024)
def _load_public_key(pem: str) -> rsa.RSAPublicKey:
    """Parsed once per distinct PEM (a sender signs thousands of requests with one key); a bad PEM raises every time."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        raise SignatureError("the signer's public key is unreadable") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("only RSA keys are supported")
    return key


def _rsa_verifies(key: rsa.RSAPublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


# -- verification: RFC 9421 ---------------------------------------------------------------------------------------


def _dictionary(text: str) -> dict[str, Item]:
    try:
        return parse_dictionary(text)
    except StructuredFieldError:
        raise SignatureError("malformed structured header") from None


def _verify_rfc9421(
    method: str,
    path_qs: str,
    lowered: dict[str, str],
    body: bytes | None,
    public_key_pem: str,
    now: datetime,
    scheme: str | None,
) -> SignatureParams:
    label, params, inner = _parse_rfc9421(lowered)
    signatures = _dictionary(lowered.get("signature", ""))
    entry = signatures.get(label)
    if entry is None or not isinstance(entry.value, bytes):
        raise SignatureError("Signature has no entry for the Signature-Input label")
    alg = inner.params.get("alg")
    if alg is not None and alg != RFC9421_ALGORITHM:
        raise SignatureError("unsupported signature algorithm (rsa-v1_5-sha256 only)")
    components = params.headers
    if "@method" not in components:
        raise SignatureError("@method must be signed")
    if "@target-uri" not in components and not {"@authority", "@path"} <= set(components):
        raise SignatureError("@target-uri must be signed")
    if method == "POST" and "content-digest" not in components:
        raise SignatureError("content-digest must be signed on POST")
    sent = _from_timestamp(params.created or 0)
    _check_time_window(sent, _from_timestamp(params.expires) if params.expires is not None else None, now)
    if "content-digest" in components:
        _check_content_digest(lowered.get("content-digest"), body or b"")
    key = _load_public_key(public_key_pem)
    tail = f'"@signature-params": {serialize_inner_list(inner)}'
    for candidate in [scheme] if scheme else ["https", "http"]:
        base = _signature_base(components, method, path_qs, candidate, lowered) + tail
        if _rsa_verifies(key, entry.value, base.encode("utf-8")):
            return SignatureParams(
                params.key_id, params.algorithm, components, entry.value, params.created, params.expires
            )
    raise SignatureMismatch("signature does not match")


def _parse_rfc9421(lowered: dict[str, str]) -> tuple[str, SignatureParams, Item]:
    inputs = _dictionary(lowered["signature-input"])
    if len(inputs) != 1:
        raise SignatureError("exactly one signature is supported")
    label, inner = next(iter(inputs.items()))
    if not isinstance(inner.value, list) or len(inner.value) > MAX_SIGNED_HEADERS:
        raise SignatureError("malformed Signature-Input")
    components = []
    for item in inner.value:
        if not isinstance(item.value, str) or item.params:
            raise SignatureError("unsupported covered component")
        components.append(item.value.lower())
    key_id = inner.params.get("keyid")
    created = inner.params.get("created")
    expires = inner.params.get("expires")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("Signature-Input needs keyid")
    if not isinstance(created, int) or isinstance(created, bool):
        raise SignatureError("Signature-Input needs created")
    if expires is not None and (not isinstance(expires, int) or isinstance(expires, bool)):
        raise SignatureError("bad expires parameter")
    params = SignatureParams(key_id, RFC9421_ALGORITHM, components, b"", created, expires)
    return label, params, inner


def _check_content_digest(header: str | None, body: bytes) -> None:
    if not header:
        raise SignatureError("Content-Digest header missing")
    entry = _dictionary(header).get("sha-256")
    if entry is None or not isinstance(entry.value, bytes):
        raise SignatureError("Content-Digest has no sha-256 entry")
    if not hmac.compare_digest(entry.value, hashlib.sha256(body).digest()):
        raise SignatureError("Content-Digest does not match the body")


def _signature_base(components: list[str], method: str, path_qs: str, scheme: str, lowered: dict[str, str]) -> str:
    authority = lowered.get("host", "").lower()
    path, _, query = path_qs.partition("?")
    derived = {
        "@method": method,
        "@target-uri": f"{scheme}://{authority}{path_qs}",
        "@authority": authority,
        "@scheme": scheme,
        "@request-target": path_qs,
        "@path": path or "/",
        "@query": f"?{query}",
    }
    lines = []
    for name in components:
        if name in derived:
            lines.append(f'"{name}": {derived[name]}')
        elif name.startswith("@"):
            raise SignatureError(f"unsupported component {name[:40]!r}")
        elif name in lowered:
            lines.append(f'"{name}": {lowered[name]}')
        else:
            raise SignatureError(f"signed header {name[:40]!r} is missing")
    return "".join(line + "\n" for line in lines)
