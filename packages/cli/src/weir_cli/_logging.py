"""Logging for the ``weir`` command: the one place in weir that configures Python logging.

A rich handler on the root logger (on stderr), the root level from ``--log-level`` (default
WARNING), and the ``weir.user`` logger at INFO so that ``context.log.info`` lines show during a
run. The AWS SDK and HTTP loggers stay at INFO or above whatever the level: botocore's DEBUG
output contains request signatures and session tokens.
"""

from __future__ import annotations

import logging

__all__ = ["LOG_LEVELS", "SECRET_BEARING_LOGGERS", "configure_logging"]

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
"""The values ``--log-level`` accepts."""

SECRET_BEARING_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
"""Loggers never set below INFO: at DEBUG they print credentials and session tokens."""

_HANDLER_MARK = "_weir_cli_handler"


def configure_logging(level: str = "warning") -> None:
    """Install the CLI's handler on the root logger and set the levels (idempotent).

    Args:
        level: One of :data:`LOG_LEVELS`, case-insensitive.
    """
    from rich.console import Console
    from rich.logging import RichHandler

    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):  # click's Choice already refuses other values
        numeric = logging.WARNING
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = RichHandler(
        console=Console(stderr=True),
        show_path=False,
        rich_tracebacks=False,
        markup=False,
        log_time_format="[%X]",
    )
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(numeric)
    logging.getLogger("weir.user").setLevel(min(numeric, logging.INFO))
    for name in SECRET_BEARING_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, logging.INFO))
