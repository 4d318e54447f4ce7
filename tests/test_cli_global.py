"""The CLI's global behaviour (issues 15 and 17 item 9): each test asserts exit and sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfhaudit.cli import app
from wfhaudit.errors import DataError

runner = CliRunner()


def invoke(*args: object, env: dict[str, str] | None = None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def one_sentence(text: str) -> str:
    """The error output as one line; fails on a boxed panel or a traceback."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "╭" not in text and "Traceback" not in text, text
    return lines[0]


# --- --debug anywhere --------------------------------------------------------


def test_debug_after_the_subcommand_shows_the_exception(tmp_path: Path):
    args = ("report", "2025-12", "--results", tmp_path / "none")
    plain = invoke(*args)
    assert plain.exit_code == 3
    assert "no audit result for 2025-12" in one_sentence(plain.output)
    for where in (["--debug", *args], [*args, "--debug"], [args[0], "--debug", *args[1:]]):
        debug = invoke(*where)
        assert isinstance(debug.exception, DataError), (where, debug.output)


def test_debug_after_double_dash_is_an_argument(tmp_path: Path):
    result = invoke("ingest", "leave", "--store", tmp_path / "s", "--", "--debug")
    assert result.exit_code == 3
    assert not isinstance(result.exception, DataError)
    assert "--debug" in result.output


# --- help ----------------------------------------------------------------------


def test_help_keeps_brackets_and_shows_no_bool_metavar():
    for command in (["audit"], ["run"], ["report"], ["sample"], ["ingest"], []):
        result = invoke(*command, "--help")
        assert result.exit_code == 0, command
        assert "<bool>" not in result.output, command
        assert "[bold]" not in result.output and "[/]" not in result.output, command
        assert "╭" not in result.output, command
    audit = invoke("audit", "--help").output
    assert "wfhaudit[cluster]" in " ".join(audit.split())
    assert "-q, --quiet" in audit


def test_usage_error_is_one_sentence_exit_2():
    result = invoke("audit")
    assert result.exit_code == 2
    assert one_sentence(result.output) == (
        "error: missing argument 'period'; see 'wfhaudit audit --help'."
    )
    bad = invoke("report", "2025-12", "--colour", "red")
    assert bad.exit_code == 2
    line = one_sentence(bad.output)
    assert line.startswith("error: no such option: --colour") and "wfhaudit report --help" in line
    assert invoke("nosuchcommand").exit_code == 2


# --- files where directories belong, and the other way round --------------------


def test_report_out_a_file_is_exit_2(tmp_path: Path):
    afile = tmp_path / "README.md"
    afile.write_text("keep me", "utf-8")
    result = invoke("report", "2025-12", "--results", tmp_path, "--out", afile)
    assert result.exit_code == 2
    assert one_sentence(result.output) == (
        f"error: --out {afile} is a file, not a directory; give a directory."
    )
    assert afile.read_text("utf-8") == "keep me"


def test_sample_out_a_file_is_exit_2(tmp_path: Path):
    afile = tmp_path / "afile"
    afile.write_text("x", "utf-8")
    result = invoke("sample", "--out", afile, "--employees", "5", "--units", "1")
    assert result.exit_code == 2
    assert one_sentence(result.output) == (
        f"error: --out {afile} is a file, not a directory; give a directory."
    )


@pytest.mark.parametrize("command", [["store", "info"], ["ingest", "leave", "x.csv"]])
def test_store_a_file_is_exit_2(tmp_path: Path, command: list[str]):
    afile = tmp_path / "Makefile"
    afile.write_text("x", "utf-8")
    result = invoke(*command, "--store", afile)
    assert result.exit_code == 2
    line = one_sentence(result.output)
    assert line == (
        f"error: --store {afile} is a file, not a store directory; give a directory with --store."
    )
    assert "ingest employees" not in line  # no suggestion of a command that fails the same way


def test_store_from_the_environment_a_file_is_exit_2(tmp_path: Path):
    afile = tmp_path / "store.txt"
    afile.write_text("x", "utf-8")
    result = invoke("store", "info", env={"WFHAUDIT_STORE": str(afile)})
    assert result.exit_code == 2
    assert f"$WFHAUDIT_STORE {afile} is a file" in one_sentence(result.output)


def test_a_directory_as_input_file_is_exit_2(tmp_path: Path):
    folder = tmp_path / "cuti"
    folder.mkdir()
    result = invoke("ingest", "leave", folder, "--store", tmp_path / "s")
    assert result.exit_code == 2
    assert one_sentence(result.output) == (
        f"error: {folder} is a directory, not a file; give the files in it (e.g. {folder}/*.csv)."
    )
    assert "(no extension)" not in result.output


# --- user text is never Rich markup (issue 17 item 9) ---------------------------


@pytest.mark.parametrize("name", ["cuti[/x].csv", "[bold]cuti.csv", "a[red]b[/red].csv"])
def test_a_file_name_with_brackets_is_printed_as_written(tmp_path: Path, name: str):
    result = invoke("ingest", "leave", tmp_path / name, "--store", tmp_path / "s")
    assert result.exit_code == 3, result.output
    line = one_sentence(result.output)
    assert name in line  # not swallowed as a style tag, no MarkupError
    assert "does not exist" in line or "not found" in line or "no such" in line.lower()


def test_ingest_summary_shows_bracketed_values(tmp_path: Path):
    # a leave file with a bracketed kind and file name: stored, and the summary prints it all
    src = tmp_path / "cuti.csv"
    src.write_text(
        "nip,start,end,kind\n199001012020011001,2025-12-01,2025-12-02,[/x]\n"
        "199001012020011002,2025-12-01,2025-12-02,[bold]sakit\n",
        "utf-8",
    )
    result = invoke("ingest", "leave", src, "--store", tmp_path / "s", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "'[/x]' in 'kind' is not one of" in result.output  # no MarkupError, shown as is
    assert "'[bold]sakit' in 'kind'" in result.output  # [bold] does not vanish


# --- make demo writes under .demo/ only (issue 15) -----------------------------------


def test_demo_writes_only_under_dot_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from wfhaudit import demo

    sample = Path(__file__).resolve().parents[1] / "sample_data"
    if not (sample / "ground_truth.csv").is_file():
        pytest.skip("no committed sample_data/")
    (tmp_path / "sample_data").symlink_to(sample)
    monkeypatch.chdir(tmp_path)
    assert demo.main(["--data", "sample_data", "--store", ".demo/store"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".demo", "sample_data"]
    assert (tmp_path / ".demo" / "out" / "2025-12" / "wfhaudit-2025-12.html").is_file()


def test_a_bracketed_out_path_is_printed_as_written(tmp_path: Path):
    from test_report_helpers import make_results

    results = make_results(tmp_path / "res")
    out = tmp_path / "[red]out[/]"
    args = ["report", "2025-12", "--results", results, "--out", out, "--format", "md"]
    done = invoke(*args, env={"COLUMNS": "300"})
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"wrote {out}/wfhaudit-2025-12.md"
