"""The platform stub's declarative base: its tables live apart from the gateway's."""

from typing import Any

from sqlalchemy.orm import declarative_base

Base: Any = declarative_base()
