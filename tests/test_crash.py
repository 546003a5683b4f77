"""Kill a real rebuild process with SIGKILL at several points: the old index must survive."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SEEDS

from index.build import build
from index.store import load_index
from qa.pipeline import Answerer

pytestmark = pytest.mark.slow  # each test kills a real build in a subprocess

CHILD = Path(__file__).parent / "crash_child.py"
NEW = "Ekoexpandsalgorithmicheartproblemdetectionandlands30MSeriesCextension"


def _run_until(point: str, seeds: Path, ix: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(seeds), str(ix), point],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    line = proc.stdout.readline()
    assert line.strip() == f"AT {point}", line
    return proc


@pytest.mark.parametrize(
    "point, published",
    [
        ("embedding", False),
        ("writing", False),
        ("fsync", False),
        ("rename-generation", False),
        ("publish", False),
        ("cleanup", True),
    ],
)
def test_sigkill_mid_rebuild_leaves_a_working_index(
    point, published, tiny_seeds, tmp_path, fake_embedder
):
    ix = tmp_path / "ix"
    build(tiny_seeds, ix, fake_embedder)
    before = load_index(ix)
    shutil.copy(SEEDS / f"{NEW}.txt", tiny_seeds)

    proc = _run_until(point, tiny_seeds, ix)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    after = load_index(ix)  # loads, whatever moment the build died at
    if published:
        assert NEW in after.articles
    else:
        assert after.generation == before.generation
        assert set(after.articles) == set(before.articles)
    answer = Answerer(after, fake_embedder, read=False).ask("Bird European expansion")
    assert answer.citations

    # The dead build's lock is stale: the next build recovers it and completes.
    assert (ix / "lock").exists()
    report = build(tiny_seeds, ix, fake_embedder)
    final = load_index(ix)
    assert NEW in final.articles and len(final.articles) == 6
    assert not (ix / "lock").exists()
    assert published or report.added == (NEW,)
    litter = [
        p.name for p in ix.iterdir() if p.name.startswith(".tmp") or p.name.startswith("gen-")
    ]
    assert litter == [final.generation]
