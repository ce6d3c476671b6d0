"""fedblog.protocol.wxr_export: any text survives the CDATA sections, the document is well-formed WXR 1.2."""

from __future__ import annotations

from datetime import UTC, datetime

import defusedxml.ElementTree as SafeET

from fedblog.protocol import wxr_export as wxr

WP = "{http://wordpress.org/export/1.2/}"
WHEN = datetime(2009, 3, 14, 10, 0, tzinfo=UTC)


def test_cdata__splits_the_end_marker_and_drops_what_xml_cannot_carry() -> None:
    assert wxr.cdata("a]]>b") == "<![CDATA[a]]]]><![CDATA[>b]]>"
    element = SafeET.fromstring(f"<x>{wxr.cdata('x ]]> y ]]]]> z' + chr(1) + chr(0x0B) + ' 🎉')}</x>")
    assert element.text == "x ]]> y ]]]]> z 🎉"


def test_write_wxr__a_document_wordpress_reads() -> None:
    channel = wxr.Channel("Blog & co", "https://blog.example", "", "fr", "author", "Author", "fedblog 1", WHEN)
    comment = wxr.CommentRecord(7, "A <b>", "a@example.org", "https://a.example/?x=1&y=2", "", WHEN, "<p>]]></p>", "1",
                                "pingback", 0)  # fmt: skip
    item = wxr.ItemRecord(
        post_id=12, title="T ]]> T", link="https://blog.example/posts/t", guid="https://blog.example/posts/t",
        creator="author", content="<p>x</p>", excerpt="", date=WHEN, modified=None, comment_status="open", slug="t",
        status="publish", post_type="post", categories=(wxr.Term(3, "cat", "Cat & Dog"),), comments=(comment,),
    )  # fmt: skip
    root = SafeET.fromstring("".join(wxr.write_wxr(channel, [wxr.Term(3, "cat", "Cat & Dog")], [], [item])))
    assert root.tag == "rss" and root.findtext(f"channel/{WP}wxr_version") == "1.2"
    assert root.findtext("channel/title") == "Blog & co"
    [parsed] = root.iter("item")
    assert parsed.findtext("title") == "T ]]> T" and parsed.findtext(f"{WP}post_id") == "12"
    assert parsed.findtext(f"{WP}post_date") == "2009-03-14 10:00:00"
    assert parsed.findtext("pubDate") == "Sat, 14 Mar 2009 10:00:00 +0000"
    [category] = parsed.iter("category")
    assert (category.get("domain"), category.get("nicename"), category.text) == ("category", "cat", "Cat & Dog")
    [wp_comment] = parsed.iter(f"{WP}comment")
    assert wp_comment.findtext(f"{WP}comment_author_url") == "https://a.example/?x=1&y=2"
    assert wp_comment.findtext(f"{WP}comment_content") == "<p>]]></p>"
    assert wp_comment.findtext(f"{WP}comment_type") == "pingback"
