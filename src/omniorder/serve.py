"""`omniorder serve`: uvicorn workers sharing one listening socket, balanced by connections.

Clients of an order API hold keep-alive connections, so how connections are spread over the
workers decides how the load is spread. With one shared socket and nothing else, whichever
worker wakes first accepts a burst of new connections (16 clients were seen all on one of two
workers); with a ``SO_REUSEPORT`` socket per worker, the kernel spreads them by a hash of the
client's address and port, which with 16 clients and two workers gave splits from 8/8 to
13/3, and the most uneven splits the longest tails (docs/benchmarks.md).

So every worker accepts from the same socket, and each publishes how many connections it
holds in a small array in shared memory. A worker that holds more than the least loaded one
steps back when a connection arrives and leaves it to the others; if none of them has
accepted anything a few milliseconds later (they are busy), it accepts it itself. Keep-alive
connections then end up close to even (16 over two workers: 8/8 or 9/7 in every sample).

The parent process supervises: it restarts a worker that dies and stops all of them on
SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import multiprocessing
import signal
import socket
import time
from collections.abc import Callable, MutableSequence
from types import FrameType
from typing import Any

import uvicorn

APP = "omniorder.api.asgi:app"
#: Allocations (net of frees) between young-generation collections; Python's default is 700.
GC_THRESHOLD = 10_000
#: How long a worker leaves a new connection to the others, per connection it holds more than
#: the least loaded worker (at most MAX_STEP_BACK_SECONDS).
STEP_BACK_SECONDS = 0.01
MAX_STEP_BACK_SECONDS = 0.1
#: How often a worker publishes its connection count when nothing is accepted.
PUBLISH_SECONDS = 0.2

log = logging.getLogger("omniorder.serve")


class CannotListen(Exception):
    """The server's address cannot be bound; the message is one line for whoever started it."""


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _free_port_after(host: str, port: int) -> int:
    """The first port after ``port`` that can be bound now (a suggestion, not a promise)."""
    for candidate in range(port + 1, min(port + 100, 65535) + 1):
        try:
            _bind(host, candidate).close()
        except OSError:
            continue
        return candidate
    return port + 1 if port < 65535 else port - 1


def _why(host: str, port: int, exc: OSError) -> str:
    where = f"cannot listen on {_where(host, port)}"
    if exc.errno == errno.EADDRINUSE:
        other = _free_port_after(host, port)
        return (
            f"{where}: the port is in use (choose another: make demo PORT={other}, "
            f"or omniorder serve --port {other})"
        )
    if exc.errno == errno.EACCES and port < 1024:
        return (
            f"{where}: ports below 1024 need privileges (choose another: make demo PORT=8000, "
            "or omniorder serve --port 8000)"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"{where}: {host} is not an address of this machine (choose another: "
            "make demo HOST=127.0.0.1, or omniorder serve --host 127.0.0.1)"
        )
    return f"{where}: {exc.strerror or exc}"


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or :class:`CannotListen` saying why not in one line."""
    if not 1 <= port <= 65535:
        raise CannotListen(f"cannot listen on {_where(host, port)}: ports are 1 to 65535")
    try:
        sock = _bind(host, port)
    except socket.gaierror as exc:
        where = _where(host, port)
        raise CannotListen(f"cannot listen on {where}: unknown host ({exc.strerror})") from exc
    except OSError as exc:
        raise CannotListen(_why(host, port, exc)) from exc
    try:
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise CannotListen(_why(host, port, exc)) from exc
    sock.set_inheritable(True)
    return sock


class Balancer:
    """Accepts connections from a listening socket that several worker processes share, so
    that each holds about as many connections as the least loaded one.

    ``counts[slot]`` is this worker's open connections (plus those being set up); the other
    slots are the other workers'. ``open_connections`` reads the server's live count."""

    def __init__(
        self,
        sock: socket.socket,
        counts: MutableSequence[int],
        slot: int,
        protocol_factory: Callable[[], asyncio.Protocol],
        open_connections: Callable[[], int],
    ) -> None:
        self.sock = sock
        self.counts = counts
        self.slot = slot
        self.protocol_factory = protocol_factory
        self.open_connections = open_connections
        self.accepted = 0
        self.stepped_back = 0
        self._setting_up = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.sock.setblocking(False)
        self.counts[self.slot] = 0
        self._loop.add_reader(self.sock.fileno(), self._ready)
        self._publish_later()

    def close(self) -> None:
        self._closed = True
        if self._loop is not None:
            self._loop.remove_reader(self.sock.fileno())
        if self._timer is not None:
            self._timer.cancel()
        self.counts[self.slot] = 0

    def held(self) -> int:
        return self.open_connections() + self._setting_up

    def _publish_later(self) -> None:
        assert self._loop is not None
        self.counts[self.slot] = self.held()
        self._timer = self._loop.call_later(PUBLISH_SECONDS, self._publish_later)

    def _ready(self) -> None:
        assert self._loop is not None
        mine = self.counts[self.slot] = self.held()
        excess = mine - min(self.counts)
        if excess > 0:
            # Leave the connection to a worker with fewer. Look again after a while: if the
            # others accepted or closed something meanwhile, weigh again; if none of them
            # moved (they may all be busy), take what is waiting.
            self.stepped_back += 1
            self._loop.remove_reader(self.sock.fileno())
            wait = min(STEP_BACK_SECONDS * excess, MAX_STEP_BACK_SECONDS)
            self._loop.call_later(wait, self._resume, self._others())
            return
        self._accept()

    def _others(self) -> tuple[int, ...]:
        return tuple(n for i, n in enumerate(self.counts) if i != self.slot)

    def _resume(self, others_then: tuple[int, ...]) -> None:
        if self._closed or self._loop is None or self._loop.is_closed():
            return
        self._loop.add_reader(self.sock.fileno(), self._ready)
        if self._others() == others_then:
            self._accept()

    def _accept(self) -> None:
        assert self._loop is not None
        try:
            conn, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # another worker took it
        except OSError as exc:  # out of file descriptors and the like: keep serving
            log.warning("accept failed: %s", exc)
            return
        conn.setblocking(False)
        self.accepted += 1
        self._setting_up += 1
        self.counts[self.slot] = self.held()
        task = self._loop.create_task(
            self._loop.connect_accepted_socket(self.protocol_factory, conn)
        )
        self._tasks.add(task)
        task.add_done_callback(self._set_up)

    def _set_up(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._setting_up -= 1
        if not task.cancelled() and task.exception() is not None:
            log.warning("connection set-up failed: %s", task.exception())


class BalancedServer(uvicorn.Server):
    """uvicorn's server, accepting through a :class:`Balancer` instead of its own listener."""

    def __init__(
        self, config: uvicorn.Config, sock: socket.socket, counts: MutableSequence[int], slot: int
    ) -> None:
        super().__init__(config)
        self._sock, self._counts, self._slot = sock, counts, slot
        self.balancer: Balancer | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the app's lifespan; no listener of uvicorn's own
        if self.should_exit:
            return
        config = self.config

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        self.balancer = Balancer(
            self._sock,
            self._counts,
            self._slot,
            create_protocol,
            lambda: len(self.server_state.connections),
        )
        self.balancer.start()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.balancer is not None:
            self.balancer.close()
        await super().shutdown(sockets=None)


