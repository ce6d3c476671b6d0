"""Reading Mastodon's domain blocks export."""

from __future__ import annotations

import pytest

from fedblog.protocol.blocklist import BlocklistError, parse_mastodon_blocklist

EXPORT = """#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
spam.example,suspend,false,false,Spam,false
Loud.Example.,silence,true,false,,false
harass.example,suspend,true,true,"Harassment, repeatedly",false
cat***.example,suspend,false,false,,true
spam.example,suspend,false,false,duplicate,false
bücher.example,suspend,false,false,,false
not a domain,suspend,false,false,,false
"""


def test_parse__suspended_domains_are_taken_once_the_rest_is_counted_as_skipped() -> None:
    parsed = parse_mastodon_blocklist(EXPORT)
    assert parsed.domains == ("spam.example", "harass.example", "xn--bcher-kva.example")
    assert parsed.skipped == 3  # silence, obfuscated, malformed


def test_parse__a_plain_list_of_domains_without_header() -> None:
    assert parse_mastodon_blocklist("a.example\n\n*.b.example\n").domains == ("a.example", "b.example")


@pytest.mark.parametrize("text", ["name,reason\nfoo,bar\n", "\x00\x01binary"])
def test_parse__not_a_blocklist_is_refused(text: str) -> None:
    with pytest.raises(BlocklistError):
        parse_mastodon_blocklist(text)
