"""The S3 store over HTTP, and what the worker does when storage fails."""

from __future__ import annotations

import boto3
import pytest
from services import free_port
from stage_samples import HELLO

from worker.errors import StorageError, UploadError
from worker.storage import CACHE_REVALIDATE, S3Store, StoredObject

pytestmark = pytest.mark.integration


def test_put_many_stores_bodies_with_content_type_and_cache_control(s3_endpoint, bucket):
    store = S3Store(bucket, prefix="/previews/", endpoint_url=s3_endpoint)
    objects = [
        StoredObject(
            f"v/asset-{i}.js", f"console.log({i})".encode(), "text/javascript; charset=utf-8"
        )
        for i in range(5)
    ]
    objects.append(
        StoredObject(
            "v/index.html", b"<!doctype html>", "text/html; charset=utf-8", CACHE_REVALIDATE
        )
    )
    store.put_many(objects)

    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    head = s3.head_object(Bucket=bucket, Key="previews/v/index.html")
    assert head["ContentType"] == "text/html; charset=utf-8"
    assert head["CacheControl"] == "no-cache"
    assert store.get("v/asset-3.js") == b"console.log(3)"
    assert store.url_for("v/index.html") == f"{s3_endpoint}/{bucket}/previews/v/index.html"


def test_public_base_url_replaces_the_endpoint_in_urls(s3_endpoint, bucket):
    store = S3Store(bucket, endpoint_url=s3_endpoint, public_base_url="https://cdn.example/")
    assert store.url_for("sessions/a/renders/1/index.html") == (
        "https://cdn.example/sessions/a/renders/1/index.html"
    )


def test_missing_bucket_is_an_upload_error_naming_the_object(s3_endpoint):
    store = S3Store("no-such-bucket", endpoint_url=s3_endpoint)
    with pytest.raises(
        UploadError,
        match=r"could not upload s3://no-such-bucket/k\.js: .*"
        r"NoSuchBucket",
    ):
        store.put_many([StoredObject("k.js", b"x", "text/javascript")])


def test_every_operation_on_a_missing_bucket_is_a_storage_error_naming_the_object(s3_endpoint):
    store = S3Store("no-such-bucket", prefix="p", endpoint_url=s3_endpoint)
    calls = {
        "read s3://no-such-bucket/p/a.js": lambda: store.get("a.js"),
        "delete s3://no-such-bucket/p/a.js": lambda: store.delete("a.js"),
        "copy s3://no-such-bucket/p/a.js to p/b.js": lambda: store.copy_many([("a.js", "b.js")]),
    }
    for what, call in calls.items():
        with pytest.raises(StorageError) as info:
            call()
        assert str(info.value).startswith(f"could not {what}: "), what
        assert "NoSuchBucket" in str(info.value) or "404" in str(info.value), what


def test_a_missing_object_is_not_an_error_when_checking_it(s3_endpoint, bucket):
    assert S3Store(bucket, endpoint_url=s3_endpoint).exists("nothing/here.js") is False


def test_unreachable_endpoint_is_an_upload_error():
    store = S3Store("b", endpoint_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(UploadError, match=r"could not upload s3://b/k\.js: Could not connect"):
        store.put_many([StoredObject("k.js", b"x", "text/javascript")])


def test_storage_failure_is_retried_then_recorded_as_infrastructure(namespace, start_worker):
    worker = start_worker(
        namespace,
        STAGE_S3_BUCKET="bucket-that-does-not-exist",
        STAGE_RENDER_MAX_RETRIES="2",
        STAGE_RETRY_BACKOFF_S="0.05",
    )
    with namespace.client() as client:
        session = client.sessions.create(name="no bucket")
        client.sessions.push_files(session.id, HELLO)
        record = client.sessions.wait_for_render(
            session.id, client.sessions.render(session.id).version
        )
        assert record.status == "failed"
        assert record.error.kind == "infrastructure"
        assert record.error.message.startswith(
            "gave up after 3 attempts: UploadError: "
            "could not upload s3://bucket-that-does-not-exist/"
        )
        assert record.attempts == 3
        assert client.sessions.status(session.id).live is None
    assert worker.log.count(f"session={session.id} version=1 outcome=retry") == 2
