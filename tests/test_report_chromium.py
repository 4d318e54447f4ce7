"""The HTML report in a real browser (headless Chromium, network off): it prints, charts render.

Skipped when Chromium is not installed; CI installs it (``.ci/run``), so there it always runs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_report_cli import december  # noqa: F401 - fixture
from test_report_helpers import make_results, make_store

from wfhaudit.report import render_reports
from wfhaudit.report.browser import dump_dom, find_chromium, print_pdf, screenshot
from wfhaudit.report.examples import write_examples

CHROMIUM = find_chromium()
if CHROMIUM is None and os.environ.get("CI"):
    # On CI this test must run: .ci/run installs Chromium; a skip there would hide a regression.
    raise RuntimeError("CI is set but Chromium is missing; .ci/run should have installed it.")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium not installed (Debian package 'chromium'; CI installs it in .ci/run)",
)

BAR = (0x2F, 0x5D, 0x8A)  # charts.BLUE


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chromium")
    results = make_results(root / "out")
    store = make_store(root / "store")
    return render_reports(results, formats=["html"], lang="id", out_dir=root, store=store)[0]


def _colour_share(png: Path, colour: tuple[int, int, int]) -> float:
    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16).reshape(-1, 3)
    near = (np.abs(pixels - np.array(colour, dtype=np.int16)) <= 8).all(axis=1)
    return float(near.mean())


def test_prints_to_a_pdf_with_pages(html: Path, tmp_path: Path):
    pdf = tmp_path / "report.pdf"
    print_pdf(CHROMIUM, html, pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    # sections flow on (no forced page per section): a small report fits in a few pages
    assert 2 <= pages <= 6, pages


def test_first_page_is_not_blank(html: Path, tmp_path: Path):
    png = tmp_path / "page1.png"
    screenshot(CHROMIUM, html, png)
    im = Image.open(png).convert("L")
    assert im.size == (794, 1123)
    dark = float((np.asarray(im) < 128).mean())
    assert dark > 0.005, dark  # text is there


def test_charts_render(html: Path, tmp_path: Path):
    dom = dump_dom(CHROMIUM, html)
    svgs = re.findall(r"<svg\b[^>]*>", dom)
    assert len(svgs) == 3
    for tag in svgs:
        width = float(re.search(r'width="([\d.]+)', tag)[1])
        height = float(re.search(r'height="([\d.]+)', tag)[1])
        assert width > 0 and height > 0
    # a page holding only the charts, screenshotted: the bars are drawn in their colour
    charts = re.search(r'<section id="charts">.*?</section>', html.read_text("utf-8"), re.S)[0]
    page = tmp_path / "charts.html"
    page.write_text(f"<!DOCTYPE html><html><body>{charts}</body></html>", "utf-8")
    png = tmp_path / "charts.png"
    screenshot(CHROMIUM, page, png, size=(900, 1600))
    assert _colour_share(png, BAR) > 0.01
    # and the same page without the charts has none of that colour
    page.write_text("<!DOCTYPE html><html><body><h2>-</h2></body></html>", "utf-8")
    screenshot(CHROMIUM, page, png, size=(900, 1600))
    assert _colour_share(png, BAR) == 0


def test_write_examples_keeps_a_first_page_picture(tmp_path: Path):
    results = make_results(tmp_path / "out")
    written = write_examples(results, tmp_path / "examples")
    assert [p.name for p in written] == [
        "wfhaudit-2025-12.html",
        "wfhaudit-2025-12.md",
        "wfhaudit-2025-12-page1.png",
        "wfhaudit-2025-12-en.html",
        "wfhaudit-2025-12-en.md",
        "wfhaudit-2025-12-en-page1.png",
    ]
    for png in (written[2], written[5]):
        assert Image.open(png).size == (794, 1123)


def test_december_report_prints_with_its_charts(december, tmp_path: Path):  # noqa: F811
    out, _, _ = december
    html = out / "wfhaudit-2025-12.html"
    pdf = tmp_path / "december.pdf"
    print_pdf(CHROMIUM, html, pdf)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes())) >= 3
    dom = dump_dom(CHROMIUM, html)
    assert len(re.findall(r"<svg\b", dom)) == 3
    png = tmp_path / "page1.png"
    screenshot(CHROMIUM, html, png)
    assert float((np.asarray(Image.open(png).convert("L")) < 128).mean()) > 0.005


_PROBE = """<script>
window.addEventListener('load', () => {
  const w = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('table, figure svg')]
    .filter(t => t.getBoundingClientRect().right > w + 1).map(t => t.id || t.tagName);
  document.body.setAttribute('data-overflow', wide.join(',') || 'none');
});
</script>"""


def _overflowing(html: Path, tmp_path: Path) -> str:
    """Tables/charts wider than an A4 text column (186 mm = 703 px), measured in Chromium.

    The probe script goes into a test copy only: the report itself holds no script.
    """
    probe = tmp_path / "probe.html"
    probe.write_text(html.read_text("utf-8").replace("</body>", _PROBE + "</body>"), "utf-8")
    done = _run_dom(probe)
    found = re.search(r'data-overflow="([^"]*)"', done)
    assert found, "the probe did not run"
    return found[1]


def _run_dom(page: Path) -> str:
    import subprocess
    import tempfile

    from wfhaudit.report.browser import _FLAGS

    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            CHROMIUM,
            *_FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=703,1000",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.resolve().as_uri(),
        ]
        return subprocess.run(cmd, capture_output=True, timeout=120, check=False).stdout.decode()


def test_tables_fit_an_a4_column(html: Path, december, tmp_path: Path):  # noqa: F811
    assert _overflowing(html, tmp_path) == "none"
    out, _, _ = december
    assert _overflowing(out / "wfhaudit-2025-12.html", tmp_path) == "none"
