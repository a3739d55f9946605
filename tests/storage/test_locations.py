"""obs:// and s3:// locations against moto's S3 server over HTTP: parsing, staging, publishing."""

import socket
import threading

import pytest
from botocore.exceptions import ClientError

from conversions import locations
from conversions.isolation import child_env
from conversions.locations.s3 import client as console_client
from conversions.locations.s3 import plain

pytestmark = pytest.mark.django_db


class Operator:
    """A staff stand-in: these tests are about the store, not about who may reach it."""

    is_staff = is_superuser = is_active = is_authenticated = True

    def get_username(self) -> str:
        return "operator"


def parse(text: str, **kwargs):
    return locations.parse(text, user=Operator(), need=locations.WRITE, **kwargs)


def test_object_locations_follow_the_path_rules(s3):
    assert str(parse("OBS://models-in/cnn/v1")) == "obs://models-in/cnn/v1/"
    assert str(parse("s3://models-in/")) == "s3://models-in/"
    for text, message in [
        ("obs://ab/x/", "bucket name of 3 to 63"),
        ("obs://Models/x/", "bucket name of 3 to 63"),
        ("obs://169.254.169.254/x/", "bucket name of 3 to 63"),
        ("obs://models-in/a/../b/", "cannot contain . or .."),
        ("obs://models-in/a//b/", "two slashes"),
        ("obs://models-in//a/", "two slashes"),
        ("obs://models-in/a:b/", "cannot contain"),
        ("obs://", "bucket name"),
        ("obs://models-in/" + "a" * 1100, "longer than 1023"),
        ("http://models-in/a/", "obs://bucket/prefix/"),
    ]:
        with pytest.raises(locations.LocationError, match=message):
            parse(text)


def test_object_storage_is_refused_when_not_configured(settings):
    settings.S3_ENABLED = False
    with pytest.raises(locations.LocationError, match="not configured on this console"):
        parse("obs://models-in/cnn/")


def test_staging_downloads_the_prefix_and_nothing_beside_it(buckets, tmp_path):
    client = buckets.client
    client.put_object(Bucket="models-in", Key="cnn/model/cnn.pb", Body=b"graph" * 1000)
    client.put_object(Bucket="models-in", Key="cnn/calibration_data/a.npy", Body=b"npy")
    client.put_object(Bucket="models-in", Key="cnn/model/", Body=b"")  # a console's folder marker
    client.put_object(Bucket="models-in", Key="cnn2/model/other.pb", Body=b"no")
    parse("obs://models-in/cnn/").stage_into(tmp_path)
    staged = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert staged == ["calibration_data/a.npy", "model/cnn.pb"]
    assert (tmp_path / "model/cnn.pb").read_bytes() == b"graph" * 1000


@pytest.mark.parametrize(
    "key",
    [
        "cnn/../escape.pb",
        "cnn/model/../../x.pb",
        "cnn//etc/passwd",
        "cnn/a\\..\\x.pb",
        "cnn/./a.pb",
    ],
)
def test_staging_refuses_traversal_keys_naming_them_before_writing(buckets, tmp_path, key):
    buckets.client.put_object(Bucket="models-in", Key="cnn/model/cnn.pb", Body=b"graph")
    buckets.client.put_object(Bucket="models-in", Key=key, Body=b"evil")
    with pytest.raises(locations.LocationError, match="cannot be staged") as refused:
        parse("obs://models-in/cnn/").stage_into(tmp_path / "input")
    assert key in str(refused.value)
    assert not (tmp_path / "input").exists() and not (tmp_path / "escape.pb").exists()


def test_staging_refuses_a_key_that_needs_a_file_and_a_folder(buckets, tmp_path):
    buckets.client.put_object(Bucket="models-in", Key="cnn/model", Body=b"a file")
    buckets.client.put_object(Bucket="models-in", Key="cnn/model/cnn.pb", Body=b"graph")
    with pytest.raises(locations.LocationError, match="cnn/model/cnn.pb sits under another object"):
        parse("obs://models-in/cnn/").stage_into(tmp_path)


