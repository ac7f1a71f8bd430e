"""`python -m bot.scaled` (`make run-scaled`): several instances of each process on one machine.

nginx on 8080 in front of the gateways (8001, 8002, websockets included), Rasa on 5005 and 5006 sharing a
Redis lock store and a tracker store in PostgreSQL, the action server with several workers, the platform
stub; PostgreSQL and Redis from Debian's packages, started here with their data under `var/` unless
`DATABASE_URL` (PostgreSQL) or `REDIS_URL` name running ones. Everything runs in the foreground under
honcho, like `make run`; Ctrl-C stops it all. `python -m bot.scaled wait HOST:PORT ... -- COMMAND` waits
for servers to accept connections, then runs the command (how the Procfile orders the start).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PACKAGES = {"nginx": "nginx", "redis-server": "redis-server", "initdb": "postgresql"}


@dataclass(frozen=True)
class Plan:
    """Where each process listens; `var` holds the generated files and the local servers' data."""

    var: Path
    instances: int = 2
    balancer: int = 8080
    gateway: int = 8001  # the first gateway; the others follow
    rasa: int = 5005  # the first Rasa; the others follow
    actions: int = 5055
    action_workers: int = 2
    platform: int = 8100
    postgres: int = 5433  # a local PostgreSQL, when DATABASE_URL names none
    redis: int = 6380  # a local Redis, when REDIS_URL names none

    def gateways(self) -> list[int]:
        return [self.gateway + n for n in range(self.instances)]

    def rasas(self) -> list[int]:
        return [self.rasa + n for n in range(self.instances)]


def database_url(env: Mapping[str, str], plan: Plan) -> str:
    """DATABASE_URL when it names PostgreSQL, else the local one this command starts."""
    given = env.get("DATABASE_URL", "")
    if given.startswith("postgresql"):
        return given
    return f"postgresql://shopdesk@127.0.0.1:{plan.postgres}/shopdesk"


def redis_url(env: Mapping[str, str], plan: Plan) -> str:
    return env.get("REDIS_URL") or f"redis://127.0.0.1:{plan.redis}/0"


def nginx_conf(plan: Plan) -> str:
    """nginx as the load balancer: round robin over the gateways, websockets upgraded, the client's address
    passed on; a gateway that refuses connections is skipped, and a request that could not reach one is
    tried on the next (never a request a gateway may have started: POSTs are not repeated). Connections to
    the gateways are kept; a request may wait 75 s for its answer (the bot's 30 s, and turns queued before
    it), a websocket an hour without traffic (the gateway pings every 20 s)."""
    upstream = "\n".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in plan.gateways())
    nginx = plan.var / "nginx"
    return f"""# Written by `python -m bot.scaled`; changes are lost at the next start.
worker_processes 1;
pid {nginx}/nginx.pid;
error_log {nginx}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {nginx}/body;
  proxy_temp_path {nginx}/proxy;
  fastcgi_temp_path {nginx}/fastcgi;
  uwsgi_temp_path {nginx}/uwsgi;
  scgi_temp_path {nginx}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' ""; }}
  upstream gateways {{
{upstream}
    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{plan.balancer};
    client_max_body_size 64k;
    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_next_upstream error timeout;
    proxy_connect_timeout 2s;
    location / {{
      proxy_pass http://gateways;
      proxy_read_timeout 75s;
    }}
    location ~ /ws(/|$) {{
      proxy_pass http://gateways;
      proxy_read_timeout 3600s;
    }}
  }}
}}
"""


