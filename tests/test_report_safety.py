"""Hostile text in reports (issue 15 CSS; issue 17 items 5, 7, 12, 19) and file names."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from markdown_it import MarkdownIt
from test_report_helpers import make_results
from typer.testing import CliRunner

from wfhaudit.cli import app
from wfhaudit.report import render_reports
from wfhaudit.report.render import remove_stale_temporaries, report_name, safe_unit

runner = CliRunner()
MD_NAME = "`x` **b** [link](http://evil.example) _i_ ~~s~~ ![img](http://evil.example/p.png)"


def with_unit(results: Path, old: str, new: str, name: str | None = None) -> Path:
    """Rewrite the result files so unit ``old`` is called ``new`` (and every name ``name``)."""
    for file in results.glob("*.parquet"):
        df = pl.read_parquet(file)
        if "unit_code" in df.columns:
            df = df.with_columns(pl.col("unit_code").replace(old, new))
        if name is not None and "name" in df.columns:
            df = df.with_columns(pl.lit(name).alias("name"))
        df.write_parquet(file)
    return results


# --- CSS (issue 15) ------------------------------------------------------------


def test_no_html_entity_in_the_style_element(tmp_path: Path):
    results = make_results(tmp_path / "out")
    for lang in ("id", "en"):
        html = render_reports(results, formats=["html"], lang=lang, out_dir=tmp_path)[0]
        text = html.read_text("utf-8")
        styles = re.findall(r"<style>(.*?)</style>", text, re.S)
        assert len(styles) == 1
        entities = re.findall(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);", styles[0])
        assert entities == [], entities[:5]
        assert 'font-family: "Segoe UI"' in styles[0]
        assert "@bottom-right" in styles[0] and "counter(page)" in styles[0]


def test_running_header_text_is_css_escaped(tmp_path: Path):
    results = with_unit(make_results(tmp_path / "out"), "U1", 'U"1</style><b>')
    html = render_reports(results, formats=["html"], unit='U"1</style><b>', out_dir=tmp_path)[0]
    style = re.findall(r"<style>(.*?)</style>", html.read_text("utf-8"), re.S)
    assert len(style) == 1 and "<b>" not in style[0] and "&" not in style[0]


# --- file names (issue 15 --lang, issue 17 item 5) -----------------------------


def test_language_in_the_name_when_not_indonesian(tmp_path: Path):
    results = make_results(tmp_path / "out")
    ids = render_reports(results, formats=["html", "md"], lang="id", out_dir=tmp_path)
    ens = render_reports(results, formats=["html", "md"], lang="en", out_dir=tmp_path)
    assert [p.name for p in ids] == ["wfhaudit-2025-12.html", "wfhaudit-2025-12.md"]
    assert [p.name for p in ens] == ["wfhaudit-2025-12-en.html", "wfhaudit-2025-12-en.md"]
    assert 'lang="id"' in ids[0].read_text("utf-8") and 'lang="en"' in ens[0].read_text("utf-8")


def test_report_says_when_it_replaces_a_file(tmp_path: Path):
    results = make_results(tmp_path / "out")
    args = ["report", "2025-12", "--results", str(results), "--out", str(tmp_path / "r")]
    first = runner.invoke(app, [*args, "--format", "md"])
    again = runner.invoke(app, [*args, "--format", "md"])
    english = runner.invoke(app, [*args, "--format", "md", "--lang", "en"])
    assert first.exit_code == again.exit_code == english.exit_code == 0
    assert first.output.startswith("wrote ") and again.output.startswith("replaced ")
    assert english.output.strip() == f"wrote {tmp_path / 'r' / 'wfhaudit-2025-12-en.md'}"


@pytest.mark.parametrize(
    "code", ["x/../../../../../tmp/PWNED", "BIRO/UMUM", "..", "../x", "a\\b", "/etc/passwd", "-rf"]
)
def test_a_unit_code_never_steers_the_path(tmp_path: Path, code: str):
    results = with_unit(make_results(tmp_path / "out"), "U1", code)
    out = tmp_path / "reports"
    written = render_reports(results, formats=["html", "md"], unit=code, out_dir=out)
    for path in written:
        assert path.parent == out and path.is_file()
        assert "/" not in path.name and "\\" not in path.name and not path.name.startswith(".")
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)


def test_safe_unit_names_differ_for_different_codes():
    assert safe_unit("DISDIK") == "DISDIK"
    assert safe_unit("BIRO/UMUM") != safe_unit("BIRO_UMUM")
    assert re.fullmatch(r"BIRO_UMUM-[0-9a-f]{8}", safe_unit("BIRO/UMUM"))
    assert report_name("2025-12", "BIRO/UMUM", "html", "en").endswith("-en.html")


# --- Markdown injection (issue 17 item 7) ---------------------------------------


def test_markdown_cells_are_literal_text(tmp_path: Path):
    results = with_unit(make_results(tmp_path / "out"), "U1", "U`1|x", name=MD_NAME)
    for unit in (None, "U`1|x"):
        md = render_reports(results, formats=["md"], unit=unit, out_dir=tmp_path)[0]
        html = MarkdownIt("commonmark").enable("table").render(md.read_text("utf-8"))
        assert "evil.example" in html  # the text is there ...
        assert "<a " not in html and "<img" not in html and "<em>" not in html  # ... not live
        assert "<strong>b</strong>" not in html and "<s>" not in html
        assert "U`1|x" in html  # the backtick and pipe stay text, the table stays whole


# --- mathtext (issue 17 item 12) -------------------------------------------------


def test_dollar_signs_in_a_unit_code_are_plain_text(tmp_path: Path):
    code = "$\\undefinedmacro$"
    results = with_unit(make_results(tmp_path / "out"), "U1", code)
    html = render_reports(results, formats=["html"], out_dir=tmp_path)[0]
    assert html.is_file()
    one = render_reports(results, formats=["html"], unit=code, out_dir=tmp_path)[0]
    assert one.is_file()


# --- temporaries of a killed report (issue 17 item 19) ----------------------------


def test_killed_report_leaves_no_temporary_after_the_next_run(tmp_path: Path):
    results = make_results(tmp_path / "out")
    out = tmp_path / "r"
    out.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = out / f".wfhaudit-tmp-{dead.stdout.strip()}-abcd1234-wfhaudit-2025-12.html"
    stale.write_text("half a report", "utf-8")
    live = out / f".wfhaudit-tmp-{os.getppid()}-abcd1234-wfhaudit-2025-12.md"
    live.write_text("another report being written", "utf-8")
    render_reports(results, formats=["html"], out_dir=out)
    assert not stale.exists()  # its writer is dead: removed
    assert live.exists()  # its writer is alive: left alone
    assert remove_stale_temporaries(out) == []
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "wfhaudit-2025-12.html"
    ]


def test_a_report_killed_midway_is_cleaned_by_the_next(tmp_path: Path):
    results = make_results(tmp_path / "out")
    out = tmp_path / "r"
    code = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "import wfhaudit.report.render as r\n"
        "def killed(path):\n"
        "    path.write_text('half', 'utf-8'); os.kill(os.getpid(), signal.SIGKILL)\n"
        "r._write_atomic.__globals__['_kill'] = killed\n"
        "orig = r._write_atomic\n"
        "r._write_atomic = lambda path, write: orig(path, killed)\n"
        f"r.render_reports({str(results)!r}, formats=['html'], out_dir={str(out)!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr
    left = [p.name for p in out.iterdir()]
    assert len(left) == 1 and left[0].startswith(".wfhaudit-tmp-")  # what a kill leaves
    render_reports(results, formats=["html"], out_dir=out)
    assert [p.name for p in out.iterdir()] == ["wfhaudit-2025-12.html"]
