"""English and French: plurals, localized dates, translated form and errors, a complete French catalog."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from jinja2.ext import babel_extract

from fedblog.i18n import translations_for
from tests.conftest import SiteFactory
from tests.integration.blog_support import add_comment, field_block, get, new_session, publish, submit_comment

ROOT = Path(__file__).resolve().parents[2]
# The templates this catalog (blog.po) covers; other features' templates have their own catalogs and tests.
MY_TEMPLATES = ("_comment.html", "_comment_form.html", "_macros.html", "_post_list.html", "_thread.html")
MY_PAGES = ("index.html", "post.html", "tag.html", "archive.html", "month.html")
TEMPLATES = [
    ROOT / "templates" / "base.html",
    ROOT / "templates" / "errors" / "error.html",
    *(ROOT / "templates" / "blog" / name for name in MY_TEMPLATES + MY_PAGES),
]
PYTHON = [ROOT / "fedblog" / "services" / "comments.py", ROOT / "fedblog" / "web" / "comments.py"]


def heading(html: str) -> str:
    match = re.search(r'<h2 id="comments-title">([^<]+)</h2>', html)
    assert match
    return match.group(1)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", {0: "0 comments", 1: "1 comment", 9: "9 comments"}),
        ("fr", {0: "0 commentaire", 1: "1 commentaire", 9: "9 commentaires"}),
    ],
)
async def test_plurals__comment_counts(site_factory: SiteFactory, language: str, expected: dict[int, str]) -> None:
    site = await site_factory(language=language)
    for count in expected:
        post = await publish(site, f"Post {count}", slug=f"post-{count}")
        for number in range(count):
            await add_comment(site, post, f"Comment {number}")
    home = await get(site, "/")
    for count, text in expected.items():
        page = await get(site, f"/posts/post-{count}")
        assert heading(page.text) == text
        assert f'href="{site.url}/posts/post-{count}#comments">{text}</a>' in home.text


@pytest.mark.parametrize(
    ("language", "date_text", "month_text"),
    [("en", "February 21, 2012", "February 2012"), ("fr", "21 février 2012", "février 2012")],
)
async def test_dates__localized_on_post_and_archive(
    site_factory: SiteFactory, language: str, date_text: str, month_text: str
) -> None:
    site = await site_factory(language=language)
    await publish(site, "Old post", slug="old", date=datetime(2012, 2, 21, 18, 0, tzinfo=UTC))
    post = await get(site, "/posts/old")
    archive = await get(site, "/archive")
    assert f'<time class="dt-published" datetime="2012-02-21T18:00:00+00:00">{date_text}</time>' in post.text
    assert f">{month_text}</a>" in archive.text


async def test_french__post_page_form_and_errors(site_factory: SiteFactory) -> None:
    site = await site_factory(language="fr")
    await publish(site, "Bonjour", slug="bonjour", tags=("été",))
    page = await get(site, "/posts/bonjour")
    assert '<html lang="fr">' in page.text
    assert "Laisser un commentaire" in page.text and "Publier le commentaire" in page.text
    assert 'for="comment-name">Nom <span class="required">(obligatoire)</span>' in page.text
    assert "Jamais affiché publiquement." in page.text
    assert '<meta property="og:locale" content="fr_FR">' in page.text
    async with new_session() as session:
        answer = await submit_comment(site, "bonjour", session, name="Zoé", email="", message="Salut")
    assert answer.status == 400
    assert "Indiquez votre adresse e-mail." in field_block(answer.text, "email")
    tag = await get(site, "/tags/été")
    assert "Articles classés «\u00a0été\u00a0»" in tag.text and "1 article" in tag.text


def extracted_messages() -> set[str | tuple[str, str]]:
    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}
    found: set[str | tuple[str, str]] = set()
    for path in TEMPLATES:
        for _line, message, _comments, _context in extract_from_file(babel_extract, str(path), options=options):
            found.add(message if isinstance(message, str) else (message[0], message[1]))
    for path in PYTHON:
        for _line, message, _comments, _context in extract_from_file(
            "python", str(path), keywords={"_": None, "gettext": None}
        ):
            found.add(message)
    return found


def test_catalog__every_visitor_string_has_a_french_translation() -> None:
    catalog = translations_for("fr")._catalog  # the merged gettext catalog
    messages = extracted_messages()
    assert len(messages) > 60
    missing = [
        message for message in messages if not catalog.get(message if isinstance(message, str) else (message[0], 0))
    ]
    assert missing == []
