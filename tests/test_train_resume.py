"""train/reader.py: a run stopped after a checkpoint and resumed is the same run.

Six training steps straight, and two steps, a stop, then `resume` must leave identical
weights: the batch order is drawn from the seed up front, and the checkpoint holds the
model, the optimizer, the schedule and the RNG (dropout).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from qa.evaluation.squad import Example

pytestmark = pytest.mark.model

CONTEXT = (
    "Quillfeather, the note-taking app maker, is valued at $4.8 billion after a round led by "
    "Caddon Group. Its chief executive is Anjali Fenwick, who founded it in 2014 in Lowmere."
)
QA = [
    ("How much is Quillfeather valued at?", "$4.8 billion"),
    ("Who led the round?", "Caddon Group"),
    ("Who is the chief executive?", "Anjali Fenwick"),
    ("When was it founded?", "2014"),
    ("Where was it founded?", "Lowmere"),
    ("What does Quillfeather make?", "note-taking app"),
]


class Stop(Exception):
    """Stands in for the session ending right after a checkpoint."""


def _run(tmp, enc, hyper, resume: bool, stop_at: int | None):
    import torch
    from transformers import AutoModelForQuestionAnswering

    from index.embedder.minilm import model_path
    from train.reader import train

    torch.manual_seed(hyper.seed)  # the fresh qa_outputs head, as main() seeds it
    model = AutoModelForQuestionAnswering.from_pretrained(model_path())

    def on_checkpoint(step: int) -> str:
        if step == stop_at:
            raise Stop
        return f"step {step}"

    try:
        train(model, enc, hyper, tmp, resume=resume, every=2, on_checkpoint=on_checkpoint)
    except Stop:
        return None
    return model


def test_a_resumed_run_is_the_same_run(tmp_path):
    import torch
    from transformers import AutoTokenizer

    from index.embedder.minilm import model_path
    from train.reader import Hyper, featurize

    torch.set_num_threads(1)
    examples = [
        Example(f"q{i}", q, CONTEXT, (a,), CONTEXT.index(a), a, "a.txt")
        for i, (q, a) in enumerate(QA)
    ]
    hyper = replace(Hyper(), batch=2, epochs=2, max_length=64, stride=16, threads=1)
    enc = featurize(AutoTokenizer.from_pretrained(model_path()), examples, 64, 16)
    straight = _run(tmp_path / "a", enc, hyper, resume=False, stop_at=None)
    assert _run(tmp_path / "b", enc, hyper, resume=False, stop_at=4) is None  # stopped
    resumed = _run(tmp_path / "b", enc, hyper, resume=True, stop_at=None)
    pairs = zip(straight.state_dict().items(), resumed.state_dict().items(), strict=True)
    differ = [name for (name, a), (_, b) in pairs if not torch.equal(a, b)]
    assert not differ, f"{len(differ)} tensors differ, e.g. {differ[:3]}"
    from transformers import AutoModelForQuestionAnswering

    torch.manual_seed(hyper.seed)
    start = AutoModelForQuestionAnswering.from_pretrained(model_path()).qa_outputs.weight
    assert not torch.equal(start, straight.qa_outputs.weight)  # the steps did train it
