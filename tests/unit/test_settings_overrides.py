"""Settings saved in the admin put over the file's: checked like the file, never beyond the editable keys."""

from __future__ import annotations

import pytest

from fedblog.config import ConfigError, Settings, apply_overrides, editable_values
from fedblog.web.charts import nice_ceiling


def test_apply_overrides__values_win_over_the_file_and_lists_become_tuples() -> None:
    settings = apply_overrides(Settings(), {"site.title": "Mine", "author.links": ["Site = https://me.example"]})
    assert settings.site.title == "Mine" and settings.author.links == ("Site = https://me.example",)
    assert editable_values(settings)["author.links"] == ["Site = https://me.example"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"database.path": "/tmp/elsewhere.sqlite3"}, "database.path: cannot be set from the admin"),
        ({"site.posts_per_page": 0}, "site.posts_per_page: must be at least 1"),
        ({"site.posts_per_page": "ten"}, "site.posts_per_page: expected an integer"),
        ({"site.language": "de"}, "site.language: expected one of en, fr"),
        ({"author.avatar": "javascript:alert(1)"}, "author.avatar: expected an image URL"),
    ],
)
def test_apply_overrides__refuses_what_the_file_would_refuse(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        apply_overrides(Settings(), overrides)


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (49, 50), (101, 200)])
def test_nice_ceiling__the_chart_scale_is_1_2_5_times_a_power_of_ten(value: int, top: int) -> None:
    assert nice_ceiling(value) == top
