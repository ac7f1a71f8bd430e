"""Request bodies of the gateway's APIs; a 400 names the bad field."""

from __future__ import annotations

from pydantic import BaseModel, Extra, StrictInt, StrictStr, validator

MAX_TEXT = 4000


class _Strict(BaseModel):
    class Config:
        extra = Extra.forbid


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if len(value) > MAX_TEXT:
        raise ValueError(f"must be at most {MAX_TEXT} characters")
    return value.strip()


MAX_LABEL = 200


class MessageIn(_Strict):
    text: StrictStr
    label: StrictStr | None = None  # the title of a button the bot offered, shown in the transcript

    _check = validator("text", allow_reuse=True)(_text)

    @validator("label")
    def _short_label(cls, value: str | None) -> str | None:
        if value is not None and not 0 < len(value) <= MAX_LABEL:
            raise ValueError(f"must be 1 to {MAX_LABEL} characters")
        return value


class RatingIn(_Strict):
    rating: StrictInt
    comment: StrictStr = ""

    @validator("rating")
    def _range(cls, value: int) -> int:
        if not 1 <= value <= 5:
            raise ValueError("must be from 1 to 5")
        return value

    @validator("comment")
    def _short(cls, value: str) -> str:
        if len(value) > 1000:
            raise ValueError("must be at most 1000 characters")
        return value


class LoginIn(_Strict):
    username: StrictStr
    password: StrictStr

    @validator("username", "password")
    def _bounded(cls, value: str) -> str:
        if len(value) > 200:
            raise ValueError("must be at most 200 characters")
        return value


class AgentMessageIn(_Strict):
    text: StrictStr

    _check = validator("text", allow_reuse=True)(_text)


class HandBackIn(_Strict):
    note: StrictStr = ""

    @validator("note")
    def _short(cls, value: str) -> str:
        if len(value) > 500:
            raise ValueError("must be at most 500 characters")
        return value.strip()
