"""Seconds from `make run` to a stack that answers: every process's health check, Rasa with its model loaded.

Needs the ports of `make run` free (stop it first) and a trained model. Starts `make run`, polls the four
processes every 0.1 s, prints when each answered, then stops them; `--runs` repeats it.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import time
import urllib.error
import urllib.request

CHECKS = {
    "platform": "http://127.0.0.1:8100/health",
    "actions": "http://127.0.0.1:5055/health",
    "rasa": f"http://127.0.0.1:5005/status?token={os.environ.get('RASA_TOKEN') or 'demo-rasa-token'}",
    "gateway": "http://127.0.0.1:8000/health",
}


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def once(timeout: float) -> dict[str, float]:
    """One start of `make run`: when each process first answered, in seconds after the command."""
    if any(answers(url) for url in CHECKS.values()):
        raise SystemExit("something already answers on make run's ports: stop it first")
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["make", "run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    ready: dict[str, float] = {}
    try:
        while len(ready) < len(CHECKS) and time.perf_counter() - started < timeout:
            for name, url in CHECKS.items():
                if name not in ready and answers(url):
                    ready[name] = time.perf_counter() - started
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    if len(ready) < len(CHECKS):
        raise SystemExit(f"not ready after {timeout:.0f} s: {sorted(set(CHECKS) - set(ready))}")
    while any(answers(url) for url in CHECKS.values()):
        time.sleep(0.2)
    return ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()
    totals = []
    for n in range(args.runs):
        ready = once(args.timeout)
        totals.append(max(ready.values()))
        print(f"run {n + 1}: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in ready.items()))
    median = statistics.median(totals)
    print(f"{time.strftime('%Y-%m-%d %H:%M')}: make run to ready, median of {args.runs}: {median:.1f} s")


if __name__ == "__main__":
    main()
