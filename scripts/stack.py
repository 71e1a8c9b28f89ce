"""`make stack`: the production topology on this machine, from real binaries, kept running by supervisord.

    make stack                                   # http://127.0.0.1:8080, Ctrl-C stops everything
    STACK_API_PROCS=3 STACK_WORKERS=1 make stack

Starts, in a data directory of its own (``STACK_DIR``, default ``<repo>/.stack``): PostgreSQL (its
own cluster, made with ``initdb`` on the first run), Redis, the Chroma server (``chroma run`` from the
backend virtualenv), then runs ``citewise migrate``, then N API processes (``citewise serve``, one
port each), M ARQ workers (``citewise worker``) and Debian's Nginx with the shipped site config
``deploy/nginx/citewise.conf`` (its ports templated, plain http on loopback). supervisord restarts any
process that exits (Redis and PostgreSQL included) without touching the others, and stops them all,
front to back, on Ctrl-C (SIGINT) or SIGTERM. The signing secret and the database password are
generated into the stack directory on the first run; nothing is a default.

Settings (environment): STACK_DIR, STACK_HTTP_PORT (8080), STACK_REDIS_PORT (6380), STACK_PG_PORT
(5433), STACK_CHROMA_PORT (8001), STACK_API_PORT (8100: API process i listens on STACK_API_PORT + i),
STACK_API_PROCS (2), STACK_WORKERS (2), STACK_START_TIMEOUT (300 s per wait), STACK_PG_BIN (the
PostgreSQL server binaries, default the newest /usr/lib/postgresql/*/bin), STACK_FRONTEND_DIST
(<repo>/frontend/dist). Other ``CITEWISE_*`` variables of the calling environment (an LLM endpoint,
limits...) reach every process; the connection settings are the stack's own.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SITE_TEMPLATE = REPO / "deploy" / "nginx" / "citewise.conf"
# Each Citewise process opens a pool of up to 30 PostgreSQL connections (app/core/db.py: 10 + 20
# overflow); the headroom covers `citewise migrate`, `citewise reindex` and a psql session.
CONNECTIONS_PER_PROCESS = 30
CONNECTION_HEADROOM = 10
# Variables that the stack sets itself: the caller's values would point processes elsewhere.
OWN_VARIABLES = {"DATABASE_URL", "REDIS_URL", "CHROMA_URL", "SECRET_KEY", "PROMETHEUS_MULTIPROC_DIR"}


class StackError(Exception):
    """A start-up problem a person can fix; printed without a traceback."""


def _int_setting(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise StackError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise StackError(f"{name} must be at least {minimum} (got {value})")
    return value


def _default_pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not found:
        raise StackError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: install the "
                         "`postgresql` package or set STACK_PG_BIN")
    return found[-1].parent


@dataclass(frozen=True)
class StackConfig:
    dir: Path
    http_port: int
    redis_port: int
    pg_port: int
    chroma_port: int
    api_port: int
    api_procs: int
    workers: int
    start_timeout: float
    pg_bin: Path
    frontend_dist: Path
    nginx: str
    api_ports: list[int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "api_ports", [self.api_port + i for i in range(self.api_procs)])

    @classmethod
    def from_env(cls) -> StackConfig:
        nginx = os.environ.get("STACK_NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
        return cls(
            dir=Path(os.environ.get("STACK_DIR") or REPO / ".stack").resolve(),
            http_port=_int_setting("STACK_HTTP_PORT", 8080),
            redis_port=_int_setting("STACK_REDIS_PORT", 6380),
            pg_port=_int_setting("STACK_PG_PORT", 5433),
            chroma_port=_int_setting("STACK_CHROMA_PORT", 8001),
            api_port=_int_setting("STACK_API_PORT", 8100),
            api_procs=_int_setting("STACK_API_PROCS", 2),
            workers=_int_setting("STACK_WORKERS", 2),
            start_timeout=float(_int_setting("STACK_START_TIMEOUT", 300)),
            pg_bin=Path(os.environ["STACK_PG_BIN"]) if os.environ.get("STACK_PG_BIN") else _default_pg_bin(),
            frontend_dist=Path(os.environ.get("STACK_FRONTEND_DIST") or REPO / "frontend" / "dist").resolve(),
            nginx=nginx,
        )

    @property
    def max_connections(self) -> int:
        return CONNECTIONS_PER_PROCESS * (self.api_procs + self.workers) + CONNECTION_HEADROOM

    def ports(self) -> dict[str, int]:
        named = {"STACK_HTTP_PORT": self.http_port, "STACK_REDIS_PORT": self.redis_port,
                 "STACK_PG_PORT": self.pg_port, "STACK_CHROMA_PORT": self.chroma_port}
        named.update({f"STACK_API_PORT+{i}": p for i, p in enumerate(self.api_ports)})
        return named


# ---- the Nginx site: the shipped file with this stack's ports -------------------------------------

def _replace_once(pattern: str, repl: str, text: str, what: str, flags: int = 0) -> str:
    new, n = re.subn(pattern, lambda _: repl, text, flags=flags)
    if n != 1:
        raise StackError(f"{SITE_TEMPLATE.relative_to(REPO)}: expected one {what}, found {n}; "
                         "update scripts/stack.py together with the site config")
    return new


def render_site(template: str, *, http_port: int, api_ports: list[int], root: Path) -> str:
    """deploy/nginx/citewise.conf for plain http on loopback: same locations, headers and limits.

    Only what ties the file to a real host changes: the http→https redirect server and the TLS lines
    go, the TLS server listens on 127.0.0.1:``http_port``, the upstream lists this stack's API
    processes and ``root`` is the built SPA. Anything not found exactly once stops the stack.
    """
    site = _replace_once(r"server \{\s*listen 80;.*?return 301 [^;]*;\s*\}\n+", "", template,
                         "http-to-https redirect server", re.DOTALL)
    site = _replace_once(r"listen 443 ssl http2;", f"listen 127.0.0.1:{http_port};", site, "TLS listen")
    site = _replace_once(r"\n\s*listen \[::\]:443 ssl http2;", "", site, "IPv6 TLS listen")
    site = re.sub(r"\n\s*ssl_[a-z_]+ [^;]*;", "", site)
    site = _replace_once(r"server_name citewise\.example\.com;", "server_name 127.0.0.1 localhost;",
                         site, "server_name")
    site = _replace_once(r"root /srv/citewise/frontend/dist;", f"root {root};", site, "SPA root")
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n" for p in api_ports)
    return _replace_once(r"(?m)(    least_conn;\n)(    #? ?server [^\n]*\n)+",
                         "    least_conn;\n" + servers, site, "upstream server list")


def render_nginx_main(cfg: StackConfig, user: str | None) -> str:
    ngx = cfg.dir / "nginx"
    temp = "\n".join(f"    {kind}_temp_path {ngx / 'temp' / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""# Generated by scripts/stack.py: do not edit (the site is deploy/nginx/citewise.conf).
{f"user {user};" if user else ""}
worker_processes 1;
pid {cfg.dir / "run" / "nginx.pid"};
error_log {cfg.dir / "log" / "nginx-error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log {cfg.dir / "log" / "nginx-access.log"};
{temp}
    include {ngx / "citewise.conf"};
}}
"""


