"""The web app without the cross-encoder, for the benchmarks: `gunicorn bench.wsgi_norerank:app`.

`qa serve` reranks every answer and has no switch to stop it yet; this entry point serves the
same Flask app over the same index (env NEWSQA_INDEX) with an answerer that skips reranking.
"""

import os
from pathlib import Path

from index.embedding import load_embedder
from qa.answer import Answerer
from web import create_app

app = create_app(
    answerer=Answerer.open(Path(os.environ["NEWSQA_INDEX"]), load_embedder(), rerank=False)
)
