"""S3Resource: the client it builds, retries of transient errors over real HTTP, refused
credentials (moto with IAM authentication on), and credentials kept out of reprs, logs, events
and errors."""

from __future__ import annotations

import http.client
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import weir as dg
from weir_io_s3 import S3AccessError, S3PickleIOManager, S3Resource
from weir_io_s3.testing import MotoServer

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLE-session-token-value"


def _dead_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the client -------------------------------------------------------------------------------
def test_client_uses_the_configured_endpoint_region_and_retries(moto_server: MotoServer) -> None:
    resource = S3Resource(**moto_server.resource_fields(max_attempts=7))
    client = resource.get_client()
    assert client.meta.endpoint_url == moto_server.endpoint_url
    assert client.meta.region_name == "us-east-1"
    # Dagster passes max_attempts to botocore as is; botocore counts it as retries after the
    # first try, so a request is sent at most max_attempts + 1 times
    assert client.meta.config.retries == {"total_max_attempts": 8, "mode": "standard"}
    assert resource.get_client() is client  # made once, reused
    bucket = moto_server.create_bucket()
    client.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def test_unsigned_session_sends_no_signature(moto_server: MotoServer) -> None:
    from botocore import UNSIGNED

    client = S3Resource(
        endpoint_url=moto_server.endpoint_url, use_unsigned_session=True
    ).get_client()
    assert client.meta.config.signature_version is UNSIGNED


def test_verify_false_switches_certificate_checks_off(moto_server: MotoServer) -> None:
    client = S3Resource(**moto_server.resource_fields(verify="false")).get_client()
    assert client._endpoint.http_session._verify is False
    bundle = S3Resource(**moto_server.resource_fields(verify="/etc/ssl/certs/ca.pem")).get_client()
    assert bundle._endpoint.http_session._verify == "/etc/ssl/certs/ca.pem"


def test_resource_pickles_after_making_a_client(moto_server: MotoServer) -> None:
    import pickle

    resource = S3Resource(**moto_server.resource_fields())
    first = resource.get_client()
    copy = pickle.loads(pickle.dumps(resource))
    assert copy.model_dump() == resource.model_dump()
    bucket = moto_server.create_bucket()
    assert copy.get_client() is not first
    assert copy.get_client().list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_dagster_field_defaults() -> None:
    resource = S3Resource()
    assert resource.use_unsigned_session is False
    assert resource.max_attempts == 5
    assert resource.use_ssl is True
    assert resource.region_name is None and resource.endpoint_url is None
    assert resource.verify is None and resource.profile_name is None
    assert resource.aws_access_key_id is None
    assert resource.aws_secret_access_key is None and resource.aws_session_token is None


def test_unknown_profile_is_a_clear_error() -> None:
    resource = S3Resource(profile_name="no-such-profile-xyz", aws_secret_access_key=SECRET)
    with pytest.raises(S3AccessError, match="no-such-profile-xyz.*profile_name") as info:
        resource.get_client()
    assert SECRET not in str(info.value)


# -- retries ----------------------------------------------------------------------------------
class _FlakyProxy:
    """An HTTP proxy in front of moto that answers the first ``failures`` requests with
    ``503 SlowDown`` (what S3 says when throttling), then forwards everything."""

    def __init__(self, target: MotoServer, failures: int) -> None:
        self.failures = failures
        self.requests = 0
        self.refused = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.requests += 1
                if proxy.refused < proxy.failures:
                    proxy.refused += 1
                    payload = (
                        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                        b"<Message>Please reduce your request rate.</Message></Error>"
                    )
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("expect", "connection")
                }
                conn = http.client.HTTPConnection(target.host, target.port, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                finally:
                    conn.close()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "server",
                        "date",
                    ):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> _FlakyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_throttling_errors_are_retried(moto_server: MotoServer) -> None:
    bucket = moto_server.create_bucket()
    with _FlakyProxy(moto_server, failures=2) as proxy:
        resource = S3Resource(**moto_server.resource_fields(endpoint_url=proxy.endpoint_url))
        manager = S3PickleIOManager(s3_resource=resource, s3_bucket=bucket)
        out = dg.build_output_context(asset_key=["retried"])
        manager.handle_output(out, {"ok": True})  # the bucket check is refused twice, then passes
        loaded = manager.load_input(
            dg.build_input_context(asset_key=["retried"], upstream_output=out)
        )
    assert loaded == {"ok": True}
    assert proxy.refused == 2
    assert proxy.requests > 2


def test_retries_stop_after_max_attempts(moto_server: MotoServer) -> None:
    bucket = moto_server.create_bucket()
    with _FlakyProxy(moto_server, failures=100) as proxy:
        resource = S3Resource(
            **moto_server.resource_fields(endpoint_url=proxy.endpoint_url, max_attempts=2)
        )
        manager = S3PickleIOManager(s3_resource=resource, s3_bucket=bucket)
        with pytest.raises(S3AccessError, match="SlowDown") as info:
            manager.handle_output(dg.build_output_context(asset_key=["x"]), 1)
    assert proxy.requests == 3  # the first try and max_attempts=2 retries
    assert bucket in str(info.value) and proxy.endpoint_url in str(info.value)


