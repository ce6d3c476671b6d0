"""Summarise py-spy's folded stacks (`--profile`): the functions with the most samples, inclusive and self.

python -m bench.profile_summary /tmp/fedblog-bench-…/profiles/fedblog.txt [--top 25] [--filter fedblog/]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def summarise(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if any("select (selectors.py" in frame for frame in frames[-2:]):
            continue  # the event loop waiting: idle, not work
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    return total, inclusive, own


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--filter", default="", help="only frames containing this text (e.g. fedblog/)")
    args = parser.parse_args()
    total, inclusive, own = summarise(args.profile)
    print(f"{total} busy samples")
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"\n-- {title}")
        shown = 0
        for frame, count in counter.most_common():
            if args.filter in frame:
                print(f"{count / max(total, 1):6.1%}  {frame}")
                shown += 1
                if shown >= args.top:
                    break


if __name__ == "__main__":
    main()
