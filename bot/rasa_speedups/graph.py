"""Running Rasa's graph: the nodes in a fixed order instead of a dask graph per run."""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

log = logging.getLogger("rasa.engine.runner.dask")
Order = list[tuple[str, tuple[str, ...]]]


def run_graph(self: DaskGraphRunner, inputs: dict[str, Any] | None = None, targets: list[str] | None = None) -> Any:
    """Rasa's `DaskGraphRunner.run` without dask: the same nodes called in an order that respects their needs.

    Rasa builds a new dask graph for every prediction (several per message) and has dask's synchronous
    scheduler order and run it, one node after another. The order depends only on the targets, so it is
    worked out once per target list; each node gets its parents' outputs as dask gives them (a need that
    is neither a node nor an input is passed as its name, which the node reports as missing).
    """
    run_targets = list(targets) if targets else self._graph_schema.target_names
    values: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and value in self._graph_schema.nodes:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of the input names "
                f"passed to the `run` method are the same as node names in the graph schema."
            )
        values[name] = (name, value)
    log.debug("Running graph with inputs: %s, targets: %s and %s.", inputs, targets, self._execution_context)
    try:
        for node_name, needs in node_order(self, tuple(run_targets)):
            if node_name not in values:
                values[node_name] = self._instantiated_nodes[node_name](*(values.get(n, n) for n in needs))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    return dict(values[target] for target in run_targets)


def node_order(runner: DaskGraphRunner, targets: tuple[str, ...]) -> Order:
    """The nodes the targets need, each after its needs, with the names of its needs (kept on the runner)."""
    known: dict[tuple[str, ...], Order] = runner.__dict__.setdefault("_node_orders", {})
    if targets not in known:
        nodes = runner._graph_schema.minimal_graph_schema(list(targets)).nodes
        order: Order = []
        placed: set[str] = set()

        def place(name: str) -> None:
            if name in placed or name not in nodes:
                return
            placed.add(name)
            needs = tuple(nodes[name].needs.values())
            for need in needs:
                place(need)
            order.append((name, needs))

        for target in targets:
            place(target)
        known[targets] = order
    return known[targets]
