"""The memoization policies' lookups read without compressing every key asked for."""

from __future__ import annotations

import base64
import json
import zlib
from typing import cast

from rasa.core.policies.memoization import MemoizationPolicy
from rasa.shared.core.domain import State


def recall_states(self: MemoizationPolicy, states: list[State]) -> str | None:
    """Rasa's `MemoizationPolicy._recall_states`: the action remembered for these states, if any.

    Rasa keys its lookup by the zlib-compressed, base64-encoded JSON of the states, so every prediction
    compressed the JSON of each history it tried (several per message, with the GIL released and taken
    back each time). The keys are decompressed once into a second lookup by the JSON itself; a JSON finds
    there exactly the action its compressed form finds in Rasa's (compressing is a function, and
    decompressing inverts it), so the same histories are remembered and the same actions recalled.
    """
    if not states:
        return None
    if not self.config["enable_feature_string_compression"]:
        return cast(str | None, self.lookup.get(self._create_feature_key(states)))
    return _plain_lookup(self).get(json.dumps(states, sort_keys=True).replace('"', ""))


def _plain_lookup(policy: MemoizationPolicy) -> dict[str, str]:
    """The policy's lookup keyed by the uncompressed JSON, made again when the policy gets another lookup (it
    trains) or its lookup grows or shrinks."""
    source, size, plain = policy.__dict__.get("_plain_lookup", (None, -1, {}))
    if source is not policy.lookup or size != len(policy.lookup):
        plain = {zlib.decompress(base64.b64decode(key)).decode("utf-8"): value for key, value in policy.lookup.items()}
        policy.__dict__["_plain_lookup"] = (policy.lookup, len(policy.lookup), plain)
    return cast(dict[str, str], plain)
