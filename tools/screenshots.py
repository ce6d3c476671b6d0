"""Screenshots of the theme for docs/screenshots/: the home page, a post with a thread and the admin, in the light
and dark schemes, at desktop and phone widths. `make screenshots` runs it; everything happens on loopback: a
throwaway site in a temporary folder, the real app on a free port, Debian's Chromium through Playwright."""

from __future__ import annotations

import asyncio
import io
import secrets
import socket
import sys
import tempfile
from pathlib import Path

from aiohttp import web
from PIL import Image, ImageDraw
from playwright.async_api import Browser, async_playwright

from fedblog.app import create_app
from fedblog.config import load_settings, render_config
from fedblog.context import Context
from fedblog.passwords import hash_password
from fedblog.protocol.keys import generate_private_key_pem
from fedblog.services.comments import CommentForm, CommentService
from fedblog.services.media import MediaService, display_name, markdown_for
from fedblog.services.posts import PostInput, PostService
from fedblog.store.followers import FollowerStore
from fedblog.web.keys import CONTEXT_KEY
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = secrets.token_urlsafe(16)  # the throwaway site's admin, logged in by the script itself
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}

POST = """A walk along the old railway line, from the viaduct to the lake, on a grey morning that turned blue.

{image}

## What I took

- a thermos of tea and two apples
- the paper map (the phone lost signal in the cutting)
- a notebook, for the names of the birds I did not know

The line closed in 1962; the rails went for scrap, but the stone bridges stayed, and so did the mileposts.
Some of them still carry the initials of the company, worn smooth by seventy winters.

> A path that was built for trains is patient: it never climbs more than it must.

| Stretch | Distance | Time |
|---|---|---|
| Viaduct to the mill | 4.2 km | 55 min |
| Mill to the lake | 6.8 km | 1 h 30 |

```
gpx = load("walk.gpx")
print(gpx.distance_km, gpx.elevation_gain_m)
```
"""


def landscape() -> bytes:
    image = Image.new("RGB", (1600, 900), (126, 170, 214))
    draw = ImageDraw.Draw(image)
    for band, colour in enumerate(((164, 196, 226), (190, 212, 232))):
        draw.rectangle((0, band * 120, 1600, band * 120 + 120), fill=colour)
    hills = [(0, 620), (380, 360), (760, 600), (1120, 330), (1600, 640), (1600, 900), (0, 900)]
    draw.polygon(hills, fill=(74, 110, 88))
    draw.polygon([(0, 760), (520, 640), (1600, 720), (1600, 900), (0, 900)], fill=(52, 84, 66))
    draw.rectangle((0, 800, 1600, 900), fill=(88, 128, 170))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def make_site(folder: Path, base_url: str) -> Path:
    (folder / "keys").mkdir(parents=True)
    key = folder / "keys" / "private.pem"
    key.write_bytes(generate_private_key_pem())
    key.chmod(0o600)
    config = render_config(base_url, "camille", "Notes from the path", "en", hash_password(PASSWORD), "fedblog.sqlite3")
    config = config.replace('display_name = "camille"', 'display_name = "Camille Martin"')
    config = config.replace('bio = ""', 'bio = "Walks, maps and the odd railway. Writing from the Jura."', 1)
    config = config.replace('description = ""', 'description = "Long walks, short notes."', 1)
    config = config.replace("allow_private_addresses = false", "allow_private_addresses = true")
    config = config.replace("send = true", "send = false", 1)
    path = folder / "fedblog.toml"
    path.write_text(config, encoding="utf-8")
    return path


async def fill(ctx: Context) -> str:
    posts, comments = PostService(ctx), CommentService(ctx)
    maps = "Old paper maps, and why they still win.\n\n" * 3
    await posts.publish(PostInput(title="Maps I trust", body_markdown=maps))
    item = await MediaService(ctx).upload(landscape(), "lake.jpg", "The lake under green hills, seen from the path")
    image = markdown_for(ctx.urls.media(display_name(item)), item.alt_text)
    post = await posts.publish(
        PostInput(title="From the viaduct to the lake", body_markdown=POST.format(image=image), tags=("walks", "rail"))
    )
    await posts.publish(PostInput(title="Winter gear, revisited", body_markdown="Less is more, except for socks."))
    thread = [
        ("Ada", "ada@example.org", "What a lovely route! Is the cutting muddy after rain?", None),
        ("Bruno", "bruno@example.org", "I walked it last spring: bring boots, the cutting is a stream in April.", 0),
        ("Chloé", "chloe@example.org", "Do you have the GPX? I would love to try it with the kids.", None),
    ]
    made = []
    for name, email, text, parent in thread:
        parent_id = str(made[parent].id) if parent is not None else ""
        result = await comments.submit_web_comment(
            post, CommentForm(name=name, email=email, website="", message=text, parent_id=parent_id), ip=None
        )
        assert result.comment is not None
        made.append(await comments.approve(result.comment.id) if result.held else result.comment)
    await comments.reply_as_author(made[2].id, "Here it is: I will add it under the post tonight.")
    pending = await comments.submit_web_comment(
        post, CommentForm(name="Dmitri", email="d@example.org", website="", message="Which map do you use?"), ip=None
    )
    assert pending.comment is not None
    async with ctx.db.transaction() as conn:
        for name in ("ada", "bruno", "chloe", "dmitri", "eva"):
            await FollowerStore(ctx.db).upsert(
                conn,
                actor_id=f"https://walkers.example/users/{name}",
                inbox=f"https://walkers.example/users/{name}/inbox",
                shared_inbox="https://walkers.example/inbox",
                handle=f"@{name}@walkers.example",
                name=name.title(),
                follow_activity_id=f"https://walkers.example/follows/{name}",
                follow_json="{}",
                status="accepted",
            )
    return post.slug


async def shoot(browser: Browser, base: str, slug: str) -> list[Path]:
    written = []
    for scheme in ("light", "dark"):
        for width_name, (width, height) in WIDTHS.items():
            context = await browser.new_context(
                viewport={"width": width, "height": height}, color_scheme=scheme, locale="en-US", device_scale_factor=1
            )
            page = await context.new_page()
            for name, path, full in (("home", "/", False), ("post", f"/posts/{slug}", True)):
                await page.goto(base + path)
                target = OUT / f"{name}-{scheme}-{width_name}.png"
                await page.screenshot(path=str(target), full_page=full)
                written.append(target)
            await page.goto(base + "/admin/login?next=/admin/comments")
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Log in").click()
            await page.wait_for_url("**/admin/comments")
            for name, path in (("admin-queue", "/admin/comments"), ("admin-dashboard", "/admin")):
                await page.goto(base + path)
                target = OUT / f"{name}-{scheme}-{width_name}.png"
                await page.screenshot(path=str(target), full_page=True)
                written.append(target)
            await context.close()
    return written


async def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(make_site(Path(folder) / "site", base), environ={})
        runner = web.AppRunner(create_app(settings), access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        try:
            slug = await fill(runner.app[CONTEXT_KEY])
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                try:
                    written = await asyncio.wait_for(shoot(browser, base, slug), timeout=300)
                finally:
                    await browser.close()
        finally:
            await runner.cleanup()
    for path in written:
        print(path.relative_to(OUT.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