def endpoints(env: Mapping[str, str], plan: Plan) -> str:
    """Rasa's endpoints for every instance: the shared tracker store and the Redis lock store, from the
    environment each Rasa gets (no secret written to disk)."""
    password = "  password: ${LOCK_REDIS_PASSWORD}\n" if urlsplit(redis_url(env, plan)).password else ""
    return f"""# Written by `python -m bot.scaled`.
action_endpoint:
  url: "http://127.0.0.1:{plan.actions}/webhook"
  token: ${{ACTION_SERVER_TOKEN}}
  enable_selective_domain: true
tracker_store:
  type: bot.tracker_store.CachedSQLTrackerStore
  url: ${{TRACKER_DATABASE_URL}}
lock_store:
  type: redis
  url: ${{LOCK_REDIS_HOST}}
  port: ${{LOCK_REDIS_PORT}}
  db: ${{LOCK_REDIS_DB}}
{password}  key_prefix: shopdesk
"""


def environment(env: Mapping[str, str], plan: Plan) -> dict[str, str]:
    """What every process of the scaled run gets besides the settings of `make run`."""
    redis = urlsplit(redis_url(env, plan))
    return {
        "DATABASE_URL": database_url(env, plan),
        "TRACKER_DATABASE_URL": database_url(env, plan),
        "REDIS_URL": redis_url(env, plan),
        "LOCK_REDIS_HOST": redis.hostname or "127.0.0.1",
        "LOCK_REDIS_PORT": str(redis.port or 6379),
        "LOCK_REDIS_DB": "1",  # the locks apart from the gateway's keys (db 0 unless REDIS_URL says)
        **({"LOCK_REDIS_PASSWORD": redis.password} if redis.password else {}),
        "RASA_URL": ",".join(f"http://127.0.0.1:{port}" for port in plan.rasas()),
        "TICKET_LOCK_LIFETIME": "15",  # a Rasa that died mid-message holds its conversation this long
        "GATEWAY_PROXIES": "1",  # behind nginx
        "ACTION_SERVER_PORT": str(plan.actions),
        "ACTION_SERVER_WORKERS": str(plan.action_workers),
        "PLATFORM_PORT": str(plan.platform),
        "PLATFORM_URL": f"http://127.0.0.1:{plan.platform}",
        "RASA_TELEMETRY_ENABLED": "false",  # nothing leaves the machine (neither do crash reports)
    }


def procfile(env: Mapping[str, str], plan: Plan) -> str:
    """The processes, each waiting for the servers it needs; local PostgreSQL and Redis when not given."""
    db, rd = urlsplit(database_url(env, plan)), urlsplit(redis_url(env, plan))
    needs = f"{db.hostname}:{db.port or 5432} {rd.hostname}:{rd.port or 6379}"
    wait = f"{PYTHON} -m bot.scaled wait"
    lines = []
    if not env.get("DATABASE_URL", "").startswith("postgresql"):
        lines.append(f"postgres: {as_postgres()}{pg_bin('postgres')} -D {plan.var}/pg/data -p {plan.postgres}"
                     f" -c listen_addresses=127.0.0.1 -c unix_socket_directories=''")  # fmt: skip
    if not env.get("REDIS_URL"):
        # Locks, live events, presence and attempt counts: nothing Redis must keep across its restarts.
        lines.append(f"redis: redis-server --port {plan.redis} --bind 127.0.0.1 --dir {plan.var}/redis"
                     " --appendonly no --save ''")  # fmt: skip
    lines.append(f"platform: {PYTHON} -m bot.platform")
    lines.append(f"actions: {PYTHON} -m bot.action_server")
    for n, port in enumerate(plan.rasas(), 1):
        lines.append(
            f"rasa{n}: {wait} {needs} -- {PYTHON} -m bot.rasa_server run --enable-api --auth-token $RASA_TOKEN"
            f" --interface 127.0.0.1 --port {port} --model models/current.tar.gz"
            f" --endpoints {plan.var}/scaled/endpoints.yml --credentials credentials.yml"
        )
    for n, port in enumerate(plan.gateways(), 1):
        lines.append(f"gateway{n}: {wait} {needs} -- env GATEWAY_PORT={port} {PYTHON} -m bot.gateway")
    lines.append(f"nginx: nginx -p {plan.var}/nginx -c {plan.var}/nginx/nginx.conf -g 'daemon off;'")
    return "\n".join(lines) + "\n"


