"""Artifact stores: S3 (any S3-compatible endpoint, through boto3) and a local folder.

Both take the same objects and keys; a key is relative to the storage root
(``sessions/<id>/renders/<v>/index.html`` plus the configured prefix) and the public URL
of a key is ``STAGE_PUBLIC_BASE_URL + "/" + key``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import boto3
import botocore.config
import botocore.exceptions

from worker.errors import StorageError, UploadError
from worker.settings import Settings

__all__ = [
    "StoredObject",
    "ListedObject",
    "delete_folder",
    "ArtifactStore",
    "S3Store",
    "LocalStore",
    "store_from_settings",
    "CACHE_IMMUTABLE",
    "CACHE_REVALIDATE",
    "CACHE_NO_STORE",
    "cache_control_for",
    "version_folder",
]

#: Content-hashed files never change under their name.
CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
#: index.html and manifest.json: cheap to revalidate, and a CDN never pins a stale one.
CACHE_REVALIDATE = "no-cache"
#: A failed version's error page: a fix is usually a push away, so nothing keeps it.
CACHE_NO_STORE = "no-store"
_PUBLIC_FILE_MODE = 0o644


def version_folder(session_id: str, version: int) -> str:
    """The folder of one render version, relative to the store's prefix."""
    return f"sessions/{session_id}/renders/{version}/"


def cache_control_for(kind: str, *, failed: bool = False) -> str:
    """The Cache-Control of a version-folder file by its manifest kind.

    ``html`` (index.html, manifest.json) revalidates, or is never stored for a failed
    build; /public/ files keep their names so they revalidate; the rest is content-hashed.
    """
    if kind == "html":
        return CACHE_NO_STORE if failed else CACHE_REVALIDATE
    if kind == "public":
        return CACHE_REVALIDATE
    return CACHE_IMMUTABLE


_UPLOAD_THREADS = 8  # parallel PUTs per process; S3 latency, not bandwidth, is the cost
DELETE_BATCH = 1000  # S3 DeleteObjects takes at most this many keys per call


@dataclass(frozen=True)
class StoredObject:
    key: str  # relative to the store's prefix
    body: bytes
    content_type: str
    cache_control: str = CACHE_IMMUTABLE


@dataclass(frozen=True)
class ListedObject:
    key: str  # relative to the store's prefix
    size: int


