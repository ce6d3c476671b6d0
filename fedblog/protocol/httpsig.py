"""HTTP Signatures: sign (cavage rsa-sha256), verify (cavage rsa-sha256/hs2019 and RFC 9421). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class SignatureError(Exception):
    """A signature that cannot be verified; str(error) is a short reason fit for a 401 body."""


@dataclass(frozen=True)
class SignatureParams:
    key_id: str
    algorithm: str
    headers: list[str]
    signature: bytes
    created: int | None
    expires: int | None


def body_digest(body: bytes) -> str:
    raise NotImplementedError


def sign_request(
    *,
    private_key: Any,
    key_id: str,
    method: str,
    url: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    raise NotImplementedError


def parse_signature_header(value: str) -> SignatureParams:
    raise NotImplementedError


def key_id_of(headers: Mapping[str, str]) -> str:
    raise NotImplementedError


def verify_request(
    *,
    method: str,
    path_qs: str,
    headers: Mapping[str, str],
    body: bytes | None,
    public_key_pem: str,
    now: datetime,
    scheme: str | None = None,
) -> SignatureParams:
    raise NotImplementedError
