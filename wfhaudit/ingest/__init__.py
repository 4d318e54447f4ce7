"""Ingest: read CSV / .xlsx / Parquet exports, validate them, store them (issue 2).

Library entry point: :func:`ingest_files`; see ``docs/formats.md`` for the input
formats, profiles, error codes and the rejects file.
"""

from wfhaudit.ingest.core import FileSummary, IngestSummary, ingest_files
from wfhaudit.ingest.profiles import Profile, load_profile

__all__ = ["FileSummary", "IngestSummary", "Profile", "ingest_files", "load_profile"]
