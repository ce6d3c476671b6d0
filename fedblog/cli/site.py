"""`fedblog init`, `fedblog serve`, `fedblog worker` and `fedblog hash-password`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import os
import signal
import socket
import sys
import time
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from fedblog.cli import CommandError, add_command
from fedblog.cli.processes import STOP_MARGIN_SECONDS, bind_socket, run_processes
from fedblog.config import LANGUAGES, ConfigError, Settings, load_settings, render_config, settings_from_mapping
from fedblog.passwords import generate_password, hash_password
from fedblog.protocol.keys import generate_private_key_pem

if TYPE_CHECKING:  # aiohttp is imported by the commands that serve only (see run_serve)
    from aiohttp import web

MIN_PASSWORD = 8
MAX_PROCESSES = 64
# A stopping web process finishes the requests under way for at most this long (then the connections close).
REQUEST_GRACE_SECONDS = 30.0


def register(commands: argparse._SubParsersAction) -> None:
    init = add_command(commands, "init", run_init, "create a new site: config, key, database", needs_settings=False)
    init.add_argument("--dir", required=True, help="the site's directory (created if missing)")
    init.add_argument("--base-url", required=True, help="public URL, e.g. https://blog.example")
    init.add_argument("--username", required=True, help="the author's fediverse username")
    init.add_argument("--title", default="", help="the site title")
    init.add_argument("--language", choices=LANGUAGES, default="en")
    init.add_argument("--admin-password-file", help="read the admin password from this file")
    init.add_argument("--demo", action="store_true", help="also add a welcome post and a comment thread")

    hasher = add_command(
        commands,
        "hash-password",
        run_hash_password,
        "print the argon2 hash of a new admin password, for [admin] password_hash or FEDBLOG_ADMIN_PASSWORD_HASH",
        needs_settings=False,
    )
    hasher.add_argument("--password-file", help="read the password from this file (default: ask, or read stdin)")

    serve = add_command(commands, "serve", run_serve, "serve the blog (and deliver to followers)")
    serve.add_argument("--host", default=None, help="default: $HOST or 127.0.0.1")
    serve.add_argument("--port", default=None, help="default: $PORT or 8080")
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="only serve HTTP; the background work (deliveries, webmentions, e-mail) runs in `fedblog worker`",
    )
    serve.add_argument(
        "--processes",
        default="1",
        metavar="N",
        help="N web processes sharing one listening socket (and one worker process unless --no-worker); default 1",
    )
    # Internal: a web process started by `serve --processes N` serves on the socket its parent bound.
    serve.add_argument("--socket-fd", type=int, default=None, help=argparse.SUPPRESS)
    # Internal, for the children of `serve --processes N`: stop when that parent is gone (even killed with -9).
    serve.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)
    worker = add_command(
        commands, "worker", run_worker, "run only the background work: deliveries, webmentions, e-mail"
    )
    worker.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)


async def run_init(args: argparse.Namespace, _settings: Settings | None) -> int:
    site = Path(args.dir)
    config_path = site / "fedblog.toml"
    if config_path.exists():
        raise CommandError(f"{config_path} already exists: refusing to overwrite an existing site")
    key_path = site / "keys" / "private.pem"
    if key_path.exists():
        raise CommandError(f"{key_path} already exists: refusing to overwrite an existing key")
    database_path = site / "fedblog.sqlite3"
    if database_path.exists():
        raise CommandError(f"{database_path} already exists: refusing to overwrite an existing database")
    printed_password = None
    if args.admin_password_file:
        password = read_password_file(args.admin_password_file, "--admin-password-file")
    else:
        password = printed_password = generate_password()
    text = render_config(
        base_url=args.base_url,
        username=args.username,
        title=args.title or f"{args.username}'s blog",
        language=args.language,
        password_hash=hash_password(password),
        database=database_path.name,
    )
    # Validate before writing anything, so a bad --base-url leaves no half-made site.
    try:
        settings_from_mapping(tomllib.loads(text), {}, root=site.resolve())
    except ConfigError as error:
        raise CommandError(str(error)) from None
    site.mkdir(parents=True, exist_ok=True)
    (site / "keys").mkdir(exist_ok=True)
    os.chmod(site / "keys", 0o700)
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(generate_private_key_pem())
    descriptor = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    settings = load_settings(config_path, environ={})
    # Every service and aiohttp: about ten times the parser's own imports (python -X importtime); only here.
    from fedblog.assembly import open_context

    async with open_context(settings) as ctx:
        # Commenters' emails and addresses live here: readable by the site's owner only.
        os.chmod(settings.database_path, 0o600)
        if args.demo:
            from fedblog.cli.demo import create_demo_content  # only `init --demo` needs the demo posts

            await create_demo_content(ctx)
    print(f"Created the site in {site}/ (config {config_path}, key {key_path}, database {settings.database_path})")
    if printed_password:
        print(f"Admin password (shown once): {printed_password}")
        print(f"Log in at {settings.site.base_url}/admin")
    return 0


def read_password_file(path: str, option: str) -> str:
    try:
        password = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise CommandError(f"{option}: {error.strerror}") from None
    if len(password) < MIN_PASSWORD:
        raise CommandError(f"{option}: the password needs at least {MIN_PASSWORD} characters")
    return password


async def run_hash_password(args: argparse.Namespace, _settings: Settings | None) -> int:
    if args.password_file:
        password = read_password_file(args.password_file, "--password-file")
    elif sys.stdin.isatty():
        password = getpass.getpass("New admin password: ")
        if getpass.getpass("Once more: ") != password:
            raise CommandError("the two passwords differ")
    else:
        password = sys.stdin.readline().strip()
    if len(password) < MIN_PASSWORD:
        raise CommandError(f"the password needs at least {MIN_PASSWORD} characters")
    print(hash_password(password))
    return 0


def parse_port(option: str, text: str) -> int:
    """A TCP port, 1 to 65535, checked before anything starts (a bad one is a usage error: exit 2)."""
    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise CommandError(f"{option}: expected a port number from 1 to 65535, got {text!r}", exit_code=2)
    return int(value)


def parse_processes(text: str) -> int:
    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_PROCESSES:
        raise CommandError(f"--processes: expected a number from 1 to {MAX_PROCESSES}, got {text!r}", exit_code=2)
    return int(value)


async def run_serve(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    processes = parse_processes(args.processes)
    if args.socket_fd is not None:
        # A web process of `serve --processes N`: the parent speaks for it on standard output.
        sock = socket.socket(fileno=args.socket_fd)
        return await serve_on(
            sock, settings, background=False, announce=False, parent_pid=args.parent_pid, shared_socket=True
        )
    host = args.host or os.environ.get("HOST") or "127.0.0.1"
    if args.port is not None:
        port = parse_port("--port", args.port)
    else:
        port = parse_port("PORT", os.environ.get("PORT") or "8080")
    try:
        sock = bind_socket(host, port)
    except (OSError, OverflowError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise CommandError(f"cannot listen on {host}:{port}: {reason}", exit_code=2) from None
    if processes == 1:
        return await serve_on(sock, settings, background=not args.no_worker)
    return await serve_in_processes(args, settings, sock, processes)


async def serve_on(
    sock: socket.socket,
    settings: Settings,
    background: bool,
    announce: bool = True,
    parent_pid: int | None = None,
    shared_socket: bool = False,
) -> int:
    """One server process on a bound socket: serve until SIGTERM, then finish the requests under way.
    `shared_socket`: one of `serve --processes N`, which takes turns with the others to accept."""
    gc.disable()  # while the server's modules load: settle_garbage_collector enables it again, once started
    # The server (aiohttp, every service: about ten times the parser's imports) is imported by `serve` only.
    import logging

    from aiohttp import web

    from fedblog.app import create_app, settle_garbage_collector
    from fedblog.heap import tune_malloc

    tune_malloc()  # before the database threads start
    stop = stop_on_signals(parent_pid)
    app = create_app(settings, background=background)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=REQUEST_GRACE_SECONDS)
    await runner.setup()
    site: web.BaseSite
    if shared_socket:
        from fedblog.cli.accept_turns import TurnTakingSite  # imports aiohttp, as above

        site = TurnTakingSite(runner, sock)
    else:
        site = web.SockSite(runner, sock)
    await site.start()
    settle_garbage_collector()
    host, port = sock.getsockname()[:2]
    logging.getLogger("fedblog").info(
        "serving %s on http://%s:%s (pid %d)", settings.site.base_url, host, port, os.getpid()
    )
    if announce:
        public = settings.site.base_url
        print(f"fedblog is serving {settings.site.title!r} on http://{host}:{port}/ (public URL {public})", flush=True)
    try:
        await stop.wait()
        await finish_requests(app, site)
    finally:
        await runner.cleanup()
    return 0


async def finish_requests(app: web.Application, site: web.BaseSite) -> None:
    """Stop accepting, then wait for the requests under way, a body still arriving included: aiohttp's own
    shutdown stops reading from the connections first, so such a request would wait out the whole timeout."""
    from fedblog.web.keys import STATE_KEY  # aiohttp's, as above

    await site.stop()  # this process's copy of the socket: the other processes of --processes N still accept
    state = app[STATE_KEY]
    deadline = time.monotonic() + REQUEST_GRACE_SECONDS
    while state.requests_in_flight and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def serve_in_processes(args: argparse.Namespace, settings: Settings, sock: socket.socket, processes: int) -> int:
    from fedblog.assembly import open_context  # every service, as above

    # Migrations once, here, before any child opens the database; a database that cannot be used stops the
    # command now with one line, instead of N children failing and being restarted.
    async with open_context(settings):
        pass
    host, port = sock.getsockname()[:2]
    workers = "" if args.no_worker else " and a worker process"
    announce = [
        f"fedblog is serving {settings.site.title!r} on http://{host}:{port}/ (public URL {settings.site.base_url}) "
        f"with {processes} web processes{workers}"
    ]
    grace = REQUEST_GRACE_SECONDS + settings.federation.delivery_timeout_seconds + STOP_MARGIN_SECONDS
    return await run_processes(
        sock,
        args.config,
        processes,
        with_worker=not args.no_worker,
        grace=grace,
        log_format=args.log_format,
        metrics=settings.metrics.enabled,
        announce=announce,
    )


def stop_on_signals(parent_pid: int | None = None) -> asyncio.Event:
    """SIGTERM (systemd, docker stop) and Ctrl-C stop the same way: the event is set, and the caller then
    finishes its work and closes the database. Installed before the app starts, so a SIGTERM that comes while it
    starts is a graceful stop too, not the default death. With `parent_pid`, the end of that process (which
    sends no signal when it is killed outright) stops this one the same way."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if parent_pid is not None:
        task = asyncio.create_task(stop_when_orphaned(parent_pid, stop), name="parent watch")
        _WATCHES.add(task)
        task.add_done_callback(_WATCHES.discard)
    return stop


