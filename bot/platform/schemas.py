"""Request bodies of the platform API, validated strictly so a 400 can name the bad field."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Extra, conint, constr, root_validator, validator

from bot.errors import M, parse_body
from bot.platform.models import MAX_ID, ComplaintCategory, QualityIssue, ReturnReason, Severity

OrderNumber = constr(strict=True, regex=r"^[0-9]{8}$")  # ASCII digits: \d would take any script's
RowId = conint(strict=True, ge=1, le=MAX_ID)  # an id the database can hold; anything else is a 400


class _Strict(BaseModel):
    class Config:
        extra = Extra.forbid
        anystr_strip_whitespace = True


class VerifyIn(_Strict):
    email: Optional[constr(strict=True, min_length=3, max_length=200)] = None  # type: ignore[valid-type]
    phone: Optional[constr(strict=True, min_length=4, max_length=32)] = None  # type: ignore[valid-type]

    @root_validator(skip_on_failure=True)
    def _one_of(cls, values: dict[str, Any]) -> dict[str, Any]:
        if (values.get("email") is None) == (values.get("phone") is None):
            raise ValueError("give exactly one of email or phone")
        return values


class ReturnIn(_Strict):
    item_ids: Optional[list[RowId]] = None  # type: ignore[valid-type]
    reason: ReturnReason
    quality_issue: Optional[QualityIssue] = None
    description: constr(strict=True, max_length=2000) = ""  # type: ignore[valid-type]

    @root_validator(skip_on_failure=True)
    def _issue_matches_reason(cls, values: dict[str, Any]) -> dict[str, Any]:
        if values["reason"] == ReturnReason.QUALITY and values.get("quality_issue") is None:
            raise ValueError("quality_issue is required when reason is quality")
        if values["reason"] == ReturnReason.NO_REASON and values.get("quality_issue") is not None:
            raise ValueError("quality_issue is only for reason quality")
        return values

    @validator("item_ids")
    def _not_empty(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and not value:
            raise ValueError("must not be empty; leave it out to return every item")
        return value


class ComplaintIn(_Strict):
    customer_id: RowId  # type: ignore[valid-type]
    order_number: Optional[OrderNumber] = None  # type: ignore[valid-type]
    category: ComplaintCategory
    severity: Optional[Severity] = None
    description: constr(strict=True, min_length=1, max_length=4000)  # type: ignore[valid-type]


class FreezeIn(_Strict):
    reason: constr(strict=True, min_length=1, max_length=500)  # type: ignore[valid-type]


_ROOT_FIELDS = {
    "VerifyIn": "email",
    "ReturnIn": "quality_issue",
}


def parse(model: type[M], body: dict[str, Any]) -> M:
    """Validates `body`; an error of the whole body is blamed on the field it is about."""
    return parse_body(model, body, _ROOT_FIELDS.get(model.__name__, "body"))