def as_postgres() -> str:
    """PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user."""
    return "runuser -u postgres -- " if os.geteuid() == 0 else ""


def pg_bin(name: str) -> str:
    """A PostgreSQL server program: on PATH, else Debian's newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql (or set DATABASE_URL)")
    return str(versions[-1] / name)


def init_postgres(plan: Plan) -> None:
    """A PostgreSQL cluster under var/pg with the `shopdesk` database, made once."""
    data = plan.var / "pg" / "data"
    if (data / "PG_VERSION").exists():
        return
    data.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(data.parent, "postgres")
        shutil.chown(data, "postgres")
    run = as_postgres().split()
    subprocess.run([*run, pg_bin("initdb"), "-D", str(data), "-U", "shopdesk", "--auth=trust"], check=True)
    log = plan.var / "pg" / "init.log"
    server = [*run, pg_bin("pg_ctl"), "-D", str(data), "-w", "-l", str(log)]
    options = f"-p {plan.postgres} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
    subprocess.run([*server, "-o", options, "start"], check=True)
    try:
        subprocess.run(
            [pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(plan.postgres), "-U", "shopdesk", "shopdesk"], check=True
        )
    finally:
        subprocess.run([*server, "stop"], check=True)


def write(env: Mapping[str, str], plan: Plan) -> Path:
    """Writes nginx's configuration, Rasa's endpoints, the Procfile and its environment; the Procfile's path."""
    for folder in ("scaled", "nginx", "redis", *(f"nginx/{t}" for t in ("body", "proxy", "fastcgi", "uwsgi", "scgi"))):
        (plan.var / folder).mkdir(parents=True, exist_ok=True)
    for temp in ("body", "proxy"):
        (plan.var / "nginx" / temp).chmod(0o777)  # nginx's worker may run as another user
    (plan.var / "nginx" / "nginx.conf").write_text(nginx_conf(plan))
    (plan.var / "scaled" / "endpoints.yml").write_text(endpoints(env, plan))
    settings = plan.var / "scaled" / "env"
    settings.touch(mode=0o600)
    settings.write_text("".join(f"{k}={v}\n" for k, v in environment(env, plan).items()))
    procfile_path = plan.var / "scaled" / "Procfile"
    procfile_path.write_text(procfile(env, plan))
    return procfile_path


def wait(addresses: list[str], timeout: float = 120.0) -> None:
    """Returns once every HOST:PORT accepts connections; exits after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    for address in addresses:
        host, _, port = address.rpartition(":")
        while True:
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{address} did not accept connections within {timeout:.0f} s") from None
                time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "wait":
        split = args.index("--")
        wait(args[1:split])
        os.execvp(args[split + 1], args[split + 1 :])
    parser = argparse.ArgumentParser(prog="python -m bot.scaled", description=__doc__)
    parser.add_argument("--instances", type=int, default=2, help="gateways and Rasa servers (default 2)")
    parser.add_argument("--env-file", help="the settings of `make run` (.env or .env.example)")
    options = parser.parse_args(args)
    missing = [pkg for program, pkg in PACKAGES.items() if not (shutil.which(program) or program == "initdb")]
    if missing:
        print(f"missing: apt-get install {' '.join(missing)}", file=sys.stderr)
        return 2
    plan = Plan(var=ROOT / "var", instances=options.instances)
    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        init_postgres(plan)
    procfile_path = write(os.environ, plan)
    honcho = [str(Path(PYTHON).with_name("honcho")), "start", "-f", str(procfile_path), "-d", str(ROOT)]
    env_files = ",".join(f for f in (options.env_file, str(plan.var / "scaled" / "env")) if f)
    os.execv(honcho[0], [*honcho, "-e", env_files])
    return 0  # pragma: no cover (exec)


if __name__ == "__main__":
    sys.exit(main())
