"""Anger from the wording: VADER sentiment over the recent messages plus shouting signals."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

INSULTS = re.compile(
    r"\b(useless|idiots?|stupid|scam(mers)?|thie(f|ves)|liars?|pathetic|incompetent|ridiculous|rubbish|"
    r"garbage|joke|disgusting|worst|hate)\b",
    re.IGNORECASE,
)
WINDOW = 3
ANGRY_NOW = 0.75
ANGRY_RECENT = 0.6


@dataclass(frozen=True)
class Assessment:
    angry: bool
    score: float
    signals: list[str]


class AngerDetector:
    """Scores each message from 0 (calm) up; a very angry message, or an angry streak, escalates."""

    def __init__(self) -> None:
        self._vader = SentimentIntensityAnalyzer()

    def message_score(self, text: str) -> tuple[float, list[str]]:
        compound = self._vader.polarity_scores(text)["compound"]
        signals = []
        score = max(0.0, -compound)
        if text.count("!") >= 2:
            signals.append("exclamations")
            score += 0.25
        shouted = [w for w in re.findall(r"[A-Za-z]{3,}", text) if w.isupper()]
        if len(shouted) >= 2:
            signals.append("all caps")
            score += 0.25
        if INSULTS.search(text):
            signals.append("insult")
            score += 0.4
        return score, signals

    def assess(self, recent: list[str]) -> Assessment:
        """`recent` is the customer's messages, oldest first; the last one is the new message."""
        if not recent:
            return Assessment(False, 0.0, [])
        scores = [self.message_score(t) for t in recent[-WINDOW:]]
        latest, signals = scores[-1]
        mean = sum(s for s, _ in scores) / len(scores)
        angry = latest >= ANGRY_NOW or (len(scores) >= 2 and mean >= ANGRY_RECENT)
        return Assessment(angry, round(max(latest, mean), 3), signals)
