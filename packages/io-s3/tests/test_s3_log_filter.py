"""Logging: weir-io-s3 configures no logger (botocore's included), and the opt-in
``AWSCredentialsLogFilter`` on an application's handler masks the credentials that botocore's
DEBUG wire trace carries (session token, access key id, signatures), over real HTTP to moto."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

import weir as dg
from weir_io_s3 import (
    AWSCredentialsLogFilter,
    S3PickleIOManager,
    S3Resource,
    s3_pickle_io_manager,
    s3_resource,
)
from weir_io_s3.testing import MotoServer

TOKEN = "FwoGZXIvYXdzEXAMPLE-log-filter-session-token"
KEY_ID = "AKIAEXAMPLELOGFILTER"  # AWS's shape: AKIA + 16 upper-case letters/digits


class _Collect(logging.Handler):
    """Keeps each record's message as formatted when this handler saw it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}")

    @property
    def text(self) -> str:
        return "\n".join(self.messages)


@pytest.fixture
def wire_trace() -> Iterator[tuple[_Collect, _Collect]]:
    """What an application with DEBUG logging on would see: ``(raw, masked)`` handlers on the
    root logger, the second with the filter. The raw one is first, so it sees records before
    the filter rewrites them."""
    raw, masked = _Collect(), _Collect()
    masked.addFilter(AWSCredentialsLogFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(raw)
    root.addHandler(masked)
    root.setLevel(logging.DEBUG)
    try:
        yield raw, masked
    finally:
        root.setLevel(level)
        root.removeHandler(masked)
        root.removeHandler(raw)


def _logging_state() -> dict[str, Any]:
    loggers: dict[str, Any] = {"": logging.getLogger()}
    loggers.update(
        (name, logger)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    )
    return {
        name: (logger.level, list(logger.filters), list(logger.handlers), logger.propagate)
        for name, logger in loggers.items()
    }


def test_using_the_package_configures_no_logger(moto_server: MotoServer, bucket: str) -> None:
    moto_server.client().list_buckets()  # botocore's module loggers exist from here on
    before = _logging_state()
    resource = S3Resource(**moto_server.resource_fields(aws_session_token=TOKEN))
    manager = S3PickleIOManager(s3_resource=resource, s3_bucket=bucket)
    out = dg.build_output_context(asset_key=["quiet"])
    manager.handle_output(out, [1])
    assert manager.load_input(dg.build_input_context(asset_key=["quiet"], upstream_output=out)) == [
        1
    ]

    @dg.asset
    def legacy_quiet() -> int:
        return 1

    legacy = {
        "io_manager": s3_pickle_io_manager.configured({"s3_bucket": bucket}),
        "s3": s3_resource.configured(moto_server.resource_fields(aws_session_token=TOKEN)),
    }
    assert dg.materialize([legacy_quiet], resources=legacy).success
    after = _logging_state()
    # loggers created meanwhile (botocore imports its modules lazily) are left as they came
    changed = {
        name: (before[name], after[name])
        for name in before
        if name in after and before[name] != after[name]
    }
    assert changed == {}
    for name in after.keys() - before.keys():
        _level, filters, _handlers, _propagate = after[name]
        assert not any(type(f).__module__.startswith("weir") for f in filters), name


def test_the_filter_masks_botocores_wire_trace(
    moto_server: MotoServer, bucket: str, wire_trace: tuple[_Collect, _Collect]
) -> None:
    raw, masked = wire_trace
    client = moto_server.client(aws_access_key_id=KEY_ID, aws_session_token=TOKEN)
    client.put_object(Bucket=bucket, Key="k", Body=b"v")
    # botocore's DEBUG trace does carry them (which is why the filter exists) ...
    assert TOKEN in raw.text and KEY_ID in raw.text
    # ... and the handler with the filter never shows them
    assert TOKEN not in masked.text and KEY_ID not in masked.text
    assert "x-amz-security-token:***" in masked.text  # the canonical request
    assert "'X-Amz-Security-Token': b'***'" in masked.text  # the header dict
    assert "Credential=***/" in masked.text  # the Authorization header
    assert len(masked.messages) == len(raw.messages)  # nothing dropped


def test_the_filter_masks_a_failed_run(
    auth_server: tuple[MotoServer, str, tuple[str, str]], wire_trace: tuple[_Collect, _Collect]
) -> None:
    server, bucket, (key_id, secret) = auth_server
    raw, masked = wire_trace
    resource = S3Resource(
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=TOKEN,  # refused: moto knows no such session
    )

    @dg.asset
    def refused() -> int:
        return 1

    result = dg.materialize(
        [refused],
        resources={"io_manager": S3PickleIOManager(s3_resource=resource, s3_bucket=bucket)},
        raise_on_error=False,
    )
    assert not result.success
    assert TOKEN in raw.text
    for text in (masked.text, *(repr(event) for event in result.all_events)):
        assert TOKEN not in text and secret not in text and key_id not in text


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"])
def test_presigned_urls_are_masked(
    moto_server: MotoServer, bucket: str, signature_version: str
) -> None:
    from botocore.config import Config

    client = moto_server.client(
        aws_access_key_id=KEY_ID,
        aws_session_token=TOKEN,
        config=Config(signature_version=signature_version),
    )
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    assert KEY_ID in url and "ignature=" in url and "ecurity-token=" in url.lower()
    masked = AWSCredentialsLogFilter().mask(f"fetching {url}")
    assert KEY_ID not in masked and TOKEN.split("-")[0] not in masked
    assert masked.startswith(f"fetching {moto_server.endpoint_url}/{bucket}/k?")
    parameters = dict(pair.split("=", 1) for pair in masked.split("?", 1)[1].split("&"))
    for name, value in parameters.items():
        if name.lower() in (
            "x-amz-credential",
            "awsaccesskeyid",
            "x-amz-security-token",
            "x-amz-signature",
            "signature",
        ):
            # the credential scope after the key id (date/region/service) is no secret
            assert value == "***" or value.startswith("***%2F"), (name, value)


def test_literal_secrets_and_records_kept_whole() -> None:
    log_filter = AWSCredentialsLogFilter(secrets=["minio-key-1", "", "minio-key-12345"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "keys %s and %s", None, None)
    record.args = ("minio-key-12345", "minio-key-1")
    assert log_filter.filter(record) is True
    assert record.getMessage() == "keys *** and ***"
    untouched = logging.LogRecord("x", logging.INFO, __file__, 1, "plain %d", (3,), None)
    assert log_filter.filter(untouched) is True
    assert (untouched.msg, untouched.args) == ("plain %d", (3,))
    broken = logging.LogRecord("x", logging.INFO, __file__, 1, "two %s %s", ("one",), None)
    assert log_filter.filter(broken) is True  # left for logging to report
    assert "minio" not in repr(log_filter)
