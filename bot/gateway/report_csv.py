"""The reports as CSV (`?format=csv`): one row per scope (the period, each day, channel, language, agent),
then the handoffs by reason, the top intents and what the bot could not serve, as counted rows."""

from __future__ import annotations

import csv
import io
from typing import Any

from bot.gateway.reports import FIGURES

AGENT_FIGURES = ("claimed", "resolved", "avg_first_response_s", "avg_resolution_s", "avg_wait_s", "csat_score")
COLUMNS = ("scope", "key", "count", *FIGURES, "claimed", "resolved", "examples")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A value as a cell; text a spreadsheet would run as a formula is quoted (customers write the examples)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(report: dict[str, Any]) -> str:
    """The report's figures as CSV text; empty cells where a figure has no value (nothing to average)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()

    def row(scope: str, key: str, values: dict[str, Any]) -> None:
        cells = {k: _cell(v) for k, v in values.items() if k in COLUMNS}
        writer.writerow({"scope": scope, "key": _cell(key), **cells})

    row("period", f"{report['from']}..{report['to']}", report)
    for day in report["by_day"]:
        row("day", day["date"], day)
    for scope in ("channel", "language"):
        for key, values in report[f"by_{scope}"].items():
            row(scope, key, values)
    for name, values in report["by_agent"].items():
        row("agent", name, {k: values[k] for k in (*AGENT_FIGURES, "csat_response_rate")})
    for reason, count in report["handoffs_by_reason"].items():
        row("handoff_reason", reason, {"count": count})
    for item in report["top_intents"]:
        row("intent", item["intent"], {"count": item["count"]})
    for n, group in enumerate(report.get("unserved", []), 1):
        row("unserved", str(n), {"count": group["count"], "examples": " | ".join(group["examples"])})
    return out.getvalue()
