"""Gateway overhead per bot message, and how fast an escalation reaches an open agent console.

Needs `make run` up (demo mode: agent alice). Overhead: each scenario message goes once through the
gateway and once straight to Rasa's REST webhook (a twin conversation), and the difference is taken.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from typing import Any

import aiohttp

from benchmarks.rest_latency import percentile, rasa_headers
from benchmarks.scenarios import CONVERSATIONS


async def timed_post(http: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    async with http.post(url, json=body, headers=headers) as resp:
        resp.raise_for_status()
        await resp.read()
    return time.perf_counter() - started


async def overhead(http: aiohttp.ClientSession, gateway: str, rasa: str, rounds: int) -> list[float]:
    diffs = []
    for _ in range(rounds):
        for messages in CONVERSATIONS.values():
            async with http.post(f"{gateway}/api/conversations") as resp:
                conv = await resp.json()
            headers = {"Authorization": f"Bearer {conv['token']}"}
            twin = f"bench-{uuid.uuid4().hex[:8]}"
            for text in messages:
                through = await timed_post(
                    http, f"{gateway}/api/conversations/{conv['conversation_id']}/messages", {"text": text}, headers
                )
                direct = await timed_post(
                    http, f"{rasa}/webhooks/gateway/webhook", {"sender": twin, "message": text}, rasa_headers()
                )
                diffs.append(through - direct)
    return diffs


async def escalation_to_console(http: aiohttp.ClientSession, gateway: str, rounds: int) -> list[float]:
    async with http.post(f"{gateway}/api/agent/login", json={"username": "alice", "password": "alice-demo"}) as resp:
        token = (await resp.json())["token"]
    ws_url = gateway.replace("http", "ws") + f"/api/agent/ws?token={token}"
    took = []
    async with http.ws_connect(ws_url) as console:
        for _ in range(rounds):
            async with http.post(f"{gateway}/api/conversations") as resp:
                conv = await resp.json()
            url = f"{gateway}/api/conversations/{conv['conversation_id']}/messages"
            started = time.perf_counter()
            send = asyncio.create_task(
                http.post(
                    url,
                    json={"text": "I want to talk to a human"},
                    headers={"Authorization": f"Bearer {conv['token']}"},
                )
            )
            while True:
                event = json.loads((await console.receive(timeout=30)).data)
                if event.get("type") == "status" and event.get("conversation_id") == conv["conversation_id"]:
                    took.append(time.perf_counter() - started)
                    break
            (await send).release()
    return took


def report(name: str, seconds: list[float]) -> None:
    ms = [s * 1000 for s in seconds]
    print(f"{name}: n={len(ms)} median {statistics.median(ms):.1f} ms, p95 {percentile(ms, 0.95):.1f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--rasa", default="http://127.0.0.1:5005")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        report(
            "gateway overhead per bot message (gateway round trip - Rasa round trip)",
            await overhead(http, args.gateway, args.rasa, args.rounds),
        )
        report("escalation to an open console", await escalation_to_console(http, args.gateway, 10 * args.rounds))


if __name__ == "__main__":
    asyncio.run(main())
