"""The stack's processes found by their command lines in /proc, and their resident memory."""

from __future__ import annotations

import os
from pathlib import Path

# What `make run` starts (Procfile), by a fragment of each command line.
STACK = {
    "gateway": "bot.gateway",
    "rasa": "bot.rasa_server run",
    "actions": "bot.action_server",
    "platform": "bot.platform",
}


def command_lines() -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            except OSError:
                continue
    return found


def rss_mb(pid: int) -> float:
    """Resident set size in MB (VmRSS), 0 when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far (all its threads), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stack_pids() -> dict[str, list[int]]:
    """PIDs of each stack process (a process with workers has several); the shells honcho starts them with
    are left out. The bare bot (`rasa run`) matches none of the fragments."""
    pids: dict[str, list[int]] = {name: [] for name in STACK}
    for pid, cmd in command_lines().items():
        if cmd.startswith(("/bin/sh", "sh ", "bash ", "/bin/bash")):
            continue
        for name, fragment in STACK.items():
            if fragment in cmd:
                pids[name].append(pid)
    return pids


def memory_report(bare_pid: int) -> str:
    lines = ["| process | resident memory |", "|---|---|"]
    for name, pids in stack_pids().items():
        total = sum(rss_mb(pid) for pid in pids)
        lines.append(f"| {name} ({len(pids)} process{'es' if len(pids) != 1 else ''}) | {total:.0f} MB |")
    lines.append(f"| bare `rasa init` bot | {rss_mb(bare_pid):.0f} MB |")
    return "\n".join(lines)
