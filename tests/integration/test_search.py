"""GET /search: full-text search over published posts, on the real app with a real SQLite FTS5 index."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fedblog.assembly import open_context
from fedblog.services.posts import PostInput, PostService
from fedblog.web.page_cache import page_cache
from fedblog.web.search import SEARCHES_PER_MINUTE
from tests.conftest import LiveSite, SiteFactory
from tests.integration.blog_support import Page, get, publish

RESULT_TITLE = re.compile(r'<article class="search-result"[^>]*>\s*<h2><a href="[^"]+">(.*?)</a></h2>', re.DOTALL)


def day(number: int) -> datetime:
    return datetime(2025, 4, number, 9, 0, tzinfo=UTC)


def result_titles(page: Page) -> list[str]:
    """The titles listed, markup of the highlighted words removed."""
    return [re.sub(r"</?mark>", "", title) for title in RESULT_TITLE.findall(page.text)]


async def search(site: LiveSite, query: str, page: int | None = None) -> Page:
    params = {"q": query} if page is None else {"q": query, "page": str(page)}
    return await get(site, "/search", params=params)


async def test_search__finds_a_post_by_a_word_of_its_body_its_title_or_its_tag(site: LiveSite) -> None:
    # Given posts about different things
    await publish(site, "Sourdough diary", "Feeding the starter with rye flour.", tags=("baking",))
    await publish(site, "Mountain walks", "The ridge above the lake.", tags=("hiking",))
    # When a visitor searches a word of a body, of a title, a tag
    by_body, by_title, by_tag = await search(site, "rye"), await search(site, "mountain"), await search(site, "hiking")
    # Then each finds its post, and only it
    assert by_body.status == by_title.status == by_tag.status == 200
    assert result_titles(by_body) == ["Sourdough diary"]
    assert result_titles(by_title) == ["Mountain walks"]
    assert result_titles(by_tag) == ["Mountain walks"]
    assert f'href="{site.url}/posts/mountain-walks"' in by_tag.text
    assert "1 post found" in by_body.text


async def test_search__every_word_must_match_accents_and_case_aside(site: LiveSite) -> None:
    await publish(site, "Été à Lyon", "Une promenade au bord du Rhône.")
    await publish(site, "Winter in Lyon", "Snow on the hills.")

    assert result_titles(await search(site, "ete LYON")) == ["Été à Lyon"]
    assert sorted(result_titles(await search(site, "lyon"))) == ["Winter in Lyon", "Été à Lyon"]
    assert result_titles(await search(site, "rhone snow")) == []


async def test_search__a_title_match_ranks_above_a_body_match(site: LiveSite) -> None:
    # Given a newer post that only mentions the word, and an older one about it
    await publish(site, "About compost", "How I keep the heap warm.", date=day(1))
    await publish(site, "Garden notes", "Tomatoes, beans, and a word on compost.", date=day(2))

    page = await search(site, "compost")

    assert result_titles(page) == ["About compost", "Garden notes"]


async def test_search__results_come_ten_per_page(site: LiveSite) -> None:
    # Given twelve matching posts, equally relevant: newest first among equals
    for number in range(1, 13):
        await publish(site, f"Kite log {number:02d}", "Flying the kite again.", date=day(number))
    # When the visitor reads the first and the second page
    first, second = await search(site, "kite"), await search(site, "kite", page=2)
    # Then ten and two results, with links between the pages, and no third page
    assert first.status == second.status == 200
    assert "12 posts found" in first.text
    assert result_titles(first) == [f"Kite log {number:02d}" for number in range(12, 2, -1)]
    assert result_titles(second) == ["Kite log 02", "Kite log 01"]
    assert f'href="{site.url}/search?q=kite&amp;page=2"' in first.text and "More results" in first.text
    assert f'href="{site.url}/search?q=kite"' in second.text and "Previous results" in second.text
    assert "Page 2 of 2" in second.text
    assert (await search(site, "kite", page=3)).status == 404


async def test_search__drafts_and_deleted_posts_never_show(site: LiveSite) -> None:
    # Given a draft, a deleted post and a published one, all with the same word
    await publish(site, "Secret plans", "The zeppelin project.", draft=True)
    deleted = await publish(site, "Old zeppelin", "The zeppelin that was.")
    await PostService(site.ctx).delete(deleted.slug)
    await publish(site, "Public zeppelin", "The zeppelin everyone sees.")
    # When searching that word, its title words, its tag
    page = await search(site, "zeppelin")
    # Then only the published post is found
    assert result_titles(page) == ["Public zeppelin"]
    assert "1 post found" in page.text
    assert result_titles(await search(site, "secret plans")) == []
    assert result_titles(await search(site, "old")) == []


async def test_search__a_draft_is_found_once_published(site: LiveSite) -> None:
    draft = await publish(site, "Unfinished", "About lighthouses.", draft=True)
    assert result_titles(await search(site, "lighthouses")) == []

    await PostService(site.ctx).edit(draft.slug, PostInput(title="Finished", body_markdown="About lighthouses."))

    assert result_titles(await search(site, "lighthouses")) == ["Finished"]


async def test_search__hostile_queries_get_a_normal_page(site: LiveSite) -> None:
    await publish(site, "Quotes and stars", 'She said "hello" * 3 - twice OR more.')
    queries = [
        '"',
        '"unbalanced',
        "*",
        "hel*",
        "NEAR(",
        "NEAR(a b, 2)",
        "-",
        "-hello",
        "OR",
        "hello OR",
        "AND NOT",
        "title:hello",
        "^hello",
        "{title body}: x",
        "' OR 1=1 --",
        "'; DROP TABLE posts; --",
        "\\x00 \x00",
        "( ) [ ] + : ;",
        "hello " * 1300,  # 7,800 characters (about the longest request line aiohttp reads): cut to the first 200
        "é" * 1300,  # 7,800 bytes once percent-encoded
    ]
    for query in queries:
        page = await search(site, query)
        assert page.status == 200, query
        assert '<h1 class="page-title">' in page.text and 'class="search-form"' in page.text, query
    assert result_titles(await search(site, '"hello"*')) == ["Quotes and stars"]
    assert result_titles(await search(site, "hello " * 1300)) == ["Quotes and stars"]
    # 10 KB: past aiohttp's request line limit (8,190 bytes), refused by the HTTP parser before any handler runs
    assert (await search(site, "x" * 10_240)).status in (200, 400)
    assert "Quotes and stars" in (await get(site, "/posts/quotes-and-stars")).text  # the table is still there


async def test_search__snippet_escapes_the_post_and_marks_the_words(site: LiveSite) -> None:
    # Given a post whose Markdown holds raw HTML and markup characters, and whose title has some too
    body = 'Raw HTML: <script>alert("owned")</script> and <img src=x onerror=alert(1)> near the **dragon** cave, 1 < 2.'
    await publish(site, "Tags <em> & dragons", body)
    # When a visitor searches one of its words
    page = await search(site, "dragon")
    # Then the snippet is the rendered text (the sanitizer dropped the script; no Markdown marks), escaped,
    # with only the matched words marked
    main = page.text.split('<main id="main">', 1)[1]
    assert "<script>alert" not in main and "<img" not in main and "<em>" not in main and "owned" not in main
    assert "near the <mark>dragon</mark> cave, 1 &lt; 2." in main
    assert "Tags &lt;em&gt; &amp; <mark>dragons</mark>" in main


async def test_search__snippets_are_the_rendered_text_not_the_markdown(site: LiveSite) -> None:
    body = "## A heading\n\nSee [the zeppelin page](https://example.org/z) and *emphasis* with `code`.\n\n> quoted"
    await publish(site, "Markdown source", body)
    page = await search(site, "zeppelin")
    main = page.text.split('<main id="main">', 1)[1]
    assert "See the <mark>zeppelin</mark> page and emphasis with code." in main
    assert "](" not in main and "##" not in main and "https://example.org/z" not in main


async def test_search__posts_written_before_the_rendered_text_get_it_at_start(site: LiveSite) -> None:
    post = await publish(site, "Old post", "An *old* [kraken](https://example.org/k) story")
    async with site.ctx.db.transaction() as conn:  # as a row written before migration 031 reads
        await conn.execute("UPDATE posts SET body_text = NULL WHERE id = ?", (post.id,))
    assert "](https://example.org/k)" in (await search(site, "kraken")).text  # the Markdown, until it is filled
    assert await site.ctx.posts.fill_missing_text() == 1
    page = await search(site, "kraken")
    assert "An old <mark>kraken</mark> story" in page.text and "](https://example.org/k)" not in page.text


async def test_search__no_results_page(site: LiveSite) -> None:
    await publish(site, "Anything", "Some words.")

    page = await search(site, "<b>nothing</b> here")

    assert page.status == 200
    assert "No results for “&lt;b&gt;nothing&lt;/b&gt; here”." in page.text
    assert 'value="&lt;b&gt;nothing&lt;/b&gt; here"' in page.text  # the query stays in the box, escaped


async def test_search__empty_query_shows_the_form_only(site: LiveSite) -> None:
    page = await get(site, "/search")

    assert page.status == 200
    assert '<h1 class="page-title">Search</h1>' in page.text
    assert "No results" not in page.text


async def test_search__pages_ask_robots_not_to_index_and_are_not_cached(site: LiveSite) -> None:
    await publish(site, "Cached", "A word.")

    page = await search(site, "word")

    assert '<meta name="robots" content="noindex">' in page.text
    assert page.headers["X-Robots-Tag"] == "noindex"
    assert not [key for key in page_cache(site.app).cached_keys() if key[0].startswith("/search")]


async def test_search__rate_limited_per_address_with_a_clear_page(site: LiveSite) -> None:
    for number in range(SEARCHES_PER_MINUTE):
        assert (await search(site, f"word{number}")).status == 200

    page = await search(site, "one more")

    assert page.status == 429
    assert int(page.headers["Retry-After"]) >= 1
    assert "You have searched too often in a short time." in page.text
    assert (await get(site, "/search")).status == 200  # the empty form costs nothing and stays available


async def test_search__index_follows_an_edit(site: LiveSite) -> None:
    post = await publish(site, "Bicycle", "My old bicycle squeaks.", tags=("wheels",))

    await PostService(site.ctx).edit(
        post.slug, PostInput(title="Bicycle", body_markdown="My new tandem glides.", tags=("pedals",))
    )

    assert result_titles(await search(site, "squeaks")) == []
    assert result_titles(await search(site, "wheels")) == []
    assert result_titles(await search(site, "tandem")) == ["Bicycle"]
    assert result_titles(await search(site, "pedals")) == ["Bicycle"]


async def test_search__index_follows_an_edit_made_by_another_connection(site: LiveSite) -> None:
    # Given a post found by the server
    post = await publish(site, "Radio", "Tuning the shortwave receiver.")
    assert result_titles(await search(site, "shortwave")) == ["Radio"]
    # When the CLI (its own connection to the same SQLite file) edits it and publishes another
    async with open_context(site.settings) as cli:
        await PostService(cli).edit(post.slug, PostInput(title="Radio", body_markdown="Building a crystal set."))
        await PostService(cli).publish(PostInput(title="Antenna", body_markdown="A longwire for the crystal set."))
    # Then the server's searches see the change at once
    assert result_titles(await search(site, "shortwave")) == []
    assert sorted(result_titles(await search(site, "crystal"))) == ["Antenna", "Radio"]


async def test_search__french_labels(site_factory: SiteFactory) -> None:
    site = await site_factory(language="fr")
    await publish(site, "Pain au levain", "Le levain chef nourri au seigle.")
    await publish(site, "Deuxième levain", "Encore du levain.")

    found, empty = await search(site, "levain"), await search(site, "introuvable")

    assert "Résultats pour «\u00a0levain\u00a0»" in found.text
    assert "2 articles trouvés" in found.text
    assert "Aucun résultat pour «\u00a0introuvable\u00a0»." in empty.text
    assert ">Rechercher dans les articles</label>" in found.text
    assert ">Rechercher</button>" in found.text


async def test_search__box_in_every_page_header(site: LiveSite) -> None:
    await publish(site, "Hello", "World.", slug="hello")

    for path in ("/", "/posts/hello", "/archive"):
        page = await get(site, path)
        header = page.text.split('<header class="site-header">', 1)[1].split("</header>", 1)[0]
        assert f'<form class="site-search" role="search" action="{site.url}/search" method="get">' in header
        assert '<label class="visually-hidden" for="site-search-q">Search the posts</label>' in header
        assert '<input id="site-search-q" type="search" name="q"' in header
