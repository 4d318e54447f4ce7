"""Fuzzed ingest files of every kind (issue 17): nothing lost, nothing leaked, no crash.

Each example writes one CSV file built from valid rows of the worked example, with
cells replaced by hostile values (Rich markup, spreadsheet formulas, bad dates, leap
seconds, year 0, NUL bytes, quotes, separators, line breaks, spaces, non-ASCII), extra
columns, LF / CRLF / CR line ends, a BOM or not, and UTF-8 / Windows-1252 / UTF-16
(a sixth of the examples are Parquet files of the same cells, with an extra binary
column).
It is ingested through the CLI into a fresh store and must give:

- the documented exit code: 3 exactly when the file is refused as a whole (not UTF-8,
  a NUL byte in the sniffed head), else 0; never a traceback or an exit 4;
- read = stored + rejected in the summary, read = the non-blank rows written;
- the store agrees: the table holds ``stored`` rows, the rejects table and the rejects
  CSV ``rejected`` rows with action "rejected" and ``blanked`` ones with action
  "blanked" (a bad optional cell stored empty); a refused file leaves the store empty.

``make test`` runs a bounded number of examples; set ``WFHAUDIT_FUZZ_EXAMPLES`` for more
(e.g. ``WFHAUDIT_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/test_fuzz_ingest.py``).
"""

from __future__ import annotations

import codecs
import json
import os
import shutil
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from wfhaudit.cli import app
from wfhaudit.schema import ACTION_BLANKED, ACTION_REJECTED, KINDS, REJECTS
from wfhaudit.store import Store

runner = CliRunner()
DATA = Path(__file__).parent / "data"
EXAMPLES = int(os.environ.get("WFHAUDIT_FUZZ_EXAMPLES", "60"))

#: (kind, profile) -> (delimiter, header, valid rows) of the worked example
SOURCES: dict[tuple[str, str], tuple[str, list[str], list[list[str]]]] = {}


def _source(kind: str, profile: str) -> tuple[str, list[str], list[list[str]]]:
    if (kind, profile) not in SOURCES:
        path = DATA / "ingest" / "kmob_attendance.csv" if profile == "kmob" else None
        path = path or DATA / "worked" / f"{kind}.csv"
        if not path.exists():  # clarifications: the fairness example's rows (issue 12)
            path = DATA / "fairness" / f"{kind}.csv"
        sep = ";" if profile == "kmob" else ","
        df = pl.read_csv(path, infer_schema=False, separator=sep).fill_null("")
        SOURCES[kind, profile] = (sep, df.columns, [list(r) for r in df.rows()])
    return SOURCES[kind, profile]


PAYLOADS = [
    "[bold]x[/]",
    "[/x]",
    "[link=http://evil.example]y[/link]",
    '=HYPERLINK("http://evil.example","klik")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "2025-13-45",
    "0000-01-01",
    "-0001-02-03",
    "2025-12-02 23:59:60",
    "23:59:60",
    "31/02/2025",
    "NaN",
    "inf",
    "1e400",
    "",
    "   ",
    "\u00a0",
    '"',
    'a "quoted" value',
    "a,b;c|d\te",
    "line\nbreak",
    "é ñ ü ß",
    "Ꭰ𝟘１２",
    "x" * 300,
    "nul\x00byte",
    "`x` **b** [l](http://evil.example)",
    "$\\undefinedmacro$",
]
EXTRA_HEADERS = ["[bold]extra[/]", "=cmd", "Catatan", "nama ", "  ", "NIP (lama)"]
ENCODINGS = ["utf-8", "utf-8", "utf-8", "cp1252", "utf-16"]
ENDINGS = ["\n", "\r\n", "\r"]


@st.composite
def files(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(KINDS))
    profile = "kmob" if kind == "attendance" and draw(st.booleans()) else "canonical"
    sep, header, base = _source(kind, profile)
    ending = draw(st.sampled_from(ENDINGS))
    payloads = [p for p in PAYLOADS if not (ending == "\r" and "\n" in p)]
    extra = draw(st.lists(st.sampled_from(EXTRA_HEADERS), max_size=2, unique=True))
    header = header + extra
    rows: list[list[str]] = []
    for _ in range(draw(st.integers(1, 12))):
        row = list(draw(st.sampled_from(base))) + ["" for _ in extra]
        for _ in range(draw(st.integers(0, 3))):
            row[draw(st.integers(0, len(row) - 1))] = draw(st.sampled_from(payloads))
        rows.append(row)
    return {
        "kind": kind,
        "profile": profile,
        "parquet": draw(st.integers(0, 5)) == 0,  # a sixth of the files: Parquet
        "sep": sep,
        "header": header,
        "rows": rows,
        "ending": ending,
        "bom": draw(st.booleans()),
        "encoding": draw(st.sampled_from(ENCODINGS)),
    }


