"""Images in a post's HTML, pure: found in order, made absolute, described as ActivityStreams attachments."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from fedblog.urls import Urls

MAX_ATTACHMENTS = 4


class _ImageFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            values = dict(attrs)
            if values.get("src"):
                self.images.append((values["src"] or "", values.get("alt") or ""))


def images_in_html(fragment: str) -> list[tuple[str, str]]:
    """(src, alt) of every <img> in an HTML fragment, in order."""
    finder = _ImageFinder()
    finder.feed(fragment)
    finder.close()
    return finder.images


def absolute_url(urls: Urls, value: str) -> str | None:
    """An http(s) URL as is, a site-relative path made absolute; anything else (data:, javascript:) None."""
    value = value.strip()
    if value.startswith("/") and not value.startswith("//"):
        return urls.absolute(value)
    if urlsplit(value).scheme in ("http", "https"):
        return value
    return None


def media_type_of(url: str) -> str | None:
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    return guessed


@dataclass(frozen=True)
class ImageFacts:
    """What the blog knows of one of its own uploaded images (Mastodon shows the BlurHash while loading)."""

    media_type: str
    width: int
    height: int
    blurhash: str


def image_urls(urls: Urls, body_html: str) -> list[str]:
    """The absolute URLs of a post's images, in order, without repeats."""
    found: list[str] = []
    for src, _alt in images_in_html(body_html):
        url = absolute_url(urls, src)
        if url is not None and url not in found:
            found.append(url)
    return found


def image_attachments(
    urls: Urls, body_html: str, known: Mapping[str, ImageFacts] | None = None
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for src, alt in images_in_html(body_html):
        url = absolute_url(urls, src)
        if url is None or any(item["url"] == url for item in found):
            continue
        item: dict[str, Any] = {"type": "Image", "url": url, "name": alt}
        facts = (known or {}).get(url)
        if facts is not None:
            item.update(mediaType=facts.media_type, width=facts.width, height=facts.height, blurhash=facts.blurhash)
            found.append(item)
            continue
        media_type = media_type_of(url)
        if media_type:
            item["mediaType"] = media_type
            if not media_type.startswith("image/"):
                item["type"] = "Document"
        found.append(item)
    return found[:MAX_ATTACHMENTS]
