"""The HTML report printed to A4 in headless Chromium (issue 15, "Paper").

On the committed sample and on a generated month of 20 000 employees: no
element is wider than the A4 content box, each section takes a bounded number
of pages (no section forced onto a page of its own), every page carries its
number and the running header.  Skipped without Chromium; CI installs it.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from test_report_cli import december  # noqa: F401 - fixture
from typer.testing import CliRunner

from wfhaudit.cli import app
from wfhaudit.report.browser import _FLAGS, find_chromium, print_pdf
from wfhaudit.report.i18n import catalogue
from wfhaudit.report.model import build_report

CHROMIUM = find_chromium()
if CHROMIUM is None and os.environ.get("CI"):
    raise RuntimeError("CI is set but Chromium is missing; .ci/run should have installed it.")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed")

#: A4 portrait less the 12 mm side margins of report.css, in CSS pixels (96 dpi).
CONTENT_PX = round((210 - 2 * 12) / 25.4 * 96)  # 703
SECTIONS = (
    "section_summary",
    "section_charts",
    "section_units",
    "section_employees",
    "section_integrity",
    "section_quality",
)

_PROBE = """<script>
window.addEventListener('load', () => {
  const w = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > w + 1)
    .map(e => e.id || e.tagName + '.' + e.className);
  document.body.setAttribute('data-overflow', wide.slice(0, 5).join(',') || 'none');
});
</script>"""


def overflowing(html: Path, tmp_path: Path) -> str:
    """Elements reaching past an A4 text column, measured by Chromium (probe in a copy only)."""
    probe = tmp_path / "probe.html"
    probe.write_text(html.read_text("utf-8").replace("</body>", _PROBE + "</body>"), "utf-8")
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            CHROMIUM,
            *_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={CONTENT_PX},1000",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.resolve().as_uri(),
        ]
        dom = subprocess.run(cmd, capture_output=True, timeout=180, check=False).stdout.decode()
    found = re.search(r'data-overflow="([^"]*)"', dom)
    assert found, "the probe did not run"
    return found[1]


def printed(html: Path, tmp_path: Path) -> list[str]:
    """The text of each printed A4 page."""
    pdf = tmp_path / (html.stem + ".pdf")
    print_pdf(CHROMIUM, html, pdf, timeout=300)
    reader = PdfReader(pdf)
    for page in reader.pages:
        assert (
            round(float(page.mediabox.width)) == 595 and round(float(page.mediabox.height)) == 842
        )
    return [page.extract_text() for page in reader.pages]


def section_pages(pages: list[str], lang: str) -> dict[str, int]:
    """Pages each section spans (from the page its title is on to the next one's)."""
    cat = catalogue(lang)
    starts = []
    for key in SECTIONS:
        title = cat.t(key)
        at = [i for i, text in enumerate(pages) if re.search(rf"(?m)^{re.escape(title)}$", text)]
        assert at, f"section {title!r} not found in the PDF"
        starts.append(at[0])
    assert starts == sorted(starts), starts
    ends = [*starts[1:], len(pages) - 1]
    return {key: end - start + 1 for key, start, end in zip(SECTIONS, starts, ends, strict=True)}


def page_bounds(results: Path) -> dict[str, int]:
    """At most this many pages per section, from what the section holds (rows of ~8 pt)."""
    m = build_report(results)
    ig = m["integrity"]
    members = sum(len(g["members"]) for g in ig["shared_coordinates"] + ig["shared_devices"])
    rows = len(ig["impossible_travel"]) + len(ig["duplicate_outputs"]) + members // 3
    return {
        "section_summary": 3,
        "section_charts": 2,
        "section_units": 2 + math.ceil(len(m["units"]) / 20) + len(m["unit_findings"]) // 50,
        "section_employees": 1 + math.ceil(min(50, len(m["employees"])) / 20),
        "section_integrity": 2 + rows // 25,
        "section_quality": 2,
    }


def check_print(html: Path, results: Path, lang: str, tmp_path: Path) -> list[str]:
    assert overflowing(html, tmp_path) == "none"
    pages = printed(html, tmp_path)
    cat = catalogue(lang)
    for number, text in enumerate(pages, start=1):
        assert f"{cat.t('page')} {number} {cat.t('page_of')} {len(pages)}" in text, number
        assert cat.t("running_confidential") in text, number
    spans = section_pages(pages, lang)
    bounds = page_bounds(results)
    for key, n in spans.items():
        assert n <= bounds[key], (key, n, bounds[key], spans)
    return pages


def test_sample_report_prints_within_a4(december, tmp_path: Path):  # noqa: F811
    out, _, _ = december
    pages = check_print(out / "wfhaudit-2025-12.html", out, "id", tmp_path)
    # no section starts a page of its own: the sample fits in few pages
    assert len(pages) <= 8, len(pages)


@pytest.fixture(scope="module")
def month_20k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated December of 20 000 employees in 40 agencies, audited and reported."""
    from wfhaudit.sample import generate_sample

    root = tmp_path_factory.mktemp("m20k")
    generate_sample(
        root / "data", employees=20_000, units=40, month="2025-12", seed=3, fmt="parquet"
    )
    runner = CliRunner()
    store = root / "store"
    for kind in ("employees", "offices", "roster", "attendance", "outputs", "leave"):
        src = root / "data" / f"{kind}.parquet"
        if src.is_file():
            done = runner.invoke(app, ["ingest", kind, str(src), "--store", str(store), "-q"])
            assert done.exit_code == 0, done.output
    out = root / "out"
    done = runner.invoke(
        app,
        [
            "run",
            "2025-12",
            "--store",
            str(store),
            "--as-of",
            "2026-01-01",
            "--out",
            str(out),
            "-q",
            "--format",
            "html",
            "--lang",
            "en",
        ],
    )
    assert done.exit_code == 0, done.output
    return out


def test_20000_employee_month_prints_within_a4(month_20k: Path, tmp_path: Path):
    pages = check_print(month_20k / "wfhaudit-2025-12-en.html", month_20k, "en", tmp_path)
    assert len(pages) >= 3
