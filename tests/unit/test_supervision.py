"""The supervised-task helper the server's background loops share."""

from __future__ import annotations

import asyncio

import pytest

from fedblog.services.supervision import keep_running, supervised


async def test_keep_running__restarts_a_loop_after_an_unexpected_error(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []
    third_run = asyncio.Event()

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError("boom")
        third_run.set()
        await asyncio.Event().wait()  # a healthy loop runs until cancelled

    task = asyncio.create_task(keep_running("test loop", flaky, delay=0))
    await asyncio.wait_for(third_run.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runs == [0, 1, 2]
    assert [r.getMessage() for r in caplog.records].count("the test loop stopped; restarting it") == 2


async def test_supervised__cancels_and_awaits_its_loops_when_the_body_ends() -> None:
    started, stopped = asyncio.Event(), asyncio.Event()

    async def loop() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    async with supervised(("loop", loop)):
        await asyncio.wait_for(started.wait(), timeout=5)
        assert not stopped.is_set()
    assert stopped.is_set()


async def test_keep_running__stops_when_cancelled_even_if_the_loop_fails_while_stopping() -> None:
    running = asyncio.Event()

    async def fails_on_the_way_out() -> None:
        try:
            running.set()
            await asyncio.Event().wait()
        finally:
            raise RuntimeError("clean-up failed")

    task = asyncio.create_task(keep_running("test loop", fails_on_the_way_out, delay=0))
    await asyncio.wait_for(running.wait(), timeout=5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=5)  # before: restarted, and never stopped
