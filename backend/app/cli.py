"""`citewise` command: serve, worker, migrate, create-admin, reindex."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from app.core.config import ConfigError, get_settings


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
                    proxy_headers=True, log_config=None)
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
        from app.admin.reindex_cli import run_reindex

        return asyncio.run(run_reindex(settings, wait=args.wait))
    return 1


async def _create_admin(email: str, password: str) -> int:
    from app.admin import audit
    from app.auth.service import create_user
    from app.core.container import build_core
    from app.core.errors import AppError
    from app.core.migrations import upgrade_async

    settings = get_settings()
    if not settings.is_production:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await upgrade_async(settings.effective_database_url)
    container = build_core(settings)
    try:
        async with container.sessions() as session:
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
        await container.aclose()


if __name__ == "__main__":
    raise SystemExit(main())
