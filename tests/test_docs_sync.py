"""The docs say what the code does (issue 15): README's command table, rule codes, error codes,
and docs/columns.md (generated from wfhaudit/schema.py: ``UPDATE_DOCS=1 pytest`` rewrites it).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfhaudit.cli import app
from wfhaudit.ingest.profiles import load_profile
from wfhaudit.schema import ALL_RULES, ERROR_CODES, TABLES

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def help_text(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, (command, result.output)
    return result.output


def readme_commands() -> list[tuple[list[str], list[str]]]:
    """(command words, options) of each row of README's "Commands" table."""
    text = (ROOT / "README.md").read_text("utf-8")
    table = text.split("## Commands", 1)[1].split("\n\n", 2)[1]
    rows = []
    for line in table.splitlines()[2:]:
        first, rest = line.split("|")[1], "|".join(line.split("|")[2:])
        for cmd in re.findall(r"`wfhaudit ([a-z ]+?)(?: [A-Z]|`)", first):
            rows.append((cmd.split(), re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest)))
        for cmd in re.findall(r"/ `([a-z]+) [A-Z]", first):  # "/ `policy check FILE`"
            rows.append(([*rows[-1][0][:-1], cmd], []))
    return rows


def test_every_readme_command_and_option_is_in_the_help():
    rows = readme_commands()
    assert len(rows) >= 7, rows
    for words, options in rows:
        shown = help_text(*words)
        for option in options:
            assert re.search(rf"(?<![\w-]){re.escape(option)}\b", shown), (words, option)


def test_readme_table_lists_every_command():
    listed = {" ".join(w) for w, _ in readme_commands()}
    top = help_text().split("Commands:", 1)[1].split()
    for name in ("ingest", "audit", "report", "run", "sample"):
        assert name in top and name in listed, name


@pytest.mark.xfail(
    strict=True,
    reason="docs/rules.md (v2-audit) still has an OFFICE_UNKNOWN rule row and no row for "
    "ATTENDANCE_DATA_MISSING / OUTPUT_DATA_MISSING; remove this mark when it is fixed",
)
def test_rule_codes_in_rules_md_are_the_registry_and_back():
    text = (ROOT / "docs" / "rules.md").read_text("utf-8")
    documented = set(re.findall(r"(?m)^\| `([A-Z][A-Z_]+)` \|", text))
    assert documented == set(ALL_RULES), documented ^ set(ALL_RULES)


def test_error_codes_in_formats_md_are_the_ones_ingest_uses():
    text = (ROOT / "docs" / "formats.md").read_text("utf-8")
    section = text.split("## Validation and error codes", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"(?m)^\| `([a-z-]+)` \|", section)
    assert documented and set(documented) <= set(ERROR_CODES), documented
    assert set(documented) == set(ERROR_CODES)  # and every code ingest uses is explained


def test_no_link_to_a_missing_file():
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert "data.md" not in doc.read_text("utf-8"), doc.name  # the spec is not shipped
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text("utf-8")):
            assert (doc.parent / target).exists(), (doc.name, target)


# --- docs/columns.md ---------------------------------------------------------------


def columns_md() -> str:
    """docs/columns.md as wfhaudit/schema.py and the kmob profile define it."""
    out = [
        "# Canonical columns",
        "",
        "The columns of every kind of input, as the store holds them (generated from",
        "`wfhaudit/schema.py`; `tests/test_docs_sync.py` fails when they differ, and",
        "`UPDATE_DOCS=1 pytest tests/test_docs_sync.py` rewrites this file). A file in",
        "the canonical layout (`--profile canonical`) uses these names as headers;",
        "header case and surrounding spaces do not matter. The kmob column gives the",
        "K-Mob export's header (`--profile kmob`) for each column it maps. See",
        "[formats.md](formats.md) for dates, numbers, roster grids and error codes.",
        "",
    ]
    kmob_names = {}
    for kind in TABLES:
        try:
            profile = load_profile("kmob", kind)
        except Exception:  # noqa: BLE001 - a kind the kmob profile does not map
            continue
        mapped = {dst: src for src, dst in profile.columns.items()}
        for dst, spec in profile.combine.items():
            mapped[dst] = f"{spec.date} + {spec.time}"
        kmob_names[kind] = mapped
    for kind, table in TABLES.items():
        out += [f"## {kind}", ""]
        key = ", ".join(f"`{c}`" for c in table.key)
        out += [
            f"Key: {key}."
            + (
                f" Partitioned by the month of `{table.partition_source}`."
                if table.partition_source
                else ""
            ),
            "",
        ]
        with_kmob = kind == "attendance"
        head = "| column | type | required | allowed values |" + (" kmob |" if with_kmob else "")
        out += [head, "|---|---|---|---|" + ("---|" if with_kmob else "")]
        for col, dtype in table.columns.items():
            enum = ", ".join(f"`{v}`" for v in table.enums.get(col, ()))
            row = (
                f"| `{col}` | {_type(dtype)} | {'yes' if col in table.required else ''} | {enum} |"
            )
            if with_kmob:
                src = kmob_names.get(kind, {}).get(col)
                row += f" {src} |" if src else " |"
            out.append(row)
        out.append("")
    return "\n".join(out)


def _type(dtype: object) -> str:
    text = str(dtype)
    return {
        "String": "text",
        "Float64": "number",
        "Date": "date (YYYY-MM-DD)",
        "Int64": "integer",
        "Boolean": "true/false",
    }.get(text, "date and time (WIB)" if text.startswith("Datetime") else text)


def test_columns_md_matches_the_schema():
    path = ROOT / "docs" / "columns.md"
    want = columns_md()
    if os.environ.get("UPDATE_DOCS"):
        path.write_text(want, "utf-8")
    assert path.read_text("utf-8") == want, "docs/columns.md is stale: UPDATE_DOCS=1 pytest"
    assert "| `accuracy_m` | number |  |  | Akurasi |" in want
