"""Warm extraction hosts: a fresh, limited child per document, without a cold start per document.

A *host* is a long-lived helper process started once with ``python -m app.ingestion.warm_pool``:
it imports the parsers, then waits for jobs. For each document it forks a child (``os.fork``: the
parsers are already in memory, so the child starts in milliseconds) that sets its own memory limit
(RLIMIT_AS) and no core dumps, extracts, sends progress and the result, and exits. The host relays
the child's messages unread, kills it at the document's deadline, reaps it and reports how it
ended. One document per child: nothing one file leaves in memory is ever seen by the next, and
every document gets its own memory and time limit.

Before this, each document started a child through multiprocessing's fork server, and every such
child re-ran the parent's main module (the ``citewise``/``arq`` entry point: FastAPI, SQLAlchemy,
asyncio...) before reading a byte: 0.1-1.7 s of CPU per document, on the cores the embedding model
needs. Hosts are started by a plain ``subprocess`` with a main module of their own, so nothing but
the parsers is ever imported there.

The parent side (``HostPool``) keeps idle hosts for reuse, starts one when none is idle, and drops a
host that died or stopped answering (its whole process group is killed) and starts a new one for
the next document.

Protocol (pickled tuples over pipes). Parent -> host: ``(path, kind, limits)``. Child -> parent,
relayed: ``("progress", done, total, stage)``, then ``("ok", doc)`` or
``("error", message, permanent, retryable, detail)``.
Host -> parent, always last for a job: ``("exit", status, timed_out)`` with the raw wait status.

Deadline: ``limits.timeout_seconds``, plus ``limits.ocr_page_seconds`` for each page the child
reports recognising (stage ``ocr``): text recognition costs seconds per page where reading a text
layer costs milliseconds, and ``ocr_max_pages`` bounds the total.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import pickle
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from app.ingestion.types import ExtractedDocument, ExtractionError, ExtractionLimits

OnPage = Callable[[int, int, str], None]  # (done, total, stage): "extracting" or "ocr"
TOO_MUCH_MEMORY = "Reading this file needed more memory than allowed, so it was stopped."
# The parent's backstop beyond a document's own deadline (the host enforces that one): time for the
# host to kill, reap and report; a host silent for longer is stuck and is killed itself.
HOST_GRACE_S = 15.0
HOST_START_TIMEOUT_S = 120.0
MAX_IDLE_HOSTS = 4
FATE_WAIT_S = 1.0  # see `Host.fate`
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


# ---- the child: one document ----------------------------------------------------------------------

def _child(conn: Connection, path: str, kind: str, limits: ExtractionLimits) -> None:
    """Child entry point: never raises, always sends exactly one final message."""
    try:
        memory = limits.memory_limit_bytes
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        from app.ingestion.parsers import extract  # imported by the host already: no cost

        def progress(done: int, total: int, stage: str = "extracting") -> None:
            conn.send(("progress", done, total, stage))

        doc = extract(Path(path), kind, limits, progress)
        conn.send(("ok", doc))
    except ExtractionError as exc:
        conn.send(("error", exc.message, exc.permanent, exc.retryable, exc.detail))
    except MemoryError:
        conn.send(("error", TOO_MUCH_MEMORY, True, False, None))
    except BaseException as exc:
        conn.send(("error", "The file could not be read; it may be damaged or in an unusual form.",
                   True, False, f"{type(exc).__name__}: {exc}"[:500]))
    finally:
        conn.close()


def _die_with_parent() -> None:
    """Linux: the child is killed if its host dies (the host kills it at the deadline itself)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


# ---- the host: forks, relays, enforces the deadline, reaps ---------------------------------------

def _ocr_allowance(data: bytes, limits: ExtractionLimits) -> float:
    """Extra seconds a child's message earns: one page's allowance for each scanned page read."""
    message = pickle.loads(data)  # noqa: S301 - from our own child, over a private pipe
    if message[0] == "progress" and message[3] == "ocr":
        return limits.ocr_page_seconds
    return 0.0


