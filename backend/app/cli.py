"""`citewise` command: serve, worker, migrate, create-admin, reindex.

`citewise reindex [--wait]` rebuilds the vector index from the database alone: PostgreSQL/SQLite
hold every chunk's text, so a lost or corrupted Chroma is rebuilt by embedding them again. With
`--wait` the build runs in this process with progress on stdout; without it the request is recorded
and a running server (its `Reindexer.watch` loop) picks it up.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from app.core.config import ConfigError, Settings, get_settings
from app.core.migrations import upgrade_async


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="citewise", description="Citewise server and tools")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API server (and, when embedded, the job runner)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1, help="API processes (production only)")
    sub.add_parser("worker", help="run an ARQ worker (production)")
    sub.add_parser("migrate", help="apply database migrations")
    admin = sub.add_parser("create-admin", help="create an administrator account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", help="defaults to $CITEWISE_ADMIN_PASSWORD or a prompt")
    reindex = sub.add_parser("reindex", help="rebuild the vector index from the database")
    reindex.add_argument("--wait", action="store_true", help="run in this process until done")
    args = parser.parse_args(argv)

    try:
        settings = get_settings()
        _ = settings.secret
    except ConfigError as exc:
        print(f"citewise: {exc}", file=sys.stderr)
        return 2

    if args.command == "serve":
        import uvicorn

        if settings.is_production is False and args.workers > 1:
            print("citewise: the embedded profile runs one process; set CITEWISE_MODE=production "
                  "for several API workers", file=sys.stderr)
            return 2
        uvicorn.run("app.main:app_factory", factory=True, host=args.host or settings.host,
                    port=args.port or settings.port, workers=args.workers,
                    # The client address comes from CITEWISE_TRUSTED_PROXIES (app.api.clientip), not
                    # from uvicorn: FORWARDED_ALLOW_IPS="*" let any client pick its own address.
                    proxy_headers=False, log_config=None)
        return 0
    if args.command == "worker":
        from app.workers.tasks import run_worker

        return run_worker()
    if args.command == "migrate":
        from app.core.migrations import upgrade

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.effective_database_url)
        print("citewise: database is up to date")
        return 0
    if args.command == "create-admin":
        password = args.password or os.environ.get("CITEWISE_ADMIN_PASSWORD") \
            or getpass.getpass("Password: ")
        return asyncio.run(_create_admin(args.email, password))
    if args.command == "reindex":
        return asyncio.run(run_reindex(settings, wait=args.wait))
    return 1


async def _create_admin(email: str, password: str) -> int:
    from app.auth.service import create_user
    from app.core.db import create_engine, create_sessionmaker
    from app.core.errors import AppError
    from app.platform import audit

    settings = get_settings()
    if not settings.is_production:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await upgrade_async(settings.effective_database_url)
    # Only the database is needed here: no vector store, job queue or models.
    engine = create_engine(settings.effective_database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            user = await create_user(session, settings, email=email, password=password,
                                     role="admin")
            audit.record(session, "user.created", actor_email="citewise create-admin",
                         target=user.email, details={"role": "admin", "via": "cli"})
            await session.commit()
        print(f"citewise: created administrator {user.email}")
        return 0
    except AppError as exc:
        print(f"citewise: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()


async def run_reindex(settings: Settings, wait: bool) -> int:
    from app.bootstrap import build_container  # loads every provider: only for this command

    if not settings.is_production:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await upgrade_async(settings.effective_database_url)
    container = build_container(settings)
    index = container.reindex
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
        await container.aclose()


if __name__ == "__main__":
    raise SystemExit(main())
