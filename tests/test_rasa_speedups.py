"""The remedies applied to Rasa keep its behaviour: each is compared with the Rasa code it replaces, on the
same inputs, and the deployed model gives the same parses and predictions either way."""

from __future__ import annotations

import asyncio
import copy
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import jsonschema
import numpy as np
import pytest
import scipy.sparse
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent, load_agent
from rasa.core.channels.channel import UserMessage
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import ClientResponseError, EndpointConfig
from rasa.utils.tensorflow.models import RasaModel
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json, text

from bot import rasa_speedups
from bot.rasa_speedups import action_server, graph, nlu, policies, trackers
from tests.servers import serve
from tests.stack import ROOT, Stack

RASA: dict[str, Any] = {  # what apply() replaces, as Rasa has it
    "validate": RemoteAction._validate_action_result,
    "request": EndpointConfig.request,
    "resolve": Event.resolve_by_type,
    "resolve_descriptor": Event.__dict__["resolve_by_type"],
    "run": DaskGraphRunner.run,
    "load": RasaModel.__dict__["load"],
    "combine": Features._combine_sparse_features,
    "recall": MemoizationPolicy._recall_states,
}
TEXTS = [
    "where is my order 80000005",
    "li.wei@example.com",
    "thanks",
    "I want to return the jeans, they are too small",
    "the parcel arrived damaged",
    "我的订单80000006怎么还没到",
    "我要退货，质量有问题",
    "talk to a person please!!",
    "what's your return policy?",
    "asdkjh qwe",
]

VALID: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "order_number", "value": "80000005"}], "responses": [{"text": "hi"}]},
    {"events": [{"event": "action_execution_rejected", "name": "x"}], "responses": [{"custom": {"a": 1}}]},
    {},
]
INVALID: list[dict[str, Any]] = [
    {"events": "not a list"},
    {"events": [{"name": "no event key"}]},
    {"events": [{"event": "slot"}], "responses": "nope"},
    {"events": [{"event": "slot", "name": 5, "value": 1}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "user", "text": 3}]},
    {"events": [{"event": "action", "name": "x", "confidence": "high"}]},
    {"events": [{"event": "entities", "entities": [{"entity": "x"}]}]},
    {"events": [{"event": "bot", "timestamp": "noon"}]},
    {"responses": [1, 2]},
]


def every_event() -> list[dict[str, Any]]:
    """An event of each kind Rasa knows that can be made from plain arguments, as the action server sends it."""
    events = [
        UserUttered("hi", {"name": "greet", "confidence": 0.9}, [{"entity": "e", "value": "v", "start": 0, "end": 1}]),
        ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0),
        SlotSet("order_number", "80000005"),
    ]
    found = [e.as_dict() for e in events]
    names = {e.type_name for e in events}
    for cls in all_subclasses(Event):
        if cls.type_name in names:
            continue
        for args in ((), ("x",), ("x", "y")):
            try:
                event = cls(*args).as_dict()
                RASA["validate"](RemoteAction("a", None), {"events": [event]})
            except (TypeError, AttributeError, ValueError, jsonschema.ValidationError):
                continue
            found.append(event)
            names.add(cls.type_name)
            break
    assert len(names) >= 15  # most kinds are covered
    return found


@pytest.fixture
def action() -> RemoteAction:
    return RemoteAction("action_test", None)


@pytest.mark.parametrize("result", [*VALID, {"events": every_event()}])
def test_what_rasa_accepts_is_accepted(action: RemoteAction, result: dict[str, Any]) -> None:
    assert RASA["validate"](action, result) is True
    assert action_server.validate_action_result(action, result) is True


@pytest.mark.parametrize("result", INVALID + [{"events": [{**e, "timestamp": "x"}]} for e in every_event()])
def test_what_rasa_refuses_is_refused_with_the_same_error(action: RemoteAction, result: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError) as theirs:
        RASA["validate"](action, result)
    with pytest.raises(jsonschema.ValidationError) as ours:
        action_server.validate_action_result(action, result)
    assert ours.value.message == theirs.value.message and "Failed to validate Action server" in ours.value.message


