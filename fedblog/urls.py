"""The only place that builds URLs and ActivityPub ids; everything else asks it."""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit


class Urls:
    def __init__(self, base_url: str, username: str) -> None:
        self.base = base_url.rstrip("/")
        self.username = username
        self.host = urlsplit(self.base).netloc

    def absolute(self, path: str) -> str:
        return self.base + path

    # HTML pages
    def home(self, page: int = 1) -> str:
        return self.absolute("/" if page <= 1 else f"/?page={page}")

    def post(self, slug: str) -> str:
        return self.absolute(f"/posts/{quote(slug)}")

    def post_preview(self, token: str) -> str:
        """A draft's private preview (web/preview.py makes the token)."""
        return self.absolute(f"/preview/{quote(token)}")

    def page(self, slug: str) -> str:
        """A page (post kind 'page') answers at /SLUG/, as on WordPress."""
        return self.absolute(f"/{quote(slug)}/")

    def post_or_page(self, slug: str, is_page: bool) -> str:
        return self.page(slug) if is_page else self.post(slug)

    def category(self, slug: str) -> str:
        return self.absolute(f"/category/{quote(slug)}/")

    def category_page(self, slug: str, page: int = 1) -> str:
        return self.category(slug) if page <= 1 else f"{self.category(slug)}?page={page}"

    def category_feed(self, slug: str) -> str:
        return f"{self.category(slug)}feed.xml"

    def tag(self, tag: str) -> str:
        return self.absolute(f"/tags/{quote(tag)}")

    def archive(self, year: int, month: int) -> str:
        return self.absolute(f"/archive/{year:04d}/{month:02d}")

    def comment_anchor(self, slug: str, comment_id: int) -> str:
        return f"{self.post(slug)}#comment-{comment_id}"

    def tag_page(self, tag: str, page: int = 1) -> str:
        return self.tag(tag) if page <= 1 else f"{self.tag(tag)}?page={page}"

    def archive_index(self) -> str:
        return self.absolute("/archive")

    def comment_form(self, slug: str) -> str:
        """Where the post page's comment form is POSTed."""
        return f"{self.post(slug)}/comments"

    def reply_form(self, slug: str, comment_id: int) -> str:
        """The post page with the form set to answer a comment (works without JavaScript)."""
        return f"{self.post(slug)}?replyto={comment_id}#respond"

    def held_comment(self, slug: str, comment_id: int) -> str:
        """Where a visitor lands after posting a held comment: the notice and their own preview."""
        return f"{self.post(slug)}?held={comment_id}#comment-{comment_id}"

    def edit_comment(self, comment_id: int) -> str:
        """Where the writer of a comment edits or deletes it (within the edit window, from the same browser)."""
        return self.absolute(f"/comments/{comment_id}/edit")

    def delete_comment(self, comment_id: int) -> str:
        return self.absolute(f"/comments/{comment_id}/delete")

    def subscriptions(self, path: str, token: str) -> str:
        """A commenter's e-mail links: "" (their subscriptions), "/confirm", "/stop" (one thread), "/stop-all"."""
        return self.absolute(f"/subscriptions{path}?{urlencode({'token': token})}")

    def interact(self, object_url: str | None = None) -> str:
        """The remote-interaction form: reply to one of our objects from a fediverse account, or follow the blog."""
        query = {"object": object_url} if object_url else {"follow": "1"}
        return self.absolute(f"/interact?{urlencode(query)}")

    def interact_form(self) -> str:
        """Where the remote-interaction forms are POSTed."""
        return self.absolute("/interact")

    def webmention(self) -> str:
        """The Webmention endpoint (advertised by every post page)."""
        return self.absolute("/webmention")

    def xmlrpc(self) -> str:
        """The XML-RPC endpoint that takes pingbacks (advertised by every post page), where WordPress has it."""
        return self.absolute("/xmlrpc.php")

    def trackback(self, slug: str) -> str:
        return self.absolute(f"/posts/{quote(slug)}/trackback")

    def feed(self) -> str:
        return self.absolute("/feed.xml")

    def comments_feed(self) -> str:
        """The latest comments across the blog (Atom); /comments/<id> are comment objects, ids are digits only."""
        return self.absolute("/comments/feed.xml")

    def post_comments_feed(self, slug: str) -> str:
        return f"{self.post(slug)}/comments.xml"

    def search(self, query: str = "", page: int = 1) -> str:
        if not query:
            return self.absolute("/search")
        params: dict[str, str | int] = {"q": query} if page <= 1 else {"q": query, "page": page}
        return self.absolute(f"/search?{urlencode(params)}")

    def sitemap(self) -> str:
        return self.absolute("/sitemap.xml")

    def profile(self) -> str:
        return self.absolute(f"/@{self.username}")

    def admin(self, path: str = "") -> str:
        return self.absolute("/admin" + path)

    def static(self, name: str) -> str:
        return self.absolute(f"/static/{name}")

    def media(self, file_name: str) -> str:
        return self.absolute(f"/media/{file_name}")

    # ActivityPub
    def actor(self) -> str:
        return self.absolute("/actor")

    def key_id(self) -> str:
        return self.actor() + "#main-key"

    def inbox(self) -> str:
        return self.absolute("/actor/inbox")

    def shared_inbox(self) -> str:
        return self.absolute("/inbox")

    def outbox(self) -> str:
        return self.absolute("/actor/outbox")

    def followers(self) -> str:
        return self.absolute("/actor/followers")

    def following(self) -> str:
        return self.absolute("/actor/following")

    def featured(self) -> str:
        return self.absolute("/actor/featured")

    def note(self, slug: str) -> str:
        """A post's Note id is its HTML URL: one URL, two representations."""
        return self.post(slug)

    def comment_object(self, comment_id: int) -> str:
        return self.absolute(f"/comments/{comment_id}")

    def replies(self, slug: str, page: int | None = None) -> str:
        path = f"/posts/{quote(slug)}/replies"
        return self.absolute(path if page is None else f"{path}?{urlencode({'page': page})}")

    def conversation(self, slug: str, page: int | None = None) -> str:
        """The post's conversation (FEP-7888 `context`): the post's Note and every public comment of its thread."""
        path = f"/posts/{quote(slug)}/context"
        return self.absolute(path if page is None else f"{path}?{urlencode({'page': page})}")

    def comment_replies(self, comment_id: int, page: int | None = None) -> str:
        path = f"/comments/{comment_id}/replies"
        return self.absolute(path if page is None else f"{path}?{urlencode({'page': page})}")

    def activity(self, kind: str, token: str) -> str:
        return self.absolute(f"/activities/{kind}/{token}")

    def handle_host(self) -> str:
        """The handle's host: the port stays when it is not the scheme's default (WebFinger goes to that port)."""
        parts = urlsplit(self.base)
        hostname = (parts.hostname or "").lower()
        default = {"http": 80, "https": 443}.get(parts.scheme)
        return hostname if parts.port in (None, default) else f"{hostname}:{parts.port}"

    def acct(self) -> str:
        return f"acct:{self.username}@{self.handle_host()}"

    def handle(self) -> str:
        return f"@{self.username}@{self.handle_host()}"

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.base

    def local_path(self, url: str) -> str | None:
        """The path (with query) of one of our URLs, or None for a foreign one."""
        if not self.is_local(url):
            return None
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")
