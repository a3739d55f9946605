"""Object storage folders, `obs://bucket/prefix/` and `s3://bucket/prefix/`, through boto3.

Huawei OBS, AWS S3, MinIO and other S3-compatible stores speak the same protocol. Both schemes reach
the one store the operator configured (settings S3_*); users name a bucket and a folder, never an
endpoint or a credential. Every boto3 failure leaves this module as a StorageError in plain words.
"""

import functools
import mimetypes
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from conversions.locations.rules import (
    MAX_LENGTH,
    REPORT,
    REPORT_READ_LIMIT,
    Listing,
    LocationError,
    StorageError,
    check_path,
    check_total,
    key_target,
    vouches_for_a_model,
)
from conversions.params import positive_int

# boto3/botocore are imported where storage is used: ~0.1 s CPU that every process importing
# conversions.locations (web, qclusters, manage.py commands) would pay even without S3 configured.

SCHEMES = ("obs", "s3")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
IP_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")  # S3 and OBS refuse bucket names shaped like IPs
DENIED = {
    "AccessDenied",
    "AllAccessDisabled",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
}
MB = 1024 * 1024
CHUNK = MB


def parse_object(text: str, *, root_ok: bool = False) -> "S3Location":
    """The S3Location for `scheme://bucket/prefix/`; `scheme://` alone (the bucket list) if root_ok."""
    scheme, _sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not settings.S3_ENABLED:
        raise LocationError(
            _(
                "Object storage (obs:// and s3://) is not configured on this console: use a folder "
                "of the data directory, or ask the operator to set S3_ENDPOINT_URL."
            )
        )
    if len(text) > MAX_LENGTH:
        raise LocationError(_("The path is longer than %(n)d characters.") % {"n": MAX_LENGTH})
    bucket, _sep, prefix = rest.partition("/")
    if not bucket and not prefix and root_ok:
        return S3Location(scheme, "", "")
    if not BUCKET_RE.match(bucket) or ".." in bucket or IP_RE.match(bucket):
        raise LocationError(
            _(
                "Write %(scheme)s://bucket/folder/ with a bucket name of 3 to 63 lowercase letters, "
                "digits, dots and hyphens."
            )
            % {"scheme": scheme}
        )
    if prefix.startswith("/"):
        raise LocationError(_("A path cannot contain two slashes in a row."))
    return S3Location(scheme, bucket, check_path(prefix) if prefix else "")


@functools.lru_cache(maxsize=4)
def _client(endpoint, region, key_id, secret, style, signature, connect, read, attempts):
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version=signature,
        s3={"addressing_style": style},
        connect_timeout=connect,
        read_timeout=read,
        retries={"max_attempts": attempts, "mode": "standard"},
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=region or None,
        aws_access_key_id=key_id or None,
        aws_secret_access_key=secret or None,
        config=config,
    )


def client():
    """A boto3 S3 client for the configured store (cached per configuration; clients are thread-safe)."""
    s = settings
    return _client(
        s.S3_ENDPOINT_URL,
        s.S3_REGION,
        s.S3_ACCESS_KEY_ID,
        s.S3_SECRET_ACCESS_KEY,
        s.S3_ADDRESSING_STYLE,
        s.S3_SIGNATURE_VERSION,
        s.S3_CONNECT_TIMEOUT,
        s.S3_READ_TIMEOUT,
        s.S3_MAX_ATTEMPTS,
    )


def transfer_config():  # -> boto3.s3.transfer.TransferConfig
    """Uploads: multipart above the threshold, parts in parallel."""
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(
        multipart_threshold=settings.S3_MULTIPART_THRESHOLD_MB * MB,
        multipart_chunksize=settings.S3_MULTIPART_CHUNK_MB * MB,
        max_concurrency=settings.S3_MAX_CONCURRENCY,
    )