def test_staging_enforces_the_maximum_model_size(buckets, settings, tmp_path):
    settings.MAX_MODEL_SIZE_MB = 1
    buckets.client.put_object(
        Bucket="models-in", Key="big/model/a.pb", Body=b"x" * (1024 * 1024 + 1)
    )
    with pytest.raises(locations.LocationError, match="more than the 1 MB this console accepts"):
        parse("s3://models-in/big/").stage_into(tmp_path / "input")
    assert not (tmp_path / "input").exists()


def test_an_object_that_grows_while_staging_is_refused_without_the_extra_bytes(buckets, tmp_path):
    buckets.client.put_object(Bucket="models-in", Key="cnn/model/cnn.pb", Body=b"12345")

    def grow(**_kwargs):  # between the listing and the download
        buckets.client.put_object(Bucket="models-in", Key="cnn/model/cnn.pb", Body=b"x" * 5_000_000)

    events = console_client().meta.events
    events.register_first("before-parameter-build.s3.GetObject", grow)
    try:
        with pytest.raises(
            locations.LocationError, match="cnn/model/cnn.pb changed while it was being staged"
        ):
            parse("obs://models-in/cnn/").stage_into(tmp_path / "input")
    finally:
        events.unregister("before-parameter-build.s3.GetObject", grow)
    assert (tmp_path / "input/model/cnn.pb").stat().st_size <= 5


def test_staging_a_missing_bucket_or_an_empty_folder_says_so(buckets, tmp_path):
    with pytest.raises(
        locations.StorageError,
        match="The bucket no-such-bucket does not exist on http://127.0.0.1:",
    ):
        parse("obs://no-such-bucket/cnn/").stage_into(tmp_path)
    with pytest.raises(
        locations.LocationError, match="There are no objects under obs://models-in/none/"
    ):
        parse("obs://models-in/none/").stage_into(tmp_path)


def test_publishing_uploads_in_order_and_replaces_an_old_report_first(buckets, tmp_path):
    client = buckets.client
    client.put_object(Bucket="models-out", Key="run/report.json", Body=b'{"old": true}')
    (tmp_path / "m.tflite").write_bytes(b"tfl" * 1000)
    (tmp_path / "report.json").write_text('{"new": true}')
    seen = []
    target = parse("obs://models-out/run/")

    def before_put(params, **_kwargs):  # the store's view just before each upload
        seen.append((params["Key"], "run/report.json" in buckets.keys("models-out", "run/")))

    console_client().meta.events.register("before-parameter-build.s3.PutObject", before_put)
    files = [(tmp_path / "m.tflite", "model/m.tflite"), (tmp_path / "report.json", "report.json")]
    try:
        target.publish(files)
    finally:
        console_client().meta.events.unregister("before-parameter-build.s3.PutObject", before_put)
    assert seen == [("run/model/m.tflite", False), ("run/report.json", False)]
    assert buckets.read("models-out", "run/report.json") == b'{"new": true}'
    assert target.sizes(["model/m.tflite", "report.json", "job_log.txt"]) == {
        "model/m.tflite": 3000,
        "report.json": 13,
    }
    assert target.holds_converted_model()
    assert not parse("obs://models-out/other/").holds_converted_model()


@pytest.mark.parametrize(
    "report,converted",
    [(b'{"status": "succeeded"}', True), (b'{"status": "failed"}', False), (b"not json", True)],
)
def test_only_a_report_of_a_model_marks_an_output_folder_as_taken(buckets, dirs, report, converted):
    buckets.client.put_object(Bucket="models-out", Key="out/report.json", Body=report)
    (dirs / "out").mkdir()
    (dirs / "out/report.json").write_bytes(report)
    assert parse("obs://models-out/out/").holds_converted_model() is converted
    assert parse("/out/").holds_converted_model() is converted


