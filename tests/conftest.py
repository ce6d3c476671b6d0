"""Shared fixtures: a real site on disk (config, 0600 key, SQLite file) and the real app on a real port."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import tomllib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import fields, replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from argon2 import PasswordHasher

from fedblog.app import create_app
from fedblog.config import SECTIONS, Settings, load_settings, render_config, settings_from_mapping, validate
from fedblog.context import Context
from fedblog.protocol.keys import generate_private_key_pem
from fedblog.web.keys import CONTEXT_KEY
from tests import netguard, postgres

ADMIN_PASSWORD = "correct horse battery staple"
_KEY_CACHE: dict[str, bytes] = {}


def pytest_configure(config: pytest.Config) -> None:
    """The loopback-only guard, for this process and (through sitecustomize) the Python processes tests start."""
    netguard.install()
    # Each pytest-xdist worker keeps a log of its own: its tests must not be failed by another worker's processes.
    if netguard.LOG_ENV not in os.environ or hasattr(config, "workerinput"):
        handle, path = tempfile.mkstemp(prefix="netguard-", suffix=".log")
        os.close(handle)
        os.environ[netguard.LOG_ENV] = path
        config.add_cleanup(partial(_remove_log, path))
    site_dir = str(Path(__file__).resolve().parent / "netguard_site")
    paths = [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
    if site_dir not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([site_dir, *paths])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Backend-specific tests run on their backend only (FEDBLOG_TEST_BACKEND picks the suite's, SQLite by default)."""
    backend = postgres.backend()
    for item in items:
        if backend == "postgresql" and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="SQLite only; this run is on PostgreSQL"))
        elif backend == "sqlite" and item.get_closest_marker("postgresql_only"):
            item.add_marker(pytest.mark.skip(reason="PostgreSQL only; run with FEDBLOG_TEST_BACKEND=postgresql"))


def pytest_unconfigure(config: pytest.Config) -> None:
    postgres.stop_cluster()  # no server left running after the session


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """The PostgreSQL databases a test made are dropped after it (after its sites closed their connections)."""
    yield
    postgres.drop_test_databases()


def _remove_log(path: str) -> None:
    Path(path).unlink(missing_ok=True)
    os.environ.pop(netguard.LOG_ENV, None)


@pytest.fixture(autouse=True)
def network_guard() -> Iterator[None]:
    """Fails the test during which anything (this process or one it started) tried to leave loopback."""
    log_path = Path(os.environ[netguard.LOG_ENV])
    start = log_path.stat().st_size if log_path.exists() else 0
    netguard.take_attempts()
    yield
    attempts = netguard.take_attempts()
    if log_path.exists() and log_path.stat().st_size > start:
        with log_path.open(encoding="utf-8") as log:
            log.seek(start)
            attempts += [line.strip() for line in log if line.strip() and f"pid {os.getpid()}:" not in line]
    if attempts:
        pytest.fail("tried to reach the network off loopback: " + "; ".join(attempts[:5]), pytrace=False)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def site_key_pem() -> bytes:
    """One RSA key per test session: generating 2048-bit keys is slow and the tests don't need many."""
    if "site" not in _KEY_CACHE:
        _KEY_CACHE["site"] = generate_private_key_pem()
    return _KEY_CACHE["site"]


def admin_password_hash() -> str:
    """The test sites' admin password hash, made once: argon2id as the app makes it, but at the lowest cost
    (the app's parameters take ~0.3 s and 64 MiB for each hash and each login). The hash names its parameters,
    so the app's login check runs as it does in production, only cheaper."""
    if "password" not in _KEY_CACHE:
        cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        _KEY_CACHE["password"] = cheap.hash(ADMIN_PASSWORD).encode()
    return _KEY_CACHE["password"].decode()


