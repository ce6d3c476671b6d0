"""Quote posts (fedblog.protocol.quotes): the policy stated on Notes, the stamp, and the answers to a request."""

from __future__ import annotations

from fedblog.protocol.activitystreams import PUBLIC
from fedblog.protocol.quotes import (
    accept_quote_request,
    interaction_policy,
    may_quote,
    quoted_id,
    reject_quote_request,
)
from fedblog.urls import Urls

URLS = Urls("https://blog.example", "blog")
REQUEST = {
    "id": "https://social.example/users/bob/quote_requests/1",
    "type": "QuoteRequest",
    "actor": "https://social.example/users/bob",
    "object": "https://blog.example/posts/hello",
    "instrument": {"id": "https://social.example/users/bob/statuses/1", "content": "<script>x</script>"},
}


def test_interaction_policy__as_mastodon_states_it_for_each_setting() -> None:
    assert interaction_policy(URLS, "anyone")["canQuote"] == {"automaticApproval": [PUBLIC]}
    assert interaction_policy(URLS, "followers")["canQuote"] == {"automaticApproval": [URLS.followers()]}
    assert interaction_policy(URLS, "nobody")["canQuote"] == {"automaticApproval": [URLS.actor()]}


def test_may_quote__follows_the_policy() -> None:
    assert may_quote("anyone", False) and may_quote("followers", True)
    assert not may_quote("followers", False) and not may_quote("nobody", True)


def test_quoted_id__reads_fep_044f_then_older_properties() -> None:
    assert quoted_id({"quote": "https://a.example/1", "quoteUrl": "https://b.example/2"}) == "https://a.example/1"
    assert quoted_id({"_misskey_quote": "https://c.example/3"}) == "https://c.example/3"
    assert quoted_id({"content": "no quote"}) is None


def test_answers__name_the_request_by_ids_and_echo_nothing_else() -> None:
    accept = accept_quote_request(
        URLS, "https://blog.example/activities/accept/1", REQUEST, "https://blog.example/quotes/t"
    )
    assert accept["type"] == "Accept" and accept["result"] == "https://blog.example/quotes/t"
    assert accept["object"] == {**REQUEST, "instrument": "https://social.example/users/bob/statuses/1"}
    reject = reject_quote_request(URLS, "https://blog.example/activities/reject/1", REQUEST)
    assert reject["type"] == "Reject" and "result" not in reject and "script" not in str(reject)
