"""The Milvus vector store on Milvus Lite: sync as a diff, exact search, filters in Milvus."""

from __future__ import annotations

import gc
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("milvus_lite")

from index.articles import Article  # noqa: E402
from index.build import build  # noqa: E402
from index.chunking import Chunk  # noqa: E402
from index.errors import StoreUnavailable  # noqa: E402
from index.store import load_index, serves_milvus_lite  # noqa: E402
from index.stores.faiss_store import FaissBackend  # noqa: E402
from index.stores.milvus.backend import MilvusBackend  # noqa: E402
from index.stores.milvus.engine import LITE, MilvusConfig, public_uri  # noqa: E402
from index.stores.milvus.mirror import MilvusVectors, filter_expression, quote, row_key  # noqa: E402

pytestmark = [pytest.mark.milvus, pytest.mark.slow]  # each test starts a Milvus Lite engine


def _corpus(n: int = 8, per: int = 4, dim: int = 16, seed: int = 0):
    articles = {
        f"a{i}": Article(
            f"a{i}",
            f"/s/a{i}.txt",
            f"T{i}",
            datetime(2010 + i, 6, 1, tzinfo=UTC) if i else None,
            "Jane Doe" if i % 2 else 'O"Brien \\ Co',
            f"http://x/{i}",
            "text",
            f"hash{i}",
        )
        for i in range(n)
    }
    chunks = [Chunk(f"a{i}#{j}", f"a{i}", "t", 0, 1) for i in range(n) for j in range(per)]
    vectors = np.random.default_rng(seed).standard_normal((len(chunks), dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return articles, chunks, vectors


@pytest.fixture
def store(tmp_path):
    vectors = MilvusVectors(MilvusConfig(str(tmp_path / "m.db")))
    yield vectors
    vectors.close()


def test_exact_search_matches_brute_force(store):
    articles, chunks, vectors = _corpus()
    assert store.sync(articles, chunks, vectors, "m") == (len(chunks), [])
    keys = {row_key(c, articles[c.article_id], "m"): i for i, c in enumerate(chunks)}
    for q in range(0, len(chunks), 5):
        got = [keys[key] for key, _ in store.search(vectors[q], 5)]
        assert got == list(np.argsort(-(vectors @ vectors[q]), kind="stable")[:5])


def test_sync_is_a_diff(store):
    articles, chunks, vectors = _corpus()
    store.sync(articles, chunks, vectors, "m")
    assert store.sync(articles, chunks, vectors, "m") == (0, [])  # unchanged: nothing written
    # a2 changes (new hash), a3 is removed
    articles["a2"] = Article(**{**articles["a2"].__dict__, "content_hash": "new"})
    keep = [i for i, c in enumerate(chunks) if c.article_id != "a3"]
    del articles["a3"]
    inserted, stale = store.sync(articles, [chunks[i] for i in keep], vectors[keep], "m")
    assert (inserted, len(stale)) == (4, 8)  # old a2 and a3 rows stay until deleted
    assert len(store.keys()) == len(chunks) + 4
    store.delete(stale)
    assert len(store.keys()) == len(keep)


def test_a_new_dimension_recreates_the_collection(store):
    articles, chunks, vectors = _corpus(dim=16)
    store.sync(articles, chunks, vectors, "m")
    articles, chunks, vectors = _corpus(dim=8)
    assert store.sync(articles, chunks, vectors, "m8") == (len(chunks), [])  # dropped, not diffed
    assert store.dim() == 8 and len(store.search(vectors[0], 100)) == len(chunks)


def test_filters_run_inside_milvus(store):
    articles, chunks, vectors = _corpus()
    store.sync(articles, chunks, vectors, "m")
    keys = {row_key(c, articles[c.article_id], "m"): c.article_id for c in chunks}
    after = datetime(2013, 1, 1, tzinfo=UTC)
    hits = store.search(vectors[0], 100, filter_expression(after=after, author="JANE DOE"))
    assert {keys[k] for k, _ in hits} == {"a3", "a5", "a7"}
    hits = store.search(vectors[0], 100, filter_expression(before=after))
    assert {keys[k] for k, _ in hits} == {"a1", "a2"}  # a0 is undated: a date bound excludes it
    hits = store.search(vectors[0], 100, filter_expression(author='o"brien \\ co'))
    assert {keys[k] for k, _ in hits} == {"a0", "a2", "a4", "a6"}


def test_quote_escapes_and_folds_newlines():
    assert quote('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c d"'


def lite_servers(folder: Path) -> list[str]:
    """Return the Milvus Lite server processes (any owner) whose database lies under folder."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:  # the process ended while we looked
            continue
        if args[0].endswith(b"milvus_lite/lib/milvus") and str(folder).encode() in args[1]:
            found.append(args[1].decode())
    return found


def test_last_close_stops_the_lite_server_and_keeps_the_data(tmp_path):
    articles, chunks, vectors = _corpus()
    first = MilvusVectors(MilvusConfig(str(tmp_path / "m.db")))
    second = MilvusVectors(MilvusConfig(str(tmp_path / "m.db")))
    first.sync(articles, chunks, vectors, "m")
    assert len(lite_servers(tmp_path)) == 1  # one server per file, shared
    first.close()
    first.close()  # closing twice is harmless
    assert len(second.search(vectors[0], 3)) == 3  # the other user still searches
    del second
    gc.collect()  # a dropped store releases like close()
    assert lite_servers(tmp_path) == [] and str(tmp_path) not in " ".join(LITE.running())
    again = MilvusVectors(MilvusConfig(str(tmp_path / "m.db")))
    again.client.load_collection(again.name)
    assert len(again.keys()) == len(chunks)  # written before the stop, read after a restart
    again.close()


def test_a_generation_runs_one_lite_server_while_loaded_and_none_after(
    tiny_seeds, tmp_path, fake_embedder, monkeypatch
):
    build(tiny_seeds, tmp_path / "ix", fake_embedder, backend=MilvusBackend())
    assert lite_servers(tmp_path) == []  # the build's server stopped before the folder moved
    index = load_index(tmp_path / "ix")
    assert index.store.search(fake_embedder.encode(["Alibaba"]), 3)
    assert len(lite_servers(tmp_path)) == 1
    build(tiny_seeds, tmp_path / "ix", fake_embedder, full=True, backend=MilvusBackend())
    newer = load_index(tmp_path / "ix")
    assert newer.store.search(fake_embedder.encode(["Alibaba"]), 3)
    assert len(lite_servers(tmp_path)) == 2  # the old one serves until it is dropped
    del index
    gc.collect()
    assert lite_servers(tmp_path) == [str(tmp_path / "ix" / newer.generation / "milvus.db")]


def test_a_generation_is_read_where_it_was_built(tiny_seeds, tmp_path, fake_embedder, monkeypatch):
    build(tiny_seeds, tmp_path / "ix", fake_embedder, backend=MilvusBackend())
    # the serving process's settings now point elsewhere: the generation's meta decides
    elsewhere = MilvusBackend(MilvusConfig("http://nowhere.invalid:19530"))
    index = load_index(tmp_path / "ix", backend=elsewhere)
    expected = str(tmp_path / "ix" / index.generation / "milvus.db")
    assert index.store._search.config.uri == expected
    assert index.store.search(fake_embedder.encode(["Alibaba"]), 3)
    assert serves_milvus_lite(tmp_path / "ix", FaissBackend())  # `qa serve` runs one worker


def test_each_index_folder_gets_its_own_server_collection(tmp_path):
    server = MilvusConfig.of("http://milvus:19530")
    a = server.for_index(tmp_path / "a").collection
    b = server.for_index(tmp_path / "b").collection
    assert (
        a != b
        and a.startswith("newsqa_chunks_")
        and a == server.for_index(tmp_path / "a").collection
    )
    named = MilvusConfig.of("http://milvus:19530", collection="news")  # an explicit name wins
    assert named.for_index(tmp_path / "a").collection == "news"
    lite = MilvusConfig.of("")  # Lite: a file of its own, the plain name
    assert lite.for_index(tmp_path / "a").collection == "newsqa_chunks"


def test_meta_never_records_a_password():
    assert (
        public_uri("https://root:secret@db.example:19530/news") == "https://db.example:19530/news"
    )
    assert public_uri("http://db.example:19530") == "http://db.example:19530"


def test_a_lite_file_held_by_another_process_is_a_clear_error(tmp_path):
    path = tmp_path / "m.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, stdin=subprocess.PIPE
    )
    try:
        assert holder.stdout.readline() == b"open\n"
        with pytest.raises(StoreUnavailable, match="one process"):
            MilvusVectors(MilvusConfig(str(path)))
        assert str(path) not in " ".join(LITE.running())  # the failed open holds nothing
    finally:
        holder.communicate(b"done\n", timeout=60)
    store = MilvusVectors(MilvusConfig(str(path)))  # free again once the holder has gone
    store.close()


HOLD = """
import sys
from index.stores.milvus.engine import MilvusConfig
from index.stores.milvus.mirror import MilvusVectors
store = MilvusVectors(MilvusConfig(sys.argv[1]))
print("open", flush=True)
sys.stdin.readline()
store.close()
"""


def test_rows_left_by_an_unreachable_server_only_warn(caplog):
    from index.stores.milvus.mirror import delete_rows

    record = {"lite": False, "uri": "http://127.0.0.1:1", "collection": "c", "keys": 2}
    delete_rows(Path("."), record, ["k1", "k2"])  # the generation is live already: no raise
    assert "left 2 old rows" in caplog.text


def test_an_unreachable_server_is_store_unavailable():
    with pytest.raises(
        StoreUnavailable, match="cannot connect to Milvus at http://127.0.0.1:1"
    ) as err:
        MilvusVectors(MilvusConfig("http://u:secret@127.0.0.1:1"))
    assert "secret" not in str(err.value)  # the message may reach a log or an HTTP body
