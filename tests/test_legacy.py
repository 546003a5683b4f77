"""The first build after the upgrade to format 3 reuses a format-2 generation's vectors."""

from __future__ import annotations

import json
import shutil

import faiss
import numpy as np

from index.build import build
from index.store import current_generation, load_index


def _as_format_2(index_dir) -> None:
    """Rewrite the live generation the way format 2 stored it (articles/chunks jsonl, FAISS)."""
    index = load_index(index_dir)
    gen = index_dir / current_generation(index_dir)
    rows = []
    for a in index.articles.values():
        rows.append({**a.__dict__, "date": a.date.isoformat() if a.date else None})
    (gen / "articles.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    chunks = [json.dumps([c.id, c.article_id, c.start, c.end]) + "\n" for c in index.chunks]
    (gen / "chunks.jsonl").write_text("".join(chunks))
    flat = faiss.IndexFlatIP(index.meta["dim"])
    flat.add(np.ascontiguousarray(index.store.vectors()))
    faiss.write_index(flat, str(gen / "vectors.faiss"))
    shutil.rmtree(gen / "corpus")
    (gen / "vectors.npy").unlink()
    meta = json.loads((gen / "meta.json").read_text())
    (gen / "meta.json").write_text(json.dumps({**meta, "format": 2}))


def test_an_upgrade_embeds_nothing_again(tiny_seeds, tmp_path, fake_embedder):
    index_dir = tmp_path / "ix"
    build(tiny_seeds, index_dir, fake_embedder)
    before = {
        c.id: v
        for c, v in zip(
            load_index(index_dir).chunks, load_index(index_dir).store.vectors(), strict=True
        )
    }
    assert before  # an empty index would make every check below pass
    _as_format_2(index_dir)
    seen = fake_embedder.texts_seen
    report = build(tiny_seeds, index_dir, fake_embedder)
    assert report.embedded == 0 and fake_embedder.texts_seen == seen
    assert any("format 2" in note for note in report.notes)
    after = load_index(index_dir)
    assert after.meta["format"] == 3 and len(after.chunks) == len(before)
    for chunk, vector in zip(after.chunks, after.store.vectors(), strict=True):
        assert np.array_equal(vector, before[chunk.id])
    assert not list(index_dir.glob(".tmp-*"))  # the scratch conversion is gone with the build
