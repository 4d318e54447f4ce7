"""wfhaudit: audit the West Java 50:50 work-from-home policy.

The package is laid out as the data flows: ``ingest`` (read and validate the
exports) → ``store`` (versioned Delta tables) → ``audit`` (rules over the
employee-day frame) → ``report`` (HTML, Markdown, Excel, JSON).  ``schema``
defines the canonical tables every stage shares.
"""

__version__ = "0.1.0"
