"""The platform's tables: created when missing, rebuilt when a database predates a column.

The stub has no migrations: its data is demo data that `--reseed` regenerates anyway. So a
database whose tables lack a column of the models (one made before the `*_zh` columns, say) is
dropped and created afresh, with a warning, and the caller's `ensure_seeded` fills it again.
Adding the columns instead would keep the old rows but leave them without their Chinese texts.
"""

from __future__ import annotations

import logging

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from bot.platform import models  # noqa: F401  (registers the tables on Base.metadata)
from bot.platform.db import Base

log = logging.getLogger(__name__)


def outdated_tables(engine: Engine) -> list[str]:
    """Tables the database has but without every column the models give them."""
    inspector = inspect(engine)
    existing = set(inspector.get_table_names())
    return [
        table.name
        for table in Base.metadata.sorted_tables
        if table.name in existing
        and {c.name for c in table.columns} - {c["name"] for c in inspector.get_columns(table.name)}
    ]


def prepare(engine: Engine) -> bool:
    """Creates the missing tables, after dropping every table if one is outdated; says whether it dropped."""
    outdated = outdated_tables(engine)
    if outdated:
        log.warning(
            "the platform database predates columns of %s: rebuilding it with fresh demo data", ", ".join(outdated)
        )
        Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    return bool(outdated)
