"""What counts as active content in a page: script-capable elements, event-handler attributes, and links or
sources with a script URL. Escaped text (`&lt;script&gt;`) is text, not content: the page is parsed, not grepped."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

ACTIVE_TAGS = frozenset({"script", "iframe", "frame", "object", "embed", "svg", "math", "form", "base", "meta"})
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset"})
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:image/svg")


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_TAGS:
            self.found[f"<{tag}>"] += 1
        for name, value in attrs:
            if name.startswith("on"):
                self.found[f"{name}="] += 1
            compact = "".join((value or "").split()).lower()
            if name in URL_ATTRIBUTES and compact.startswith(SCRIPT_SCHEMES):
                self.found[f"{name}={compact.split(':', 1)[0]}:"] += 1
            if name == "style" and ("expression(" in compact or "url(javascript" in compact):
                self.found["style=script"] += 1


def active_content(html: str) -> Counter[str]:
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.found
