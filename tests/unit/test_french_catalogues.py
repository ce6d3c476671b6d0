"""The French interface is complete: every catalogue file under fedblog/locales/fr (each feature adds its own) has
every message translated, none fuzzy, the same %(placeholders)s as the English, and example values translated
too (`@name@example.social` reads `@nom@exemple.social`); every message the templates and the code ask for is in
the merged catalogue; and no template shows English outside `_()`. Failures name the file and the message."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from fedblog.i18n import translations_for

ROOT = Path(__file__).resolve().parents[2]
FRENCH = sorted((ROOT / "fedblog" / "locales" / "fr" / "LC_MESSAGES").glob("*.po"))
TEMPLATES = sorted(path for path in (ROOT / "templates").rglob("*") if path.suffix in (".html", ".xml", ".txt"))
PYTHON = sorted((ROOT / "fedblog").rglob("*.py"))
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]")
# An example value inside a message: "@name@example.social", "example.com", "https://example.com/users/name".
EXAMPLE = re.compile(r"[\w@./:-]*\bexample\.\w+[\w@./:-]*")
# Words spelt the same in French: a translation equal to its English is accepted for these only.
SAME_IN_FRENCH = {
    "Actions",
    "Avatar",
    "Date",
    "Date (UTC)",
    "Description",
    "Image",
    "Mentions",
    "Message",
    "ok",
    "Original",
    "Page %(page)d",
    "Pages",
    "Site",
    "webmention",
}


def forms(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return ("",)
    return (value,) if isinstance(value, str) else tuple(value)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def problems_of(message: Message) -> list[str]:
    """What is wrong with one catalogue entry, in words a translator can act on."""
    ids = forms(message.id)
    strings = forms(message.string)
    found = []
    if message.fuzzy:
        found.append("is marked fuzzy (check the translation, then remove the fuzzy flag)")
    if not all(text.strip() for text in strings):
        found.append("has no French translation")
        return found
    if len(ids) == 1:
        if placeholders(strings[0]) != placeholders(ids[0]):
            found.append(f"placeholders {sorted(placeholders(ids[0]))} != {sorted(placeholders(strings[0]))}")
    else:
        # French may spell out "un" in the singular, but never invents a placeholder; the plural keeps them all.
        allowed = placeholders(ids[0]) | placeholders(ids[1])
        if any(not placeholders(text) <= allowed for text in strings) or placeholders(strings[-1]) != placeholders(
            ids[1]
        ):
            found.append(f"placeholders {sorted(allowed)} differ in {list(strings)}")
    if len(ids) == 1 and strings[0] == ids[0] and ids[0] not in SAME_IN_FRENCH:
        found.append("is the English text copied (translate it, or add it to SAME_IN_FRENCH if French spells it so)")
    for example in set(EXAMPLE.findall(" ".join(ids))):
        if any(example in text for text in strings):
            found.append(f"keeps the English example {example!r} (e.g. @nom@exemple.social)")
    return found


def test_french__there_are_catalogue_files_to_check() -> None:
    assert len(FRENCH) >= 5, FRENCH


@pytest.mark.parametrize("path", FRENCH, ids=[path.name for path in FRENCH])
def test_french__every_message_of_each_catalogue_file_is_translated(path: Path) -> None:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    failures = [
        f"{path.name}: msgid {message.id!r} {problem}"
        for message in catalog
        if message.id
        for problem in problems_of(message)
    ]
    assert not failures, "\n".join(failures)


def extracted_messages() -> list[tuple[str, int, str | tuple[str, ...]]]:
    """Every message the templates and the code ask gettext for, with where it is asked."""
    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}
    found: list[tuple[str, int, str | tuple[str, ...]]] = []
    for path in TEMPLATES:
        for line, message, _comments, _context in extract_from_file(babel_extract, str(path), options=options):
            found.append((str(path.relative_to(ROOT)), line, message))
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    for path in PYTHON:
        for line, message, _comments, _context in extract_from_file("python", str(path), keywords=keywords):
            found.append((str(path.relative_to(ROOT)), line, message))
    return found


def test_french__every_message_the_site_uses_is_in_the_catalogues() -> None:
    catalog = translations_for("fr")._catalog  # every fr .po file merged, as the site loads them
    messages = extracted_messages()
    assert len(messages) > 300
    missing = [
        f"{where}:{line}: msgid {message!r} is in no fedblog/locales/fr/LC_MESSAGES/*.po file"
        for where, line, message in messages
        if not catalog.get(message if isinstance(message, str) else (message[0], 0))
    ]
    assert not missing, "\n".join(missing)


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_ATTRIBUTES_OUTSIDE_TAG = re.compile(r"""[\w-]+="[^"]*\"""")  # a macro's body: attributes it adds to a tag
_SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")


class _ShownText(HTMLParser):
    """Words a person reads (text and the attributes shown or spoken) left in a template once Jinja is removed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self.hidden += 1
        self.found += [f'{name}="{value}"' for name, value in attrs if name in _SHOWN_ATTRIBUTES and _words(value)]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden and _words(_ATTRIBUTES_OUTSIDE_TAG.sub("", data)):
            self.found.append(data.strip())


def _words(text: str | None) -> bool:
    return bool(text and re.search(r"[A-Za-z]{2,}", text))


@pytest.mark.parametrize(
    "path",
    [path for path in TEMPLATES if path.suffix == ".html"],
    ids=[str(path.relative_to(ROOT / "templates")) for path in TEMPLATES if path.suffix == ".html"],
)
def test_french__templates_show_no_english_outside_gettext(path: Path) -> None:
    parser = _ShownText()
    parser.feed(_JINJA.sub(" ", path.read_text(encoding="utf-8")))
    assert not parser.found, f"{path.relative_to(ROOT)}: text not wrapped in _(): {parser.found}"


def test_french__the_checks_catch_each_kind_of_mistake() -> None:
    def entry(message_id: str | tuple[str, str], string: str | tuple[str, str], fuzzy: bool = False) -> list[str]:
        return problems_of(Message(message_id, string, flags=["fuzzy"] if fuzzy else []))

    assert entry("Hello", "Bonjour") == []
    assert entry("Hello", "") == ["has no French translation"]
    assert "fuzzy" in entry("Hello", "Bonjour", fuzzy=True)[0]
    assert "placeholders" in entry("Hi %(name)s", "Salut %(nom)s")[0]
    assert "copied" in entry("Hello there", "Hello there")[0]
    assert "example" in entry("Like @name@example.social", "Comme @name@example.social")[0]
    assert entry("Like @name@example.social", "Comme @nom@exemple.social") == []
    assert entry(("%(count)d post", "%(count)d posts"), ("un billet", "%(count)d billets")) == []
    assert "placeholders" in entry(("%(count)d post", "%(count)d posts"), ("%(count)d billet", "billets"))[0]
