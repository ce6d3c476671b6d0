"""The [notifications] section: its defaults, FEDBLOG_NOTIFICATIONS_* overrides and the errors naming the key."""

from pathlib import Path

import pytest

from fedblog.config import ConfigError, settings_from_mapping
from fedblog.services.notifications import describe_error, retry_delay

ON = {"email": "me@example.org", "smtp_host": "smtp.example.org"}


def load(values: dict, environ: dict | None = None):
    return settings_from_mapping({"notifications": values}, environ or {}, root=Path())


def test_notifications_config__off_by_default_with_submission_port_and_starttls() -> None:
    settings = settings_from_mapping({}, {}, root=Path())
    assert settings.notifications.email == ""
    assert (settings.notifications.smtp_port, settings.notifications.smtp_starttls) == (587, True)
    assert settings.notifications.on == ("held", "approved", "followers")


def test_notifications_config__password_and_events_from_the_environment() -> None:
    env = {"FEDBLOG_NOTIFICATIONS_SMTP_PASSWORD": "pw", "FEDBLOG_NOTIFICATIONS_ON": "held, followers"}
    settings = load(ON, env)
    assert settings.notifications.smtp_password == "pw"
    assert settings.notifications.on == ("held", "followers")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({**ON, "colour": "red"}, "notifications.colour: unknown key"),
        ({**ON, "on": ["held", "likes"]}, "notifications.on: expected some of held, approved, followers"),
        ({"email": "me@example.org"}, "notifications.smtp_host: required"),
        ({**ON, "email": "me@example.org\nBcc: x@evil.example"}, "notifications.email: expected an e-mail address"),
        ({**ON, "from_address": "Blog <blog@example.org>"}, "notifications.from_address"),
        ({**ON, "smtp_starttls": False, "smtp_password": "pw"}, "notifications.smtp_starttls: must be true"),
        ({**ON, "interval_seconds": 0}, "notifications.interval_seconds"),
    ],
)
def test_notifications_config__bad_value_names_the_key(values: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load(values)
    assert message in str(error.value)


def test_notifications_config__clear_text_login_allowed_on_loopback_only() -> None:
    settings = load({**ON, "smtp_host": "127.0.0.1", "smtp_starttls": False, "smtp_password": "pw"})
    assert settings.notifications.smtp_starttls is False


def test_retry_delay__doubles_from_the_period_up_to_an_hour() -> None:
    assert [retry_delay(n, 60) for n in (1, 2, 3, 7, 20)] == [60, 120, 240, 3600, 3600]


def test_describe_error__blanks_the_password_and_its_auth_encodings() -> None:
    settings = load({**ON, "smtp_username": "me", "smtp_password": "hunter2"}).notifications
    error = RuntimeError("535 bad credentials hunter2 aHVudGVyMg== AG1lAGh1bnRlcjI=")
    assert describe_error(error, settings) == "RuntimeError: 535 bad credentials *** *** ***"
