"""The log formats: a line per event, plain or JSON, with the request id, and every kind of secret redacted in
the message and in a traceback alike."""

from __future__ import annotations

import json
import logging

import pytest

from fedblog.logs import JsonFormatter, PlainFormatter, RequestIdFilter, new_request_id, redact, request_id

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
SECRETS = {
    "draft-cavage signature": (
        'Signature: keyId="https://remote.example/users/alice#main-key",algorithm="hs2019",'
        'headers="(request-target) host date digest",signature="c2VjcmV0LXNpZ25hdHVyZQ=="',
        "c2VjcmV0LXNpZ25hdHVyZQ==",
    ),
    "RFC 9421 signature": ("signature: sig1=:QUJDREVGZ2hpamts:", "QUJDREVGZ2hpamts"),
    "bearer token": ("Authorization: Bearer s3cr3t-metrics-token", "s3cr3t-metrics-token"),
    "cookie in a headers dict": ("headers {'Cookie': 'fedblog_admin=ab12cd34ef; theme=dark'}", "ab12cd34ef"),
    "set-cookie": ("Set-Cookie: fedblog_admin=zz99yy88; HttpOnly", "zz99yy88"),
    "form password": ("form body password=hunter2hunter&next=/admin", "hunter2hunter"),
    "csrf field": ("csrf_token=1700000000.deadbeefcafe&message=hi", "deadbeefcafe"),
    "smtp password in json": ('{"smtp_password": "mail-pass-42"}', "mail-pass-42"),
    "query token": ("GET /subscriptions/confirm?token=tok-abcdef123456 failed", "tok-abcdef123456"),
    "private key": (f"loaded key {PEM}", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
}


def record(message: str, exc_info: object = None) -> logging.LogRecord:
    entry = logging.LogRecord("fedblog.test", logging.WARNING, __file__, 1, "%s", (message,), exc_info)  # type: ignore[arg-type]
    RequestIdFilter().filter(entry)
    return entry


@pytest.mark.parametrize("name", sorted(SECRETS))
@pytest.mark.parametrize("formatter", [PlainFormatter(), JsonFormatter()], ids=["plain", "json"])
def test_log_line__secret_redacted(formatter: logging.Formatter, name: str) -> None:
    text, secret = SECRETS[name]
    line = formatter.format(record(text))
    assert secret not in line
    assert "[redacted]" in line


def test_log_line__what_is_not_secret_stays_readable() -> None:
    text, _ = SECRETS["draft-cavage signature"]
    assert 'keyId="https://remote.example/users/alice#main-key"' in redact(text)
    assert redact("delivery to 'https://remote.example/inbox' failed: HTTP 503") == (
        "delivery to 'https://remote.example/inbox' failed: HTTP 503"
    )


def test_json_line__one_object_with_the_request_id_and_a_redacted_traceback() -> None:
    token = request_id.set("req-0001")
    try:
        try:
            raise ValueError("bad header Authorization: Bearer abc.def.ghi")
        except ValueError as error:
            line = JsonFormatter().format(record("refused", exc_info=(ValueError, error, error.__traceback__)))
    finally:
        request_id.reset(token)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "req-0001"
    assert entry["level"] == "WARNING" and entry["logger"] == "fedblog.test" and entry["message"] == "refused"
    assert entry["exception_type"] == "ValueError"
    assert "abc.def.ghi" not in entry["exception"] and "[redacted]" in entry["exception"]


def test_plain_line__request_id_shown_inside_a_request_only() -> None:
    assert "[request" not in PlainFormatter().format(record("outside"))
    token = request_id.set("req-0002")
    try:
        assert PlainFormatter().format(record("inside")).endswith("inside [request req-0002]")
    finally:
        request_id.reset(token)


def test_request_id__a_proxy_id_kept_a_strange_one_replaced() -> None:
    assert new_request_id("7f3a9c2e-1b44-4d0a-9f1e-2c3d4e5f6a7b") == "7f3a9c2e-1b44-4d0a-9f1e-2c3d4e5f6a7b"
    made = new_request_id("evil\nline")
    assert "\n" not in made and made != new_request_id(None)
