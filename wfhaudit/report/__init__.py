"""Reports: one model built from the audit result files, rendered as HTML, Markdown, Excel, JSON.

- ``build_report(results_dir, unit=None, store=None) -> dict`` — the model (``model.py``);
- ``render_reports(results_dir, *, formats, lang, unit, out_dir, store=None) -> list[Path]``
  — write ``wfhaudit-<period>[-<unit>].<ext>`` for each format (``render.py``).
"""

from wfhaudit.report.model import build_report
from wfhaudit.report.render import DEFAULT_FORMATS, FORMATS, render_reports, report_name

__all__ = ["DEFAULT_FORMATS", "FORMATS", "build_report", "render_reports", "report_name"]
