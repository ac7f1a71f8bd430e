"""Latency of one message through Rasa's gateway channel (the REST body, with RASA_TOKEN) over the scenarios.

Needs `make run` up. Each round replays every conversation under a fresh sender id;
prints the median and p95 per message, and the count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid

import aiohttp

from benchmarks.scenarios import CONVERSATIONS


async def replay(http: aiohttp.ClientSession, url: str, messages: list[str]) -> list[float]:
    sender = f"bench-{uuid.uuid4().hex[:8]}"
    took = []
    for text in messages:
        started = time.perf_counter()
        async with http.post(url, json={"sender": sender, "message": text}, headers=rasa_headers()) as resp:
            resp.raise_for_status()
            await resp.json()
        took.append(time.perf_counter() - started)
    return took


def rasa_headers() -> dict[str, str]:
    """The gateway channel's bearer token: RASA_TOKEN, or the demo one."""
    return {"Authorization": f"Bearer {os.environ.get('RASA_TOKEN') or 'demo-rasa-token'}"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:5005/webhooks/gateway/webhook")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    timings: list[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        await replay(http, args.url, ["hello"])  # warm-up, not counted
        for _ in range(args.rounds):
            for messages in CONVERSATIONS.values():
                timings += await replay(http, args.url, messages)
    ms = [t * 1000 for t in timings]
    print(f"messages: {len(ms)} over {args.rounds} rounds of {len(CONVERSATIONS)} conversations")
    print(f"median: {statistics.median(ms):.0f} ms   p95: {percentile(ms, 0.95):.0f} ms   max: {max(ms):.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
