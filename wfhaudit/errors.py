"""Errors a user sees as one sentence, with the exit code of cli.md."""

from __future__ import annotations

import os
import re

EXIT_OK = 0
EXIT_THRESHOLD = 1  # --fail-on threshold crossed
EXIT_USAGE = 2  # bad option, bad period, unknown kind
EXIT_DATA = 3  # unreadable input, missing column, --strict rejects, store lacks a table


class WfhauditError(Exception):
    """An error reported to the user as one sentence: what, where, what to do."""

    exit_code = EXIT_DATA

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0])


class UsageError(WfhauditError):
    """Bad option, bad period, unknown kind: exit 2."""

    exit_code = EXIT_USAGE


class DataError(WfhauditError):
    """Unreadable input, missing column, rejected rows under --strict, missing table: exit 3."""

    exit_code = EXIT_DATA


_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def as_os_error(exc: BaseException) -> OSError | None:
    """``exc`` as an OSError (disk full, read-only, permission denied), or None.

    Itself when it is one; else the one Polars and deltalake wrap in their own
    errors, named in the text as '(os error 28)'.
    """
    if isinstance(exc, OSError) and exc.strerror:
        return exc
    found = _OS_ERROR.search(str(exc))
    if found is None:
        return exc if isinstance(exc, OSError) else None
    code = int(found.group(1))
    return OSError(code, os.strerror(code))