@contextmanager
def plain_errors(location: "S3Location", action: str):
    """Turn what boto3 raises while doing `action` into a StorageError a user can read."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except S3UploadFailedError as exc:  # boto3 wraps the real cause of a failed upload
        raise plain(exc.__cause__ or exc.__context__ or exc, location, action) from exc
    except (ClientError, BotoCoreError) as exc:
        raise plain(exc, location, action) from exc


def plain(exc: Exception, location: "S3Location", action: str) -> StorageError:
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    words = {
        "location": str(location),
        "bucket": location.bucket,
        "action": action,
        "endpoint": settings.S3_ENDPOINT_URL or "the default S3 endpoint",
    }
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket":
            return StorageError(
                _("The bucket %(bucket)s does not exist on %(endpoint)s (while %(action)s).")
                % words
            )
        if code in DENIED or status == 403:
            return StorageError(
                _(
                    "Access to %(location)s was denied while %(action)s: the console's storage "
                    "account may not use it. Ask the operator to grant access."
                )
                % words
            )
        words.update(code=code or status, message=error.get("Message", ""))
        return StorageError(
            _("The object storage refused %(action)s in %(location)s: %(code)s %(message)s") % words
        )
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return StorageError(
            _(
                "The object storage at %(endpoint)s did not answer in time while %(action)s "
                "(%(location)s)."
            )
            % words
        )
    if isinstance(exc, EndpointConnectionError):
        return StorageError(
            _("Could not reach the object storage at %(endpoint)s while %(action)s (%(location)s).")
            % words
        )
    if isinstance(exc, NoCredentialsError):
        return StorageError(
            _(
                "The console has no object storage credentials: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY."
            )
        )
    words["error"] = str(exc)
    return StorageError(
        _("Object storage failed while %(action)s (%(location)s): %(error)s") % words
    )


@dataclass(frozen=True)
class S3Location:
    """A folder (key prefix) in a bucket of the configured object store; bucket "" is the bucket list."""

    scheme: str
    bucket: str
    prefix: str  # "" or ends with "/"

    def __str__(self) -> str:
        return (
            f"{self.scheme}://{self.bucket}/{self.prefix}" if self.bucket else f"{self.scheme}://"
        )

    @property
    def identity(self) -> str:
        """One name per folder of the store, whichever scheme (obs:// or s3://) named it."""
        return f"s3://{self.bucket}/{self.prefix}"

    def _key(self, name: str) -> str:
        return self.prefix + check_path(name).rstrip("/")

    def _objects(self) -> Iterator[dict]:
        pages = (
            client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=self.prefix)
        )
        for page in pages:
            yield from page.get("Contents", [])

    def _read_small(self, key: str) -> bytes | None:
        """The first REPORT_READ_LIMIT bytes of `key`, or None when there is no such object."""
        # A listing first: HEAD and GET answer a bare 404 for a missing bucket and a missing key alike.
        answer = client().list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
        if not any(item["Key"] == key for item in answer.get("Contents", [])):
            return None
        with client().get_object(Bucket=self.bucket, Key=key)["Body"] as body:
            return body.read(REPORT_READ_LIMIT)

    def is_folder(self) -> bool:
        with plain_errors(self, "listing"):
            answer = client().list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)
        return bool(answer.get("KeyCount"))

    def check_input(self) -> None:
        """LocationError unless the folder holds objects (the form's early check)."""
        if not self.is_folder():
            raise LocationError(
                _("There are no objects under %(location)s: check the bucket and folder names.")
                % {"location": self}
            )

    def holds_converted_model(self) -> bool:
        with plain_errors(self, "looking for an earlier report.json"):
            return vouches_for_a_model(self._read_small(self.prefix + REPORT))

    def stage_into(self, destination: Path) -> None:
        """Download every object under the prefix into `destination`, streaming to disk.

        All keys and the total size are checked before the first byte is written.
        """
        with plain_errors(self, "listing the input folder"):
            objects = [item for item in self._objects() if not item["Key"].endswith("/")]
        if not objects:
            raise LocationError(
                _("There are no objects under %(location)s: check the bucket and folder names.")
                % {"location": self}
            )
        plan = [
            (item["Key"], key_target(destination, item["Key"], item["Key"][len(self.prefix) :]))
            for item in objects
        ]
        _refuse_clashes(plan)
        check_total(sum(item["Size"] for item in objects), settings.MAX_MODEL_SIZE_MB, self)
        s3 = client()
        for (key, target), item in zip(plan, objects, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            with plain_errors(self, f"downloading {key}"):
                written = _stream(
                    s3.get_object(Bucket=self.bucket, Key=key)["Body"], target, item["Size"]
                )
            if written != item["Size"]:
                raise LocationError(
                    _("The object %(key)s changed while it was being staged; start the task again.")
                    % {"key": key}
                )

    def publish(self, files: list[tuple[Path, str]]) -> None:
        """Upload (local file, relative name) pairs in the order given: report.json comes last.

        An old report.json is deleted first, so it never vouches for a set being replaced; a failed
        upload stops here, before report.json.
        """
        s3, config = client(), transfer_config()
        with plain_errors(self, "removing the old report.json"):
            s3.delete_object(Bucket=self.bucket, Key=self.prefix + REPORT)
        for source, name in files:
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            with plain_errors(self, f"uploading {name}"):
                s3.upload_file(
                    str(source),
                    self.bucket,
                    self._key(name),
                    ExtraArgs={"ContentType": content_type},
                    Config=config,
                )

    def remove(self, names: list[str]) -> int:
        """Delete the named objects of the folder (a task's published artifacts); anything not
        named stays. Returns the objects deleted."""
        found = sorted(self.sizes(names))
        s3 = client()
        for start in range(0, len(found), 1000):  # DeleteObjects takes at most 1000 keys
            keys = [{"Key": self._key(name)} for name in found[start : start + 1000]]
            with plain_errors(self, "deleting outputs"):
                s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
        return len(found)

    def listing(self, page: str = "") -> Listing:
        """One page of one level: buckets at the root, else sub-prefixes and objects."""
        size = settings.BROWSE_PAGE_SIZE
        if not self.bucket:
            with plain_errors(self, "listing the buckets"):
                names = sorted(b["Name"] for b in client().list_buckets().get("Buckets", []))
            start = positive_int(page, 0)
            end = start + size
            return Listing(folders=names[start:end], next_page=str(end) if end < len(names) else "")
        ask = dict(Bucket=self.bucket, Prefix=self.prefix, Delimiter="/", MaxKeys=size)
        if page:
            ask["ContinuationToken"] = page
        with plain_errors(self, "listing"):
            answer = client().list_objects_v2(**ask)
        start = len(self.prefix)
        folders = [p["Prefix"][start:].rstrip("/") for p in answer.get("CommonPrefixes", [])]
        files = [(o["Key"][start:], o["Size"]) for o in answer.get("Contents", [])]
        return Listing(
            folders=[name for name in folders if name],
            files=[(name, size) for name, size in files if name],
            next_page=answer.get("NextContinuationToken", "") if answer.get("IsTruncated") else "",
        )

    def sizes(self, names: list[str]) -> dict[str, int]:
        """{name: size} for those of `names` that are objects in the folder."""
        wanted, found = set(names), {}
        with plain_errors(self, "listing the output folder"):
            for item in self._objects():
                name = item["Key"][len(self.prefix) :]
                if name in wanted:
                    found[name] = item["Size"]
        return found

    def open_file(self, name: str):
        """A streaming body for the object `name` in the folder (read in chunks, never whole)."""
        with plain_errors(self, f"reading {name}"):
            return client().get_object(Bucket=self.bucket, Key=self._key(name))["Body"]

    def download_url(self, name: str) -> str:
        """A presigned GET for `name` that the browser saves as a file; valid S3_PRESIGN_SECONDS."""
        filename = name.rsplit("/", 1)[-1]
        with plain_errors(self, f"signing a download of {name}"):
            return client().generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": self._key(name),
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                },
                ExpiresIn=settings.S3_PRESIGN_SECONDS,
            )


def _stream(body, target: Path, size: int) -> int:
    """Copy a GET's body to `target` in chunks; stop past `size` so the size limit holds exactly.

    One GET per object: against moto this ran 7x faster than boto3's ranged parallel download
    (benchmarks/staging.py), and it never writes more than the listing promised.
    """
    written = 0
    with body, target.open("wb") as out:
        for chunk in body.iter_chunks(CHUNK):
            written += len(chunk)
            if written > size:
                break
            out.write(chunk)
    return written


def _refuse_clashes(plan: list[tuple[str, Path]]) -> None:
    """Refuse a key that would need a file where another key needs a folder (`a` and `a/b`)."""
    files = {target for _key, target in plan}
    for key, target in plan:
        if any(parent in files for parent in target.parents):
            raise LocationError(
                _(
                    "The object %(key)s sits under another object of the same name as its folder; rename one of them."
                )
                % {"key": key}
            )