def test_unreachable_endpoint_is_retried_then_named(caplog: pytest.LogCaptureFixture) -> None:
    endpoint = f"http://127.0.0.1:{_dead_port()}"
    resource = S3Resource(
        endpoint_url=endpoint,
        region_name="us-east-1",
        max_attempts=1,
        aws_access_key_id="AKIAEXAMPLEKEYID",
        aws_secret_access_key=SECRET,
    )
    attempts: list[str] = []
    resource.get_client().meta.events.register(
        "before-send.s3", lambda request, **kwargs: attempts.append(request.url)
    )
    manager = S3PickleIOManager(s3_resource=resource, s3_bucket="some-bucket")
    with caplog.at_level(logging.DEBUG), pytest.raises(S3AccessError) as info:
        manager.handle_output(dg.build_output_context(asset_key=["x"]), 1)
    assert len(attempts) == 2
    message = str(info.value)
    assert "'some-bucket'" in message and endpoint in message
    assert "could not be reached" in message
    assert info.value.error_code is None
    assert SECRET not in message and SECRET not in caplog.text


# -- refused credentials: moto with IAM authentication on (conftest's auth_server) ------------
def test_valid_credentials_are_accepted(
    auth_server: tuple[MotoServer, str, tuple[str, str]],
) -> None:
    server, bucket, (key_id, secret) = auth_server
    resource = S3Resource(
        **server.resource_fields(aws_access_key_id=key_id, aws_secret_access_key=secret)
    )
    manager = S3PickleIOManager(s3_resource=resource, s3_bucket=bucket)
    out = dg.build_output_context(asset_key=["authed"])
    manager.handle_output(out, [1])
    assert manager.load_input(
        dg.build_input_context(asset_key=["authed"], upstream_output=out)
    ) == [1]


def test_wrong_secret_is_refused_without_showing_it(
    auth_server: tuple[MotoServer, str, tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    server, bucket, (key_id, _secret) = auth_server
    resource = S3Resource(
        **server.resource_fields(aws_access_key_id=key_id, aws_secret_access_key=SECRET)
    )
    manager = S3PickleIOManager(s3_resource=resource, s3_bucket=bucket)
    with caplog.at_level(logging.DEBUG), pytest.raises(S3AccessError) as info:
        manager.handle_output(dg.build_output_context(asset_key=["x"]), 1)
    message = str(info.value)
    assert info.value.error_code == "SignatureDoesNotMatch"
    assert f"bucket {bucket!r}" in message and server.endpoint_url in message
    assert "credentials were refused" in message
    assert SECRET not in message and SECRET not in repr(info.value)
    assert SECRET not in caplog.text


def test_unknown_access_key_is_refused(
    auth_server: tuple[MotoServer, str, tuple[str, str]],
) -> None:
    server, bucket, _ = auth_server
    resource = S3Resource(
        **server.resource_fields(
            aws_access_key_id="AKIANOTAREALKEY00000", aws_secret_access_key=SECRET
        )
    )
    with pytest.raises(S3AccessError) as info:
        S3PickleIOManager(s3_resource=resource, s3_bucket=bucket).check_bucket_access()
    assert info.value.error_code == "InvalidAccessKeyId"
    assert "credentials were refused" in str(info.value)


def test_wrong_credentials_fail_a_run_without_leaking_them(
    auth_server: tuple[MotoServer, str, tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, bucket, (key_id, _secret) = auth_server
    monkeypatch.setenv("WEIR_TEST_S3_SECRET", SECRET)
    monkeypatch.setenv("WEIR_TEST_S3_TOKEN", TOKEN)
    resource = S3Resource(
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=dg.EnvVar("WEIR_TEST_S3_SECRET"),
        aws_session_token=dg.EnvVar("WEIR_TEST_S3_TOKEN"),
    )

    @dg.asset
    def guarded() -> int:
        return 1

    with caplog.at_level(logging.DEBUG):
        result = dg.materialize(
            [guarded],
            resources={"io_manager": S3PickleIOManager(s3_resource=resource, s3_bucket=bucket)},
            raise_on_error=False,
        )
    assert not result.success
    # weir's and this package's logs; botocore's own DEBUG wire trace is the application's to
    # mask (AWSCredentialsLogFilter, see test_s3_log_filter.py): weir leaves its loggers alone
    ours = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.split(".")[0] not in ("botocore", "boto3", "s3transfer", "urllib3")
    )
    assert "weir" in {record.name.split(".")[0] for record in caplog.records}
    texts = [repr(event) for event in result.all_events] + [ours, repr(resource)]
    assert any("InvalidToken" in t or "SignatureDoesNotMatch" in t or "refused" in t for t in texts)
    for text in texts:
        assert SECRET not in text
        assert TOKEN not in text


# -- secrets in reprs -------------------------------------------------------------------------
def test_credentials_are_masked_in_reprs() -> None:
    resource = S3Resource(
        aws_access_key_id="AKIAEXAMPLEKEYID", aws_secret_access_key=SECRET, aws_session_token=TOKEN
    )
    manager = S3PickleIOManager(s3_resource=resource, s3_bucket="b")
    for text in (repr(resource), str(resource), repr(manager)):
        assert SECRET not in text and TOKEN not in text and "AKIAEXAMPLEKEYID" not in text
    assert "aws_secret_access_key=" in repr(resource)


def test_env_var_credentials_show_only_the_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_S3_SECRET", SECRET)
    resource = S3Resource(aws_secret_access_key=dg.EnvVar("MY_S3_SECRET"))
    assert SECRET not in repr(resource)


def test_mask_replaces_every_credential() -> None:
    resource = S3Resource(aws_access_key_id="AKIAEXAMPLEKEYID", aws_secret_access_key=SECRET)
    assert resource.mask(f"id AKIAEXAMPLEKEYID key {SECRET}.") == "id *** key ***."
    assert (
        "endpoint http://minio:9000"
        == S3Resource(endpoint_url="http://minio:9000").describe_endpoint()
    )