# ---- supervisord ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Program:
    name: str
    command: list[str]
    priority: int
    autostart: bool
    stopsignal: str = "TERM"
    stopwaitsecs: int = 30
    user: str | None = None
    group: str | None = None


def _quote(arg: str) -> str:
    # supervisord splits `command` with shlex and expands %(name)s: quote and escape.
    quoted = "'" + arg.replace("'", "'\"'\"'") + "'" if re.search(r"[\s'\"]", arg) or not arg else arg
    return quoted.replace("%", "%%")


def programs(cfg: StackConfig, pg_user: str | None) -> list[Program]:
    bin_ = VENV_BIN
    pg = [str(cfg.pg_bin / "postgres"), "-D", str(cfg.dir / "pg" / "data"),
          "-c", "listen_addresses=127.0.0.1", "-c", f"port={cfg.pg_port}",
          "-c", "unix_socket_directories=", "-c", f"max_connections={cfg.max_connections}"]
    progs = [
        # SIGINT is PostgreSQL's "fast" shutdown: open transactions roll back, nothing is lost.
        Program("postgres", pg, 10, True, stopsignal="INT", stopwaitsecs=60, user=pg_user),
        Program("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(cfg.redis_port),
                          "--save", "", "--appendonly", "no", "--dir", str(cfg.dir / "redis"),
                          "--daemonize", "no"], 10, True),
        Program("chroma", [str(bin_ / "chroma"), "run", "--path", str(cfg.dir / "chroma"),
                           "--host", "127.0.0.1", "--port", str(cfg.chroma_port)], 10, True),
    ]
    progs += [Program(f"api-{i + 1}", [str(bin_ / "citewise"), "serve", "--host", "127.0.0.1",
                                       "--port", str(port)], 30, False, group="api")
              for i, port in enumerate(cfg.api_ports)]
    # The worker gets its stop signal alone (its extraction hosts are its own business) and longer
    # to finish; only on the deadline does supervisord kill the whole process group.
    progs += [Program(f"worker-{i + 1}", [str(bin_ / "citewise"), "worker"], 30, False,
                      stopwaitsecs=90, group="workers") for i in range(cfg.workers)]
    progs.append(Program("nginx", [cfg.nginx, "-p", str(cfg.dir / "nginx"),
                                   "-c", str(cfg.dir / "nginx" / "nginx.conf"),
                                   "-e", str(cfg.dir / "log" / "nginx-error.log"),
                                   "-g", "daemon off;"], 40, False, stopsignal="QUIT", stopwaitsecs=15))
    return progs


