"""`GET /metrics` in Prometheus's text format: messages, the bot's reply times, the queue, escalations, sockets.

Counts of stored things (messages by author and channel, escalations by reason) and the queue are read
from the database when scraped: every instance reports the same totals, which survive restarts (take
`max` across instances, not `sum`). The bot's reply times and the open websockets are this process's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.gateway.models import Conversation, Message, Status, StatusChange

REPLY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _Stored(Collector):
    """What the database holds, read at each scrape."""

    def __init__(self, sessions: Callable[[], Session], sockets: Callable[[], dict[str, int]]) -> None:
        self.sessions = sessions
        self.sockets = sockets

    def collect(self) -> Iterator[Metric]:
        messages = CounterMetricFamily(
            "shopdesk_messages", "Messages stored, by author and channel", labels=["author", "channel"]
        )
        escalations = CounterMetricFamily(
            "shopdesk_escalations", "Conversations handed to people, by reason", labels=["reason"]
        )
        queue = GaugeMetricFamily("shopdesk_queue_length", "Conversations waiting for a person")
        with self.sessions() as s:
            by_author = select(Message.author, Conversation.channel, func.count()).join(Conversation)
            for author, channel, n in s.execute(by_author.group_by(Message.author, Conversation.channel)):
                messages.add_metric([author, channel], n)
            queued = select(StatusChange.reason, func.count()).where(
                StatusChange.to_status == Status.QUEUED,
                StatusChange.from_status != Status.ASSIGNED,  # not transfers
            )
            for reason, n in s.execute(queued.group_by(StatusChange.reason)):
                escalations.add_metric([reason], n)
            waiting = select(func.count()).select_from(Conversation).where(Conversation.status == Status.QUEUED)
            queue.add_metric([], s.scalar(waiting) or 0)
        sockets = GaugeMetricFamily("shopdesk_websocket_connections", "Open websockets, this process", labels=["kind"])
        for kind, n in self.sockets().items():
            sockets.add_metric([kind], n)
        yield from (messages, escalations, queue, sockets)


CONTENT_TYPE = str(CONTENT_TYPE_LATEST)


class Metrics:
    """One gateway's registry (an app of its own, so several apps can run in one test process)."""

    def __init__(self, sessions: Callable[[], Session], sockets: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.bot_reply = Histogram(
            "shopdesk_bot_reply_seconds",
            "Time the bot took to answer a customer's message, this process",
            buckets=REPLY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Stored(sessions, sockets))

    def exposition(self) -> bytes:
        """The current values in Prometheus's text format."""
        return generate_latest(self.registry)
