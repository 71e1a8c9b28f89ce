"""A worker that is told to stop always ends (app/workers/resilient.py, app/workers/tasks.py):
a shutdown that hangs is cut off with every thread's stack in the log, and an error on the way
out does not leave the process waiting for a busy thread. Real processes, a real redis-server."""

from __future__ import annotations

import signal
import sys
import textwrap
import time
from pathlib import Path

from tests.faults.conftest import Process, RedisServer, wait_until


def child(script: str, tmp_path: Path) -> Process:
    """`script` run by this interpreter from the backend directory, logging to a file."""
    return Process("child", [sys.executable, "-c", textwrap.dedent(script)], tmp_path / "child.log")


def finish(proc: Process, seconds: float) -> int | None:
    """The child's exit status within `seconds`, or None (then it is killed)."""
    status = proc.wait(seconds)
    proc.stop(timeout=0)
    return status


def test_a_shutdown_that_hangs_is_cut_off_with_the_stacks(redis_server: RedisServer,
                                                           tmp_path: Path) -> None:
    started = tmp_path / "started"
    proc = child(f"""
        import asyncio, pathlib
        from arq.connections import RedisSettings
        from arq.worker import func
        from app.workers import resilient

        resilient.SHUTDOWN_OVERRUN = 1.0

        async def noop(ctx): ...
        async def up(ctx): pathlib.Path({str(started)!r}).touch()
        async def hang(ctx): await asyncio.Event().wait()  # a close that never returns

        resilient.ResilientWorker(
            functions=[func(noop, name="noop")],
            redis_settings=RedisSettings.from_dsn({redis_server.url!r}),
            on_startup=up, on_shutdown=hang, job_completion_wait=1, handle_signals=True,
            poll_delay=0.1).run()
        """, tmp_path)
    wait_until(lambda: started.exists() or not proc.alive(), timeout=60,
               what="the worker to start", log=proc.log_path)
    stopped = time.monotonic()
    proc.signal(signal.SIGTERM)
    # Grace (1 s) + overrun (1 s), then the dump; without the watchdog it would hang forever.
    status = finish(proc, 30)
    out = proc.log_path.read_text(errors="replace")
    assert status == 1, out
    assert time.monotonic() - stopped < 30
    assert "Timeout (0:00:02)!" in out and "most recent call first" in out, out


def test_an_error_on_the_way_out_still_ends_the_process(tmp_path: Path) -> None:
    proc = child("""
        import threading, time
        from app.workers import resilient, tasks

        def run(self):
            # A worker thread still busy (an abandoned embedding batch), then an error.
            threading.Thread(target=time.sleep, args=(120,)).start()
            raise RuntimeError("the shutdown hook failed")

        resilient.ResilientWorker.run = run
        tasks.run_worker()
        """, tmp_path)
    status = finish(proc, 60)
    out = proc.log_path.read_text(errors="replace")
    assert status == 1, out  # not the 120 s the interpreter would wait for the thread
    assert "the worker stopped on an error" in out and "the shutdown hook failed" in out, out