def _session_group_members(pgid: int, sid: int) -> list[int]:
    """PIDs in process group ``pgid`` that belong to session ``sid`` (this stack's supervisord)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and int(fields[3]) == sid:
            members.append(int(stat.parent.name))
    return members


def exec_program(name: str, command: list[str], run_dir: Path) -> None:
    """Start one supervised program after killing what its previous run left behind.

    supervisord gives each program a process group of its own, and kills it whole when it stops a
    program; but when a program's main process dies on its own (kill -9, a crash), its children
    live on: Nginx's worker keeps the port, so the new master could never bind it. Those leftovers
    are the previous run's process group, inside this stack's session, and go first.
    """
    record = run_dir / "pgid" / name
    record.parent.mkdir(exist_ok=True)
    try:
        old = int(record.read_text())
    except (OSError, ValueError):
        old = 0
    if old and old != os.getpgrp():
        for pid in _session_group_members(old, os.getsid(0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    record.write_text(str(os.getpgrp()))
    os.execvp(command[0], command)  # noqa: S606 - the program supervisord was told to run


def render_supervisord(cfg: StackConfig, progs: list[Program]) -> str:
    run, log = cfg.dir / "run", cfg.dir / "log"
    out = [
        "; Generated by scripts/stack.py for this stack: do not edit.",
        "[unix_http_server]", f"file={run / 'supervisor.sock'}", "chmod=0700", "",
        "[supervisord]", "nodaemon=true", *(["user=root"] if os.geteuid() == 0 else []),
        f"logfile={log / 'supervisord.log'}",
        f"pidfile={run / 'supervisord.pid'}", f"childlogdir={log}", "loglevel=info", "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
        "[supervisorctl]", f"serverurl=unix://{run / 'supervisor.sock'}", "",
    ]
    this = str(Path(__file__).resolve())
    for p in progs:
        out += [
            f"[program:{p.name}]",
            # Through `stack.py exec` (which clears a crashed run's leftovers), except PostgreSQL,
            # which runs as another account and whose backends exit when their postmaster dies.
            "command=" + " ".join(_quote(a) for a in (
                p.command if p.user
                else [sys.executable, this, "exec", p.name, str(cfg.dir / "run"), "--", *p.command])),
            f"directory={cfg.dir}",
            f"priority={p.priority}",
            f"autostart={str(p.autostart).lower()}",
            # Restart whatever exits, however often (a process that dies at once waits 1 s longer
            # before each new try, and the count starts again once it stays up startsecs).
            "autorestart=true", "startsecs=3", "startretries=1000",
            f"stopsignal={p.stopsignal}", f"stopwaitsecs={p.stopwaitsecs}",
            "stopasgroup=false", "killasgroup=true",
            "redirect_stderr=true", f"stdout_logfile={log / (p.name + '.log')}",
            "stdout_logfile_maxbytes=20MB", "stdout_logfile_backups=2",
        ]
        if p.user:
            out.append(f"user={p.user}")
        out.append("")
    for group in sorted({p.group for p in progs if p.group}):
        members = ",".join(p.name for p in progs if p.group == group)
        out += [f"[group:{group}]", f"programs={members}", ""]
    return "\n".join(out)


# ---- the stack directory: secrets, PostgreSQL cluster, env file ------------------------------------

def _write_secret(path: Path, nbytes: int) -> str:
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(nbytes) + "\n")
    return path.read_text().strip()


def _pg_user() -> str | None:
    """PostgreSQL refuses to run as root: then it runs as the `postgres` account."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise StackError("running as root, PostgreSQL needs the `postgres` account (from the "
                         "postgresql package) to run as") from None
    return "postgres"