def test_event_classes_are_found_as_rasa_finds_them() -> None:
    for name in {cls.type_name for cls in all_subclasses(Event)}:
        assert trackers.resolve_by_type(name) is RASA["resolve"](name)
    assert trackers.resolve_by_type("topic") is None
    assert trackers.resolve_by_type("nonsense", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'nonsense'"):
        trackers.resolve_by_type("nonsense")


def test_a_slot_copy_is_what_copy_makes_of_it() -> None:
    for slot in Domain.load(str(ROOT / "domain.yml")).slots:
        slot.value = ["a value"]
        generic = copy.copy(slot)
        ours = trackers.copy_slot(slot)
        assert type(ours) is type(generic) and ours is not slot
        assert ours.__dict__ == generic.__dict__ and ours.value is slot.value  # shallow, as copy.copy


@pytest.mark.parametrize("types", [(np.float32, np.float32), (np.float64, np.float32), (np.int64, np.float32)])
@pytest.mark.parametrize("rows", [1, 7])
def test_sparse_features_are_joined_as_hstack_joins_them(types: tuple[Any, Any], rows: int) -> None:
    rng = np.random.default_rng(rows)
    left = scipy.sparse.coo_matrix((rng.random((rows, 300)) > 0.9) * rng.integers(1, 5, (rows, 300)), dtype=types[0])
    right = scipy.sparse.coo_matrix(rng.random((rows, 5000)) > 0.99, dtype=types[1])
    theirs, ours = Features(left, "sequence", "text", "a"), Features(left.copy(), "sequence", "text", "a")
    RASA["combine"](theirs, Features(right, "sequence", "text", "b"))
    nlu.combine_sparse_features(ours, Features(right, "sequence", "text", "b"))
    a, b = theirs.features, ours.features
    assert type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape and a.row.dtype == b.row.dtype
    assert np.array_equal(a.row, b.row) and np.array_equal(a.col, b.col) and np.array_equal(a.data, b.data)
    with pytest.raises(ValueError, match="sequence dimensions do not match"):
        nlu.combine_sparse_features(ours, Features(scipy.sparse.coo_matrix((rows + 1, 3)), "sequence", "text", "c"))


@pytest.fixture
async def echo_server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """An action server stand-in on loopback that records each request and the connection it came on."""
    seen: list[dict[str, Any]] = []
    app = Sanic(f"echo_{id(seen)}")

    @app.route("/<path:path>", methods=["GET", "POST"])
    async def record(request: Request, path: str) -> HTTPResponse:
        seen.append(
            {
                "method": request.method,
                "path": request.path,
                "args": dict(request.args),
                "type": request.headers.get("content-type"),
                "extra": request.headers.get("x-extra"),
                "body": request.json if request.body else None,
                "peer": request.conn_info.client_port if request.conn_info else None,
            }
        )
        if path.endswith("missing"):
            return json({"error": "no"}, status=404)
        if path.endswith("plain"):
            return text("not json")
        return json({"ok": True, "path": path})

    async with serve(app) as url:
        yield url, seen


async def test_requests_reach_the_action_server_as_rasa_sends_them_on_one_connection(
    echo_server: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = echo_server
    endpoint = EndpointConfig(f"{url}/webhook", params={"a": "1"}, headers={"X-Extra": "e"}, token="secret")
    for request in (RASA["request"], action_server.endpoint_request):
        answers = [await request(endpoint, json={"n": n}, method="post") for n in range(3)]
        assert answers == [{"ok": True, "path": "webhook"}] * 3
        assert await request(endpoint, method="get", subpath="plain") is None
        with pytest.raises(ClientResponseError) as refused:
            await request(endpoint, method="post", subpath="missing", json={})
        assert refused.value.status == 404
    rasa, ours = seen[:5], seen[5:]
    assert [{k: v for k, v in r.items() if k != "peer"} for r in rasa] == [
        {k: v for k, v in r.items() if k != "peer"} for r in ours
    ]
    assert rasa[0]["args"] == {"a": ["1"], "token": ["secret"]} and rasa[0]["extra"] == "e"
    assert len({r["peer"] for r in rasa}) == 5  # Rasa: a connection per request
    assert len({r["peer"] for r in ours}) == 1  # kept: one connection for all
    await action_server._sessions[id(endpoint)][2].close()


@pytest.fixture(scope="module")
def agent() -> Iterator[Agent]:
    """The deployed model, loaded in this process with every remedy applied (as `make run` loads it)."""
    saved = {name: value for name, value in RASA.items()}
    interval = sys.getswitchinterval()
    rasa_speedups.apply()
    loaded = asyncio.run(load_agent(model_path=str(ROOT / "models" / "current.tar.gz")))
    yield loaded
    RemoteAction._validate_action_result = saved["validate"]
    EndpointConfig.request = saved["request"]
    Event.resolve_by_type = saved["resolve_descriptor"]
    DaskGraphRunner.run = saved["run"]
    RasaModel.load = saved["load"]
    Features._combine_sparse_features = saved["combine"]
    MemoizationPolicy._recall_states = saved["recall"]
    sys.setswitchinterval(interval)
    del Slot.__copy__


def parses(agent: Agent) -> list[dict[str, Any]]:
    return [asyncio.run(agent.parse_message(t)) for t in TEXTS]


def summary(parse: dict[str, Any]) -> tuple[Any, ...]:
    ranking = tuple((r["name"], round(r["confidence"], 6)) for r in parse["intent_ranking"])
    entities = tuple((e["entity"], e["value"]) for e in parse["entities"])
    return parse["intent"]["name"], ranking, entities, parse.get("response_selector", {}).get("default")


def test_a_model_loaded_without_tracing_its_training_step_parses_as_rasa_loads_it(agent: Agent) -> None:
    ours = [summary(p) for p in parses(agent)]
    RasaModel.load = RASA["load"]
    try:
        theirs = [summary(p) for p in parses(asyncio.run(load_agent(model_path=str(ROOT / "models/current.tar.gz"))))]
    finally:
        RasaModel.load = classmethod(nlu.load_model)
    assert ours == theirs
    assert [p[0] for p in ours][:3] == ["order_status", "inform", "thank"]


def test_messages_parsed_at_the_same_time_are_parsed_as_one_at_a_time(agent: Agent) -> None:
    one_by_one = [summary(p) for p in parses(agent)]

    async def together() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(agent.parse_message(t) for t in TEXTS * 4)))

    assert [summary(p) for p in asyncio.run(together())] == one_by_one * 4


