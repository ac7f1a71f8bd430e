"""Which sentence encoder for the bilingual NLU: each one's own contribution, measured the same way.

For every encoder of bot/nlu/encoders.py: embed the training examples (data/nlu, both languages),
fit a logistic regression on the embeddings alone, and score the evaluation rows (../shared/eval/dev.csv,
every `--stride`-th row, and benchmarks/data/zh_eval.csv) by core accuracy and safe rate per source,
with a fallback below 0.4 confidence as the bot has (features standardised, so scales compare).
Also the time to embed one message alone.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time

import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmarks.nlu_external import ROOT, load_categories, norm, score, training_examples
from bot.nlu import encoders

ZH_EVAL = ROOT / "benchmarks" / "data" / "zh_eval.csv"
DEV = ROOT.parent / "shared" / "eval" / "dev.csv"


def rows(stride: int) -> list[dict[str, str]]:
    """Evaluation rows: a regular sample of dev.csv and the whole Chinese set."""
    with open(DEV, newline="") as f:
        dev = list(csv.DictReader(f))[::stride]
    zh: list[dict[str, str]] = []
    if ZH_EVAL.exists():
        with open(ZH_EVAL, newline="") as f:
            zh = list(csv.DictReader(f))
    return dev + zh


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encoders", default=",".join(encoders.LOADERS))
    parser.add_argument("--stride", type=int, default=4, help="score every N-th row of dev.csv")
    args = parser.parse_args()
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    categories = load_categories(ROOT / "benchmarks" / "intent_categories.yml", domain["intents"])
    train = [(t, i.split("/")[0]) for t, i in training_examples()]
    seen = {norm(t) for t, _ in train}
    scored = [r for r in rows(args.stride) if norm(r["text"]) not in seen]
    print(f"training examples: {len(train)}; evaluation rows: {len(scored)}")
    for name in args.encoders.split(","):
        started = time.perf_counter()
        model = encoders.load(name)
        loaded = time.perf_counter() - started
        singles = []
        for text in [r["text"] for r in scored[:: max(1, len(scored) // 60)]]:
            t0 = time.perf_counter()
            model.embed([text])
            singles.append(time.perf_counter() - t0)
        x_train = model.embed([t for t, _ in train])
        x_eval = model.embed([r["text"] for r in scored])
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000))
        clf.fit(x_train, [i for _, i in train])
        proba = clf.predict_proba(x_eval)
        best = proba.argmax(axis=1)
        predicted = [categories[clf.classes_[b]] if proba[k, b] >= 0.4 else "out_of_scope" for k, b in enumerate(best)]
        print(f"\n{name}: load {loaded:.1f} s, one message {statistics.median(singles) * 1000:.1f} ms (median)")
        for source, s in sorted(score(scored, predicted).items()):
            core, safe = f"{s['core_accuracy']:.3f} (n={s['core_n']})", f"{s['safe_rate']:.3f} (n={s['other_n']})"
            print(f"  {source:<18} core {core}  safe {safe}")


if __name__ == "__main__":
    main()
