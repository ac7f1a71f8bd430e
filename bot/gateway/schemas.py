"""Request bodies of the gateway's APIs; a 400 names the bad field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

from pydantic import BaseModel, Extra, StrictStr, conint, constr, validator

MAX_TEXT = 4000
MAX_LABEL = 200

if TYPE_CHECKING:  # mypy reads constrained types as their base type
    Label: TypeAlias = str
    Note: TypeAlias = str
    Comment: TypeAlias = str
    Credential: TypeAlias = str
    Rating: TypeAlias = int
    ClientId: TypeAlias = str
else:
    Label = constr(strict=True, min_length=1, max_length=MAX_LABEL)
    Note = constr(strict=True, max_length=500, strip_whitespace=True)
    Comment = constr(strict=True, max_length=1000)
    Credential = constr(strict=True, max_length=200)
    Rating = conint(strict=True, ge=1, le=5)
    ClientId = constr(strict=True, regex=r"^[A-Za-z0-9_-]{8,64}$")


class _Strict(BaseModel):
    class Config:
        extra = Extra.forbid


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if len(value) > MAX_TEXT:
        raise ValueError(f"must be at most {MAX_TEXT} characters")
    return value.strip()


class MessageIn(_Strict):
    text: StrictStr
    label: Label | None = None  # the title of a button the bot offered, shown in the transcript
    # The sender's id for this message: sent again (a retry after a lost answer), it is stored once.
    client_id: ClientId | None = None

    _check = validator("text", allow_reuse=True)(_text)


class LanguageIn(_Strict):
    language: Literal["en", "zh", "zh-Hant"]


class OpenIn(_Strict):
    language: Literal["en", "zh", "zh-Hant"] = "en"


class RatingIn(_Strict):
    rating: Rating
    comment: Comment = ""


class LoginIn(_Strict):
    username: Credential
    password: Credential


class AgentMessageIn(_Strict):
    text: StrictStr

    _check = validator("text", allow_reuse=True)(_text)


class HandBackIn(_Strict):
    note: Note = ""


class NoteIn(_Strict):
    """An internal note: agents see it, the customer never does."""

    text: StrictStr

    _check = validator("text", allow_reuse=True)(_text)


class PresenceIn(_Strict):
    presence: Literal["online", "away"]


class TransferIn(_Strict):
    """To another agent (`to_agent`, a username) or to whoever has a skill (`to_skill`); one of them."""

    to_agent: Credential | None = None
    to_skill: Literal["general", "logistics", "refunds", "complaints", "security"] | None = None
    note: Note = ""

    @validator("to_skill", always=True)
    def _one_target(cls, to_skill: str | None, values: dict[str, object]) -> str | None:
        if (values.get("to_agent") is None) == (to_skill is None):
            raise ValueError("give to_agent or to_skill, one of them")
        return to_skill


class AgentUpdateIn(_Strict):
    """A supervisor's change to an agent: skills and role."""

    skills: list[Literal["general", "logistics", "refunds", "complaints", "security"]] | None = None
    role: Literal["agent", "supervisor"] | None = None


class CannedIn(_Strict):
    shortcut: constr(strict=True, regex=r"^[a-z0-9_-]{1,32}$")  # type: ignore[valid-type]
    language: Literal["en", "zh"]
    text: StrictStr

    _check = validator("text", allow_reuse=True)(_text)
