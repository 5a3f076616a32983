"""`omniorder serve`: uvicorn workers that each own a SO_REUSEPORT socket.

With one shared listening socket, whichever worker wakes first accepts a burst of new
connections, and keep-alive clients then stay pinned to it (16 clients were seen all on one of
two workers). With a socket per worker on the same port, the kernel spreads connections
across workers. The parent process supervises: it restarts a worker that dies and stops all
of them on SIGINT/SIGTERM.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import socket
import time
from types import FrameType

import uvicorn

APP = "omniorder.api.asgi:app"
#: Allocations (net of frees) between young-generation collections; Python's default is 700.
GC_THRESHOLD = 10_000


def _listen(host: str, port: int, reuse_port: bool) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _run(sock: socket.socket, log_level: str) -> None:
    """Serve the app on ``sock`` in this process.

    The app is loaded first and everything alive then (modules, the app, its routes and
    schemas: some hundred thousand objects) is moved out of the garbage collector's reach with
    ``gc.freeze()``: a full collection would otherwise walk all of it, a pause of tens of
    milliseconds in the middle of requests. Young-generation collections run less often too;
    request garbage is mostly freed by reference counting anyway."""
    config = uvicorn.Config(APP, log_level=log_level, access_log=False)
    config.load()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)
    uvicorn.Server(config).run(sockets=[sock])


def _worker(host: str, port: int, log_level: str) -> None:
    _run(_listen(host, port, reuse_port=True), log_level)


def serve(host: str, port: int, workers: int, log_level: str) -> None:
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        if workers == 1:
            print(f"omniorder serving on http://{host}:{port}", flush=True)
            _run(_listen(host, port, reuse_port=False), log_level)
            return
        uvicorn.run(
            APP, host=host, port=port, workers=workers, log_level=log_level, access_log=False
        )
        return
    ctx = multiprocessing.get_context("spawn")
    procs: list[multiprocessing.process.BaseProcess] = []
    stopping = False

    def start() -> multiprocessing.process.BaseProcess:
        proc = ctx.Process(target=_worker, args=(host, port, log_level), daemon=False)
        proc.start()
        return proc

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    procs = [start() for _ in range(workers)]
    print(f"omniorder serving on http://{host}:{port} with {workers} workers", flush=True)
    while not stopping:
        time.sleep(0.5)
        for i, proc in enumerate(procs):
            if not proc.is_alive() and not stopping:
                print(f"worker {proc.pid} exited ({proc.exitcode}); starting another", flush=True)
                procs[i] = start()
    for proc in procs:
        proc.terminate()
    deadline = time.monotonic() + 30
    for proc in procs:
        proc.join(max(0.1, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
