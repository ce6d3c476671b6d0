"""How big each benchmark is: the issue's sizes for `python -m bench`, tiny ones for `--smoke`."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Sizes:
    name: str
    # Fan-out: followers spread over each host count (one shared inbox per host).
    fanout_followers: int
    fanout_hosts: tuple[int, ...]
    fanout_headline_hosts: int
    # Inbox: signed Create(Note) replies from this many remote actors.
    inbox_activities: int
    inbox_actors: int
    inbox_actor_hosts: int
    # Read path: comments on the post page, and the load.
    read_comments: tuple[int, ...]
    read_headline_comments: int
    read_seconds: float
    read_connections: int
    # Stampede: concurrent clients, each fetching the Note, the actor and the page.
    stampede_clients: int
    # Memory: the totals the server holds when its resident size is read.
    memory_followers: int
    memory_comments: int
    start_repeats: int
    # Throughput measures are repeated and the median kept (machines are shared and noisy).
    repeats: int
    # Ceilings and fedblog's delivery worker send with the same bounded concurrency.
    client_concurrency: int


FULL = Sizes(
    name="full",
    fanout_followers=10_000,
    fanout_hosts=(100, 1_000, 10_000),
    fanout_headline_hosts=1_000,
    inbox_activities=5_000,
    inbox_actors=200,
    inbox_actor_hosts=20,
    read_comments=(10, 200, 1_000),
    read_headline_comments=200,
    read_seconds=8.0,
    read_connections=64,
    stampede_clients=1_000,
    memory_followers=10_000,
    memory_comments=10_000,
    start_repeats=3,
    repeats=3,
    client_concurrency=32,
)

SMOKE = Sizes(
    name="smoke",
    fanout_followers=24,
    fanout_hosts=(3, 6),
    fanout_headline_hosts=6,
    inbox_activities=24,
    inbox_actors=4,
    inbox_actor_hosts=2,
    read_comments=(10,),
    read_headline_comments=10,
    read_seconds=1.0,
    read_connections=4,
    stampede_clients=20,
    memory_followers=24,
    memory_comments=60,
    start_repeats=1,
    repeats=1,
    client_concurrency=8,
)


def override(sizes: Sizes, assignments: list[str]) -> Sizes:
    """`--set fanout_hosts=1000 --set repeats=1`: a quicker run of one size while profiling."""
    changes: dict[str, object] = {}
    kinds = {spec.name: type(getattr(sizes, spec.name)) for spec in fields(sizes)}
    for assignment in assignments:
        name, _, text = assignment.partition("=")
        if name not in kinds:
            raise SystemExit(f"--set: unknown size {name!r} (known: {', '.join(kinds)})")
        kind = kinds[name]
        if kind is tuple:
            changes[name] = tuple(int(part) for part in text.split(","))
        else:
            changes[name] = kind(text)
    return replace(sizes, **changes)  # type: ignore[arg-type]
