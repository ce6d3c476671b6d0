"""deploy/compose.yaml parses, and every service runs a command fedblog has, with options it takes, on the
image the Containerfile builds and the site volume the Containerfile declares."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import yaml

from fedblog.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    document = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_compose__web_and_worker_services(compose: dict) -> None:
    services = compose["services"]
    assert set(services) >= {"web", "worker"}
    assert services["web"]["command"][:1] == ["serve"]
    assert "--no-worker" in services["web"]["command"]  # the worker service does the background work
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["healthcheck"] == {"disable": True}  # it serves no /healthz


@pytest.mark.parametrize("service", ["web", "worker"])
def test_compose__commands_are_fedblog_commands(compose: dict, service: str) -> None:
    command = compose["services"][service]["command"]
    with contextlib.redirect_stderr(io.StringIO()) as errors:
        try:
            args = build_parser().parse_args(command)
        except SystemExit:
            pytest.fail(f"{service}: `fedblog {' '.join(command)}` is refused: {errors.getvalue()}")
    assert args.command == command[0]


@pytest.mark.parametrize("service", ["web", "worker"])
def test_compose__site_volume_and_config_as_the_image_has_them(compose: dict, service: str) -> None:
    containerfile = (ROOT / "Containerfile").read_text(encoding="utf-8")
    settings = compose["services"][service]
    assert "site:/site" in settings["volumes"] and "VOLUME /site" in containerfile
    assert settings["environment"]["FEDBLOG_CONFIG"] == "/site/fedblog.toml"
    assert "site" in compose["volumes"]


def test_compose__the_image_is_built_from_the_containerfile(compose: dict) -> None:
    build = compose["services"]["web"]["build"]
    assert (ROOT / "deploy" / build["context"] / build["dockerfile"]).resolve() == ROOT / "Containerfile"
    assert compose["services"]["worker"]["image"] == compose["services"]["web"]["image"]
