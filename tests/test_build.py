"""Building and updating an index from a seeds folder (fake embedder: fast, counted)."""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import ALIYUN, SEEDS

from index.build import BuildLock, build
from index.errors import BuildLocked, SeedsError
from index.store import load_index


def test_build_indexes_every_article(tiny_seeds, tmp_path, fake_embedder):
    report = build(tiny_seeds, tmp_path / "ix", fake_embedder)
    index = load_index(tmp_path / "ix")
    assert report.articles == 5 and len(report.added) == 5 and not report.skipped
    assert report.chunks == len(index.chunks) == report.embedded
    assert {c.article_id for c in index.chunks} == set(index.articles)


def test_broken_file_is_named_and_skipped(tiny_seeds, tmp_path, fake_embedder):
    (tiny_seeds / "broken.txt").write_text('{"title": "x", \n<p>body</p>')
    (tiny_seeds / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    report = build(tiny_seeds, tmp_path / "ix", fake_embedder)
    assert report.articles == 5
    reasons = {os.path.basename(s.path): s.reason for s in report.skipped}
    assert "JSON header" in reasons["broken.txt"] and "binary" in reasons["image.png"]


def test_missing_and_empty_seeds(tmp_path, fake_embedder):
    with pytest.raises(SeedsError, match="does not exist"):
        build(tmp_path / "nope", tmp_path / "ix", fake_embedder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SeedsError, match="holds no files"):
        build(tmp_path / "empty", tmp_path / "ix", fake_embedder)


def test_only_bad_files_leave_the_index_alone(tiny_seeds, tmp_path, fake_embedder):
    build(tiny_seeds, tmp_path / "ix", fake_embedder)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.txt").write_text("not an article")
    with pytest.raises(SeedsError, match="no readable article"):
        build(bad, tmp_path / "ix", fake_embedder)
    assert len(load_index(tmp_path / "ix").articles) == 5


def test_unchanged_rebuild_embeds_nothing(tiny_seeds, tmp_path, fake_embedder):
    build(tiny_seeds, tmp_path / "ix", fake_embedder)
    seen = fake_embedder.texts_seen
    report = build(tiny_seeds, tmp_path / "ix", fake_embedder)
    assert fake_embedder.texts_seen == seen
    assert len(report.unchanged) == 5 and report.generation is None


def test_add_change_remove(tiny_seeds, tmp_path, fake_embedder):
    ix = tmp_path / "ix"
    build(tiny_seeds, ix, fake_embedder)
    before = load_index(ix)
    # add one
    shutil.copy(SEEDS / "BeyondTheBitcoinBubble.txt", tiny_seeds / "new-one.txt")
    # change one: its old chunks must go
    path = tiny_seeds / ALIYUN
    path.write_text(path.read_text().replace("US$200 million", "US$300 million"))
    # remove one
    (tiny_seeds / "CruiseacquiresselfdrivingstartupVoyage.txt").unlink()
    seen = fake_embedder.texts_seen
    report = build(tiny_seeds, ix, fake_embedder)
    after = load_index(ix)
    aliyun = ALIYUN.removesuffix(".txt")
    assert report.updated == (aliyun,)
    assert report.removed == ("CruiseacquiresselfdrivingstartupVoyage",)
    assert report.added == ()  # same bytes as an indexed file: reported as a duplicate
    assert any("duplicate" in s.reason for s in report.skipped)
    new_chunks = [c for c in after.chunks if c.article_id == aliyun]
    assert fake_embedder.texts_seen - seen == len(new_chunks)  # only the changed article
    assert all("US$200 million" not in c.text for c in after.chunks)
    assert any("US$300 million" in c.text for c in after.chunks)
    assert "CruiseacquiresselfdrivingstartupVoyage" not in after.articles
    assert len(after.articles) == len(before.articles) - 1


def test_full_rebuild_embeds_everything(tiny_seeds, tmp_path, fake_embedder):
    build(tiny_seeds, tmp_path / "ix", fake_embedder)
    seen = fake_embedder.texts_seen
    report = build(tiny_seeds, tmp_path / "ix", fake_embedder, full=True)
    assert fake_embedder.texts_seen - seen == report.chunks


def test_lock_blocks_a_second_build_and_recovers_stale(tmp_path, tiny_seeds, fake_embedder):
    ix = tmp_path / "ix"
    ix.mkdir()
    (ix / "lock").write_text("1\n")  # pid 1 is alive: another build holds it
    with pytest.raises(BuildLocked, match="pid 1"):
        build(tiny_seeds, ix, fake_embedder)
    (ix / "lock").write_text("999999999\n")  # no such process: stale
    assert build(tiny_seeds, ix, fake_embedder).articles == 5
    assert not (ix / "lock").exists()
    with BuildLock(ix), pytest.raises(BuildLocked):
        build(tiny_seeds, ix, fake_embedder)


def test_a_generation_of_other_embedded_text_is_embedded_again(tiny_seeds, tmp_path, fake_embedder):
    import json

    from index.store import current_generation

    index_dir = tmp_path / "ix"
    build(tiny_seeds, index_dir, fake_embedder)
    meta_file = index_dir / current_generation(index_dir) / "meta.json"
    meta = json.loads(meta_file.read_text())
    assert meta["text"] == "chunk"
    meta_file.write_text(json.dumps({k: v for k, v in meta.items() if k != "text"}))
    report = build(tiny_seeds, index_dir, fake_embedder)
    assert report.embedded == report.chunks > 0
    assert any("other text" in note for note in report.notes)
