"""``@stage/compute``'s store and platform module on a real SQLite file: index keys that
sort as their values, each limit's refusal, and the boundaries between apps and processes
on the platform endpoint (PostgreSQL and the Deno side are proven in
tests/integration/test_compute.py)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.host.compute import (
    ComputeError,
    ComputeModule,
    ComputeStore,
    Limits,
    encode_key,
    open_store,
)
from worker.host.compute.keys import encode_value
from worker.host.egress import Egress, parse_hosts
from worker.host.platform import Grants, platform_app

APP_A = "app_" + "a" * 20
APP_B = "app_" + "b" * 20
EMPTY_X = '{"x":""}'  # the JSON around the big document's text
LIMITS = Limits(max_query_docs=5, max_writes=3, timeout_s=2)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.text(),
)


def rank(value: Any) -> tuple[int, Any]:
    """The order indexes promise: null < false < true < numbers < strings."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (2, float(value))
    return (3, value.encode("utf-8", "surrogatepass"))


@given(scalars, scalars)
def test_encoded_values_sort_as_the_values(a, b):
    assert (encode_value(a) < encode_value(b)) == (rank(a) < rank(b))
    assert (encode_value(a) == encode_value(b)) == (rank(a) == rank(b))


@given(st.lists(scalars, min_size=2, max_size=2), st.lists(scalars, min_size=2, max_size=2))
def test_encoded_keys_sort_field_by_field(a, b):
    assert (encode_key(a) < encode_key(b)) == ([rank(v) for v in a] < [rank(v) for v in b])


def test_key_edges():
    assert encode_value(-0.0) == encode_value(0.0) == encode_value(0)
    assert encode_value(-math.inf) < encode_value(-1e308) < encode_value(1e308)
    assert encode_value("a") < encode_value("a\x00") < encode_value("a\x00b") < encode_value("b")
    # A string's key is not the prefix of a longer string's: "ab" is not in the range "a".
    assert not encode_value("ab").startswith(encode_value("a"))


