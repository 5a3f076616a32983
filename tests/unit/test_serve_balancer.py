"""Workers sharing a listening socket end up holding about as many connections each, and a
worker steps back from a connection only for a moment: if no other takes it, it does."""

from __future__ import annotations

import asyncio
import socket
import time

from omniorder.serve import Backoff, Balancer


class _Held(asyncio.Protocol):
    def __init__(self, held: set[asyncio.Protocol]) -> None:
        self.held = held

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.held.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.held.discard(self)


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def _balancer(
    sock: socket.socket, counts: list[int], slot: int
) -> tuple[Balancer, set[asyncio.Protocol]]:
    held: set[asyncio.Protocol] = set()
    # A duplicate descriptor of the same socket, as a worker process inherits it.
    return Balancer(sock.dup(), counts, slot, lambda: _Held(held), lambda: len(held)), held


async def _connect(port: int, n: int) -> list[asyncio.StreamWriter]:
    writers = []
    for _ in range(n):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writers.append(writer)
    return writers


async def _until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_connections_are_spread_evenly_over_workers() -> None:
    async def run() -> tuple[int, int, int]:
        sock = _listener()
        counts = [0, 0, 0]
        workers = [_balancer(sock, counts, slot) for slot in range(3)]
        for balancer, _ in workers:
            balancer.start()
        writers = await _connect(sock.getsockname()[1], 16)
        await _until(lambda: sum(len(held) for _, held in workers) == 16)
        sizes = sorted(len(held) for _, held in workers)
        stepped_back = sum(b.stepped_back for b, _ in workers)
        for w in writers:
            w.close()
        await _until(lambda: all(not held for _, held in workers))
        for balancer, _ in workers:
            balancer.close()
        sock.close()
        return sizes[0], sizes[-1], stepped_back

    fewest, most, stepped_back = asyncio.run(run())
    assert most - fewest <= 1, (fewest, most)
    assert stepped_back > 0


def test_a_worker_takes_a_connection_the_others_leave() -> None:
    """The other worker looks less loaded but does not accept (it is busy): the connection
    is accepted all the same, after a short step back."""

    async def run() -> tuple[int, float]:
        sock = _listener()
        counts = [5, 0]  # slot 1 is a worker that never gets to accept
        balancer, held = _balancer(sock, counts, 0)
        balancer.start()
        began = time.monotonic()
        writers = await _connect(sock.getsockname()[1], 3)
        await _until(lambda: len(held) == 3)
        waited = time.monotonic() - began
        for w in writers:
            w.close()
        balancer.close()
        sock.close()
        return len(held), waited

    accepted, waited = asyncio.run(run())
    assert accepted == 3
    assert waited < 1.0


def test_a_worker_that_keeps_dying_is_restarted_later_and_later() -> None:
    backoff = Backoff()
    quick = [backoff.delay(0, lived_seconds=0.5) for _ in range(7)]
    assert quick == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff.delay(1, lived_seconds=0.5) == 1.0  # each worker slot counts its own
    assert backoff.delay(0, lived_seconds=60.0) == 0.0  # it ran a while: back at once
    assert backoff.delay(0, lived_seconds=0.5) == 1.0
