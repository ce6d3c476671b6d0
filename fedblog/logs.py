"""The process's log: one line per event, plain text or one JSON object per line (`--log-format json`,
`server.log_format`), each with the id of the request it happened in, and never a secret.

Secrets are taken out of the final text, whatever logged it (fedblog, aiohttp, a library): HTTP signatures,
Authorization and Cookie values, bearer tokens, passwords, tokens and CSRF fields in forms or query strings, and
PEM private keys. A redacted value reads `[redacted]`; the rest of the line stays as it was, so the event is still
readable."""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any

LOG_FORMATS = ("plain", "json")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"

# The id of the request being handled, set by the site middleware (web/middleware.py); "-" outside requests.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_numbers = itertools.count(1)
# A proxy's X-Request-Id is kept when it looks like one (nginx's $request_id, a UUID), so lines join up.
_GIVEN_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")

_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S), REDACTED),
    # Signature headers (draft-cavage, RFC 9421): the signature value, quoted or as a byte sequence.
    (re.compile(r'(\bsignature\s*=\s*)("[^"]*"|:[^:]*:|[^,\s;]+)', re.I), r"\1" + REDACTED),
    (re.compile(r"(\bsig\d*\s*=\s*)(:[^:]*:)", re.I), r"\1" + REDACTED),
    # Header values, as "Name: value" or in a dict's repr ('Name': 'value').
    (
        re.compile(
            r"""(\b(?:authorization|proxy-authorization|cookie|set-cookie|x-csrf-token)['"]?\s*[:=]\s*['"]?)"""
            r"""([^'"\r\n]+)""",
            re.I,
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(\bbearer\s+)([A-Za-z0-9._~+/=-]+)", re.I), r"\1" + REDACTED),
    # Form fields, query strings, key=value and JSON-ish "key": "value" for the secret names.
    (
        re.compile(
            r"""(\b(?:password|passwd|pass|secret|token|csrf_token|api_key|apikey|access_token|smtp_password|"""
            r"""password_hash|session)['"]?\s*[=:]\s*['"]?)([^'"&\s,;}]+)""",
            re.I,
        ),
        r"\1" + REDACTED,
    ),
)


def redact(text: str) -> str:
    """The text with every secret it shows replaced by [redacted]."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def new_request_id(given: str | None = None) -> str:
    """The proxy's id when it gave a plausible one, else this process's next: pid and a counter (no entropy to
    spend on every request; unique within a machine while the pid is)."""
    if given and _GIVEN_ID.fullmatch(given):
        return given
    return f"{os.getpid():x}-{next(_numbers):x}"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class PlainFormatter(logging.Formatter):
    """The classic line, with the request id when there is one, and redacted."""

    def __init__(self) -> None:
        super().__init__(PLAIN_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", "-")
        if rid != "-":
            line = f"{line} [request {rid}]"
        return redact(line).replace("\n", "\n    ")  # a traceback's lines stay visibly part of their event


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, pid, and the
    exception's type and traceback text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", "-"),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
            if record.exc_info[0] is not None:
                entry["exception_type"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str = "plain", level: int = logging.INFO) -> None:
    """The root logger writes to standard error in the chosen format; everything else logs through it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else PlainFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
