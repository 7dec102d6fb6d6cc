"""Fixtures: one moto S3 server per test session (real HTTP on 127.0.0.1), one bucket per test.

The server is :class:`weir_io_s3.testing.MotoServer`. When moto is missing the fixture FAILS, it
does not skip: install the package's ``test`` group (``pip install "moto[server]>=5"``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from weir_io_s3 import S3Resource
from weir_io_s3.testing import MotoServer, MotoServerUnavailable


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """The session's moto server (anonymous: any credentials are accepted)."""
    server = MotoServer()
    try:
        server.start()
    except MotoServerUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def auth_server() -> Iterator[tuple[MotoServer, str, tuple[str, str]]]:
    """A second moto server that checks signatures (IAM authentication on):
    ``(server, bucket, (access key id, secret))``; other credentials are refused."""
    with MotoServer() as server:
        credentials = server.create_access_key()
        bucket = server.create_bucket()
        server.enable_authentication()
        yield server, bucket, credentials


@pytest.fixture
def bucket(moto_server: MotoServer) -> str:
    """A fresh, empty bucket for this test (its name)."""
    return moto_server.create_bucket()


@pytest.fixture
def s3_resource(moto_server: MotoServer) -> S3Resource:
    """An ``S3Resource`` pointed at the moto server, with dummy credentials."""
    return S3Resource(**moto_server.resource_fields())


@pytest.fixture
def s3_client(moto_server: MotoServer) -> Any:
    """A plain boto3 client of the moto server, to look at what the code under test stored."""
    return moto_server.client()


@pytest.fixture
def stored_keys(s3_client: Any, bucket: str) -> Callable[[], list[str]]:
    """A function listing every key of this test's bucket, sorted."""

    def keys() -> list[str]:
        found: list[str] = []
        for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(found)

    return keys