def _config(log_level: str) -> uvicorn.Config:
    """The app's config, loaded, with the garbage collector set for serving.

    Everything alive once the app is loaded (modules, the app, its routes and schemas: some
    hundred thousand objects) is moved out of the collector's reach with ``gc.freeze()``: a
    full collection would otherwise walk all of it, a pause of tens of milliseconds in the
    middle of requests. Young-generation collections run less often too; request garbage is
    mostly freed by reference counting anyway."""
    config = uvicorn.Config(APP, log_level=log_level, access_log=False)
    config.load()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)
    return config


class Backoff:
    """When to start a worker again after it died: at once after a worker that ran a while,
    then after 1, 2, 4 … up to 30 s while the replacements keep dying within seconds (a broken
    database URL, a bad deploy), so that a crash loop does not spin the machine."""

    #: A worker that lived this long counts as having started well.
    HEALTHY_SECONDS = 10.0
    FIRST_DELAY = 1.0
    MAX_DELAY = 30.0

    def __init__(self) -> None:
        self.failures: dict[int, int] = {}

    def delay(self, slot: int, lived_seconds: float) -> float:
        if lived_seconds >= self.HEALTHY_SECONDS:
            self.failures[slot] = 0
            return 0.0
        n = self.failures.get(slot, 0)
        self.failures[slot] = n + 1
        return float(min(self.FIRST_DELAY * 2.0**n, self.MAX_DELAY))


def _worker(sock: socket.socket, counts: MutableSequence[int], slot: int, log_level: str) -> None:
    BalancedServer(_config(log_level), sock, counts, slot).run()


def serve(host: str, port: int, workers: int, log_level: str) -> None:
    """Serve until SIGINT/SIGTERM. Raises :class:`CannotListen` (before any worker starts) when
    host:port cannot be bound, e.g. because another server holds the port."""
    sock = _listen(host, port)
    if workers == 1:
        print(f"omniorder serving on http://{_where(host, port)}", flush=True)
        uvicorn.Server(_config(log_level)).run(sockets=[sock])
        return
    ctx = multiprocessing.get_context("spawn")
    counts = ctx.Array("i", workers, lock=False)
    procs: list[multiprocessing.process.BaseProcess] = []
    started: list[float] = [0.0] * workers
    due: dict[int, float] = {}  # slot -> when its replacement may start
    backoff = Backoff()
    stopping = False

    def start(slot: int) -> multiprocessing.process.BaseProcess:
        proc = ctx.Process(target=_worker, args=(sock, counts, slot, log_level), daemon=False)
        proc.start()
        started[slot] = time.monotonic()
        return proc

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    procs = [start(slot) for slot in range(workers)]
    print(f"omniorder serving on http://{_where(host, port)} with {workers} workers", flush=True)
    while not stopping:
        time.sleep(0.5)
        now = time.monotonic()
        for slot, proc in enumerate(procs):
            if proc.is_alive() or stopping:
                continue
            if slot not in due:
                wait = backoff.delay(slot, now - started[slot])
                due[slot] = now + wait
                print(
                    f"worker {proc.pid} exited ({proc.exitcode}); starting another"
                    + (f" in {wait:.0f} s" if wait else ""),
                    flush=True,
                )
                counts[slot] = 0
            if now >= due[slot]:
                del due[slot]
                procs[slot] = start(slot)
    for proc in procs:
        proc.terminate()
    deadline = time.monotonic() + 30
    for proc in procs:
        proc.join(max(0.1, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
    sock.close()
