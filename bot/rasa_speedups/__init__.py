"""Work Rasa 3.6 repeats on every message (or at every start) that can be done once, removed without
changing what Rasa does.

Applied by `bot.rasa_server` (the launcher `make run` uses) before Rasa starts. Each remedy replaces one
method of Rasa's and keeps its behaviour: the same action server responses accepted and refused with the
same error, the same requests sent, the same event classes, slots, graph outputs, sparse features,
weights and parses. `tests/test_rasa_speedups.py` compares each with Rasa's own code.
"""

from __future__ import annotations

from rasa.core.actions.action import RemoteAction
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.processor import MessageProcessor
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import Event
from rasa.shared.core.slots import Slot
from rasa.shared.nlu.training_data.features import Features
from rasa.utils.endpoints import EndpointConfig
from rasa.utils.tensorflow.models import RasaModel

from bot.rasa_speedups import action_server, graph, nlu, policies, trackers


def apply() -> None:
    """Installs every remedy in this process (idempotent)."""
    nlu.single_threaded_ops()
    nlu.hand_over_sooner()
    RemoteAction._validate_action_result = action_server.validate_action_result
    EndpointConfig.request = action_server.endpoint_request
    Event.resolve_by_type = staticmethod(trackers.resolve_by_type)
    Slot.__copy__ = trackers.copy_slot
    DaskGraphRunner.run = graph.run_graph
    MessageProcessor.parse_message = nlu.parse_message
    RasaModel.load = classmethod(nlu.load_model)
    Features._combine_sparse_features = nlu.combine_sparse_features
    MemoizationPolicy._recall_states = policies.recall_states