def make_site(
    directory: Path,
    base_url: str,
    language: str = "en",
    overrides: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """Write a site like `fedblog init` does (cheaper: the key is shared) and return its config path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "keys").mkdir(exist_ok=True)
    key = directory / "keys" / "private.pem"
    key.write_bytes(site_key_pem())
    key.chmod(0o600)
    text = render_config(
        base_url=base_url,
        username="author",
        title="Test blog",
        language=language,
        password_hash=admin_password_hash(),
        database="fedblog.sqlite3",
    )
    config = directory / "fedblog.toml"
    if postgres.backend() == "postgresql":  # a fresh database of its own on the session's PostgreSQL cluster
        overrides = {**(overrides or {})}
        overrides["database"] = {"url": postgres.cluster().fresh_database(), **overrides.get("database", {})}
    if overrides:
        # The file says what the settings say, for the CLI and the processes a test starts on the same site.
        init = settings_from_mapping(tomllib.loads(text), environ={}, root=directory.resolve())
        text = settings_toml(settings_with(init, overrides))
    config.write_text(text, encoding="utf-8")
    return config


def settings_with(settings: Settings, overrides: Mapping[str, Mapping[str, Any]]) -> Settings:
    """The settings with some keys changed, section by section (dataclasses.replace: settings stay frozen),
    checked as a config file is."""
    changed = {
        section: replace(
            getattr(settings, section),
            **{key: tuple(value) if isinstance(value, list) else value for key, value in values.items()},
        )
        for section, values in overrides.items()
    }
    result = replace(settings, **changed)
    validate(result)
    return result


def settings_toml(settings: Settings) -> str:
    """Every key of the settings as TOML (strings, booleans, integers and lists of strings)."""

    def rendered(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, tuple):
            return "[" + ", ".join(json.dumps(item) for item in value) + "]"
        return json.dumps(value)

    lines: list[str] = []
    for section in SECTIONS:
        values = getattr(settings, section)
        lines += [f"[{section}]", *(f"{spec.name} = {rendered(getattr(values, spec.name))}" for spec in fields(values))]
    return "\n".join(lines) + "\n"


class LiveSite:
    """The real app, served on 127.0.0.1 on a free port, with its context at hand."""

    def __init__(self, settings: Settings, runner: web.AppRunner, port: int) -> None:
        self.settings = settings
        self.runner = runner
        self.port = port
        self.url = settings.site.base_url

    @property
    def app(self) -> web.Application:
        return self.runner.app

    @property
    def ctx(self) -> Context:
        return self.app[CONTEXT_KEY]


SiteFactory = Callable[..., Any]


def bound_socket() -> socket.socket:
    """A socket bound to a free loopback port, to hand to aiohttp: no window for another process to take it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


async def serve_site(settings: Settings, sock: socket.socket, runners: list[web.AppRunner]) -> LiveSite:
    """The real app for `settings` served on `sock`; its runner joins `runners` (cleaned up by the caller)."""
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    runners.append(runner)
    return LiveSite(settings, runner, int(sock.getsockname()[1]))


@contextlib.asynccontextmanager
async def live_sites(tmp_path: Path) -> AsyncIterator[SiteFactory]:
    """Start as many live sites as a test wants; each gets its own directory and port, all stopped on leaving."""
    runners: list[web.AppRunner] = []
    counter = 0

    async def start(language: str = "en", overrides: dict[str, dict[str, Any]] | None = None) -> LiveSite:
        nonlocal counter
        counter += 1
        sock = bound_socket()
        port = int(sock.getsockname()[1])
        base_url = f"http://127.0.0.1:{port}"
        # Webmentions are sent only by the tests that ask for it: the others' posts link to real sites.
        merged = {
            "federation": {"allow_private_addresses": True},
            "webmention": {"send": False},
            "pingback": {"send": False},
        }
        for section, values in (overrides or {}).items():
            merged.setdefault(section, {}).update(values)
        config = make_site(tmp_path / f"site{counter}", base_url, language, merged)
        settings = load_settings(config, environ={})
        return await serve_site(settings, sock, runners)

    try:
        yield start
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


@pytest.fixture
async def site_factory(tmp_path: Path) -> AsyncIterator[SiteFactory]:
    async with live_sites(tmp_path) as start:
        yield start


@pytest.fixture
async def site(site_factory: SiteFactory) -> LiveSite:
    return await site_factory()
