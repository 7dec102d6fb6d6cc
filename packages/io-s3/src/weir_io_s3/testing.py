"""A throwaway S3 for tests: moto's standalone server in a subprocess on ``127.0.0.1``.

:class:`MotoServer` runs ``python -m moto.server -H 127.0.0.1 -p PORT`` (PORT a free port) and
stops it again. Clients talk real HTTP to it: nothing in boto3 is patched, so the code under test
takes the same path (signing, retries, multipart transfer) as against AWS. Credentials are
dummies (moto accepts any) until :meth:`MotoServer.enable_authentication` switches moto's IAM
checks on; then only access keys made by :meth:`MotoServer.create_access_key` are accepted, so
wrong-credential errors are real signature failures.

Needs ``moto[server]`` (the package's ``test`` dependency group). Example (a pytest fixture)::

    @pytest.fixture(scope="session")
    def moto_server():
        with MotoServer() as server:
            yield server

This module imports neither pytest, boto3 nor moto at import time.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["DUMMY_ACCESS_KEY_ID", "DUMMY_SECRET_ACCESS_KEY", "MotoServer", "MotoServerUnavailable"]

logger = logging.getLogger(__name__)

DUMMY_ACCESS_KEY_ID = "testing"
DUMMY_SECRET_ACCESS_KEY = "testing"
REGION = "us-east-1"
_START_TIMEOUT = 60.0


class MotoServerUnavailable(RuntimeError):
    """moto is not installed, or its server did not start."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """moto's S3 server on ``127.0.0.1`` and a free port (``start()``/``stop()``, or ``with``)."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and wait until it answers.

        Raises:
            MotoServerUnavailable: moto is missing, or the server did not answer in time.
        """
        if self.is_running:
            return
        try:
            import moto.server  # noqa: F401  (only to fail early with a clear message)
        except ImportError as exc:
            msg = (
                "Cannot start moto's S3 server: moto is not installed. Install the test "
                'dependencies: pip install "moto[server]>=5" (weir-io-s3\'s `test` group).'
            )
            raise MotoServerUnavailable(msg) from exc
        self.port = _free_port()
        fd, log_name = tempfile.mkstemp(prefix="weir-moto-", suffix=".log")
        os.close(fd)
        self._log_path = Path(log_name)
        env = {**os.environ, "AWS_DEFAULT_REGION": REGION}
        env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
        with open(self._log_path, "wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                msg = (
                    f"moto's server exited with code {self._process.returncode}.{self._log_tail()}"
                )
                self._process = None
                raise MotoServerUnavailable(msg)
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/data.json", timeout=2):
                    logger.debug("moto server up at %s", self.endpoint_url)
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        msg = f"moto's server did not answer on {self.endpoint_url} within {_START_TIMEOUT:.0f} s."
        raise MotoServerUnavailable(msg + self._log_tail())

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 10 s) and remove its log."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._log_path is not None:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _log_tail(self) -> str:
        if self._log_path is None or not self._log_path.is_file():
            return ""
        lines = self._log_path.read_text(errors="replace").splitlines()[-20:]
        return "\nserver output (last lines):\n" + "\n".join(lines)

    # -- clients, buckets, credentials -------------------------------------------------------------
    def resource_fields(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for ``S3Resource``: this endpoint, the region, dummy credentials."""
        fields: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "region_name": REGION,
            "aws_access_key_id": DUMMY_ACCESS_KEY_ID,
            "aws_secret_access_key": DUMMY_SECRET_ACCESS_KEY,
        }
        fields.update(overrides)
        return fields

    def client(self, service: str = "s3", **overrides: Any) -> Any:
        """A plain boto3 client of this server (dummy credentials unless overridden)."""
        import boto3

        kwargs = self.resource_fields()
        kwargs.update(overrides)
        return boto3.client(service, **kwargs)

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a unique name unless given) and return its name."""
        name = name or f"test-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def create_access_key(self, user_name: str | None = None) -> tuple[str, str]:
        """An IAM user allowed everything, and a new access key of it: ``(key id, secret)``.

        Call before :meth:`enable_authentication` (creating users needs no auth then).
        """
        iam = self.client("iam")
        user_name = user_name or f"user-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=user_name)
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
        iam.put_user_policy(
            UserName=user_name, PolicyName="allow-all", PolicyDocument=json.dumps(policy)
        )
        key = iam.create_access_key(UserName=user_name)["AccessKey"]
        return str(key["AccessKeyId"]), str(key["SecretAccessKey"])

    def enable_authentication(self) -> None:
        """From now on, check every request's signature against moto's IAM users (moto's
        ``INITIAL_NO_AUTH_ACTION_COUNT`` set to 0 through its ``/moto-api/reset-auth``)."""
        self._post("/moto-api/reset-auth", b"0")

    def disable_authentication(self) -> None:
        """Accept any credentials again (moto's default)."""
        self._post("/moto-api/reset-auth", b"inf")

    def _post(self, path: str, data: bytes) -> None:
        # not form-encoded: moto reads the raw body, which Flask empties for form posts
        request = urllib.request.Request(
            f"{self.endpoint_url}{path}",
            data=data,
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
