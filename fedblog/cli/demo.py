"""The demo site made by `make run`: one welcome post with tags and an approved comment thread."""

from __future__ import annotations

from fedblog.context import Context
from fedblog.models import CommentStatus
from fedblog.services.comments import CommentForm, CommentService
from fedblog.services.posts import PostInput, PostService

WELCOME_EN = """Welcome to **fedblog**, a blog whose posts and conversations also live on the fediverse.

- Follow this blog from Mastodon, Pleroma, Misskey or GoToSocial with its handle.
- Reply from your fediverse account, or with the form below: both land in the same thread.
- The author writes in Markdown, from the admin or with `fedblog post publish`.

> One conversation per post, whoever joins it.
"""


WELCOME_FR = """Bienvenue sur **fedblog**, un blog dont les articles et les conversations vivent aussi sur le fédivers.

- Suivez ce blog depuis Mastodon, Pleroma, Misskey ou GoToSocial grâce à son identifiant.
- Répondez depuis votre compte du fédivers, ou avec le formulaire ci-dessous : tout arrive dans le même fil.
- L’auteur écrit en Markdown, depuis l’administration ou avec `fedblog post publish`.

> Une conversation par article, quel que soit le chemin pour la rejoindre.
"""

# (title, body, comment, reply) in the site's language
DEMO_TEXT = {
    "en": (
        "Welcome to fedblog",
        WELCOME_EN,
        "Congratulations on the new blog! Can Mastodon users really reply here?",
        "They can: a reply from Mastodon shows up right in this thread.",
    ),
    "fr": (
        "Bienvenue sur fedblog",
        WELCOME_FR,
        "Félicitations pour ce nouveau blog ! Peut-on vraiment répondre depuis Mastodon ?",
        "Oui : une réponse envoyée depuis Mastodon apparaît directement dans ce fil.",
    ),
}


async def create_demo_content(ctx: Context) -> None:
    title, body, comment_text, reply_text = DEMO_TEXT.get(ctx.settings.site.language, DEMO_TEXT["en"])
    posts = PostService(ctx)
    post = await posts.publish(
        PostInput(title=title, body_markdown=body, slug="welcome", tags=("fedblog", "fediverse", "welcome"))
    )
    comments = CommentService(ctx)
    first = await comments.submit_web_comment(
        post,
        CommentForm(
            name="Camille",
            email="camille@example.org",
            website="https://camille.example.org",
            message=comment_text,
        ),
        ip=None,
    )
    assert first.comment is not None
    if first.comment.status != CommentStatus.APPROVED:
        await comments.approve(first.comment.id)
    await comments.reply_as_author(first.comment.id, reply_text)
