"""Hot spots the benchmarks found and that were fixed, with the numbers measured before and after
(same benchmark, same machine, minutes apart). Written into every results file so that the history stays."""

from __future__ import annotations

FIXES: tuple[dict[str, str], ...] = (
    {
        "date": "2026-11-26",
        "benchmark": "Read path, 200 comments (64 connections, 5 s, one run each)",
        "hot_spot": (
            "fedblog/store/db.py Database.transaction bumped the cache version on every commit, and the idle "
            "delivery worker (fedblog/store/deliveries.py DeliveryStore.claim_due, every 2 s) commits an empty "
            "claim: every cached page was thrown away every 2 s. fedblog/web/page_cache.py cached() had no "
            "single flight: after each invalidation all 64 concurrent requests rendered the 200-comment page "
            "(Jinja2, about 40 % of the server's samples under py-spy)."
        ),
        "fix": (
            "Database.transaction bumps the version only when the commit changed rows (total_changes); cached() "
            "lets concurrent misses of one key wait for the render in flight."
        ),
        "before": "494 req/s vs ceiling 6,750 req/s (7 %), p99 2,024 ms vs 97.9 ms (21×)",
        "after": "2,036 req/s vs ceiling 2,811 req/s (72 %), p99 179 ms vs 61.1 ms (2.9×)",
    },
    {
        "date": "2026-11-26",
        "benchmark": "Memory and start, `fedblog serve` to first answered request (median of 5)",
        "hot_spot": (
            "fedblog/passwords.py hashed a dummy password with argon2 at import time (~0.2 s of CPU and a 64 MiB "
            "allocation on every start of every `fedblog` command)."
        ),
        "fix": "The dummy hash is made on first use (functools.cache), when a login checks an unknown account.",
        "before": "0.812 s",
        "after": "0.649 s",
    },
)