_WATCHES: set[asyncio.Task[None]] = set()  # the running parent watches (a task needs a reference to live)
PARENT_CHECK_SECONDS = 1.0


async def stop_when_orphaned(parent_pid: int, stop: asyncio.Event) -> None:
    """A child whose parent died is adopted by another process: its parent pid changes."""
    while not stop.is_set():
        if os.getppid() != parent_pid:
            import logging  # as in serve_on: only the commands that serve

            logging.getLogger("fedblog").warning("the parent process %d is gone; stopping", parent_pid)
            stop.set()
            return
        await asyncio.sleep(PARENT_CHECK_SECONDS)


async def run_worker(args: argparse.Namespace, settings: Settings | None) -> int:
    """The app's background work without a listening socket: the same tasks, started and stopped by the same
    lifetimes as inside `fedblog serve`, so both run exactly the same code."""
    # The server's modules, as for `serve`: imported by the commands that run it only.
    import logging

    from aiohttp import web

    from fedblog.app import create_app
    from fedblog.heap import tune_malloc

    assert settings is not None
    tune_malloc()  # before the database threads start
    stop = stop_on_signals(args.parent_pid)
    app = create_app(settings, background=True)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    metrics_runner = None
    try:
        # A worker under `serve --processes` shares its figures with the web processes, which serve them.
        if settings.metrics.enabled and settings.metrics.worker_port and args.parent_pid is None:
            metrics_runner = await serve_worker_metrics(app, settings)
            if metrics_runner is None:
                return 1
        logging.getLogger("fedblog").info("worker running for %s (pid %d)", settings.site.base_url, os.getpid())
        print(f"fedblog worker is running for {settings.site.title!r} (pid {os.getpid()})", flush=True)
        await stop.wait()
    finally:
        if metrics_runner is not None:
            await metrics_runner.cleanup()
        await runner.cleanup()
    return 0


async def serve_worker_metrics(app: web.Application, settings: Settings) -> web.AppRunner | None:
    """/metrics of a lone worker on metrics.worker_host:worker_port (an aiohttp AppRunner), or None after one line
    of error when the address cannot be taken."""
    # The server's modules, as for `serve`: imported by the commands that run it only.
    from aiohttp import web

    from fedblog.web.metrics import metrics_only_app

    host, port = settings.metrics.worker_host, settings.metrics.worker_port
    runner = web.AppRunner(metrics_only_app(app), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        await runner.cleanup()
        print(f"fedblog worker: cannot serve metrics on {host}:{port}: {error.strerror or error}", file=sys.stderr)
        return None
    print(f"fedblog worker serves its metrics at http://{host}:{port}/metrics", flush=True)
    return runner
