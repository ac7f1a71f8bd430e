"""NLU quality on utterances nobody on the project trained on: core accuracy and safe rate per source.

The sources: ../shared/eval/dev.csv (English, written by others) and benchmarks/data/zh_eval.csv
(Chinese, hand-written apart from the training data; see its README).

Scores the trained model (at its own fallback threshold and at others, from the same parses), and a
plain baseline trained on the same data: TF-IDF word and character n-grams with logistic regression.
Rows whose text is also a training example are left out of the scores (the output says how many).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CORE_FLOWS = {"order_status", "logistics", "returns", "refund", "complaint"}
SOURCES = ["bitext", "hint3_curekart", "hint3_sofmattress", "clinc150", "zh_own"]
DATA = [ROOT.parent / "shared" / "eval" / "dev.csv", ROOT / "benchmarks" / "data" / "zh_eval.csv"]


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


def training_examples(exclude: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(text, intent) of every NLU example under data/nlu, but for the files named in `exclude`."""
    from rasa.shared.nlu.training_data.loading import load_data

    files = [p for p in sorted((ROOT / "data" / "nlu").glob("*.yml")) if p.name not in exclude]
    examples = []
    for path in files:
        examples += [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]
    return examples


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


def fallback_settings(config: Path) -> str:
    """The FallbackClassifier's thresholds in a Rasa config, as text; the sweep applies the first alone."""
    for component in yaml.safe_load(config.read_text())["pipeline"]:
        if component["name"].endswith("FallbackClassifier"):
            return f"fallback {component.get('threshold', 0.3)}, ambiguity {component.get('ambiguity_threshold', 0.1)}"
    raise SystemExit(f"{config} has no FallbackClassifier: out-of-scope messages would start flows")


async def parse_all(model: Path, texts: list[str]) -> tuple[list[dict[str, Any]], float]:
    """Parse every text with the model, one message at a time, loaded and run as `make run` does (the
    remedies of `bot.rasa_speedups` applied); also the mean time per message."""
    from rasa.core.agent import Agent

    from bot import rasa_speedups

    rasa_speedups.apply()
    agent = Agent.load(str(model))
    await agent.parse_message("warm-up")  # the first parse builds the graph's lazy parts
    started = time.perf_counter()
    parses = [await agent.parse_message(text) for text in texts]
    return parses, (time.perf_counter() - started) / max(1, len(texts))


def train(config: Path, out: Path) -> tuple[Path, float]:
    """`rasa train` with this config from scratch (own empty cache): the model and the wall-clock seconds."""
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(out / "cache"), "PYTHONWARNINGS": "ignore"}
    rasa = str(Path(sys.executable).parent / "rasa")
    command = [rasa, "train", "--config", str(config), "--out", str(out), "--fixed-model-name", "m", "--quiet"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True)
    if done.returncode:
        raise SystemExit(f"rasa train --config {config} failed:\n{done.stderr.decode()[-3000:]}")
    return out / "m.tar.gz", time.perf_counter() - started


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


def markdown(rows: list[tuple[str, dict[str, dict[str, float]], str, str]]) -> None:
    """The comparison as the README's table: pipeline, core / safe per source, training and parse time."""
    print("\n| pipeline | " + " | ".join(f"{s} core / safe" for s in SOURCES) + " | training | parse / message |")
    print("|---" * (len(SOURCES) + 3) + "|")
    for name, scores, trained, parse in rows:
        cells = [f"{scores[s]['core_accuracy']:.3f} / {scores[s]['safe_rate']:.3f}" for s in SOURCES if s in scores]
        print(f"| {name} | " + " | ".join(cells) + f" | {trained} | {parse} |")


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
    parser.add_argument("--configs", default="", help="Rasa configs (comma-separated) to train, timed, and score "
                        "instead of --model")  # fmt: skip
    parser.add_argument("--data", default=",".join(map(str, DATA)), help="evaluation CSVs, comma-separated")
    parser.add_argument("--thresholds", default="0.3,0.5,0.6,0.7")
    parser.add_argument("--limit", type=int, default=0, help="score only the first N rows (a quick look)")
    args = parser.parse_args()

    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    categories = load_categories(ROOT / "benchmarks" / "intent_categories.yml", domain["intents"])
    train_data = training_examples()
    seen = {norm(t) for t, _ in train_data}
    all_rows: list[dict[str, str]] = []
    for path in args.data.split(","):
        with open(path, newline="") as f:
            all_rows += list(csv.DictReader(f))
    rows = [r for r in all_rows if norm(r["text"]) not in seen]
    if args.limit:
        rows = rows[: args.limit]
    names = ", ".join(Path(p).name for p in args.data.split(","))
    print(f"rows: {len(all_rows)} in {names}; {len(all_rows) - len(rows) if not args.limit else '-'} "
          f"left out as training examples; scoring {len(rows)}")  # fmt: skip
    texts = [r["text"] for r in rows]

    summary: list[tuple[str, dict[str, dict[str, float]], str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.configs:
            models = []
            for n, config in enumerate(Path(c) for c in args.configs.split(",")):
                print(f"training {config} ...", flush=True)
                model, seconds = train(config, Path(tmp) / str(n))
                models.append((config, model, f"{seconds:.0f} s"))
        else:  # the model `make train` built from config.yml
            models = [(ROOT / "config.yml", Path(args.model), "-")]
        for config, model, trained in models:
            name = config.name
            parses, per_message = await parse_all(model, texts)
            parse = f"{per_message * 1000:.1f} ms"
            deployed = f"{name}, as deployed ({fallback_settings(config)})"
            scores = score(rows, [categories[p["intent"]["name"]] for p in parses])
            table(deployed, scores)
            summary.append((deployed, scores, trained, parse))
            for t in (float(x) for x in args.thresholds.split(",")):
                scores = score(rows, [with_threshold(p, t, categories) for p in parses])
                table(f"{name}, fallback threshold {t}", scores)
                summary.append((f"{name}, fallback {t}", scores, trained, parse))
            print(f"\nparse time per message: {parse} (mean over {len(texts)})")

    labels, confidence, fit_seconds = baseline(train_data, texts)
    scores = score(rows, [categories[i] for i in labels])
    table("baseline: TF-IDF words + chars, logistic regression (no threshold)", scores)
    summary.append(("baseline TF-IDF + LR", scores, f"{fit_seconds:.0f} s", "-"))
    fallback = [categories[i] if c >= 0.4 else "out_of_scope" for i, c in zip(labels, confidence, strict=True)]
    scores = score(rows, fallback)
    table("baseline with fallback threshold 0.4", scores)
    summary.append(("baseline TF-IDF + LR, fallback 0.4", scores, f"{fit_seconds:.0f} s", "-"))
    markdown(summary)


if __name__ == "__main__":
    asyncio.run(main())
