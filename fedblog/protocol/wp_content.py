"""WordPress post and comment bodies to plain HTML, pure (sanitizing is the caller's next step).

Block-editor comments (`<!-- wp:paragraph -->`) are dropped; the common shortcodes become HTML ([caption] a
figure with its figcaption, [embed] a link, [gallery] its images, [code]/[sourcecode] a pre); any other shortcode
is left as text and named in `unknown_shortcodes`; classic-editor text gets WordPress's automatic paragraphs
(blank line: new paragraph, newline: <br>), except inside <pre> and around block elements.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:.*?-->|<!--\s*(?:more|nextpage|noteaser)\b.*?-->", re.DOTALL)
_ATTRIBUTE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")
_ENCLOSING = re.compile(r"\[(caption|wp_caption|embed|code|sourcecode)\b([^\]]*)\](.*?)\[/\1\]", re.DOTALL | re.I)
_GALLERY = re.compile(r"\[gallery\b([^\]]*)\]", re.I)
_SHORTCODE_NAME = re.compile(r"\[/?([a-z][a-z0-9_-]*)(?=[\s\]/])[^\]\n]*\]")
_PRE = re.compile(r"<pre\b.*?</pre>", re.DOTALL | re.I)
_BLOCK_TAGS = (
    "address|article|aside|blockquote|dd|details|div|dl|dt|figcaption|figure|footer|form|h[1-6]|header|hr|li|"
    "main|nav|ol|p|pre|section|summary|table|tbody|td|tfoot|th|thead|tr|ul|video|audio|iframe|object"
)
_STARTS_WITH_BLOCK = re.compile(rf"^\s*</?(?:{_BLOCK_TAGS})\b", re.I)
_IMG_OR_LINKED_IMG = re.compile(r"^\s*(?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?", re.I | re.DOTALL)


@dataclass(frozen=True)
class Converted:
    html: str
    unknown_shortcodes: tuple[str, ...]


def attributes(text: str) -> dict[str, str]:
    """A shortcode's attributes: name="value", name='value' or name=value."""
    return {m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None) for m in _ATTRIBUTE.finditer(text)}


def wordpress_to_html(body: str, attachment_urls: Mapping[int, str] | None = None) -> Converted:
    """A post body as WordPress stores it, as HTML. `attachment_urls` (attachment id → URL) resolves
    [gallery ids="…"]."""
    text = _BLOCK_COMMENT.sub("", body.replace("\r\n", "\n").replace("\r", "\n"))
    text = _ENCLOSING.sub(_enclosing_shortcode, text)
    text = _GALLERY.sub(lambda match: _gallery(match, attachment_urls or {}), text)
    unknown = tuple(dict.fromkeys(name.lower() for name in _SHORTCODE_NAME.findall(_PRE.sub("", text))))
    return Converted(autop(text), unknown)


def _enclosing_shortcode(match: re.Match[str]) -> str:
    name, attrs, inner = match.group(1).lower(), attributes(match.group(2)), match.group(3)
    if name in ("caption", "wp_caption"):
        image = _IMG_OR_LINKED_IMG.match(inner)
        media = image.group(0).strip() if image else ""
        caption = (inner[image.end() :] if image else inner).strip() or attrs.get("caption", "")
        return f"<figure>{media}<figcaption>{caption}</figcaption></figure>"
    if name == "embed":
        url = html.escape(html.unescape(inner.strip()), quote=True)
        return f'<p><a href="{url}">{url}</a></p>'
    language = re.sub(r"[^a-z0-9+#-]", "", (attrs.get("lang") or attrs.get("language") or "").lower())
    css = f' class="language-{language}"' if language else ""
    code = html.escape(html.unescape(inner.strip("\n")), quote=False)
    return f"<pre><code{css}>{code}</code></pre>"


def _gallery(match: re.Match[str], attachment_urls: Mapping[int, str]) -> str:
    ids = [part.strip() for part in attributes(match.group(1)).get("ids", "").split(",")]
    urls = [attachment_urls[int(part)] for part in ids if part.isdigit() and int(part) in attachment_urls]
    if not urls:
        return ""
    images = "".join(f'<img src="{html.escape(url, quote=True)}" alt="" loading="lazy">' for url in urls)
    return f'<figure class="gallery">{images}</figure>'


def autop(text: str) -> str:
    """WordPress's automatic paragraphs, simplified: blank lines separate paragraphs, a newline inside one is a
    <br>; chunks that start with a block element and <pre> blocks are left as they are."""
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\n\n\x00{len(kept) - 1}\x00\n\n"

    protected = _PRE.sub(keep, text)
    out = []
    for chunk in re.split(r"\n\s*\n", protected):
        chunk = chunk.strip()
        if not chunk:
            continue
        placeholder = re.fullmatch(r"\x00(\d+)\x00", chunk)
        if placeholder:
            out.append(kept[int(placeholder.group(1))])
        elif _STARTS_WITH_BLOCK.match(chunk):
            out.append(chunk)
        else:
            out.append("<p>" + re.sub(r"\s*\n\s*", "<br>\n", chunk) + "</p>")
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], "\n".join(out))


def rewrite_urls(fragment: str, mapping: Mapping[str, str]) -> str:
    """Every occurrence of an old URL (a key of `mapping`) replaced by its new URL, longest first."""
    if not mapping:
        return fragment
    pattern = re.compile("|".join(re.escape(url) for url in sorted(mapping, key=len, reverse=True)))
    return pattern.sub(lambda match: mapping[match.group(0)], fragment)
