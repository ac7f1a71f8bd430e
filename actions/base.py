"""What every custom action shares: failure handling, identity checks, the platform client."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.phrases import Lang, button
from bot import language as languages
from bot import platform_client
from bot.platform_client import PlatformClient, PlatformUnavailable

log = logging.getLogger(__name__)

# Intents that leave a form's question unanswered, so the form lets rules handle them.
DIGRESSIONS = {"faq", "other", "out_of_scope", "human_agent", "bot_challenge", "greet", "goodbye", "thank"}


def language(tracker: Tracker) -> Lang:
    """The language the bot writes in this conversation ('en' or 'zh'), from the gateway's `language` slot."""
    return languages.base(tracker.get_slot("language"))


def human_button(lang: Lang) -> dict[str, str]:
    """'Talk to a person', offered wherever the bot cannot go on."""
    return button(lang, "button.human", "/human_agent")


def retry_buttons(lang: Lang) -> list[dict[str, str]]:
    """'Try again' and 'Talk to a person', after a failure."""
    return [button(lang, "button.retry", "/retry"), human_button(lang)]


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def client(tracker: Tracker) -> PlatformClient:
    """The platform client, answering in the conversation's language; built per call (tests point it at the stub)."""
    return platform_client.client_from_env(language=language(tracker))


def metadata_customer_id(tracker: Tracker) -> str | None:
    """A customer id the channel vouches for (e.g. a linked Telegram account), if any."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            value = (event.get("metadata") or {}).get("customer_id")
            if value is not None:
                return str(value)
    return None


def is_verified_for(tracker: Tracker, owner_id: Any) -> bool:
    """Whether this conversation proved it is the given customer, by verification or channel."""
    owner = str(owner_id)
    return owner in (str(tracker.get_slot("verified_customer_id")), metadata_customer_id(tracker))


def verified_order(tracker: Tracker) -> str | None:
    """The conversation's order number, if its owner is proven in this conversation."""
    number, owner = tracker.get_slot("order_number"), tracker.get_slot("order_owner_id")
    return str(number) if number and owner and is_verified_for(tracker, owner) else None


class PlatformAction(Action, ABC):
    """An action that calls the platform: failures apologise, keep state, and offer retry or a human.

    No exception leaves `run`; the action's name is remembered so `/retry` can run it again.
    """

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """The action's work; may raise PlatformUnavailable."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            events = await self.act(dispatcher, tracker, domain)
        except PlatformUnavailable as exc:
            log.warning("%s: platform unavailable: %s", self.name(), exc)
            dispatcher.utter_message(response="utter_platform_down", buttons=retry_buttons(language(tracker)))
            return [SlotSet("retry_action", self.name())]
        except Exception:
            log.exception("%s failed", self.name())
            dispatcher.utter_message(response="utter_internal_error", buttons=retry_buttons(language(tracker)))
            return [SlotSet("retry_action", self.name())]
        return [SlotSet("retry_action", None), *events]
