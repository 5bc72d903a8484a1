"""deploy/bucket-policy.json: anyone reads the previews, no one reads API backend code.

moto's S3 server evaluates bucket policies for anonymous object reads, so the document's
meaning is checked the way a browser meets it: unsigned GETs. moto lets anyone list a
bucket whatever its policy, so that the policy grants no listing is checked on the
document alone."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
POLICY = json.loads((ROOT / "deploy/bucket-policy.json").read_text())
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
BUCKET = COMPOSE["x-stage-env"]["STAGE_S3_BUCKET"]

READABLE = [
    "sessions/s1/renders/3/index.html",
    "sessions/s1/renders/3/manifest.json",
    "sessions/s1/renders/3/app-4f2a.js",
    "sessions/s1/renders/3/assets/logo-9c1e.png",
    "sessions/s1/renders/3/robots.txt",
    "apps/a1/versions/v1/index.html",
    "vendor/k1/react-77aa.js",
    "vendor/stage/overlay-1b2c.js",
]
HIDDEN = ["sessions/s1/renders/3/server/api/tasks.js", "apps/a1/versions/v1/server/api/tasks.js"]


def anonymous_get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_policy_allows_reading_objects_and_denies_server_folders():
    statements = {s["Effect"]: s for s in POLICY["Statement"]}
    assert POLICY["Version"] == "2012-10-17" and len(POLICY["Statement"]) == 2
    for statement in statements.values():
        assert statement["Principal"] == {"AWS": ["*"]}
        assert statement["Action"] == ["s3:GetObject"]  # no listing, no writes
    assert statements["Allow"]["Resource"] == [f"arn:aws:s3:::{BUCKET}/*"]
    assert statements["Deny"]["Resource"] == [f"arn:aws:s3:::{BUCKET}/*/server/*"]


def test_compose_applies_the_policy_file_to_the_workers_bucket():
    init = COMPOSE["services"]["minio-init"]
    [mount] = init["volumes"]
    source, target = mount.removesuffix(":ro").split(":")
    assert (ROOT / source).resolve() == ROOT / "deploy/bucket-policy.json"
    assert f"mc anonymous set-json {target} local/{BUCKET}" in init["command"][0]
    assert "set download" not in init["command"][0] and "set public" not in init["command"][0]


@pytest.mark.integration
def test_anonymous_readers_get_pages_but_not_api_backend_code(s3_endpoint):
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    try:
        for key in READABLE + HIDDEN:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
        before = {key: anonymous_get(f"{s3_endpoint}/{BUCKET}/{key}") for key in READABLE}
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(POLICY))

        status = {key: anonymous_get(f"{s3_endpoint}/{BUCKET}/{key}") for key in READABLE + HIDDEN}
    finally:
        for key in READABLE + HIDDEN:
            s3.delete_object(Bucket=BUCKET, Key=key)
        s3.delete_bucket(Bucket=BUCKET)
        s3.close()

    assert set(before.values()) == {403}  # the server enforces policies: without one, nothing
    assert {key: status[key] for key in READABLE} == dict.fromkeys(READABLE, 200)
    assert {key: status[key] for key in HIDDEN} == dict.fromkeys(HIDDEN, 403)
