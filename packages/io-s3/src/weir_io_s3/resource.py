"""``S3Resource``: a boto3 S3 client from pydantic config, with retries and masked credentials.

The fields are Dagster's (``dagster_aws.s3.S3Resource``): ``region_name``, ``endpoint_url``,
``max_attempts``, ``profile_name``, ``use_ssl``, ``verify``, ``use_unsigned_session`` and the
three credential fields. Credentials left out come from boto3's usual chain (environment
variables, ``~/.aws``, instance roles).

Retries: the client uses botocore's ``standard`` retry mode, so throttling (``SlowDown``,
``503``), server errors (``500``/``502``/``504``) and refused or dropped connections are retried
with exponential backoff before an error reaches the caller. As in Dagster, ``max_attempts`` is
handed to botocore as ``Config(retries={"max_attempts": max_attempts, "mode": "standard"})``,
which botocore counts as retries after the first try: a request is sent at most
``max_attempts + 1`` times (6 by default).

Secrets: ``aws_access_key_id``, ``aws_secret_access_key`` and ``aws_session_token`` never appear
in reprs, error messages, weir's logs or events (give them as ``EnvVar(...)`` to read them at run
time). :meth:`S3Resource.access_error` turns a botocore failure into an :class:`S3AccessError`
that names the bucket and the endpoint, says what to fix, and has any credential masked out.

botocore's own loggers are left alone: a library does not configure other libraries' logging.
botocore logs the full wire trace at DEBUG, request headers included (the session token and the
access key id, never the secret key); whoever turns botocore's DEBUG logging on decides where
it goes, and can mask it with :class:`~weir_io_s3.AWSCredentialsLogFilter` on their handler.

boto3 is imported when the first client is made, not on import.
"""

from __future__ import annotations

import logging
import os
from typing import Any, ClassVar, Optional

from pydantic import Field, PrivateAttr

import weir as dg
from weir.errors import ResourceError

__all__ = ["S3AccessError", "S3Resource"]

logger = logging.getLogger(__name__)

_MASK = "***"

# error codes -> what probably went wrong and how to fix it (the messages of S3AccessError)
_BUCKET_MISSING = ("NoSuchBucket",)
_BAD_CREDENTIALS = (
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "InvalidToken",
    "ExpiredToken",
    "AuthFailure",
    "UnrecognizedClientException",
)
_DENIED = ("AccessDenied", "AllAccessDisabled", "403")


