"""The Containerfile gives the image what `fedblog backup` and `fedblog restore` run on PostgreSQL (pg_dump,
pg_restore, psql from Debian's postgresql-client), installed as root before the image drops to its own user.
No container runtime here: the definition itself is read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments left out."""
    text = (ROOT / "Containerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_containerfile__installs_the_postgresql_client_as_root() -> None:
    steps = instructions()
    installs = [i for i, (word, rest) in enumerate(steps) if word == "RUN" and "apt-get install" in rest]
    assert installs, "no apt-get install in the Containerfile"
    packages = " ".join(steps[i][1] for i in installs).split()
    assert "postgresql-client" in packages
    first_user = next(i for i, (word, _) in enumerate(steps) if word == "USER")
    assert max(installs) < first_user  # apt needs root; the image then runs as its own user
    assert steps[first_user][1] == "fedblog"


def test_containerfile__apt_lists_are_not_left_in_the_image() -> None:
    for word, rest in instructions():
        if word == "RUN" and "apt-get update" in rest:
            assert "rm -rf /var/lib/apt/lists" in rest