def _check_traversable(path: Path, user: str) -> None:
    for parent in [path, *path.parents]:
        if not parent.stat().st_mode & 0o001:
            raise StackError(f"the `{user}` account cannot enter {parent} (no o+x): choose a "
                             f"STACK_DIR it can reach, e.g. STACK_DIR=/tmp/citewise-stack")


def init_postgres(cfg: StackConfig, password: str, pg_user: str | None) -> None:
    pgdir = cfg.dir / "pg"
    if (pgdir / "data" / "PG_VERSION").exists():
        return
    print(f"stack: creating a PostgreSQL cluster in {pgdir / 'data'}", flush=True)
    pgdir.mkdir(mode=0o700, exist_ok=True)
    if pg_user:
        _check_traversable(cfg.dir, pg_user)
        entry = pwd.getpwnam(pg_user)
        os.chown(pgdir, entry.pw_uid, entry.pw_gid)
    pwfile = pgdir / "initdb.pw"
    pwfile.write_text(password + "\n")
    if pg_user:
        os.chown(pwfile, pwd.getpwnam(pg_user).pw_uid, -1)
    try:
        subprocess.run(  # noqa: S603 - the server's own binary, fixed arguments
            [str(cfg.pg_bin / "initdb"), "-D", str(pgdir / "data"), "-U", "citewise",
             f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--no-locale"],
            check=True, user=pg_user, stdout=subprocess.DEVNULL, cwd=pgdir)
    except subprocess.CalledProcessError as exc:
        raise StackError(f"initdb failed ({exc.returncode}); see the lines above") from None
    finally:
        pwfile.unlink(missing_ok=True)


def citewise_env(cfg: StackConfig, secret: str, db_password: str) -> dict[str, str]:
    """The environment of every API and worker process (also written to STACK_DIR/citewise.env)."""
    return {
        "CITEWISE_MODE": "production",
        "CITEWISE_SECRET_KEY": secret,
        "DATABASE_URL": f"postgresql+asyncpg://citewise:{db_password}@127.0.0.1:{cfg.pg_port}/citewise",
        "REDIS_URL": f"redis://127.0.0.1:{cfg.redis_port}/0",
        "CHROMA_URL": f"http://127.0.0.1:{cfg.chroma_port}",
        "CITEWISE_DATA_DIR": str(cfg.dir / "files"),
        "CITEWISE_SERVE_FRONTEND": "false",
        # Nginx adds the security headers to every response (deploy/nginx/citewise.conf).
        "CITEWISE_SECURITY_HEADERS": "false",
        # Plain http on loopback: a Secure cookie would never come back from the browser.
        "CITEWISE_COOKIE_SECURE": "false",
        # Nginx is the only client of the API processes and overwrites X-Forwarded-For.
        "CITEWISE_TRUSTED_PROXIES": '["127.0.0.1"]',
        "PROMETHEUS_MULTIPROC_DIR": str(cfg.dir / "run" / "metrics"),
        "CITEWISE_EMBEDDING_THREADS": os.environ.get(
            "CITEWISE_EMBEDDING_THREADS", str(max(1, (os.cpu_count() or 1) // cfg.workers))),
    }


def write_env_file(cfg: StackConfig, env: dict[str, str]) -> Path:
    path = cfg.dir / "citewise.env"
    lines = ["# This stack's settings (generated by scripts/stack.py). For tools against it, e.g.:",
             f"#   set -a; . {path}; set +a; backend/.venv/bin/citewise create-admin --email you@example.com"]
    lines += [f"{k}='{v}'" for k, v in env.items()]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


# ---- waiting for things ---------------------------------------------------------------------------

class Stopping(Exception):
    """Ctrl-C or SIGTERM arrived while starting."""


class Launcher:
    def __init__(self, cfg: StackConfig) -> None:
        self.cfg = cfg
        self.supervisord: subprocess.Popen[bytes] | None = None
        self.stopping = False

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stopping:
            print(f"\nstack: {signal.Signals(signum).name}: stopping every process", flush=True)
        self.stopping = True
        if self.supervisord and self.supervisord.poll() is None:
            self.supervisord.send_signal(signal.SIGTERM)

    def wait_for(self, what: str, check: object, program: str) -> None:
        deadline = time.monotonic() + self.cfg.start_timeout
        while True:
            if self.stopping:
                raise Stopping
            if self.supervisord is None or self.supervisord.poll() is not None:
                raise StackError("supervisord exited")
            if callable(check) and check():
                return
            if time.monotonic() > deadline:
                log = self.cfg.dir / "log" / f"{program}.log"
                tail = "\n  ".join(log.read_text(errors="replace").splitlines()[-15:]) if log.exists() else ""
                raise StackError(f"{what} did not come up within {self.cfg.start_timeout:.0f} s "
                                 f"(STACK_START_TIMEOUT); last lines of {log}:\n  {tail}")
            time.sleep(0.5)

    def ctl(self, *args: str) -> None:
        subprocess.run([str(VENV_BIN / "supervisorctl"), "-c", str(self.cfg.dir / "supervisord.conf"),  # noqa: S603
                        *args], check=True, stdout=subprocess.DEVNULL)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as r:  # noqa: S310 - loopback URLs we built
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _redis_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _psql(cfg: StackConfig, password: str, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the client binary, our own statement
        [str(cfg.pg_bin / "psql"), "-h", "127.0.0.1", "-p", str(cfg.pg_port), "-U", "citewise",
         "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-tAc", sql],
        env={**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "3"},
        capture_output=True, text=True, check=False)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        # As the servers do: a port with connections in TIME_WAIT from a previous run is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _already_running(cfg: StackConfig) -> int | None:
    pidfile = cfg.dir / "run" / "supervisord.pid"
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def run(cfg: StackConfig) -> int:
    for path, hint in ((VENV_BIN / "citewise", "make install"), (VENV_BIN / "supervisord", "make stack"),
                       (VENV_BIN / "chroma", "make install"), (cfg.pg_bin / "postgres", "STACK_PG_BIN")):
        if not path.exists():
            raise StackError(f"{path} is missing (see {hint})")
    for tool in ("redis-server", cfg.nginx):
        if not shutil.which(tool):
            raise StackError(f"`{tool}` is not installed (make stack installs it with apt)")
    if pid := _already_running(cfg):
        raise StackError(f"a stack already runs from {cfg.dir} (supervisord pid {pid})")
    busy = [f"{port} ({name})" for name, port in cfg.ports().items() if not _port_free(port)]
    if len(set(cfg.ports().values())) != len(cfg.ports()):
        raise StackError(f"two settings name the same port: {cfg.ports()}")
    if busy:
        raise StackError("ports already in use on 127.0.0.1: " + ", ".join(busy)
                         + "; set those STACK_* variables to free ports")
    if not (cfg.frontend_dist / "index.html").exists():
        print(f"stack: no built web app in {cfg.frontend_dist} (make frontend): the API works, "
              "the pages answer 404", flush=True)

    for sub in ("log", "run", "redis", "chroma", "files", "nginx/temp"):
        (cfg.dir / sub).mkdir(parents=True, exist_ok=True)
    cfg.dir.chmod(0o755)  # PostgreSQL's account must reach its cluster inside
    metrics = cfg.dir / "run" / "metrics"  # prometheus multiprocess files: empty at each start
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir()
    secret = _write_secret(cfg.dir / "secret.key", 48)
    db_password = _write_secret(cfg.dir / "pg-password", 24)
    pg_user = _pg_user()
    init_postgres(cfg, db_password, pg_user)

    env = citewise_env(cfg, secret, db_password)
    env_file = write_env_file(cfg, env)
    nginx_user = pwd.getpwuid(os.geteuid()).pw_name if os.geteuid() == 0 else None
    (cfg.dir / "nginx" / "citewise.conf").write_text(
        render_site(SITE_TEMPLATE.read_text(), http_port=cfg.http_port, api_ports=cfg.api_ports,
                    root=cfg.frontend_dist))
    (cfg.dir / "nginx" / "nginx.conf").write_text(render_nginx_main(cfg, nginx_user))
    check = subprocess.run([cfg.nginx, "-t", "-q", "-p", str(cfg.dir / "nginx"),  # noqa: S603
                            "-c", str(cfg.dir / "nginx" / "nginx.conf"),
                            "-e", str(cfg.dir / "log" / "nginx-error.log")],
                           capture_output=True, text=True, check=False)
    if check.returncode:
        raise StackError(f"nginx -t refused the generated config: {check.stderr.strip()}")
    progs = programs(cfg, pg_user)
    (cfg.dir / "supervisord.conf").write_text(render_supervisord(cfg, progs))

    passthrough = _passthrough()
    proc_env = {k: v for k, v in os.environ.items()
                if (k not in OWN_VARIABLES and not k.startswith("CITEWISE_")) or k in passthrough}
    proc_env.update(env)
    launcher = Launcher(cfg)
    signal.signal(signal.SIGINT, launcher.on_signal)
    signal.signal(signal.SIGTERM, launcher.on_signal)
    print(f"stack: supervisord with {len(progs)} programs; logs in {cfg.dir / 'log'}", flush=True)
    # Its own session: a terminal's Ctrl-C reaches this launcher, which stops supervisord once.
    launcher.supervisord = subprocess.Popen(  # noqa: S603 - the virtualenv's supervisord
        [str(VENV_BIN / "supervisord"), "-n", "-c", str(cfg.dir / "supervisord.conf")],
        env=proc_env, cwd=cfg.dir, start_new_session=True)
    try:
        launcher.wait_for(f"PostgreSQL on :{cfg.pg_port}", lambda: _psql(cfg, db_password, "SELECT 1")
                          .returncode == 0, "postgres")
        exists = _psql(cfg, db_password, "SELECT 1 FROM pg_database WHERE datname = 'citewise'")
        if exists.stdout.strip() != "1":
            made = _psql(cfg, db_password, "CREATE DATABASE citewise")
            if made.returncode:
                raise StackError(f"could not create the database: {made.stderr.strip()}")
        launcher.wait_for(f"Redis on :{cfg.redis_port}", lambda: _redis_ok(cfg.redis_port), "redis")
        print("stack: citewise migrate", flush=True)
        migrate = subprocess.run([str(VENV_BIN / "citewise"), "migrate"], env=proc_env,  # noqa: S603
                                 cwd=cfg.dir, capture_output=True, text=True, check=False)
        if migrate.returncode:
            raise StackError(f"citewise migrate failed:\n{migrate.stdout}{migrate.stderr}")
        launcher.wait_for(f"Chroma on :{cfg.chroma_port}",
                          lambda: _http_ok(f"http://127.0.0.1:{cfg.chroma_port}/api/v2/heartbeat"), "chroma")
        launcher.ctl("start", "api:*", "workers:*", "nginx")
        for i, port in enumerate(cfg.api_ports):
            launcher.wait_for(f"API process {i + 1} on :{port}",
                              lambda p=port: _http_ok(f"http://127.0.0.1:{p}/api/v1/ready"), f"api-{i + 1}")
        front = f"http://127.0.0.1:{cfg.http_port}"
        launcher.wait_for(f"Nginx on :{cfg.http_port}", lambda: _http_ok(f"{front}/api/v1/ready"), "nginx")
        print(f"stack: READY on {front} — {cfg.api_procs} API process(es), {cfg.workers} worker(s). "
              "The first account registered becomes the administrator.\n"
              f"stack: settings for tools in {env_file}; Ctrl-C stops everything", flush=True)
    except Stopping:
        pass
    except (StackError, subprocess.CalledProcessError) as exc:
        print(f"stack: {exc}", file=sys.stderr, flush=True)
        launcher.on_signal(signal.SIGTERM, None)
        launcher.supervisord.wait()
        return 1
    code = launcher.supervisord.wait()
    print(f"stack: stopped (supervisord exit {code})", flush=True)
    return 0 if launcher.stopping else (code or 1)


def _passthrough() -> set[str]:
    """The caller's CITEWISE_* settings that reach the processes (all but the stack's own)."""
    own = {"CITEWISE_MODE", "CITEWISE_SECRET_KEY", "CITEWISE_DATABASE_URL", "CITEWISE_REDIS_URL",
           "CITEWISE_CHROMA_URL", "CITEWISE_DATA_DIR", "CITEWISE_SERVE_FRONTEND", "CITEWISE_COOKIE_SECURE",
           "CITEWISE_TRUSTED_PROXIES", "CITEWISE_HOST", "CITEWISE_PORT", "CITEWISE_JOB_BACKEND"}
    return {k for k in os.environ if k.startswith("CITEWISE_") and k not in own}


def main() -> int:
    if sys.argv[1:2] == ["exec"] and len(sys.argv) > 5 and sys.argv[4] == "--":
        exec_program(sys.argv[2], sys.argv[5:], Path(sys.argv[3]))
    try:
        return run(StackConfig.from_env())
    except StackError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