class S3AccessError(ResourceError):
    """S3 could not be reached, refused the credentials, or has no such bucket.

    The message names the bucket and the endpoint, never a credential. ``error_code`` is the S3
    error code (``"NoSuchBucket"``, ``"SignatureDoesNotMatch"`` ...) or ``None`` for connection
    failures.
    """

    def __init__(self, message: str, *, error_code: str | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code


class S3Resource(dg.ConfigurableResource):
    """Amazon S3 (or an S3-compatible store: MinIO, Ceph, moto ...) as a resource.

    Example::

        import weir as dg
        from weir_io_s3 import S3Resource

        @dg.asset
        def raw_files(s3: S3Resource) -> list[str]:
            listing = s3.get_client().list_objects_v2(Bucket="landing", Prefix="raw/")
            return [item["Key"] for item in listing.get("Contents", [])]

        defs = dg.Definitions(
            assets=[raw_files],
            resources={
                "s3": S3Resource(
                    region_name="eu-west-1",
                    aws_access_key_id=dg.EnvVar("AWS_ACCESS_KEY_ID"),
                    aws_secret_access_key=dg.EnvVar("AWS_SECRET_ACCESS_KEY"),
                )
            },
        )
    """

    plugin_name: ClassVar[str] = "s3"

    use_unsigned_session: bool = Field(
        default=False,
        description="Send unsigned requests (anonymous access to public buckets).",
    )
    region_name: Optional[str] = Field(
        default=None, description="AWS region, e.g. 'us-east-1' (default: boto3's)."
    )
    endpoint_url: Optional[str] = Field(
        default=None,
        description="Endpoint of an S3-compatible service, e.g. 'http://127.0.0.1:9000'.",
    )
    max_attempts: int = Field(
        default=5,
        description=(
            "botocore's retries max_attempts ('standard' mode, with backoff): retries after the "
            "first try, so at most max_attempts + 1 requests."
        ),
    )
    profile_name: Optional[str] = Field(
        default=None, description="A profile of ~/.aws/config and ~/.aws/credentials."
    )
    use_ssl: bool = Field(default=True, description="Use HTTPS (False: plain HTTP).")
    verify: Optional[str] = Field(
        default=None,
        description=(
            "Certificate checking: a CA bundle path, or 'false' to skip the check "
            "(default: verify with botocore's bundle)."
        ),
    )
    aws_access_key_id: Optional[str] = Field(
        default=None, description="Access key id (default: boto3's credential chain). Masked."
    )
    aws_secret_access_key: Optional[str] = Field(
        default=None, description="Secret access key; a secret (use EnvVar). Masked."
    )
    aws_session_token: Optional[str] = Field(
        default=None, description="Session token of temporary credentials; a secret. Masked."
    )

    _client: Any = PrivateAttr(default=None)
    _client_pid: int = PrivateAttr(default=0)

    # -- the client -------------------------------------------------------------------------------
    def _verify_arg(self) -> bool | str | None:
        if self.verify is None:
            return None
        if self.verify.strip().lower() in ("false", "0", "no", "off"):
            return False
        if self.verify.strip().lower() in ("true", "1", "yes", "on"):
            return True
        return self.verify

    def get_client(self) -> Any:
        """A boto3 S3 client for this configuration (made once per process, then reused).

        Raises:
            S3AccessError: boto3 cannot build a client (an unknown ``profile_name`` ...).
        """
        if self._client is not None and self._client_pid == os.getpid():
            return self._client
        import boto3
        import botocore.exceptions
        from botocore import UNSIGNED
        from botocore.config import Config as BotoConfig

        options: dict[str, Any] = {
            "retries": {"max_attempts": self.max_attempts, "mode": "standard"}
        }
        if self.use_unsigned_session:
            options["signature_version"] = UNSIGNED
        try:
            session = boto3.session.Session(profile_name=self.profile_name)
            client = session.client(
                "s3",
                region_name=self.region_name,
                endpoint_url=self.endpoint_url,
                use_ssl=self.use_ssl,
                verify=self._verify_arg(),
                aws_access_key_id=self.aws_access_key_id,
                aws_secret_access_key=self.aws_secret_access_key,
                aws_session_token=self.aws_session_token,
                config=BotoConfig(**options),
            )
        except botocore.exceptions.BotoCoreError as exc:
            msg = (
                f"Could not create an S3 client for {self.describe_endpoint()}: "
                f"{self.mask(str(exc))}. Check the profile_name, region_name and endpoint_url config."
            )
            raise S3AccessError(msg) from None
        self._use_client(client)
        return client

    def _use_client(self, client: Any) -> None:
        """Make ``client`` (built here, or by the legacy ``s3_resource``) this resource's client
        in this process, instead of one built from the fields."""
        self._client = client
        self._client_pid = os.getpid()

    def __getstate__(self) -> dict[Any, Any]:
        # a boto3 client does not pickle (and must not cross processes): rebuilt on first use
        state: dict[Any, Any] = super().__getstate__()
        private = state.get("__pydantic_private__")
        if private and private.get("_client") is not None:
            state["__pydantic_private__"] = {**private, "_client": None, "_client_pid": 0}
        return state

    # -- describing and masking -------------------------------------------------------------------
    def describe_endpoint(self) -> str:
        """``endpoint http://...`` or ``AWS S3 (region ...)`` for messages; never a credential."""
        if self.endpoint_url:
            return f"endpoint {self.mask(self.endpoint_url)}"
        region = (
            self.region_name or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        )
        return f"AWS S3 (region {region})" if region else "AWS S3 (boto3's default region)"

    def _secrets(self) -> list[str]:
        values = [self.aws_access_key_id, self.aws_secret_access_key, self.aws_session_token]
        # the longest first, so that a secret containing another is masked whole
        return sorted((v for v in values if isinstance(v, str) and v), key=len, reverse=True)

    def mask(self, text: str) -> str:
        """``text`` with every configured credential replaced by ``***``."""
        for secret in self._secrets():
            text = text.replace(secret, _MASK)
        return text

    def access_error(self, exc: BaseException, *, bucket: str, doing: str) -> S3AccessError:
        """An :class:`S3AccessError` for a failed request to ``bucket`` (``doing`` says what it
        was, e.g. ``"Listing"``), with the likely cause and fix; credentials masked."""
        code, reason = _error_code_and_reason(exc)
        reason = self.mask(reason).rstrip(".")
        where = f"bucket {bucket!r} at {self.describe_endpoint()}"
        if code in _BUCKET_MISSING:
            advice = (
                "The bucket does not exist there: create it, or fix the s3_bucket config "
                "(and endpoint_url/region_name if it lives elsewhere)."
            )
        elif code in _BAD_CREDENTIALS:
            advice = (
                "The credentials were refused: check aws_access_key_id / aws_secret_access_key / "
                "aws_session_token (or the AWS_* environment variables and profile_name) and that "
                "they belong to this endpoint."
            )
        elif code in _DENIED:
            advice = (
                "Access was denied: the credentials lack permission on this bucket (s3:ListBucket, "
                "s3:GetObject, s3:PutObject), or the bucket belongs to another account."
            )
        elif code is None:
            advice = (
                "The endpoint could not be reached (after retries): check endpoint_url, use_ssl, "
                "the network and that the service is running."
            )
        else:
            advice = "See the S3 error above; check the bucket, endpoint and credentials config."
        shown = f" ({code})" if code and code not in reason else ""
        msg = f"{doing} {where} failed{shown}: {reason}. {advice}"
        return S3AccessError(msg, error_code=code)


def _error_code_and_reason(exc: BaseException) -> tuple[str | None, str]:
    """The S3 error code of a botocore ``ClientError`` (``None`` for other errors) and a reason."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        code = str(error.get("Code") or "") or None
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code is None and status is not None:
            code = str(status)
        message = str(error.get("Message") or "") or str(exc)
        return code, message
    return None, str(exc).strip() or type(exc).__name__
