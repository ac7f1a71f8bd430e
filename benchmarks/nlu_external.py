"""NLU quality on external utterances (../shared/eval/dev.csv): core accuracy and safe rate per source.

Scores the trained model (at its own fallback threshold and at others, from the same parses), and a
plain baseline trained on the same data: TF-IDF word and character n-grams with logistic regression.
Rows whose text is also a training example are left out of the scores (the output says how many).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CORE_FLOWS = {"order_status", "logistics", "returns", "refund", "complaint"}
SOURCES = ["bitext", "hint3_curekart", "hint3_sofmattress", "clinc150"]


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def load_categories(path: Path, domain_intents: list[str]) -> dict[str, str]:
    """intent -> category; every intent of the domain must be in exactly one category."""
    table: dict[str, str] = {}
    for category, intents in yaml.safe_load(path.read_text()).items():
        for intent in intents:
            if intent in table:
                raise SystemExit(f"{intent} is in two categories")
            table[intent] = category
    missing = sorted(set(domain_intents) - set(table))
    if missing:
        raise SystemExit(f"intents without a category in {path.name}: {missing}")
    return table


def training_examples() -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / "data" / "nlu"))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def score(rows: list[dict[str, str]], predicted: list[str]) -> dict[str, dict[str, float]]:
    """Per source: core accuracy over kind=core rows, safe rate over kind=other rows."""
    tallies: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row, category in zip(rows, predicted, strict=True):
        t = tallies[row["source"]]
        if row["kind"] == "core":
            t["core"] += 1
            t["core_ok"] += category in row["accept"].split("|")
        else:
            t["other"] += 1
            t["safe"] += category not in CORE_FLOWS
    return {
        source: {
            "core_n": t["core"],
            "core_accuracy": t["core_ok"] / t["core"] if t["core"] else float("nan"),
            "other_n": t["other"],
            "safe_rate": t["safe"] / t["other"] if t["other"] else float("nan"),
        }
        for source, t in tallies.items()
    }


def with_threshold(parse: dict[str, Any], threshold: float, categories: dict[str, str]) -> str:
    """The category of a parse had the fallback threshold been `threshold`."""
    ranking = [r for r in parse.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
    if not ranking or ranking[0]["confidence"] < threshold:
        return "out_of_scope"
    return categories[ranking[0]["name"]]


async def parse_all(model: Path, texts: list[str]) -> tuple[list[dict[str, Any]], float]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    started = time.perf_counter()
    parses = [await agent.parse_message(text) for text in texts]
    return parses, (time.perf_counter() - started) / max(1, len(texts))


def baseline(train: list[tuple[str, str]], texts: list[str]) -> tuple[list[str], list[float], float]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )
    model = make_pipeline(features, LogisticRegression(max_iter=3000, C=10))
    started = time.perf_counter()
    model.fit([t for t, _ in train], [i for _, i in train])
    trained = time.perf_counter() - started
    proba = model.predict_proba(texts)
    labels = model.classes_
    best = proba.argmax(axis=1)
    return [str(labels[i]) for i in best], [float(proba[n, i]) for n, i in enumerate(best)], trained


def table(name: str, scores: dict[str, dict[str, float]]) -> None:
    print(f"\n{name}")
    print(f"  {'source':<18} {'core n':>6} {'core acc':>9} {'other n':>8} {'safe rate':>9}")
    for source in SOURCES:
        s = scores.get(source)
        if s:
            print(
                f"  {source:<18} {s['core_n']:>6} {s['core_accuracy']:>9.3f} {s['other_n']:>8} {s['safe_rate']:>9.3f}"
            )


def quiet() -> None:
    """Rasa logs every parse at debug level; the benchmark prints only its tables."""
    import logging

    import structlog

    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


async def main() -> None:
    quiet()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "current.tar.gz"))
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "eval" / "dev.csv"))
    parser.add_argument("--thresholds", default="0.3,0.4,0.5,0.6,0.7")
    parser.add_argument("--limit", type=int, default=0, help="score only the first N rows (a quick look)")
    args = parser.parse_args()

    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    categories = load_categories(ROOT / "benchmarks" / "intent_categories.yml", domain["intents"])
    train = training_examples()
    seen = {norm(t) for t, _ in train}
    with open(args.data, newline="") as f:
        all_rows = list(csv.DictReader(f))
    rows = [r for r in all_rows if norm(r["text"]) not in seen]
    if args.limit:
        rows = rows[: args.limit]
    print(f"rows: {len(all_rows)} in {Path(args.data).name}; {len(all_rows) - len(rows) if not args.limit else '-'} "
          f"left out as training examples; scoring {len(rows)}")  # fmt: skip
    texts = [r["text"] for r in rows]

    parses, per_message = await parse_all(Path(args.model), texts)
    own = [categories[p["intent"]["name"]] for p in parses]
    table("trained model (its own fallback threshold, as deployed)", score(rows, own))
    for t in (float(x) for x in args.thresholds.split(",")):
        table(f"trained model, fallback threshold {t}", score(rows, [with_threshold(p, t, categories) for p in parses]))
    print(f"\nparse time per message: {per_message * 1000:.1f} ms (mean over {len(texts)})")

    labels, confidence, fit_seconds = baseline(train, texts)
    table(
        "baseline: TF-IDF words + chars, logistic regression (no threshold)",
        score(rows, [categories[i] for i in labels]),
    )
    fallback = [categories[i] if c >= 0.4 else "out_of_scope" for i, c in zip(labels, confidence, strict=True)]
    table("baseline with fallback threshold 0.4", score(rows, fallback))
    print(f"baseline training time: {fit_seconds:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