def _supervise(job: tuple[str, str, ExtractionLimits], inbox: Connection, outbox: Connection) -> None:
    path, kind, limits = job
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        status = 1
        try:
            os.close(r)
            inbox.close()
            outbox.close()
            _die_with_parent()
            _child(Connection(w, readable=False), path, kind, limits)
            status = 0
        finally:
            os._exit(status)
    os.close(w)
    conn = Connection(r, writable=False)
    deadline = time.monotonic() + limits.timeout_seconds
    timed_out = False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not wait([conn], remaining):
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                break
            try:
                data = conn.recv_bytes()
            except EOFError:
                break
            deadline += _ocr_allowance(data, limits)
            outbox.send_bytes(data)
    finally:
        conn.close()
        _, status = os.waitpid(pid, 0)
    outbox.send(("exit", status, timed_out))


def host_main(read_fd: int, write_fd: int) -> None:
    """A host's main loop: one job at a time until the parent closes the pipe."""
    inbox = Connection(read_fd, writable=False)
    outbox = Connection(write_fd, readable=False)
    import app.ingestion.parsers  # noqa: F401 - the point of a warm host: children inherit it

    outbox.send(("ready", os.getpid()))
    while True:
        try:
            job = inbox.recv()
        except (EOFError, OSError):
            return
        _supervise(job, inbox, outbox)


# ---- the parent side ------------------------------------------------------------------------------

class HostError(Exception):
    """The host itself failed (died, stuck, could not start): drop it."""


class Host:
    def __init__(self) -> None:
        to_host_r, to_host_w = os.pipe()
        from_host_r, from_host_w = os.pipe()
        try:
            self._proc = subprocess.Popen(  # noqa: S603 - our own module, our own interpreter
                [sys.executable, "-m", "app.ingestion.warm_pool", str(to_host_r), str(from_host_w)],
                pass_fds=(to_host_r, from_host_w),
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: killing it takes its child along
            )
        finally:
            os.close(to_host_r)
            os.close(from_host_w)
        self._to = Connection(to_host_w, readable=False)
        self._from = Connection(from_host_r, writable=False)
        self.pid = self._proc.pid
        self._ready = False

    def _wait_ready(self) -> None:
        if self._ready:
            return
        if not self._from.poll(HOST_START_TIMEOUT_S):
            raise HostError("the extraction host did not start")
        try:
            message = self._from.recv()
        except (EOFError, OSError) as exc:
            raise HostError("the extraction host exited at start") from exc
        if message[0] != "ready":
            raise HostError(f"unexpected first message from the extraction host: {message[0]}")
        self._ready = True

    def alive(self) -> bool:
        return self._proc.poll() is None

    def fate(self) -> str:
        """What became of the host process, for an administrator: "was killed by SIGKILL",
        "exited with status 1" or "was still running". Blocks up to FATE_WAIT_S: a host whose
        pipe just closed may not have finished exiting yet."""
        try:
            code = self._proc.wait(FATE_WAIT_S)
        except subprocess.TimeoutExpired:
            return "was still running"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"was killed by {signal.Signals(-code).name}"
        return f"exited with status {code}"

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(5)
        self._to.close()
        self._from.close()

    def close(self) -> None:
        """Ask an idle host to exit (end of its input), then make sure it did."""
        self._to.close()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self.kill()
        else:
            self._from.close()

    async def _readable(self, seconds: float) -> bool:
        """Wait until a message (or EOF) can be read, without blocking the event loop."""
        if self._from.poll():
            return True
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        fd = self._from.fileno()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(fd, wake)
        try:
            await asyncio.wait_for(ready, seconds)
            return True
        except TimeoutError:
            return False
        finally:
            loop.remove_reader(fd)
            # uvloop (libuv, what `citewise serve` runs on) makes a descriptor it watches
            # non-blocking: `recv_bytes` would then read a reply larger than the pipe's buffer
            # only in part and fail (EAGAIN), and every large document with it.
            os.set_blocking(fd, True)

    async def extract(
        self, path: Path, kind: str, limits: ExtractionLimits, on_page: OnPage | None
    ) -> ExtractedDocument:
        await asyncio.to_thread(self._wait_ready)
        try:
            self._to.send((str(path), kind, limits))
        except OSError as exc:
            raise HostError("the extraction host is gone") from exc
        backstop = time.monotonic() + limits.timeout_seconds + HOST_GRACE_S
        final: tuple[Any, ...] | None = None
        last_page: tuple[int, int] | None = None
        while True:
            if not await self._readable(max(0.0, backstop - time.monotonic())):
                raise HostError("the extraction host stopped answering")
            try:
                data = await asyncio.to_thread(self._from.recv_bytes)
            except (EOFError, OSError) as exc:
                raise HostError("the extraction host died") from exc
            message = pickle.loads(data)  # noqa: S301 - from our own child, over a private pipe
            kind_ = message[0]
            if kind_ == "progress":
                last_page = (message[1], message[2])
                backstop += limits.ocr_page_seconds if message[3] == "ocr" else 0.0
                if on_page is not None:
                    on_page(message[1], message[2], message[3])
            elif kind_ in ("ok", "error"):
                final = message
            elif kind_ == "exit":
                return _outcome(final, message[1], message[2], limits, on_page, last_page)


