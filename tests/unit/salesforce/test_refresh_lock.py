"""The lock beside the token store that lets one SMVue process refresh at a time."""

from __future__ import annotations

import asyncio
import fcntl
import os
import stat

import pytest

from smvue_tui.salesforce import refresh_lock as rl


async def test_a_second_holder_waits_for_the_first(tmp_path):
    token_file = tmp_path / "salesforce-token.json"
    order: list[str] = []

    async def hold(name: str, seconds: float) -> None:
        async with rl.refresh_lock(token_file) as held:
            assert held
            order.append(f"{name} in")
            await asyncio.sleep(seconds)
            order.append(f"{name} out")

    first = asyncio.create_task(hold("first", 0.2))
    await asyncio.sleep(0.05)
    await hold("second", 0)
    await first
    assert order == ["first in", "first out", "second in", "second out"]
    lock = rl.lock_path(token_file)
    assert lock.name == "salesforce-token.json.lock" and not token_file.exists()
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600


async def test_a_lock_held_too_long_is_given_up_on_not_waited_for_forever(tmp_path, caplog):
    token_file = tmp_path / "salesforce-token.json"
    fd = os.open(rl.lock_path(token_file), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a wedged process (another open file description)
    try:
        async with rl.refresh_lock(token_file, timeout=0.2) as held:
            assert held is False
        assert "held the refresh lock" in caplog.text
    finally:
        os.close(fd)


async def test_a_cancelled_wait_leaves_the_lock_free(tmp_path):
    token_file = tmp_path / "salesforce-token.json"
    release = asyncio.Event()

    async def holder() -> None:
        async with rl.refresh_lock(token_file):
            await release.wait()

    task = asyncio.create_task(holder())
    await asyncio.sleep(0.05)
    waiter = asyncio.create_task(rl.refresh_lock(token_file).__aenter__())
    await asyncio.sleep(0.1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release.set()
    await task
    async with rl.refresh_lock(token_file, timeout=0.5) as held:
        assert held
