"""Messages per second and latency under load: a bare `rasa init` bot beside the running stack, in one run.

Needs `make run` up. The bare bot (what a team would start from: `rasa init`, in-memory tracker) is trained
once into var/bench/bare-rasa and started here on its own port. Each customer plays the same conversation,
"where is my order 80000005" → the email → "thanks", under a fresh id, over and over for `--seconds`; the
targets take turns at each concurrency so the noisy shared machine treats them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from benchmarks.processes import cpu_seconds, memory_report, stack_pids
from benchmarks.rest_latency import percentile, rasa_headers

CONVERSATION = ["where is my order 80000005", "li.wei@example.com", "thanks"]
BARE_DIR = Path("var/bench/bare-rasa")
BARE_PORT = 5015

Send = Callable[[aiohttp.ClientSession, str], Awaitable[None]]


@dataclass
class Run:
    """One target at one concurrency: every message's latency, the wall time they took, the CPU they cost."""

    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0  # seconds of CPU of the target's processes, warm-up included
    messages: int = 0  # messages sent, warm-up included

    def row(self, name: str, customers: int) -> str:
        ms = [s * 1000 for s in self.latencies]
        rate = len(ms) / self.wall
        return (
            f"| {name} | {customers} | {rate:.1f} | {statistics.median(ms):.0f} ms "
            f"| {percentile(ms, 0.95):.0f} ms | {1000 * self.cpu / self.messages:.1f} ms | {len(ms)} |"
        )


class Target:
    """Somewhere a customer's conversation can be played: `start` opens one, `send` posts one message.

    `pids` are the processes whose CPU a message costs there.
    """

    name = ""
    pids: list[int] = []

    async def start(self, http: aiohttp.ClientSession) -> Send:
        raise NotImplementedError


class RasaRest(Target):
    """A Rasa REST-style webhook: one sender id per conversation."""

    def __init__(self, name: str, url: str, headers: dict[str, str] | None = None) -> None:
        self.name, self.url, self.headers = name, url, headers or {}

    async def start(self, http: aiohttp.ClientSession) -> Send:
        sender = f"load-{uuid.uuid4().hex[:12]}"

        async def send(http: aiohttp.ClientSession, text: str) -> None:
            async with http.post(self.url, json={"sender": sender, "message": text}, headers=self.headers) as resp:
                resp.raise_for_status()
                await resp.read()

        return send


class Gateway(Target):
    """The whole stack: the gateway's customer API, which calls Rasa, which calls the actions and the platform."""

    name = "ShopDesk through the gateway"

    def __init__(self, url: str) -> None:
        self.url = url

    async def start(self, http: aiohttp.ClientSession) -> Send:
        async with http.post(f"{self.url}/api/conversations") as resp:
            resp.raise_for_status()
            conv = await resp.json()
        url = f"{self.url}/api/conversations/{conv['conversation_id']}/messages"
        headers = {"Authorization": f"Bearer {conv['token']}"}

        async def send(http: aiohttp.ClientSession, text: str) -> None:
            async with http.post(url, json={"text": text}, headers=headers) as resp:
                resp.raise_for_status()
                await resp.read()

        return send


async def customer(http: aiohttp.ClientSession, target: Target, until: float, run: Run) -> None:
    """Plays the conversation at least once, then again until `until`; each begun is finished and counted."""
    while True:
        send = await target.start(http)
        for text in CONVERSATION:
            started = time.perf_counter()
            await send(http, text)
            run.latencies.append(time.perf_counter() - started)
        if time.perf_counter() >= until:
            return


async def measure(target: Target, customers: int, seconds: float) -> Run:
    run = Run()
    connector = aiohttp.TCPConnector(limit=customers + 4)
    cpu_before = sum(cpu_seconds(pid) for pid in target.pids)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:
        warm_up = Run()  # one conversation per customer, not counted: connections, caches, the first TF calls
        await asyncio.gather(*(customer(http, target, 0.0, warm_up) for _ in range(customers)))
        began = time.perf_counter()
        await asyncio.gather(*(customer(http, target, began + seconds, run) for _ in range(customers)))
        run.wall = time.perf_counter() - began
    run.cpu = sum(cpu_seconds(pid) for pid in target.pids) - cpu_before
    run.messages = len(run.latencies) + len(warm_up.latencies)
    return run


def rasa_bin() -> str:
    return str(Path(sys.executable).with_name("rasa"))


def train_bare() -> None:
    """`rasa init --no-prompt` writes the starter project and trains it; done once, kept under var/bench."""
    if list((BARE_DIR / "models").glob("*.tar.gz")):
        return
    BARE_DIR.mkdir(parents=True, exist_ok=True)
    print(f"training the bare `rasa init` bot into {BARE_DIR} (once)", flush=True)
    subprocess.run([rasa_bin(), "init", "--no-prompt", "--init-dir", str(BARE_DIR)], check=True, env=quiet_env())


def quiet_env() -> dict[str, str]:
    return {**os.environ, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3"}


async def start_bare() -> subprocess.Popen[bytes]:
    """Starts the bare bot on BARE_PORT with its own (in-memory) settings and waits until it answers."""
    proc = subprocess.Popen(
        [rasa_bin(), "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(BARE_PORT), "--model", "models"],
        cwd=BARE_DIR,
        env=quiet_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"http://127.0.0.1:{BARE_PORT}/status") as resp:
                    if resp.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            if proc.poll() is not None:
                raise SystemExit("the bare rasa bot did not start")
            await asyncio.sleep(0.5)
    proc.terminate()
    raise SystemExit("the bare rasa bot did not answer within 5 minutes")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--rasa", default="http://127.0.0.1:5005")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured time per target and concurrency")
    parser.add_argument("--customers", default="1,20", help="concurrency levels, comma-separated")
    parser.add_argument("--direct", action="store_true", help="also measure this project's Rasa REST directly")
    args = parser.parse_args()
    train_bare()
    bare_proc = await start_bare()
    try:
        bare = RasaRest(
            "bare `rasa init` bot, in-memory tracker", f"http://127.0.0.1:{BARE_PORT}/webhooks/rest/webhook"
        )
        bare.pids = [bare_proc.pid]
        stack = stack_pids()
        gateway = Gateway(args.gateway)
        gateway.pids = [pid for pids in stack.values() for pid in pids]
        targets: list[Target] = [bare, gateway]
        if args.direct:
            direct = RasaRest("ShopDesk Rasa REST directly", f"{args.rasa}/webhooks/gateway/webhook", rasa_headers())
            direct.pids = [pid for name, pids in stack.items() if name != "gateway" for pid in pids]
            targets.insert(1, direct)
        print(f"{time.strftime('%Y-%m-%d %H:%M')}, {args.seconds:.0f} s per row, conversation: {CONVERSATION}")
        print("| target | customers | msg/s | p50 | p95 | CPU per message | messages |\n|---|---|---|---|---|---|---|")
        rates: dict[tuple[str, int], float] = {}
        for customers in (int(c) for c in args.customers.split(",")):
            for target in targets:
                run = await measure(target, customers, args.seconds)
                rates[target.name, customers] = len(run.latencies) / run.wall
                print(run.row(target.name, customers), flush=True)
        for customers in (int(c) for c in args.customers.split(",")):
            ratio = rates[Gateway.name, customers] / rates[bare.name, customers]
            print(f"whole stack / bare bot at {customers} concurrent: {ratio:.2f}x msg/s")
        print(memory_report(bare_proc.pid))
    finally:
        bare_proc.terminate()
        bare_proc.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
