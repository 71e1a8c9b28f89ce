"""Run a parser in a separate process with a memory cap and a wall-clock timeout.

Parsers handle hostile input; a crafted file can still make a C library loop, crash or allocate
without bound. The child ('forkserver' context: no state is shared with the server or worker) sets
RLIMIT_AS, runs ``extract`` and sends progress and the result over a pipe. Any failure of the
child becomes an ``ExtractionError``; the calling worker never sees anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import resource
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from app.ingestion.types import ExtractedDocument, ExtractionError, ExtractionLimits

OnPage = Callable[[int, int], None]
_POLL_S = 0.02
# forkserver: children fork from a clean single-threaded server that has the parsers imported
# already (~20 ms per child instead of seconds of imports), and share nothing with this process.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["app.ingestion.parsers"])
_TOO_MUCH_MEMORY = "Reading this file needed more memory than allowed, so it was stopped."


def _child(conn: Connection, path: str, kind: str, limits: ExtractionLimits) -> None:
    """Child entry point: never raises, always sends exactly one final message."""
    try:
        memory = limits.memory_limit_bytes
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        from app.ingestion.parsers import extract  # preloaded by the fork server: no import cost

        def progress(done: int, total: int) -> None:
            conn.send(("progress", done, total))

        doc = extract(Path(path), kind, limits, progress)
        conn.send(("ok", doc))
    except ExtractionError as exc:
        conn.send(("error", exc.message, exc.permanent))
    except MemoryError:
        conn.send(("error", _TOO_MUCH_MEMORY, True))
    except BaseException as exc:
        conn.send(("error", f"The file could not be read ({type(exc).__name__}).", True))
    finally:
        conn.close()


async def extract_isolated(
    path: Path, kind: str, limits: ExtractionLimits, on_page: OnPage | None = None
) -> ExtractedDocument:
    """``extract`` in a child process; raises ExtractionError for every kind of failure."""
    parent, child = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_child, args=(child, str(path), kind, limits), daemon=True)
    try:
        # The first start launches the fork server (imports take seconds): keep it off the loop.
        await asyncio.to_thread(process.start)
    except OSError as exc:
        raise ExtractionError(
            "The document reader could not be started; try again later.", permanent=False
        ) from exc
    finally:
        child.close()
    deadline = time.monotonic() + limits.timeout_seconds
    try:
        return await _collect(parent, process, deadline, limits, on_page)
    finally:
        if process.is_alive():
            process.kill()
        await asyncio.to_thread(process.join, 5)
        parent.close()
        with contextlib.suppress(ValueError):
            process.close()


async def _collect(
    conn: Connection,
    process: Any,
    deadline: float,
    limits: ExtractionLimits,
    on_page: OnPage | None,
) -> ExtractedDocument:
    last_page: tuple[int, int] | None = None
    while True:
        if conn.poll():
            try:
                message = await asyncio.to_thread(conn.recv)
            except (EOFError, OSError):
                raise _crashed(process, limits) from None
            if message[0] == "progress":
                last_page = (message[1], message[2])
                if on_page is not None:
                    on_page(*last_page)
                continue
            if message[0] == "ok":
                doc: ExtractedDocument = message[1]
                if on_page is not None and last_page is None:
                    on_page(doc.page_count, doc.page_count)
                return doc
            raise ExtractionError(message[1], permanent=message[2])
        if not process.is_alive() and not conn.poll():
            raise _crashed(process, limits)
        if time.monotonic() > deadline:
            process.kill()
            raise ExtractionError(
                f"Reading this file took longer than {limits.timeout_seconds:g} seconds, so it was stopped."
            )
        await asyncio.sleep(_POLL_S)


def _crashed(process: Any, limits: ExtractionLimits) -> ExtractionError:
    process.join(1)
    code = process.exitcode
    if code is not None and code < 0:
        # C libraries abort (SIGABRT) or fault when an allocation fails under RLIMIT_AS.
        mib = limits.memory_limit_bytes // (1024 * 1024)
        return ExtractionError(
            f"The document reader crashed on this file (signal {-code}), possibly by exceeding "
            f"its {mib} MB memory limit; the file may be damaged, unsafe or too large."
        )
    return ExtractionError("The document reader stopped unexpectedly on this file; it may be damaged.")
