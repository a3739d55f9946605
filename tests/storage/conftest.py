"""A real S3-protocol server (moto's) on 127.0.0.1 over HTTP, and the console pointed at it."""

import json
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from moto.moto_api._internal.models import moto_api_backend
from moto.server import ThreadedMotoServer

KEY_ID, SECRET = "test-key-id", "test-secret"
EARLIER_REPORT = b'{"status": "succeeded"}'  # an earlier task's report.json


@dataclass
class Store:
    server: ThreadedMotoServer
    endpoint: str
    port: int

    @property
    def client(self):
        """A client of the test's own (not the console's): the test's view of the bucket."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def put_folder(self, bucket: str, prefix: str, folder: Path) -> None:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                self.client.upload_file(
                    str(path), bucket, prefix + path.relative_to(folder).as_posix()
                )

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        answer = self.client.list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for item in answer.get("Contents", []))

    def read(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def report(self, bucket: str, key: str) -> dict:
        return json.loads(self.read(bucket, key))

    def start(self) -> None:
        """Start a server again on the same port (moto keeps its buckets in this process)."""
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()


def store_settings(endpoint: str) -> dict:
    return {
        "S3_ENABLED": "true",
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": KEY_ID,
        "S3_SECRET_ACCESS_KEY": SECRET,
        "S3_ADDRESSING_STYLE": "path",
        "S3_MAX_ATTEMPTS": "1",
        "S3_CONNECT_TIMEOUT": "2",
        "S3_READ_TIMEOUT": "10",
    }


@pytest.fixture(scope="session")
def _moto_server():
    """One moto server for the session: stopping one costs half a second (werkzeug's poll)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _host, port = server.get_host_and_port()
    store = Store(server, f"http://127.0.0.1:{port}", port)
    yield store
    store.server.stop()


@pytest.fixture
def s3(_moto_server, settings, monkeypatch):
    """moto's server on a free port; the console's settings and the environment a worker inherits
    point at it. Every test starts with no bucket."""
    store = _moto_server
    if not store.server._server_ready_event.is_set():  # noqa: SLF001 (an earlier test stopped it)
        store.start()
    for name, value in store_settings(store.endpoint).items():
        monkeypatch.setenv(name, value)
        setattr(settings, name, int(value) if value.isdigit() else value)
    settings.S3_ENABLED = True
    yield store
    if not store.server._server_ready_event.is_set():  # noqa: SLF001
        store.start()  # a test that stopped the store leaves it running for the next
    moto_api_backend.reset()  # moto's buckets live in this process: drop them for the next test


@pytest.fixture
def buckets(s3):
    """Two buckets, `models-in` and `models-out`."""
    for name in ("models-in", "models-out"):
        s3.client.create_bucket(Bucket=name)
    return s3


GRANTED_BUCKETS = ("models-in", "models-out", "no-such-bucket", "gone-bucket")


@pytest.fixture(autouse=True)
def alice_reaches_the_buckets(request):
    """Buckets are reachable only through a grant: where a test has alice (`user`), she holds a
    read-write grant on each bucket these tests name (tests/security/test_tenancy.py tries
    without)."""
    if "user" not in request.fixturenames:
        return
    from conversions.models import FolderGrant

    user = request.getfixturevalue("user")
    for bucket in GRANTED_BUCKETS:
        FolderGrant.objects.create(
            user=user, location=f"obs://{bucket}/", access=FolderGrant.Access.READ_WRITE
        )
