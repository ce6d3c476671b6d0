"""Tag and category names as fediverse hashtags, pure."""

from __future__ import annotations

import re


def normalize_tag(tag: str) -> str:
    return re.sub(r"[^\w-]+", "", tag.strip().lstrip("#"), flags=re.UNICODE)[:64]


def hashtag_name(name: str) -> str:
    """A tag or category name as a hashtag: "Community management" → CommunityManagement; one word stays as it is."""
    words = name.split()
    joined = words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:]) if len(words) > 1 else name
    return normalize_tag(joined)
