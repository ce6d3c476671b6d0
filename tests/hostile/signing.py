"""Signatures as an attacker would spoil them: each `tweak` of the corpus is one way a request's signature is wrong."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fedblog.protocol.httpsig import body_digest, http_date


def _signature(key: rsa.RSAPrivateKey, names: list[str], values: dict[str, str], target: str) -> str:
    lines = [
        f"(request-target): post {target}" if name == "(request-target)" else f"{name}: {values[name]}"
        for name in names
    ]
    signed = key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signed).decode()


def signed_post(
    key: rsa.RSAPrivateKey, key_id: str, url: str, body: bytes, content_type: str, tweak: str = ""
) -> tuple[dict[str, str], bytes]:
    """(headers, body) of a POST signed like Mastodon signs it, then spoiled as `tweak` says ("" leaves it valid)."""
    parts = urlsplit(url)
    target = parts.path
    now = datetime.now(UTC)
    if tweak == "date-2h-ago":
        now -= timedelta(hours=2)
    elif tweak == "date-2h-ahead":
        now += timedelta(hours=2)
    values = {"host": parts.netloc, "date": http_date(now), "digest": body_digest(body)}
    if tweak == "digest-sha1":
        values["digest"] = "SHA=" + base64.b64encode(b"0" * 20).decode()
    names = ["(request-target)", "host", "date", "digest"]
    if tweak == "digest-unsigned":
        names = ["(request-target)", "host", "date"]
    elif tweak == "date-unsigned":
        names = ["(request-target)", "host", "digest"]
    elif tweak == "target-unsigned":
        names = ["host", "date", "digest"]
    elif tweak == "host-unsigned":
        names = ["(request-target)", "date", "digest"]
    if tweak == "host-evil":
        values["host"] = "evil.example"
    algorithm = {"hmac": "hmac-sha256", "algorithm-rot13": "rot13"}.get(tweak, "rsa-sha256")
    signature = _signature(key, names, values, target)
    if tweak == "garbage":
        signature = base64.b64encode(b"garbage" * 30).decode()
    elif tweak == "not-base64":
        signature = "!!not base64!!"
    headers = {
        "Content-Type": content_type,
        "Host": values["host"],
        "Date": values["date"],
        "Digest": values["digest"],
        "Signature": f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(names)}",signature="{signature}"',
    }
    if tweak == "date-unsigned":
        del headers["Date"]
    if tweak == "digest-absent":
        del headers["Digest"]
    if tweak == "empty-header":
        headers["Signature"] = ""
    if tweak == "huge-header":
        headers["Signature"] = f'keyId="{key_id}",headers="{"x-a " * 2000}",signature="{signature}"'
    if tweak == "rfc9421-garbage":
        del headers["Signature"]
        headers["Signature-Input"] = 'sig1=("@method" "@target-uri";keyid="' + key_id + '";created=oops'
        headers["Signature"] = "sig1=:AAAA:"
    if tweak == "body-changed":
        body = body.replace(b"Follow", b"Folloq") if b"Follow" in body else body + b" "
    return headers, body