def test_the_graph_runs_as_dask_runs_it(agent: Agent) -> None:
    processor = agent.processor
    assert processor is not None
    runner = processor.graph_runner
    metadata = processor.model_metadata
    tracker = DialogueStateTracker.from_events("t", [ActionExecuted("action_listen")], agent.domain.slots)
    for said in TEXTS:
        inputs = {"__message__": [UserMessage(said)], "__tracker__": tracker}
        ours = graph.run_graph(runner, inputs, [metadata.nlu_target])[metadata.nlu_target][0]
        theirs = RASA["run"](runner, inputs, [metadata.nlu_target])[metadata.nlu_target][0]
        assert summary(ours.as_dict()) == summary(theirs.as_dict())
        tracker.update(UserUttered(said, ours.get("intent"), ours.get("entities", [])))
        ours_next = graph.run_graph(runner, {"__tracker__": tracker}, [metadata.core_target])
        theirs_next = RASA["run"](runner, {"__tracker__": tracker}, [metadata.core_target])
        assert ours_next[metadata.core_target] == theirs_next[metadata.core_target]
        tracker.update(ActionExecuted("action_listen"))


def test_the_response_selector_answers_retrieval_intents_only(stack: Stack) -> None:
    """The deployed model: a policy question still gets its answer chosen; an order lookup no longer pays for it."""
    faq = stack.parse("what's your return policy?")
    assert faq["intent"]["name"] == "faq"
    assert faq["response_selector"]["default"]["response"]["intent_response_key"] == "faq/return_policy"
    zh = stack.parse("退款一般多久能到账")
    assert zh["response_selector"]["default"]["response"]["intent_response_key"] == "faq/refund_time"
    lookup = stack.parse("where is my order 80000005")
    assert lookup["intent"]["name"] in ("order_status", "track_shipment")
    assert "default" not in lookup.get("response_selector", {})


def test_the_memoization_policy_recalls_what_rasa_recalls(agent: Agent) -> None:
    """Every history of every turn of the sample conversations, each truncation the policy tries: the same
    action remembered (or none) as with Rasa's compressed keys; and a new lookup (a retrain) is read anew."""
    processor = agent.processor
    assert processor is not None
    memo = next(
        node._component
        for node in processor.graph_runner._instantiated_nodes.values()
        if type(node._component) is MemoizationPolicy
    )
    tracker = DialogueStateTracker.from_events("m", [ActionExecuted("action_listen")], agent.domain.slots)
    recalled = []
    for said in ["where is my order 80000005", "li.wei@example.com", "thanks", "hi", "I want a refund"]:
        parsed = asyncio.run(agent.parse_message(said))
        tracker.update(UserUttered(said, parsed["intent"], parsed["entities"]))
        states = memo._prediction_states(tracker, agent.domain)
        for start in range(len(states) + 1):
            ours = policies.recall_states(memo, states[start:])
            assert ours == RASA["recall"](memo, states[start:])
            recalled.append(ours)
        tracker.update(ActionExecuted("action_listen"))
    assert any(recalled) and None in recalled  # some histories are remembered, some are not
    first = states[-2:]
    saved = memo.lookup
    memo.lookup = {memo._create_feature_key(first): "utter_goodbye"}
    try:
        assert policies.recall_states(memo, first) == "utter_goodbye"
        assert policies.recall_states(memo, states[-1:]) is None
    finally:
        memo.lookup = saved


def test_tensorflow_runs_each_operation_in_the_calling_thread_and_the_gil_changes_hands_sooner() -> None:
    """In a process where the remedies come first (as `bot.rasa_server` applies them), BLAS and TensorFlow's
    pools have one thread each, and a thread waits half a millisecond for the GIL, not Python's five."""
    script = (
        "from bot import rasa_speedups; rasa_speedups.apply(); import sys, tensorflow as tf, threadpoolctl; "
        "print({i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'}, "
        "tf.config.threading.get_intra_op_parallelism_threads(), "
        "tf.config.threading.get_inter_op_parallelism_threads(), sys.getswitchinterval())"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.split()[-4:] == ["{1}", "1", "1", "0.0005"], done.stderr
