"""Building trackers: event classes found once by name, slots copied without `copy`'s generic protocol."""

from __future__ import annotations

from functools import cache
from typing import cast

from rasa.shared.core.events import Event
from rasa.shared.core.slots import Slot
from rasa.shared.utils.common import all_subclasses


@cache
def _event_classes() -> dict[str, type[Event]]:
    """Each event type name and the class Rasa's `Event.resolve_by_type` finds for it (the first found)."""
    found: dict[str, type[Event]] = {}
    for cls in all_subclasses(Event):
        found.setdefault(cls.type_name, cls)
    return found


def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Rasa's `Event.resolve_by_type` without walking every subclass of `Event` for each event read.

    Rasa walks the class tree (and checks each class for abstract methods) for every event it reads from
    the action server or the tracker store. The classes do not change once Rasa has loaded, but an
    unknown name is looked up again in case a class was defined since.
    """
    cls = _event_classes().get(type_name)
    if cls is None and type_name != "topic":
        _event_classes.cache_clear()
        cls = _event_classes().get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # Rasa's backwards compatibility with old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def copy_slot(self: Slot) -> Slot:
    """What `copy.copy` makes of a slot (a new instance sharing the attributes), without the generic protocol.

    Rasa copies every slot of the domain each time it builds a tracker, and it builds several per message
    (replaying the conversation for each policy); `copy.copy`'s generic path was most of that.
    """
    new = cast(Slot, object.__new__(type(self)))
    new.__dict__.update(self.__dict__)
    return new
