"""The Fedify peer (peer/peer.mjs) as a subprocess on 127.0.0.1, and an async client for its control API."""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

PEER_DIR = Path(__file__).parent / "peer"
START_TIMEOUT = 20.0
WAIT_TIMEOUT = 20.0
# The peer exits on its own after this, even if pytest is killed and never closes its stdin.
MAX_LIFETIME_SECONDS = 900

Activity = dict[str, Any]


class PeerError(AssertionError):
    """The peer refused a control call or never saw what a test waited for; the message has its log tail."""


class PeerProcess:
    """One running peer: its actor, handle and control API. `stop()` always ends the process."""

    def __init__(self, process: subprocess.Popen[bytes], info: dict[str, str], log_path: Path) -> None:
        self.process = process
        self.origin: str = info["origin"]
        self.actor: str = info["actor"]
        self.handle: str = info["handle"]
        self.log_path = log_path

    @classmethod
    def start(cls, log_path: Path, ca_cert: Path, username: str = "alice", name: str = "Alice Peer") -> PeerProcess:
        node = shutil.which("node")
        if node is None:
            raise PeerError("node not found: the interop tests need the machine's Node.js (20 or newer)")
        if not (PEER_DIR / "node_modules" / "@fedify" / "fedify").is_dir():
            raise PeerError(f"Fedify is not installed: run `make interop-deps` (npm ci in {PEER_DIR})")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "NODE_EXTRA_CA_CERTS": str(ca_cert),
            "NO_COLOR": "1",
        }
        if os.environ.get("PEER_DEBUG"):
            env["PEER_DEBUG"] = "1"
        log = log_path.open("wb")
        process = subprocess.Popen(
            [node, "peer.mjs", "--username", username, "--name", name, "--max-seconds", str(MAX_LIFETIME_SECONDS)],
            cwd=PEER_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
        )
        log.close()
        try:
            info = cls._read_ready(process, log_path)
        except BaseException:
            cls._end(process)
            raise
        return cls(process, info, log_path)

    @staticmethod
    def _read_ready(process: subprocess.Popen[bytes], log_path: Path) -> dict[str, str]:
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        while (remaining := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([process.stdout], [], [], remaining)
            if not readable:
                break
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith(b"READY "):
                return json.loads(line[len(b"READY ") :])
        raise PeerError(f"the Fedify peer did not start:\n{_tail(log_path)}")

    @staticmethod
    def _end(process: subprocess.Popen[bytes]) -> None:
        if process.stdin is not None and not process.stdin.closed:
            process.stdin.close()  # the peer exits when its stdin closes
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()

    def stop(self) -> None:
        self._end(self.process)

    def log_tail(self) -> str:
        return _tail(self.log_path)

    # ---- control API ----

    async def call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        timeout = aiohttp.ClientTimeout(total=WAIT_TIMEOUT + 10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, self.origin + path, json=payload) as response,
        ):
            data = await response.json(content_type=None)
            if response.status != 200:
                raise PeerError(f"peer {method} {path} -> {response.status}: {data.get('error')}\n{self.log_tail()}")
            return data

    async def state(self) -> dict[str, Any]:
        return await self.call("GET", "/control/state")

    async def lookup(self, uri: str, signed: bool = False) -> dict[str, Any]:
        return await self.call("POST", "/control/lookup", {"uri": uri, "signed": signed})

    async def traverse(self, uri: str, signed: bool = False) -> dict[str, Any]:
        """Walk a collection page by page as Fedify does: its type, totalItems and item ids."""
        return await self.call("POST", "/control/traverse", {"uri": uri, "signed": signed})

    async def follow(self, target: str) -> dict[str, Any]:
        return await self.call("POST", "/control/follow", {"target": target})

    async def unfollow(self, target: str) -> dict[str, Any]:
        return await self.call("POST", "/control/unfollow", {"target": target})

    async def reply(self, recipient: str, in_reply_to: str, content: str, mentions: tuple[str, ...] = ()) -> dict:
        payload = {"recipient": recipient, "inReplyTo": in_reply_to, "content": content, "mentions": list(mentions)}
        return await self.call("POST", "/control/reply", payload)

    async def quote(self, recipient: str, object_id: str, content: str) -> dict[str, Any]:
        """A Note quoting `object_id`, then a QuoteRequest for it to `recipient` (FEP-044f)."""
        payload = {"recipient": recipient, "object": object_id, "content": content}
        return await self.call("POST", "/control/quote", payload)

    async def send_note(self, inbox: str, content: str) -> dict[str, Any]:
        """A signed Create(Note) to any inbox: lets a test see Fedify's signatures on its own server."""
        return await self.call("POST", "/control/send-note", {"inbox": inbox, "content": content})

    async def react(self, recipient: str, kind: str, object_id: str) -> dict[str, Any]:
        """Like or Announce (boost) an object; `undo` takes the returned id back."""
        return await self.call("POST", "/control/react", {"recipient": recipient, "type": kind, "object": object_id})

    async def undo(self, recipient: str, activity_id: str) -> dict[str, Any]:
        return await self.call("POST", "/control/undo", {"recipient": recipient, "id": activity_id})

    async def edit(self, recipient: str, note_id: str, content: str) -> dict[str, Any]:
        return await self.call("POST", "/control/edit", {"recipient": recipient, "noteId": note_id, "content": content})

    async def delete(self, recipient: str, note_id: str) -> dict[str, Any]:
        return await self.call("POST", "/control/delete", {"recipient": recipient, "noteId": note_id})

    async def wait_for_activity(
        self,
        matches: Callable[[Activity], bool],
        what: str,
        tick: Callable[[], Awaitable[Any]] | None = None,
    ) -> Activity:
        """Poll the peer's verified inbox (running `tick`, e.g. one delivery pass, between looks) for ≤20 s."""
        deadline = time.monotonic() + WAIT_TIMEOUT
        while True:
            if tick is not None:
                await tick()
            state = await self.state()
            for activity in state["inbox"]:
                if matches(activity):
                    return activity
            if time.monotonic() > deadline:
                raise PeerError(
                    f"the peer never received {what} (waited {WAIT_TIMEOUT:.0f} s).\n"
                    f"verified inbox: {json.dumps([(a['type'], a['id']) for a in state['inbox']])[-2000:]}\n"
                    f"inbox requests: {json.dumps(state['inboxRequests'])[-2000:]}\n"
                    f"listener errors: {state['errors'][-3:]}\n{self.log_tail()}"
                )
            await asyncio.sleep(0.1)


def _tail(path: Path, size: int = 4000) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no peer log)"
    return "peer log:\n" + (text[-size:] if text.strip() else "(empty)")
