"""One instance of each process against two, side by side in one run: msg/s, p50, p95 and CPU per message.

Starts both deployments of `make run-scaled` itself (`--instances 1` and 2, each behind its nginx, with
its own PostgreSQL and Redis, on free ports; stop `make run` and `make run-scaled` first to leave the CPU
to them), then plays the conversation of `make bench-load` through each nginx at each concurrency, the
deployments taking turns. CPU per message counts every process of the deployment (nginx, PostgreSQL and
Redis included) over the messages sent.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from benchmarks.load import Gateway, measure
from benchmarks.processes import rss_mb
from tests.scaled import Scaled, start_scaled


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured time per row")
    parser.add_argument("--customers", default="20,50", help="concurrency levels, comma-separated")
    args = parser.parse_args()
    deployments: dict[int, Scaled] = {}
    try:
        for instances in (1, 2):
            deployments[instances] = start_scaled(instances)
        print(f"{time.strftime('%Y-%m-%d %H:%M')}, {args.seconds:.0f} s per row, through nginx")
        print("| instances of each process | customers | msg/s | p50 | p95 | CPU per message | messages |")
        print("|---|---|---|---|---|---|---|")
        rates: dict[tuple[int, int], float] = {}
        for customers in (int(c) for c in args.customers.split(",")):
            for instances, deployment in deployments.items():
                target = Gateway(deployment.balancer)
                target.pids = deployment.pids()
                run = await measure(target, customers, args.seconds)
                rates[instances, customers] = len(run.latencies) / run.wall
                print(run.row(str(instances), customers), flush=True)
        for customers in (int(c) for c in args.customers.split(",")):
            print(
                f"two / one instance at {customers} customers: {rates[2, customers] / rates[1, customers]:.2f}x msg/s"
            )
        for instances, deployment in deployments.items():
            print(
                f"resident memory, {instances} instance(s) of each: {sum(rss_mb(p) for p in deployment.pids()):.0f} MB"
            )
    finally:
        for deployment in deployments.values():
            deployment.stop()


if __name__ == "__main__":
    asyncio.run(main())
