"""``AWSCredentialsLogFilter``: an opt-in logging filter that masks AWS credentials in log records.

Why it exists: botocore logs the whole wire trace at DEBUG. Two of its records carry
credentials: ``botocore.endpoint`` ("Sending http request: ...", every header, among them
``X-Amz-Security-Token`` and the ``Authorization`` header with the access key id) and
``botocore.auth`` (the canonical request, with ``x-amz-security-token:...``). The secret access
key itself is never logged; it only signs.

Why it is opt-in: weir-io-s3 is a library, and libraries do not configure logging, neither their
own loggers' handlers nor, even less, third-party loggers. Earlier versions attached a filter to
every botocore/s3transfer/urllib3 logger when a client was made; that changed the behaviour of
someone else's loggers process-wide, kept every secret ever seen in a module global, and still
missed loggers created later. botocore's DEBUG logging is off unless the application turns it on
(``logging.basicConfig(level=logging.DEBUG)``, ``boto3.set_stream_logger()`` ...), and the
application that turns it on is the one to decide where the wire trace goes. This filter is the
tool for that decision: attach it to the **handler** (a handler's filters see records propagated
from every logger below it; a logger's filters see only records logged on that very logger)::

    import logging
    from weir_io_s3 import AWSCredentialsLogFilter

    handler = logging.StreamHandler()
    handler.addFilter(AWSCredentialsLogFilter())
    logging.basicConfig(level=logging.DEBUG, handlers=[handler])

Or keep botocore out of DEBUG output altogether: ``logging.getLogger("botocore").setLevel(logging.INFO)``.

What it masks, by pattern (so it needs to know no secret and works for every client, not only
those weir made): session tokens after ``x-amz-security-token`` (header, canonical request and
presigned-URL forms), the access key id after ``Credential=`` / ``X-Amz-Credential=``, access key
ids after ``AWSAccessKeyId=`` (SigV2 presigned URLs) and of AWS's own shape (``AKIA...``/``ASIA...``,
20 characters) anywhere, request signatures (``Signature=`` / ``X-Amz-Signature=``), and any
literal strings given as ``secrets``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

__all__ = ["AWSCredentialsLogFilter"]

_MASK = "***"

# (pattern, replacement): group 1 is kept, the credential after it is masked
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # header dict repr ('X-Amz-Security-Token': b'...'), canonical request (x-amz-security-token:...)
    # and presigned URLs (X-Amz-Security-Token=...)
    (
        re.compile(r"""(x-amz-security-token['"]?\s*[:=]\s*(?:b?['"])?)[^'"\s&,;<>]+""", re.I),
        rf"\g<1>{_MASK}",
    ),
    # Authorization header (Credential=AKIA.../date/...), presigned URLs (X-Amz-Credential=...%2F,
    # and AWSAccessKeyId=... in the older SigV2 form)
    (
        re.compile(r"((?:x-amz-credential|credential|awsaccesskeyid)\s*=\s*)[A-Za-z0-9]+", re.I),
        rf"\g<1>{_MASK}",
    ),
    # the request signature (replayable for a few minutes; presigned URLs for longer): hex in
    # SigV4, URL-encoded base64 in SigV2
    (re.compile(r"((?:x-amz-)?signature\s*=\s*)[A-Za-z0-9%+/=]{16,}", re.I), rf"\g<1>{_MASK}"),
    # access key ids of AWS's shape anywhere (user, temporary, role ... prefixes)
    (
        re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|APKA|ABIA|ACCA)[A-Z0-9]{16}\b"),
        _MASK,
    ),
)


class AWSCredentialsLogFilter(logging.Filter):
    """A :class:`logging.Filter` that masks AWS credentials in the messages it lets through.

    Attach it to a handler (``handler.addFilter(AWSCredentialsLogFilter())``) to mask session
    tokens, access key ids and signatures in botocore's DEBUG wire trace. ``secrets`` adds
    literal strings to mask too (e.g. a key id of a non-AWS S3 service, which has no fixed
    shape). It never drops a record; a record whose message changes is rewritten in place
    (``msg`` set to the masked text, ``args`` cleared).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # the longest first, so that a secret containing another is masked whole
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def mask(self, text: str) -> str:
        """``text`` with every credential this filter knows of replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, _MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask ``record``'s message in place; always keep the record."""
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging system's to report, not ours
            return True
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}(secrets={len(self._secrets)} masked)"
