"""`citewise reindex [--wait]`: rebuild the vector index from the database alone.

PostgreSQL/SQLite hold every chunk's text, so a lost or corrupted Chroma is rebuilt by embedding
them again. With `--wait` the build runs in this process with progress on stdout; without it the
request is recorded and a running server (its `IndexManager.watch` loop) picks it up.
"""

from __future__ import annotations

import asyncio
import sys

from app.admin.reindex import IndexManager
from app.admin.runtime import RuntimeSettingsService
from app.core.config import Settings
from app.core.container import build_core


async def run_reindex(settings: Settings, wait: bool) -> int:
    from app.core.migrations import upgrade_async
    from app.providers.factory import build_vector_store

    if not settings.is_production:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await upgrade_async(settings.effective_database_url)
    container = build_core(settings)
    runtime = RuntimeSettingsService(settings, container.sessions)
    index = IndexManager(settings, container.sessions, runtime, build_vector_store(container))
    try:
        if not wait:
            await index.request()
            print("citewise: re-index requested; a running server starts it within seconds "
                  "(progress in Admin → Settings). Use --wait to run it here.")
            return 0
        build = asyncio.create_task(index.run(force=True))
        while not build.done():
            await asyncio.wait({build}, timeout=5)
            if not build.done():
                st = await index.status()
                print(f"citewise: re-index {st.status} {st.done}/{st.total} chunks "
                      f"({st.progress}%) into {st.collection}", flush=True)
        result = build.result()
        if result.status == "idle":
            print(f"citewise: re-index complete; serving from {result.collection}")
            return 0
        if result.status == "running":
            print("citewise: another process is re-indexing already", file=sys.stderr)
            return 1
        print(f"citewise: re-index {result.status}: {result.error or ''}", file=sys.stderr)
        return 1
    finally:
        await index.aclose()
        await container.aclose()
