"""The project's own files keep their promises: the package metadata current (no deprecation warning on install)
and `make bench-smoke` running the smoke benchmark that the README announces."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject__license_is_an_spdx_expression() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    license_ = project["project"]["license"]
    # A table ({text = …}) is deprecated by setuptools (PEP 639): a plain SPDX string, and a setuptools that reads it.
    assert isinstance(license_, str) and re.fullmatch(r"[A-Za-z0-9.+-]+(?: (?:AND|OR|WITH) [A-Za-z0-9.+-]+)*", license_)
    assert not any(c.startswith("License ::") for c in project["project"].get("classifiers", []))
    backend = " ".join(project["build-system"]["requires"])
    assert (match := re.search(r"setuptools>=(\d+)", backend)) and int(match.group(1)) >= 77


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_makefile__bench_smoke_runs_the_smoke_benchmark() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "bench-smoke"], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True
    )
    commands = dry_run.stdout.splitlines()
    assert any(re.search(r"python -m bench --smoke\b", command) for command in commands), dry_run.stdout
