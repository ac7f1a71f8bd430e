"""The real bot stack for gateway tests: platform stub, action server and Rasa as subprocesses on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
RASA_TOKEN = "test-rasa-token"
PLATFORM_KEY = "test-platform-key"
ACTION_TOKEN = "test-action-token"
BIN = Path(sys.executable).parent


# Vague messages a customer stuck might send; the model decides which it does not understand.
VAGUE = (
    "it's the one from before",
    "the blue one",
    "that other thing I said",
    "the one from last time",
    "like I said earlier",
    "the same as before",
    "what I told you",
    "the thing I mentioned",
    "whatever it was",
    "that one over there",
    "the usual",
    "you know which",
)


@dataclass
class Stack:
    rasa_url: str
    platform_url: str
    actions_url: str
    processes: list[subprocess.Popen[bytes]]

    def parse(self, text: str) -> dict[str, Any]:
        """What this stack's model makes of `text` (Rasa's /model/parse)."""
        request = urllib.request.Request(
            f"{self.rasa_url}/model/parse?token={RASA_TOKEN}",
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.loads(response.read()))

    def not_understood(self, count: int) -> list[str]:
        """`count` of the VAGUE messages this stack's model classifies as `nlu_fallback`: tests of the
        misses do not depend on how one retrain happens to read one sentence."""
        found = []
        for text in VAGUE:
            if self.parse(text)["intent"]["name"] == "nlu_fallback":
                found.append(text)
            if len(found) == count:
                return found
        raise AssertionError(f"the model understands all but {len(found)} of tests/stack.py's VAGUE messages")

    def stop(self) -> None:
        for proc in self.processes:
            proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} not up after {seconds} s:\n{log.read_text()[-3000:]}")


def start_stack(workdir: Path) -> Stack:
    """Starts the three processes with their own ports, databases and logs under `workdir`."""
    model = ROOT / "models" / "current.tar.gz"
    if not model.exists():
        raise RuntimeError("models/current.tar.gz is missing: run `make train` (make test does) first")
    platform_port, actions_port, rasa_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "PLATFORM_API_KEY": PLATFORM_KEY,
        "PLATFORM_PORT": str(platform_port),
        "PLATFORM_DATABASE_URL": f"sqlite:///{workdir}/platform.db",
        "PLATFORM_URL": f"http://127.0.0.1:{platform_port}",
        "RASA_TOKEN": RASA_TOKEN,
        "ACTION_SERVER_TOKEN": ACTION_TOKEN,
        "ACTION_SERVER_PORT": str(actions_port),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONWARNINGS": "ignore",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    endpoints = workdir / "endpoints.yml"
    settings = yaml.safe_load((ROOT / "endpoints.yml").read_text())  # the tracker store make run uses
    settings["action_endpoint"]["url"] = f"http://127.0.0.1:{actions_port}/webhook"
    settings["tracker_store"]["db"] = str(workdir / "rasa-tracker.db")
    endpoints.write_text(yaml.safe_dump(settings))
    commands = {
        "platform": [str(BIN / "python"), "-m", "bot.platform"],
        "actions": [str(BIN / "python"), "-m", "bot.action_server"],
        "rasa": [
            str(BIN / "python"), "-m", "bot.rasa_server", "run", "--enable-api", "--auth-token", RASA_TOKEN,
            "--interface", "127.0.0.1",
            "--port", str(rasa_port), "--model", str(model), "--endpoints", str(endpoints),
            "--credentials", str(ROOT / "credentials.yml"),
        ],
    }  # fmt: skip
    health = {
        "platform": (f"http://127.0.0.1:{platform_port}/health", 60),
        "actions": (f"http://127.0.0.1:{actions_port}/health", 120),
        "rasa": (f"http://127.0.0.1:{rasa_port}/status?token={RASA_TOKEN}", 240),
    }
    procs: list[subprocess.Popen[bytes]] = []
    logs = {}
    for name, cmd in commands.items():
        logs[name] = workdir / f"{name}.log"
        out = logs[name].open("wb")
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
    stack = Stack(
        f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{platform_port}", f"http://127.0.0.1:{actions_port}", procs
    )
    try:
        for (name, (url, seconds)), proc in zip(health.items(), procs, strict=True):
            wait_healthy(url, proc, logs[name], seconds)
    except Exception:
        stack.stop()
        raise
    return stack