class ArtifactStore(Protocol):
    """Where render artifacts go. Implementations translate their errors to StorageError."""

    prefix: str

    def put_many(self, objects: Sequence[StoredObject]) -> None:
        """Store every object (in parallel where possible); raise UploadError on any failure."""

    def get(self, key: str) -> bytes:
        """An object's bytes."""

    def copy_many(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Copy objects (source key, target key) inside the store, keeping their headers."""

    def delete(self, key: str) -> None:
        """Remove an object (a health probe's)."""

    def list_objects(self, prefix: str) -> list[ListedObject]:
        """Every object whose key starts with ``prefix`` (relative to the store's prefix)."""

    def delete_many(self, keys: Sequence[str]) -> None:
        """Remove objects in batches (S3: DeleteObjects, 1,000 keys a call); keys that are
        already gone are not an error."""

    def put_missing(self, objects: Sequence[StoredObject]) -> int:
        """Store content-addressed objects the store does not have yet; how many were put."""

    def url_for(self, key: str) -> str:
        """The public URL of ``key`` (a key relative to the prefix)."""

    def local_path(self, key: str) -> Path | None:
        """Where the object is on disk, for stores that have a disk."""


@contextlib.contextmanager
def s3_errors(action: str, what: str, error: type[StorageError] = StorageError) -> Iterator[None]:
    """Map every boto3/botocore error to ``error``: "could not <action> <what>: <reason>"."""
    try:
        yield
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise error(f"could not {action} {what}: {exc}") from exc


def _is_missing(exc: botocore.exceptions.ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


def _normalise_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return prefix + "/" if prefix else ""


class S3Store:
    """An S3 bucket through boto3; ``endpoint_url`` selects MinIO, R2, moto and friends."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str = "",
        public_base_url: str = "",
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = _normalise_prefix(prefix)
        self.endpoint_url = endpoint_url
        self.public_base_url = public_base_url.rstrip("/")
        self.client = client or boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            config=botocore.config.Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 2, "mode": "standard"},  # the task retries beyond
                max_pool_connections=_UPLOAD_THREADS * 2,
                # botocore's default since 1.36 computes a CRC32 of every body and sends it
                # as a trailer of an aws-chunked body: a render's source maps are megabytes,
                # and both ends decode the chunking. TLS already guards the bytes on the
                # way; checksums stay on for the calls that require one (DeleteObjects).
                request_checksum_calculation="when_required",
            ),
        )
        self._pool = ThreadPoolExecutor(_UPLOAD_THREADS, thread_name_prefix="stage-upload")
        self._present: set[str] = set()

    def put(self, obj: StoredObject) -> None:
        key = self.prefix + obj.key
        with s3_errors("upload", self._url(key), UploadError):
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=obj.body,
                ContentType=obj.content_type,
                CacheControl=obj.cache_control,
            )

    def put_many(self, objects: Sequence[StoredObject]) -> None:
        if len(objects) <= 1:
            for obj in objects:
                self.put(obj)
            return
        for future in [self._pool.submit(self.put, obj) for obj in objects]:
            future.result()

    def exists(self, key: str) -> bool:
        full = self.prefix + key
        with s3_errors("check", self._url(full)):
            try:
                self.client.head_object(Bucket=self.bucket, Key=full)
            except botocore.exceptions.ClientError as exc:
                if _is_missing(exc):
                    return False
                raise
        return True

    def put_missing(self, objects: Sequence[StoredObject]) -> int:
        # Names are content hashes: an object once stored never changes, so this process
        # remembers what it saw and asks the store once per object.
        unknown = [o for o in objects if o.key not in self._present]
        missing = [
            o
            for o, there in zip(
                unknown, self._pool.map(lambda o: self.exists(o.key), unknown), strict=True
            )
            if not there
        ]
        self.put_many(missing)
        self._present.update(o.key for o in unknown)
        return len(missing)

    def copy(self, source: str, target: str) -> None:
        src, dst = self.prefix + source, self.prefix + target
        with s3_errors("copy", f"{self._url(src)} to {dst}", UploadError):
            # Server-side: the bytes never leave the store; ContentType and CacheControl too.
            self.client.copy_object(
                Bucket=self.bucket,
                Key=dst,
                MetadataDirective="COPY",
                CopySource={"Bucket": self.bucket, "Key": src},
            )

    def copy_many(self, pairs: Sequence[tuple[str, str]]) -> None:
        for future in [self._pool.submit(self.copy, src, dst) for src, dst in pairs]:
            future.result()

    def get(self, key: str) -> bytes:
        full = self.prefix + key
        with s3_errors("read", self._url(full)):
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=full)["Body"].read()
        return body

    def delete(self, key: str) -> None:
        full = self.prefix + key
        with s3_errors("delete", self._url(full)):
            self.client.delete_object(Bucket=self.bucket, Key=full)

    def list_objects(self, prefix: str) -> list[ListedObject]:
        full = self.prefix + prefix
        found = []
        with s3_errors("list", self._url(full) + "*"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=full
            )
            for page in pages:
                for item in page.get("Contents", []):
                    found.append(ListedObject(item["Key"][len(self.prefix) :], int(item["Size"])))
        return found

    def delete_many(self, keys: Sequence[str]) -> None:
        batches = [keys[i : i + DELETE_BATCH] for i in range(0, len(keys), DELETE_BATCH)]
        for future in [self._pool.submit(self._delete_batch, b) for b in batches]:
            future.result()

    def _delete_batch(self, keys: Sequence[str]) -> None:
        first = self._url(self.prefix + keys[0])
        what = first if len(keys) == 1 else f"{first} and {len(keys) - 1} more"
        with s3_errors("delete", what):
            reply = self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": self.prefix + k} for k in keys], "Quiet": True},
            )
        errors = reply.get("Errors") or []
        if errors:  # DeleteObjects answers 200 and lists the keys it could not delete
            error = errors[0]
            raise StorageError(
                f"could not delete {self._url(error.get('Key', '?'))}: "
                f"{error.get('Code')}: {error.get('Message')} "
                f"({len(errors)} of {len(keys)} keys failed)"
            )
        self._present.difference_update(keys)

    def _url(self, full_key: str) -> str:
        return f"s3://{self.bucket}/{full_key}"

    def url_for(self, key: str) -> str:
        full = self.prefix + key
        if self.public_base_url:
            return f"{self.public_base_url}/{full}"
        if self.endpoint_url:
            return f"{self.endpoint_url.rstrip('/')}/{self.bucket}/{full}"
        return f"https://{self.bucket}.s3.amazonaws.com/{full}"

    def local_path(self, key: str) -> Path | None:
        return None


class LocalStore:
    """A folder on disk: the embedded default, and what ``stage-render render`` writes."""

    def __init__(self, root: Path, *, public_base_url: str = "") -> None:
        self.root = root.resolve()
        self.prefix = ""
        self.public_base_url = public_base_url.rstrip("/")

    def put(self, obj: StoredObject) -> None:
        target = self.root / obj.key
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write beside the target and rename: a reader sees the old file or the new one.
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(obj.body)
                    # mkstemp makes 0600 files; a static server under another user must read them.
                    os.fchmod(out.fileno(), _PUBLIC_FILE_MODE)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):  # no half-written file left beside artifacts
                    os.unlink(tmp)
                raise
        except OSError as exc:
            raise UploadError(f"could not write {target}: {exc}") from exc

    def put_many(self, objects: Sequence[StoredObject]) -> None:
        for obj in objects:
            self.put(obj)

    def put_missing(self, objects: Sequence[StoredObject]) -> int:
        missing = [o for o in objects if not (self.root / o.key).is_file()]
        self.put_many(missing)
        return len(missing)

    def copy_many(self, pairs: Sequence[tuple[str, str]]) -> None:
        for source, target in pairs:
            try:
                body = (self.root / source).read_bytes()
            except OSError as exc:
                raise StorageError(f"could not read {self.root / source}: {exc}") from exc
            self.put(StoredObject(target, body, "application/octet-stream"))

    def get(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except OSError as exc:
            raise StorageError(f"could not read {self.root / key}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            (self.root / key).unlink()
        except OSError as exc:
            raise StorageError(f"could not delete {self.root / key}: {exc}") from exc

    def list_objects(self, prefix: str) -> list[ListedObject]:
        # Prefixes are folder-like here ("sessions/<id>/"): walk the folder the prefix names.
        start = self.root / prefix.rpartition("/")[0]
        found = []
        try:
            for current, _, names in os.walk(start):
                for name in names:
                    path = Path(current) / name
                    key = path.relative_to(self.root).as_posix()
                    if key.startswith(prefix) and not name.startswith(".upload-"):
                        found.append(ListedObject(key, path.stat().st_size))
        except OSError as exc:
            raise StorageError(f"could not list {start}: {exc}") from exc
        return sorted(found, key=lambda o: o.key)

    def delete_many(self, keys: Sequence[str]) -> None:
        folders = set()
        for key in keys:
            path = self.root / key
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise StorageError(f"could not delete {path}: {exc}") from exc
            folders.add(path.parent)
        # Empty folders go too, deepest first, up to (not including) the root.
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            while folder != self.root and self.root in folder.parents:
                try:
                    folder.rmdir()
                except FileNotFoundError:
                    pass  # an earlier key's cleanup took it
                except OSError:
                    break  # not empty: its parents are not empty either
                folder = folder.parent

    def url_for(self, key: str) -> str:
        if self.public_base_url:
            return f"{self.public_base_url}/{key}"
        return (self.root / key).as_uri()

    def local_path(self, key: str) -> Path | None:
        return self.root / key


def delete_folder(store: ArtifactStore, folder: str) -> list[ListedObject]:
    """Delete every object under ``folder`` (a key prefix ending in "/"); what was deleted."""
    if not folder.endswith("/"):
        raise ValueError(f"{folder!r}: a folder ends with '/'")
    found = store.list_objects(folder)
    if found:
        store.delete_many([o.key for o in found])
    return found


def store_from_settings(settings: Settings) -> ArtifactStore:
    """S3 when ``STAGE_S3_BUCKET`` is set, else the local folder ``STAGE_ARTIFACTS_DIR``."""
    if settings.s3_bucket:
        return S3Store(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            public_base_url=settings.public_base_url,
        )
    return LocalStore(settings.artifacts_dir, public_base_url=settings.public_base_url)