def test_large_files_are_uploaded_in_parts(buckets, settings, tmp_path):
    settings.S3_MULTIPART_THRESHOLD_MB = 5
    settings.S3_MULTIPART_CHUNK_MB = 5
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (12 * 4096))  # 12 MiB
    parse("obs://models-out/big/").publish([(big, "model/big.bin")])
    head = buckets.client.head_object(Bucket="models-out", Key="big/model/big.bin")
    assert head["ContentLength"] == big.stat().st_size
    assert head["ETag"].strip('"').endswith("-3")  # a multipart ETag names its 3 parts
    staged = tmp_path / "staged"
    parse("obs://models-out/big/").stage_into(staged)
    assert (staged / "model/big.bin").read_bytes() == big.read_bytes()


def test_listing_pages_through_buckets_and_prefixes(buckets, settings):
    settings.BROWSE_PAGE_SIZE = 2
    for key in ("m/a/x.pb", "m/b/x.pb", "m/c/x.pb", "m/readme.txt"):
        buckets.client.put_object(Bucket="models-in", Key=key, Body=b"12345")
    root = parse("obs://", root_ok=True).listing()
    assert root.folders == ["models-in", "models-out"] and root.next_page == ""
    first = parse("obs://models-in/m/").listing()
    assert first.folders == ["a", "b"] and first.files == [] and first.next_page
    second = parse("obs://models-in/m/").listing(first.next_page)
    assert second.folders == ["c"] and second.files == [("readme.txt", 5)]
    assert second.next_page == ""


def store_at(settings, port: int) -> None:
    """The console pointed at 127.0.0.1:port, with credentials, one attempt per request."""
    settings.S3_ENABLED, settings.S3_ENDPOINT_URL = True, f"http://127.0.0.1:{port}"
    settings.S3_ACCESS_KEY_ID, settings.S3_SECRET_ACCESS_KEY = "key-id", "secret"
    settings.S3_ADDRESSING_STYLE, settings.S3_MAX_ATTEMPTS = "path", 1


def test_the_console_without_credentials_says_which_settings_to_set(
    settings, monkeypatch, tmp_path
):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store_at(settings, 9)
    settings.S3_ACCESS_KEY_ID = settings.S3_SECRET_ACCESS_KEY = ""
    with pytest.raises(
        locations.StorageError, match="set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY"
    ):
        parse("obs://models-in/cnn/").stage_into(tmp_path)


def test_an_unreachable_endpoint_fails_in_plain_words(settings, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store_at(settings, port)
    with pytest.raises(
        locations.StorageError,
        match=f"Could not reach the object storage at http://127.0.0.1:{port}",
    ):
        parse("obs://models-in/cnn/").stage_into(tmp_path)


def test_a_store_that_does_not_answer_times_out_in_plain_words(settings, tmp_path):
    silent = socket.socket()  # accepts connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    accepted = []
    threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True).start()
    try:
        store_at(settings, silent.getsockname()[1])
        settings.S3_READ_TIMEOUT = 1
        with pytest.raises(locations.StorageError, match="did not answer in time while listing"):
            parse("obs://models-in/cnn/").stage_into(tmp_path)
    finally:
        silent.close()


def test_access_denied_reads_as_plain_words(s3):
    # moto does not enforce permissions, so this checks the wording for S3's documented error.
    denied = ClientError(
        {
            "Error": {"Code": "AccessDenied", "Message": "Access Denied"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        "ListObjectsV2",
    )
    message = str(plain(denied, parse("obs://models-in/cnn/"), "listing"))
    assert message.startswith("Access to obs://models-in/cnn/ was denied while listing")
    assert "Ask the operator to grant access" in message


def test_the_converter_child_never_gets_storage_credentials(monkeypatch):
    for name in (
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "S3_ENDPOINT_URL",
        "DATABASE_URL",
    ):
        monkeypatch.setenv(name, "secret-value")
    env = child_env()
    assert "secret-value" not in env.values()
    assert not [name for name in env if name.startswith(("S3_", "AWS_", "DATABASE"))]