def _cell(value: str, sep: str) -> str:
    if any(c in value for c in (sep, '"', "\n", "\r")) or value != value.strip(" "):
        return '"' + value.replace('"', '""') + '"'
    return value


def render(spec: dict) -> tuple[bytes, bool]:
    """(file bytes, refused as a whole?)."""
    sep, ending = spec["sep"], spec["ending"]
    lines = [sep.join(_cell(v, sep) for v in spec["header"])]
    lines += [sep.join(_cell(v, sep) for v in row) for row in spec["rows"]]
    text = ending.join(lines) + ending
    encoding = spec["encoding"]
    if encoding == "cp1252":
        data = text.encode("cp1252", errors="replace")
        refused = any(b >= 0x80 for b in data)  # not UTF-8: refused with one sentence
    elif encoding == "utf-16":
        data, refused = text.encode("utf-16"), True
    else:
        data, refused = text.encode(), False
    if spec["bom"] and encoding != "utf-16":
        data = codecs.BOM_UTF8 + data
    return data, refused or b"\x00" in data


def _unique(names: list[str]) -> list[str]:
    """Parquet column names must differ: a repeated one gets a suffix."""
    out: list[str] = []
    for name in names:
        out.append(name if name not in out else f"{name}#{len(out)}")
    return out


def _blank(row: list[str]) -> bool:
    return all(not v.strip() for v in row)


def check(spec: dict, root: Path) -> None:
    if spec["parquet"]:  # all-string columns, plus a binary one; never refused
        src = root / f"fuzz-{spec['kind']}.parquet"
        columns = _unique(spec["header"])
        frame = pl.DataFrame([list(r) for r in spec["rows"]], schema=columns, orient="row")
        frame.with_columns(pl.lit(b"\xff\x00", pl.Binary).alias("foto")).write_parquet(src)
        data, refused = b"", False
    else:
        data, refused = render(spec)
        src = root / f"fuzz-{spec['kind']}.csv"
        src.write_bytes(data)
    store = root / "store"
    args = ["ingest", spec["kind"], str(src), "--store", str(store), "--json"]
    r = runner.invoke(app, [*args, "--profile", spec["profile"]])
    shown = r.output
    assert "Traceback" not in shown and "unexpected" not in shown, shown
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    if refused:
        assert r.exit_code == 3, shown
        assert not Store(store).exists(spec["kind"]) and not Store(store).exists(REJECTS.name)
        return
    assert r.exit_code == 0, (shown, data[:400])
    summary = json.loads(r.stdout)
    expected_read = sum(not _blank(row) for row in spec["rows"])
    assert summary["read"] == expected_read, (summary, data[:400])
    assert summary["read"] == summary["stored"] + summary["rejected"], summary
    assert summary["superseded"] == 0
    s = Store(store)
    table = s.scan(spec["kind"]).collect().height if s.exists(spec["kind"]) else 0
    assert table == summary["stored"] == summary["inserted"], summary
    # the rejects table: one row per rejected row, one per blanked (stored empty) cell
    rejects = s.scan(REJECTS.name).collect() if s.exists(REJECTS.name) else REJECTS.empty()
    actions = dict(rejects.group_by("action").len().iter_rows())
    assert actions.get(ACTION_REJECTED, 0) == summary["rejected"], (summary, actions)
    assert actions.get(ACTION_BLANKED, 0) == summary["blanked"], (summary, actions)
    if summary["rejected"] or summary["blanked"]:
        csv = pl.read_csv(summary["rejects_path"], infer_schema=False)
        assert csv.height == rejects.height and csv.columns == list(REJECTS.columns)
    else:
        assert summary["rejects_path"] is None
    assert not list((store / ".pending").glob("*")) if (store / ".pending").exists() else True


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=files())
def test_fuzzed_files_are_read_or_refused_and_every_row_is_accounted_for(spec: dict) -> None:
    root = Path(tempfile.mkdtemp(prefix="wfhaudit-fuzz-"))
    try:
        check(spec, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
