"""A minimal draft-cavage HTTP signature (rsa-sha256), for the ceilings and the simulated remote servers.

Deliberately independent of fedblog.protocol.httpsig: a ceiling must be the least work that does the same job,
and the remote servers of the inbox benchmark sign the way Mastodon does.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from email.utils import formatdate
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGNED_HEADERS = ("(request-target)", "host", "date", "digest", "content-type")
CONTENT_TYPE = "application/activity+json"
_PARAM_RE = re.compile(r'(\w+)="([^"]*)"')


def digest_header(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def signed_post_headers(key: rsa.RSAPrivateKey, key_id: str, url: str, body: bytes) -> dict[str, str]:
    """Headers of a POST signed like Mastodon's: (request-target) host date digest content-type."""
    parts = urlsplit(url)
    values = {
        "(request-target)": f"post {parts.path}",
        "host": parts.netloc,
        "date": formatdate(usegmt=True),
        "digest": digest_header(body),
        "content-type": CONTENT_TYPE,
    }
    text = "\n".join(f"{name}: {values[name]}" for name in SIGNED_HEADERS).encode()
    signature = base64.b64encode(key.sign(text, padding.PKCS1v15(), hashes.SHA256())).decode()
    return {
        "Host": values["host"],
        "Date": values["date"],
        "Digest": values["digest"],
        "Content-Type": CONTENT_TYPE,
        "Signature": (
            f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(SIGNED_HEADERS)}",signature="{signature}"'
        ),
    }


def verify_post(
    method: str, path: str, headers: Mapping[str, str], body: bytes, keys: dict[str, rsa.RSAPublicKey]
) -> str | None:
    """The keyId of a valid signature over these headers and body (digest checked), or None."""
    params = dict(_PARAM_RE.findall(headers.get("Signature", "")))
    key = keys.get(params.get("keyId", ""))
    if key is None or headers.get("Digest") != digest_header(body):
        return None
    names = params.get("headers", "date").split()
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {path}")
        else:
            lines.append(f"{name}: {headers.get(name, '')}")
    try:
        key.verify(
            base64.b64decode(params.get("signature", "")),
            "\n".join(lines).encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return None
    return params["keyId"]
