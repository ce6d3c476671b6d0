"""Image uploads: checked by content (Pillow decodes them, the name is ignored), bounded in bytes and pixels,
re-encoded without metadata (EXIF, with its GPS location, is dropped; the orientation is applied first), resized
variants made, and a BlurHash computed for the fediverse's placeholder. CPU work runs in a worker thread."""

from __future__ import annotations

import asyncio
import io
import re
import secrets
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fedblog.models import MediaItem, Post
from fedblog.protocol.blurhash import encode_blurhash
from fedblog.protocol.images import ImageFacts, image_urls
from fedblog.store.media import MediaStore, NewMedia

if TYPE_CHECKING:
    from PIL import Image

    from fedblog.context import Context

# What Pillow must recognise in the bytes: format -> (extension, media type).
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
MAX_PIXELS = 40_000_000  # a bound on decoded size: a small file can claim a huge canvas
MAX_STORED_WIDTH = 2560  # larger originals are scaled down: nobody reads a blog at 6000 px
VARIANT_WIDTHS = (480, 960, 1600)
DISPLAY_WIDTH = 1600  # the variant a post shows (and the fediverse receives)
MAX_ALT_TEXT = 1500
_FILE_RE = re.compile(r"^(?P<stem>[0-9a-f]{16})(?:-(?P<width>\d{2,5}))?\.(?P<ext>jpg|png|webp)$")


class MediaError(ValueError):
    """An upload that cannot be kept: a message template (translated where shown) and its values."""

    def __init__(self, template: str, **values: object) -> None:
        super().__init__(template % values if values else template)
        self.template = template
        self.values = values

    def text(self, gettext: Callable[[str], str]) -> str:
        translated = gettext(self.template)
        return translated % self.values if self.values else translated


@dataclass(frozen=True)
class ProcessedImage:
    extension: str
    media_type: str
    width: int
    height: int
    original: bytes
    variants: dict[int, bytes]
    blurhash: str


def media_store(ctx: Context) -> MediaStore:
    return MediaStore(ctx.db)


def process_image(data: bytes) -> ProcessedImage:
    """Decode, check, strip and resize one image (pure CPU; raises MediaError with the reason)."""
    # Pillow is imported on the first upload, not at start (a third of a second of `fedblog serve`'s start).
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            kind = image.format or ""
            if kind not in FORMATS:
                raise MediaError("the file is not a JPEG, PNG or WebP image")
            if image.width * image.height > MAX_PIXELS:
                raise MediaError("the image has too many pixels (at most 40 megapixels)")
            image.load()
        except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombWarning, ValueError) as error:
            if isinstance(error, MediaError):
                raise
            raise MediaError("the file is not a JPEG, PNG or WebP image") from None
    extension, media_type = FORMATS[kind]
    upright = ImageOps.exif_transpose(image) or image
    upright = normalise_mode(upright, kind)
    if upright.width > MAX_STORED_WIDTH:
        upright = scaled_to_width(upright, MAX_STORED_WIDTH)
    smaller = [width for width in VARIANT_WIDTHS if width < upright.width]
    variants = {width: encode(scaled_to_width(upright, width), kind) for width in smaller}
    preview = upright.convert("RGB")
    preview.thumbnail((32, 32))  # a BlurHash has 12 components: more pixels add time, not detail
    return ProcessedImage(
        extension=extension,
        media_type=media_type,
        width=upright.width,
        height=upright.height,
        original=encode(upright, kind),
        variants=variants,
        blurhash=encode_blurhash(preview.width, preview.height, preview.tobytes()),
    )


def normalise_mode(image: Image.Image, kind: str) -> Image.Image:
    if kind == "JPEG" and image.mode not in ("RGB", "L"):
        return image.convert("RGB")
    if kind == "WEBP" and image.mode not in ("RGB", "RGBA"):
        return image.convert("RGBA" if "A" in image.mode or "transparency" in image.info else "RGB")
    return image


