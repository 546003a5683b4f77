"""What the Milvus engine we test against offers for stateless replicas (issue #14).

Pins the facts the Milvus design of docs/scale-out.md rests on, for Milvus Lite 2.5.1 and the
same engine over TCP: Milvus's own BM25 function fills a sparse field from the text; one
hybrid_search runs dense and BM25 requests, each with the date/author filter expression, and
fuses them by RRF; collection aliases are not implemented by this engine.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("milvus_lite")

from pymilvus import (  # noqa: E402
    AnnSearchRequest,
    DataType,
    Function,
    FunctionType,
    MilvusClient,
    RRFRanker,
)
from pymilvus.exceptions import MilvusException  # noqa: E402

pytestmark = [pytest.mark.milvus, pytest.mark.slow]

TEXTS = [
    ("a", 1, "Alibaba will invest US$200 million in its Aliyun OS business"),
    ("b", 2, "Tesla's chief executive said the factory would open next year"),
    ("c", 3, "Bird plans to spend millions on its European expansion"),
    ("d", 4, "Stripe is now valued at twenty billion dollars after the round"),
]


@pytest.fixture(params=["lite", "server"])
def client(request, tmp_path):
    if request.param == "lite":
        from index.stores.milvus.engine import LITE, LITE_GRPC_OPTIONS

        path = str(tmp_path / "f.db")
        LITE.open(path)
        made = MilvusClient(uri=path, dedicated=True, grpc_options=LITE_GRPC_OPTIONS)
        yield made
        made.close()
        LITE.close(path)
    else:
        made = MilvusClient(uri=request.getfixturevalue("milvus_server"), dedicated=True)
        yield made
        made.close()


@pytest.fixture
def chunks(client, request):
    name = f"fulltext_{request.node.name.split('[')[-1].rstrip(']')}"
    if client.has_collection(name):
        client.drop_collection(name)
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=16)
    schema.add_field("date", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=4096, enable_analyzer=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=8)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    params = client.prepare_index_params()
    params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection(name, schema=schema, index_params=params)
    vectors = np.eye(8, dtype=np.float32)
    rows = [
        {"id": key, "date": date, "text": text, "vector": vectors[i].tolist()}
        for i, (key, date, text) in enumerate(TEXTS)
    ]
    client.insert(name, rows)
    client.load_collection(name)
    yield name
    client.drop_collection(name)


def test_bm25_function_ranks_by_the_words(client, chunks):
    hits = client.search(
        chunks, data=["Aliyun invest"], anns_field="sparse", limit=2, output_fields=["text"]
    )[0]
    assert hits[0]["id"] == "a" and hits[0]["distance"] > 0
    assert "Aliyun" in hits[0]["entity"]["text"]


def test_hybrid_search_fuses_dense_and_bm25_inside_the_filter(client, chunks):
    query = np.eye(8, dtype=np.float32)[3].tolist()  # dense: nearest is "d"
    dense = AnnSearchRequest([query], "vector", {"metric_type": "IP"}, limit=4, expr="date >= 2")
    words = AnnSearchRequest(["Bird expansion"], "sparse", {"metric_type": "BM25"}, limit=4,
                             expr="date >= 2")  # fmt: skip
    hits = client.hybrid_search(chunks, [dense, words], RRFRanker(60), limit=3,
                                output_fields=["date"])[0]  # fmt: skip
    ids = [h["id"] for h in hits]
    assert set(ids[:2]) == {"c", "d"}  # each list's first: 1/61 + a dense rank for "c"
    assert "a" not in ids and all(h["entity"]["date"] >= 2 for h in hits)
    assert all(0 < h["distance"] <= 2 / 61 for h in hits)  # RRF scores, not IP or BM25


def test_this_engine_has_no_collection_aliases(client, chunks):
    import grpc

    # pymilvus lets the raw gRPC error through: UNIMPLEMENTED, on Lite and its TCP engine alike.
    with pytest.raises((MilvusException, grpc.RpcError)):
        client.create_alias(chunks, "live")
