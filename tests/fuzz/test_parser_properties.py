"""Properties of the pure parsers, over inputs Hypothesis makes up: each fails only with its own error type (never
a crash), accepts what it should, and the sanitizer's output is inert and stable."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fedblog.frontmatter import FrontMatterError, parse_document
from fedblog.protocol.addresses import UnsafeURL, check_url_shape, host_of, is_public_address
from fedblog.protocol.httpsig import SignatureError, body_digest, parse_signature_header, verify_request
from fedblog.protocol.jsonsafe import UnsafeJSON, parse_json_object
from fedblog.protocol.sanitize import sanitize_html
from fedblog.protocol.structured_fields import StructuredFieldError, parse_dictionary
from fedblog.protocol.webfinger import Lookup, lookup
from fedblog.services.interaction import parse_handle
from fedblog.urls import Urls
from tests.hostile.active import active_content

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URLS = Urls("https://blog.example", "author")
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300)
anything = st.text(max_size=300)


# -- HTTP signatures ----------------------------------------------------------------------------------------------


@given(header_text)
def test_cavage_signature_header__only_signature_errors(value: str) -> None:
    try:
        params = parse_signature_header(value)
    except SignatureError:
        return
    assert params.key_id and params.signature and params.headers


_param_value = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\,'), min_size=1)


@given(
    _param_value,
    st.lists(st.sampled_from(["(request-target)", "host", "date", "digest", "accept"]), min_size=1),
    st.binary(min_size=1, max_size=300),
)
def test_cavage_signature_header__parses_back_what_was_written(key_id: str, names: list[str], signature: bytes) -> None:
    value = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    params = parse_signature_header(value)
    assert (params.key_id, params.headers, params.signature) == (key_id, names, signature)


@given(header_text)
def test_rfc9421_structured_fields__only_structured_field_errors(value: str) -> None:
    try:
        parsed = parse_dictionary(value)
    except StructuredFieldError:
        return
    assert isinstance(parsed, dict)


@given(
    st.dictionaries(
        st.sampled_from(["signature", "signature-input", "digest", "content-digest", "date", "host"]),
        header_text,
        min_size=1,
    ),
    st.binary(max_size=200),
)
def test_verify_request__any_headers_fail_with_a_signature_error(headers: dict[str, str], body: bytes) -> None:
    with pytest.raises(SignatureError):
        verify_request(method="POST", path_qs="/inbox", headers=headers, body=body, public_key_pem="", now=NOW)


@given(st.binary(max_size=500), st.binary(max_size=500))
def test_digest__matches_its_body_only(body: bytes, other: bytes) -> None:
    digest = body_digest(body)
    assert digest == "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    assume(other != body)
    assert body_digest(other) != digest


# -- activity shapes (JSON from outside) ------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)


@given(st.binary(max_size=400))
def test_json_object__any_bytes_give_an_object_or_unsafe_json(data: bytes) -> None:
    try:
        parsed = parse_json_object(data)
    except UnsafeJSON:
        return
    assert isinstance(parsed, dict)


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_json_object__well_formed_objects_come_back_equal(document: dict[str, object]) -> None:
    data = json.dumps(document).encode()
    assert parse_json_object(data) == document


@given(st.integers(min_value=33, max_value=200))
def test_json_object__deep_nesting_is_refused(depth: int) -> None:
    with pytest.raises(UnsafeJSON):
        parse_json_object(b'{"a":' * depth + b"1" + b"}" * depth)


# -- the sanitizer ----------------------------------------------------------------------------------------------

hostile_bits = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JaVaScRiPt:alert(1)">x</a>',
        "<svg onload=alert(1)>",
        '<iframe srcdoc="<b>">',
        "<form action=/x>",
        '<p style="background:url(javascript:alert(1))">',
        "<math><mi xlink:href=javascript:1>",
        "<!--",
        "-->",
        "<p>",
        "</p>",
        "<a href='https://ok.example/'>",
        "<b>",
        "&lt;",
        "&#106;avascript:",
        "<base href=//x>",
        '<a href="data:text/html,<script>">',
        "<object data=x>",
        "<embed src=x>",
        "<meta http-equiv=refresh>",
    ]
)
html_fragments = st.lists(hostile_bits | st.text(max_size=20), max_size=12).map("".join)


@given(html_fragments)
def test_sanitize__output_has_no_active_content(fragment: str) -> None:
    assert not active_content(sanitize_html(fragment))


@given(html_fragments)
def test_sanitize__twice_is_once(fragment: str) -> None:
    once = sanitize_html(fragment)
    assert sanitize_html(once) == once


# -- front matter, handles, URLs ---------------------------------------------------------------------------------


@given(anything)
def test_front_matter__any_text_gives_a_document_or_one_error(text: str) -> None:
    try:
        document = parse_document(text)
    except FrontMatterError:
        return
    assert isinstance(document.meta, dict) and document.body.endswith("\n")


# Front matter is YAML: any printable title comes back in single quotes (YAML's literal quoting); plain words and
# numbers come back as written, never turned into booleans or numbers ("yes", "1.10").
@given(
    st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="\"'#[],:"), min_size=1, max_size=40
    )
    .map(str.strip)
    .filter(bool)
)
def test_front_matter__a_title_comes_back(title: str) -> None:
    document = parse_document(f"---\ntitle: '{title}'\n---\nBody\n")
    assert document.meta["title"] == title


@given(st.text(st.sampled_from("abcxyzABC019 ."), min_size=1, max_size=40).map(str.strip).filter(bool))
def test_front_matter__a_plain_title_comes_back_as_written(title: str) -> None:
    document = parse_document(f"---\ntitle: {title}\n---\nBody\n")
    assert document.meta["title"] == title


@given(anything)
def test_handles__parsed_or_none(text: str) -> None:
    handle = parse_handle(text)
    if handle is not None:
        assert handle.user and handle.host == handle.host.lower() and "@" not in handle.host


@given(st.one_of(st.none(), anything))
def test_webfinger_lookup__never_raises(resource: str | None) -> None:
    assert lookup(resource, URLS) in set(Lookup)


@given(anything)
def test_url_shape__refused_or_http(url: str) -> None:
    try:
        check_url_shape(url)
    except UnsafeURL:
        return
    assert url.lower().startswith(("http://", "https://"))


@given(st.ip_addresses())
def test_public_address__never_a_private_one_in_any_spelling(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    public = is_public_address(str(address))
    if address.is_loopback or address.is_private or address.is_link_local or address.is_multicast:
        assert not public
    if isinstance(address, ipaddress.IPv4Address):
        # The same address written as IPv4-mapped IPv6 gets the same answer
        assert is_public_address(f"::ffff:{address}") == public


@given(st.sampled_from(["http://", "https://", "HTTP://", "ftp://", ""]), st.text(max_size=80))
def test_host_of__is_urlsplits_netloc_lowercased(scheme: str, rest: str) -> None:
    url = scheme + rest
    try:
        expected = urlsplit(url).netloc.lower()
    except ValueError:
        with pytest.raises(ValueError):
            host_of(url)
        return
    assert host_of(url) == expected
