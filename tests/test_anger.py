"""The anger detector on customers who are angry and on customers who are merely firm."""

from __future__ import annotations

import pytest

from bot.gateway.anger import AngerDetector

ANGRY = [
    "This is RIDICULOUS!!! Where is my money?",
    "You are useless, I've been waiting two weeks!!",
    "worst service ever, you people are thieves",
    "I'M SO ANGRY, NOBODY ANSWERS ME",
    "are you stupid? I told you the number three times",
    "This is a scam. I want my money back NOW!!",
    "I hate this shop, never again",
    "what a pathetic joke of a company",
]
FIRM = [
    "I need my refund by Friday, please.",
    "This is the third time I'm asking about order 80000006.",
    "I expect a clear answer today.",
    "Please escalate this, the parcel is late.",
    "I am not satisfied with this answer.",
    "My parcel is lost and I want a refund.",
    "The item arrived broken.",
    "No, that's not what I asked.",
    "I'm disappointed, the delivery was late",
    "where is my order 80000005",
]
detector = AngerDetector()


@pytest.mark.parametrize("text", ANGRY)
def test_angry_customers_are_recognised(text: str) -> None:
    assert detector.assess([text]).angry


@pytest.mark.parametrize("text", FIRM)
def test_firm_customers_are_not_taken_for_angry(text: str) -> None:
    assert not detector.assess([text]).angry


def test_a_streak_of_displeasure_counts() -> None:
    streak = ["This is terrible.", "Awful, simply awful service.", "I am really upset and disappointed!!"]
    assert not detector.assess(streak[:1]).angry
    assert detector.assess(streak).angry


def test_signals_are_named() -> None:
    result = detector.assess(["THIS IS UNACCEPTABLE!!! you idiots"])
    assert result.angry and {"exclamations", "all caps", "insult"} <= set(result.signals)
