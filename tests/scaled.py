"""The processes of `make run-scaled`, started for tests from the same generated Procfile, one by one.

`bot.scaled` writes nginx's configuration, Rasa's endpoints, the Procfile and its environment for free
ports under a folder of the test's; each Procfile line runs as its own process (honcho would stop them all
when a test kills one), with PostgreSQL initialised by `bot.scaled` itself. Tests stop, kill and restart
processes by their Procfile names.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.scaled import Plan, init_postgres, write
from tests.stack import RASA_TOKEN, ROOT, wait_healthy

SETTINGS = {
    "DEMO_MODE": "1",
    "PLATFORM_API_KEY": "test-platform-key",
    "RASA_TOKEN": RASA_TOKEN,
    "ACTION_SERVER_TOKEN": "test-action-token",
    "PYTHONWARNINGS": "ignore",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}


def free_block(size: int) -> int:
    """The first of `size` consecutive free loopback ports."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + size < 65000 and all(_free(base + n) for n in range(size)):
            return base
    raise RuntimeError("no block of free ports")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Scaled:
    plan: Plan
    env: dict[str, str]
    commands: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def balancer(self) -> str:
        return f"http://127.0.0.1:{self.plan.balancer}"

    def gateway(self, n: int) -> str:
        return f"http://127.0.0.1:{self.plan.gateways()[n]}"

    def rasa(self, n: int) -> str:
        return f"http://127.0.0.1:{self.plan.rasas()[n]}"

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def log(self, name: str) -> Path:
        return self.plan.var / f"{name}.log"

    def start(self, name: str, **overrides: str) -> None:
        """Starts a Procfile process (again), with its environment changed by `overrides`."""
        with self.log(name).open("ab") as out:
            self.procs[name] = subprocess.Popen(
                ["sh", "-c", f"exec {self.commands[name]}"],
                cwd=ROOT,
                env={**self.env, **overrides},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def wait_up(self, name: str, url: str, seconds: float = 240) -> None:
        wait_healthy(url, self.procs[name], self.log(name), seconds)

    def wait_port(self, name: str, port: int, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{self.log(name).read_text()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{name} not listening on {port} after {seconds} s")

    def up(self, name: str) -> None:
        """Starts `name` and waits until it serves."""
        self.start(name)
        if name == "postgres":
            self.wait_port(name, self.plan.postgres)
        elif name == "redis":
            self.wait_port(name, self.plan.redis)
        elif name == "nginx":
            self.wait_port(name, self.plan.balancer)
        elif name.startswith("rasa"):
            self.wait_up(name, f"{self.rasa(int(name[4:]) - 1)}/status?token={RASA_TOKEN}")
        elif name.startswith("gateway"):
            self.wait_up(name, f"{self.gateway(int(name[7:]) - 1)}/health")
        elif name == "actions":
            self.wait_up(name, f"http://127.0.0.1:{self.plan.actions}/health")
        elif name == "platform":
            self.wait_up(name, f"http://127.0.0.1:{self.plan.platform}/health")

    def pids(self) -> list[int]:
        """Every process of the deployment: each started one and its children (workers, nginx's, postgres's)."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
        found = [proc.pid for proc in self.procs.values()]
        for pid in found:
            found.extend(child for child, parent in parents.items() if parent == pid and child not in found)
        return found

    def stop(self) -> None:
        for name in list(self.procs):
            proc = self.procs.pop(name)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def start_scaled(instances: int = 2) -> Scaled:
    """Every process of `make run-scaled` on free ports, data in a fresh folder, PostgreSQL and Redis local."""
    var = Path(tempfile.mkdtemp(prefix="shopdesk-scaled-"))
    var.chmod(0o755)  # PostgreSQL runs as its own user when the tests run as root
    plan = Plan(
        var=var,
        instances=instances,
        balancer=free_block(1),
        gateway=free_block(instances),
        rasa=free_block(instances),
        actions=free_block(1),
        platform=free_block(1),
        postgres=free_block(1),
        redis=free_block(1),
    )
    base = {**os.environ, **SETTINGS, "PLATFORM_DATABASE_URL": f"sqlite:///{var}/platform.db"}
    base.pop("DATABASE_URL", None)
    base.pop("REDIS_URL", None)
    init_postgres(plan)
    procfile = write(base, plan)
    commands = dict(line.split(": ", 1) for line in procfile.read_text().splitlines() if line)
    env = {**base}
    for line in (var / "scaled" / "env").read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    scaled = Scaled(plan, env, commands)
    try:
        for name in ("postgres", "redis", "platform", "actions"):
            scaled.up(name)
        rasas = [f"rasa{n + 1}" for n in range(instances)]
        for name in rasas:  # they load their models at once
            scaled.start(name)
        for name in rasas:
            scaled.wait_up(name, f"{scaled.rasa(int(name[4:]) - 1)}/status?token={RASA_TOKEN}")
        for name in [*(f"gateway{n + 1}" for n in range(instances)), "nginx"]:
            scaled.up(name)
    except Exception:
        scaled.stop()
        raise
    return scaled
