"""The harness itself: the Fedify peer federates with another Fedify peer, and the blog answers over https."""

from __future__ import annotations

from pathlib import Path

from tests.interop.conftest import HttpsBlogFactory
from tests.interop.peer_process import PeerProcess
from tests.interop.tls import TlsFiles


async def test_peer__two_fedify_peers_follow_each_other(peer: PeerProcess, tmp_path: Path, tls_files: TlsFiles) -> None:
    other = PeerProcess.start(tmp_path / "bob.log", tls_files.ca_cert, username="bob", name="Bob Peer")
    try:
        looked_up = await other.lookup(peer.actor)
        assert looked_up["type"] == "Person"
        assert looked_up["preferredUsername"] == "alice"
        assert looked_up["publicKeys"][0]["owner"] == peer.actor

        sent = await other.follow(peer.actor)

        accept = await other.wait_for_activity(
            lambda a: a["type"] == "Accept" and a["objectId"] == sent["followId"], "alice's Accept"
        )
        assert accept["verified"] and accept["actor"] == peer.actor
        assert (await other.state())["following"][peer.actor]["accepted"] is True
        assert other.actor in (await peer.state())["followers"]
    finally:
        other.stop()
    assert other.process.returncode is not None


async def test_blog_front_door__serves_pages_over_https_directly_and_behind_the_proxy(
    https_blog_factory: HttpsBlogFactory,
) -> None:
    for proxied in (True, False):
        blog = await https_blog_factory(proxied=proxied)
        status, css = await blog.get("/static/style.css", accept="text/css")
        assert status == 200, css[:500]
        assert "{" in css
