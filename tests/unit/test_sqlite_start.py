"""A site on SQLite never loads PostgreSQL's driver: asyncpg's import is a cost of every start and of the process's
memory (issue 13: start to first answer < 1 s, < 150 MB resident)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fedblog.config import render_config
from tests.conftest import admin_password_hash, site_key_pem

# The CLI and the app imported, a context opened by the app's start, the home page answered: then the driver's
# modules loaded, if any.
_SERVE_ONE_PAGE = """
import asyncio, sys
from aiohttp.test_utils import TestClient, TestServer
import fedblog.cli
from fedblog.app import create_app
from fedblog.config import load_settings

async def main():
    async with TestClient(TestServer(create_app(load_settings(sys.argv[1])))) as client:
        response = await client.get("/")
        print(response.status)

asyncio.run(main())
print(sorted(name for name in sys.modules if name.partition(".")[0] == "asyncpg"))
"""


def sqlite_site(directory: Path) -> Path:
    (directory / "keys").mkdir(parents=True)
    key = directory / "keys" / "private.pem"
    key.write_bytes(site_key_pem())
    key.chmod(0o600)
    config = directory / "fedblog.toml"
    text = render_config("http://blog.example", "author", "Test blog", "en", admin_password_hash(), "fedblog.sqlite3")
    config.write_text(text, encoding="utf-8")
    return config


def test_sqlite_site__answers_without_importing_asyncpg(tmp_path: Path) -> None:
    config = sqlite_site(tmp_path / "site")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FEDBLOG_")}
    environ["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-c", _SERVE_ONE_PAGE, str(config)], capture_output=True, text=True, env=environ, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["200", "[]"]