def run(body: Callable[[], Awaitable[None]]) -> None:
    """``body`` on an event loop of its own thread (another test's browser may hold this
    thread's loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, body()).result()  # type: ignore[arg-type]


async def opened(folder: Path, limits: Limits = LIMITS) -> ComputeStore:
    store = open_store("", folder, limits)
    await store.migrate()
    return store


def test_each_limit_is_refused_with_its_status_and_rolls_nothing_in(tmp_path):
    async def body() -> None:
        store = await opened(tmp_path)
        try:
            with pytest.raises(ComputeError) as big:
                tx = await store.begin(APP_A)
                try:
                    await store.run(
                        APP_A, [{"op": "insert", "table": "t", "doc": {"x": "y" * 2**20}}], tx
                    )
                finally:
                    await store.end(tx, commit=False)
            assert big.value.status == 413
            assert str(big.value) == (
                f"a document is {2**20 + len(EMPTY_X)} bytes as JSON; at most 1048576 (1 MB)"
            )
            tx = await store.begin(APP_A)
            inserts = [{"op": "insert", "table": "t", "doc": {"i": i}} for i in range(4)]
            with pytest.raises(ComputeError, match="write at most 3 times"):
                await store.run(APP_A, inserts, tx)
            await store.end(tx, commit=False)
            assert await store.run(APP_A, [{"op": "query", "table": "t"}], None) == [[]]
            for _ in range(2):
                tx = await store.begin(APP_A)
                await store.run(APP_A, inserts[:3], tx)
                await store.end(tx, commit=True)
            with pytest.raises(ComputeError, match="matches more than 5 documents") as many:
                await store.run(APP_A, [{"op": "query", "table": "t"}], None)
            assert many.value.status == 400
            [five] = await store.run(APP_A, [{"op": "query", "table": "t", "limit": 5}], None)
            assert [d["i"] for d in five] == [0, 1, 2, 0, 1]
            with pytest.raises(ComputeError, match="only a mutation may write"):
                await store.run(APP_A, inserts[:1], None)
            with pytest.raises(ComputeError, match="names starting with _ are the system's"):
                tx = await store.begin(APP_A)
                try:
                    await store.run(APP_A, [{"op": "insert", "table": "t", "doc": {"_id": 1}}], tx)
                finally:
                    await store.end(tx, commit=False)
        finally:
            await store.aclose()

    run(body)


def test_an_index_declared_later_holds_the_documents_before_it(tmp_path):
    async def body() -> None:
        store = await opened(tmp_path, Limits(max_query_docs=100, max_writes=100, timeout_s=2))
        try:
            tx = await store.begin(APP_A)
            await store.run(
                APP_A,
                [
                    {"op": "insert", "table": "t", "doc": {"s": s, "n": n}}
                    for s, n in [("b", 2), ("a", 9), ("b", 1), ("a", 3)]
                ],
                tx,
            )
            await store.end(tx, commit=True)
            await store.declare(APP_A, {"t": {"by_s": ["s", "n"]}})
            query = {"op": "query", "table": "t", "index": {"name": "by_s", "eq": [["s", "a"]]}}
            [found] = await store.run(APP_A, [query], None)
            assert [d["n"] for d in found] == [3, 9]
            # Another app's store of the same table and index name sees none of it.
            await store.declare(APP_B, {"t": {"by_s": ["s", "n"]}})
            assert await store.run(APP_B, [query], None) == [[]]
            with pytest.raises(ComputeError, match=r"withIndex compares its fields in that order"):
                await store.run(
                    APP_A,
                    [{**query, "index": {"name": "by_s", "eq": [["n", 3]]}}],
                    None,
                )
        finally:
            await store.aclose()

    run(body)


def test_a_transaction_belongs_to_its_app_and_process_and_ends_with_the_process(tmp_path):
    async def body() -> None:
        grants = Grants(max_fetches=1)
        # A deadline far away: only the process's end can free the app's lock in this test.
        slow_limits = Limits(max_query_docs=5, max_writes=3, timeout_s=60)
        module = ComputeModule(open_store("", tmp_path, slow_limits))
        await module.start()
        egress = Egress(hosts=parse_hosts(""), max_bytes=1024, timeout_s=1)
        app = platform_app(grants, egress, {"compute": module})
        token_a, token_a2 = grants.issue(APP_A, "ver_1"), grants.issue(APP_A, "ver_1")
        token_b = grants.issue(APP_B, "ver_2")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://platform") as http:

            async def db(token: str, sid: str, body: dict[str, Any]) -> httpx.Response:
                return await http.post(
                    f"/v1/apps/{sid}/compute/db",
                    json=body,
                    headers={"authorization": f"Bearer {token}"},
                )

            insert = {"op": "insert", "table": "t", "doc": {"secret": "a's"}}
            opened_tx = await db(token_a, APP_A, {"begin": "mutation", "ops": [insert]})
            assert opened_tx.status_code == 200, opened_tx.text
            tx = opened_tx.json()["tx"]
            # Another app, naming A's path or its own, with A's transaction: refused.
            forged = await db(token_b, APP_A, {"tx": tx, "ops": [insert]})
            assert (forged.status_code, forged.json()) == (
                403,
                {"error": f"this process serves app {APP_B}; it cannot act as {APP_A}"},
            )
            borrowed = await db(token_b, APP_B, {"tx": tx, "ops": [insert]})
            assert borrowed.status_code == 409
            # Another process of the same app cannot use it either.
            assert (await db(token_a2, APP_A, {"tx": tx, "ops": [insert]})).status_code == 409
            # B's reads never see A's documents, committed or not.
            read = await db(token_b, APP_B, {"ops": [{"op": "query", "table": "t"}]})
            assert read.json() == {"results": [[]]}
            # The process that opened it ends: rolled back, and A's lock is free at once.
            grants.revoke(token_a)
            await asyncio.sleep(0.05)
            again = await asyncio.wait_for(
                db(token_a2, APP_A, {"begin": "mutation", "ops": [{"op": "query", "table": "t"}]}),
                5,
            )
            assert again.status_code == 200
            assert again.json()["results"] == [[]]
            committed = await http.post(
                f"/v1/apps/{APP_A}/compute/commit",
                json={"tx": again.json()["tx"]},
                headers={"authorization": f"Bearer {token_a2}"},
            )
            assert committed.json() == {"committed": True, "writes": 0}
        await module.aclose()

    run(body)


def test_replace_patch_and_delete_keep_the_index_true_and_ids_stay_in_their_app(tmp_path):
    async def body() -> None:
        store = await opened(tmp_path, Limits(max_query_docs=100, max_writes=100, timeout_s=2))
        try:
            await store.declare(APP_A, {"t": {"by_s": ["s"]}})

            async def write(*ops: dict[str, Any]) -> list[Any]:
                tx = await store.begin(APP_A)
                try:
                    return await store.run(APP_A, list(ops), tx)
                finally:
                    await store.end(tx, commit=True)

            def by_s(value: str) -> dict[str, Any]:
                return {
                    "op": "query",
                    "table": "t",
                    "index": {"name": "by_s", "eq": [["s", value]]},
                }

            [one, two] = await write(
                {"op": "insert", "table": "t", "doc": {"s": "a", "n": 1}},
                {"op": "insert", "table": "t", "doc": {"s": "a", "n": 2}},
            )
            [before] = await store.run(APP_A, [{"op": "get", "id": one}], None)
            await write({"op": "replace", "id": one, "doc": {**before, "s": "b"}})
            await write({"op": "patch", "id": two, "fields": {"n": 3}})
            [a, b] = await store.run(APP_A, [by_s("a"), by_s("b")], None)
            assert [(d["_id"], d["n"]) for d in a] == [(two, 3)]
            assert [(d["_id"], d["s"], d["_creationTime"]) for d in b] == [
                (one, "b", before["_creationTime"])
            ]
            await write({"op": "delete", "id": one})
            assert await store.run(APP_A, [by_s("b"), {"op": "get", "id": one}], None) == [[], None]
            # An id is only ever looked up in the caller's app.
            assert await store.run(APP_B, [{"op": "get", "id": two}], None) == [None]
            tx = await store.begin(APP_B)
            with pytest.raises(ComputeError, match="no document") as missing:
                await store.run(APP_B, [{"op": "delete", "id": two}], tx)
            await store.end(tx, commit=False)
            assert missing.value.status == 404
            [still] = await store.run(APP_A, [{"op": "get", "id": two}], None)
            assert still["n"] == 3
        finally:
            await store.aclose()

    run(body)


def test_a_refused_batch_of_writes_leaves_none_of_them_in_the_mutation(tmp_path):
    async def body() -> None:
        store = await opened(tmp_path, Limits(max_query_docs=100, max_writes=100, timeout_s=2))
        try:
            tx = await store.begin(APP_A)
            await store.run(APP_A, [{"op": "insert", "table": "t", "doc": {"n": 0}}], tx)
            batch = [
                {"op": "insert", "table": "t", "doc": {"n": 1}},
                {"op": "insert", "table": "t", "doc": {"n": "x" * 2**20}},
            ]
            with pytest.raises(ComputeError, match="at most 1048576"):
                await store.run(APP_A, batch, tx)
            # The mutation caught it and goes on: its own first write stays, the batch's not.
            await store.run(APP_A, [{"op": "insert", "table": "t", "doc": {"n": 2}}], tx)
            assert tx.writes == 2
            await store.end(tx, commit=True)
            [docs] = await store.run(APP_A, [{"op": "query", "table": "t"}], None)
            assert [d["n"] for d in docs] == [0, 2]
        finally:
            await store.aclose()

    run(body)


def test_an_index_declared_through_one_host_is_kept_by_another_and_by_older_versions(tmp_path):
    async def body() -> None:
        limits = Limits(max_query_docs=100, max_writes=100, timeout_s=2)
        first, second = await opened(tmp_path, limits), await opened(tmp_path, limits)
        try:
            assert await second.indexes(APP_A) == {}  # cached before the index exists
            await first.declare(APP_A, {"t": {"by_s": ["s"]}})
            tx = await second.begin(APP_A)
            await second.run(APP_A, [{"op": "insert", "table": "t", "doc": {"s": "a"}}], tx)
            await second.end(tx, commit=True)
            # An older version declares its schema again, without the index: it stays.
            await second.declare(APP_A, {"t": {}})
            await first.declare(APP_A, {})
            query = {"op": "query", "table": "t", "index": {"name": "by_s", "eq": [["s", "a"]]}}
            for store in (first, second):
                [found] = await store.run(APP_A, [query], None)
                assert [d["s"] for d in found] == ["a"]
        finally:
            await first.aclose()
            await second.aclose()

    run(body)
