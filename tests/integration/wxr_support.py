"""WordPress exports for the tests: written by bench/wordpress_export.py (as WordPress writes them), saved to
disk, and the typical French post with its threaded comments."""

from __future__ import annotations

from pathlib import Path

from bench.wordpress_export import WpComment, WpItem


def write_export(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def french_post() -> WpItem:
    """The typical page: a French post with tags and nine comments shown (threaded "@goundoulf" replies, a
    pingback, a trackback), one spam and one awaiting moderation."""
    comments = [
        WpComment(201, "goundoulf", "Très bon billet, merci !", "2009-03-14 11:00:00", email="g@example.org"),
        WpComment(
            202,
            "Marie",
            "@goundoulf je suis d'accord.",
            "2009-03-14 12:00:00",
            parent=201,
            email="marie@example.org",
            url="http://127.0.0.1:9/marie",
        ),
        WpComment(203, "goundoulf", "@Marie merci à toi.", "2009-03-14 13:00:00", parent=202, email="g@example.org"),
        WpComment(204, "Paul", "Et le community manager, alors ?", "2009-03-14 14:00:00", email="paul@example.org"),
        WpComment(
            205,
            "Admin",
            "@Paul c'est le sujet du prochain billet.",
            "2009-03-14 15:00:00",
            parent=204,
            email="admin@example.org",
        ),
        WpComment(206, "Julie", "Une question : et les trolls ?", "2009-03-14 16:00:00", email="julie@example.org"),
        WpComment(
            207,
            "Que ferait le Community manager ? | Manager une communauté",
            "[...] Que ferait le Community manager ? | Manager une communauté [...]",
            "2009-03-15 09:00:00",
            type="pingback",
            url="http://127.0.0.1:9/2009/03/15/que-ferait-le-community-manager/",
        ),
        WpComment(
            208,
            "Le blog d'à côté",
            "<strong>Réponse au billet</strong>\n\nNous en parlions hier.",
            "2009-03-15 10:00:00",
            type="trackback",
            url="http://127.0.0.1:9/voisin/reponse/",
        ),
        WpComment(211, "Sophie", "Merci pour ces pistes 🙂", "2009-03-15 13:00:00", parent=206),
        WpComment(209, "Spammeur", "Achetez des montres", "2009-03-15 11:00:00", approved="spam"),
        WpComment(210, "Lucie", "J'attends la modération.", "2009-03-15 12:00:00", approved="0"),
    ]
    return WpItem(
        12,
        "Animer une communauté : les bases",
        "animer-une-communaute-les-bases",
        content="<!-- wp:paragraph -->\n<p>Une communauté, ça s'anime.</p>\n<!-- /wp:paragraph -->",
        categories=[("community-management", "Community management")],
        tags=[("animation", "animation"), ("reseaux-sociaux", "réseaux sociaux")],
        comments=comments,
    )
