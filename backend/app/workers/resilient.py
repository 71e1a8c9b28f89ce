"""ARQ's worker, made to outlive Redis outages: it waits and reconnects instead of exiting.

ARQ ends the worker process on the first Redis error (and a supervisor that stops the whole group
when one process exits then takes its siblings down too). Here a Redis error pauses polling with
exponential backoff; jobs already running go on (they need only the database and the vector
store), and polling resumes when Redis answers again. The reconciler then re-enqueues what the
outage lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import logging
import signal
import sys
from dataclasses import replace

from arq.connections import create_pool
from arq.worker import Worker

from app.core.outages import redis_outage

log = logging.getLogger("citewise.worker")

BACKOFF_START = 0.5
BACKOFF_MAX = 15.0
# After a stop signal, the worker has its grace period plus this long to hand back its jobs, run
# its shutdown hook and exit; past it, every thread's stack goes to stderr and the process exits
# with status 1 (its documents then come back like a killed worker's: the reconciler).
SHUTDOWN_OVERRUN = 15.0


def exit_if_stuck(seconds: float) -> None:
    """Dump every thread's stack and exit (status 1) if the process is still running after
    `seconds`: a shutdown that hangs (a thread the interpreter would wait for, a close that never
    returns) ends, and the log says where it was."""
    faulthandler.dump_traceback_later(seconds, exit=True, file=sys.stderr)


class ResilientWorker(Worker):
    _backoff = BACKOFF_START
    _outage = False

    async def main(self) -> None:
        if self._pool is None and self.redis_settings is not None:
            settings = replace(self.redis_settings, conn_retries=0)
            while self._pool is None:
                try:
                    self._pool = await create_pool(
                        settings, job_deserializer=self.job_deserializer,
                        job_serializer=self.job_serializer, default_queue_name=self.queue_name,
                        expires_extra_ms=self.expires_extra_ms)
                except Exception as exc:
                    if not redis_outage(exc) and not isinstance(exc, OSError):
                        raise
                    await self._pause(exc)
            self._recovered()
        await super().main()

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except Exception as exc:
            if not redis_outage(exc):
                raise
            await self._pause(exc)
        else:
            self._recovered()

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        try:
            await super().start_jobs(job_ids)
        except Exception as exc:
            if redis_outage(exc):
                # ARQ had counted the job it was starting (and taken a semaphore slot) before
                # the Redis call that failed; without this, each outage would leak a slot.
                self.job_counter -= 1
                self.sem.release()
            raise

    def handle_sig(self, signum: signal.Signals) -> None:
        if self._handle_signals:  # a real signal (`close` calls this too when it is off)
            exit_if_stuck(SHUTDOWN_OVERRUN)
        super().handle_sig(signum)

    def handle_sig_wait_for_completion(self, signum: signal.Signals) -> None:
        exit_if_stuck((self._job_completion_wait or 0) + SHUTDOWN_OVERRUN)
        super().handle_sig_wait_for_completion(signum)

    async def close(self) -> None:
        """ARQ's close, except that an unreachable Redis does not skip the shutdown hook."""
        if not self._handle_signals:
            self.handle_sig(signal.SIGUSR1)
        if not self._pool:
            return
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.pool.delete(self.health_check_key)
        if self.on_shutdown:
            await self.on_shutdown(self.ctx)
        with contextlib.suppress(Exception):
            await self.pool.close(close_connection_pool=True)
        self._pool = None

    async def _pause(self, exc: BaseException) -> None:
        if not self._outage:
            log.warning("Redis unreachable; the worker waits and reconnects (running jobs go on)",
                        extra={"error": str(exc)})
            self._outage = True
        await asyncio.sleep(self._backoff)
        self._backoff = min(BACKOFF_MAX, self._backoff * 2)

    def _recovered(self) -> None:
        if self._outage:
            log.info("Redis reachable again; the worker takes jobs")
        self._outage = False
        self._backoff = BACKOFF_START