def _outcome(
    final: tuple[Any, ...] | None,
    status: int,
    timed_out: bool,
    limits: ExtractionLimits,
    on_page: OnPage | None,
    last_page: tuple[int, int] | None,
) -> ExtractedDocument:
    if final is not None and final[0] == "ok":
        doc: ExtractedDocument = final[1]
        if on_page is not None and last_page is None:
            on_page(doc.page_count, doc.page_count, "extracting")
        return doc
    if final is not None:
        raise ExtractionError(final[1], permanent=final[2], retryable=final[3], detail=final[4])
    if timed_out:
        raise ExtractionError(
            f"Reading this file took longer than {limits.timeout_seconds:g} seconds, so it was stopped."
        )
    if os.WIFSIGNALED(status):
        # C libraries abort (SIGABRT) or fault when an allocation fails under RLIMIT_AS.
        mib = limits.memory_limit_bytes // (1024 * 1024)
        raise ExtractionError(
            f"The document reader crashed on this file, possibly because it needed more than its "
            f"{mib} MB memory limit; the file may be damaged, unsafe or too large.",
            detail=f"extraction child killed by signal {os.WTERMSIG(status)}",
        )
    raise ExtractionError("The document reader stopped unexpectedly on this file; it may be damaged.")


class HostPool:
    """Idle warm hosts, shared by every extraction in this process (one document per host at a
    time). Thread-safe: the pipeline runs extractions on one event loop, tests on several."""

    def __init__(self, max_idle: int = MAX_IDLE_HOSTS) -> None:
        self._idle: list[Host] = []
        self._lock = threading.Lock()
        self._max_idle = max_idle
        self.started = 0  # hosts started over the pool's life (for tests and metrics)

    def _take(self) -> Host:
        with self._lock:
            while self._idle:
                host = self._idle.pop()
                if host.alive():
                    return host
                host.kill()
            self.started += 1
        return Host()

    def _give_back(self, host: Host) -> None:
        with self._lock:
            if host.alive() and len(self._idle) < self._max_idle:
                self._idle.append(host)
                return
        host.close()

    def warm(self, hosts: int) -> None:
        """Start ``hosts`` hosts now (blocking until they are ready), e.g. at worker start-up."""
        started = [self._take() for _ in range(hosts)]
        for host in started:
            try:
                host._wait_ready()
            except HostError:
                host.kill()
                continue
            self._give_back(host)

    async def extract(
        self, path: Path, kind: str, limits: ExtractionLimits, on_page: OnPage | None = None
    ) -> ExtractedDocument:
        try:
            host = await asyncio.to_thread(self._take)
        except OSError as exc:
            raise ExtractionError(
                "The document reader could not be started; try again later.", permanent=False
            ) from exc
        try:
            doc = await host.extract(path, kind, limits, on_page)
        except ExtractionError:
            self._give_back(host)  # the document failed, in its own child; the host is fine
            raise
        except HostError as exc:
            # What became of the host (read before it is killed here) tells an administrator
            # whether something outside killed it (a signal) or it failed by itself.
            fate = await asyncio.to_thread(host.fate)
            await asyncio.to_thread(host.kill)
            raise ExtractionError(
                "The document reader failed; try again later.", permanent=False,
                detail=f"extraction host {host.pid}: {exc}; the host {fate}",
            ) from exc
        except BaseException:
            # Cancelled or failed half-way: the host may still be working on this file.
            await asyncio.to_thread(host.kill)
            raise
        self._give_back(host)
        return doc

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for host in idle:
            host.close()

    def idle_pids(self) -> list[int]:
        with self._lock:
            return [h.pid for h in self._idle]


if __name__ == "__main__":
    host_main(int(sys.argv[1]), int(sys.argv[2]))