def scaled_to_width(image: Image.Image, width: int) -> Image.Image:
    from PIL import Image  # as in process_image: Pillow is imported on the first upload

    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def encode(image: Image.Image, kind: str) -> bytes:
    """Re-encoded from pixels: no EXIF, XMP or comments survive (only the colour profile, needed to show it)."""
    buffer = io.BytesIO()
    icc = image.info.get("icc_profile")
    options: dict[str, object] = {"icc_profile": icc} if icc else {}
    if kind == "JPEG":
        options.update(quality=85, optimize=True, progressive=True)
    elif kind == "WEBP":
        options.update(quality=85)
    else:
        options.update(optimize=True)
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def clean_alt_text(alt: str) -> str:
    return " ".join(alt.split())[:MAX_ALT_TEXT]


def markdown_for(url: str, alt: str) -> str:
    """The image as Markdown; brackets in the alt text are escaped so the syntax holds."""
    escaped = alt.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"![{escaped}]({url})"


def display_name(item: MediaItem) -> str:
    """The file a post shows: the largest variant up to DISPLAY_WIDTH, or the original."""
    return item.variant_name(DISPLAY_WIDTH) if DISPLAY_WIDTH in item.variant_widths else item.file_name


def original_file_name(name: str) -> str | None:
    """The stored original of a file name (itself or one of its variants), or None if it is not ours."""
    match = _FILE_RE.match(name)
    return None if match is None else f"{match['stem']}.{match['ext']}"


def variant_size(item: MediaItem, name: str) -> tuple[int, int]:
    match = _FILE_RE.match(name)
    width = int(match["width"]) if match and match["width"] else item.width
    if width == item.width:
        return item.width, item.height
    return width, max(1, round(item.height * width / item.width))


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        temporary = folder / f".{name}.part"
        temporary.write_bytes(data)
        temporary.replace(folder / name)


def remove_files(folder: Path, names: tuple[str, ...]) -> None:
    for name in names:
        (folder / name).unlink(missing_ok=True)


class MediaService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = media_store(ctx)
        self.folder = ctx.settings.media_path

    @property
    def max_bytes(self) -> int:
        return self.ctx.settings.media.max_upload_mb * 1024 * 1024

    async def upload(self, data: bytes, original_name: str, alt_text: str) -> MediaItem:
        alt = clean_alt_text(alt_text)
        if not alt:
            raise MediaError("describe the image in the alt text, for people who cannot see it")
        if len(data) > self.max_bytes:
            raise MediaError("the file is larger than %(size)d MB", size=self.ctx.settings.media.max_upload_mb)
        if not data:
            raise MediaError("the file is empty")
        processed = await asyncio.to_thread(process_image, data)
        file_name = f"{secrets.token_hex(8)}.{processed.extension}"
        stem = file_name.rpartition(".")[0]
        files = {file_name: processed.original}
        files.update({f"{stem}-{width}.{processed.extension}": body for width, body in processed.variants.items()})
        await asyncio.to_thread(write_files, self.folder, files)
        return await self.store.add(
            NewMedia(
                file_name=file_name,
                original_name=Path(original_name).name[:200],
                media_type=processed.media_type,
                width=processed.width,
                height=processed.height,
                size_bytes=len(processed.original),
                alt_text=alt,
                blurhash=processed.blurhash,
                variant_widths=tuple(sorted(processed.variants)),
            )
        )

    async def delete(self, media_id: int) -> MediaItem | None:
        item = await self.store.get(media_id)
        if item is None:
            return None
        await self.store.delete(media_id)
        await asyncio.to_thread(remove_files, self.folder, item.file_names)
        return item

    async def image_facts(self, post: Post) -> dict[str, ImageFacts]:
        """Size, type and BlurHash of the post's images that are uploads of this blog, by URL."""
        items = await self.items_for_urls(image_urls(self.ctx.urls, post.body_html))
        facts = {}
        for url, item in items.items():
            width, height = variant_size(item, url.rpartition("/")[2])
            facts[url] = ImageFacts(media_type=item.media_type, width=width, height=height, blurhash=item.blurhash)
        return facts

    async def items_for_urls(self, urls: list[str]) -> dict[str, MediaItem]:
        """The uploads behind image URLs of this site's /media/ (for the Note's attachments)."""
        names: dict[str, str] = {}
        prefix = self.ctx.urls.absolute("/media/")
        for url in urls:
            if url.startswith(prefix):
                original = original_file_name(url[len(prefix) :])
                if original:
                    names[url] = original
        found = await self.store.get_by_file_names(sorted(set(names.values())))
        return {url: found[name] for url, name in names.items() if name in found}
