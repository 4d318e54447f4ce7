"""Issue 17: the ingest and store faults found by fuzzing and killing, one test each.

Every test here failed on the code before issue 17 (the item number is in its name).
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from wfhaudit.cli import app
from wfhaudit.ingest import ingest_files
from wfhaudit.schema import REJECTS
from wfhaudit.store import Store

runner = CliRunner()
WORKED = Path(__file__).parent / "data" / "worked"
NIP1 = "198501012010011001"
ATT_HEADER = "nip,ts,kind,lat,lon,accuracy_m,device_id,mode"
KMOB_HEADER = "NIP;Nama;Tanggal;Jam;Jenis;Latitude;Longitude;Akurasi;ID Perangkat;Mode"


def ingest(store: Path, kind: str, *files: Path, extra: tuple[str, ...] = ()) -> dict:
    """Run the CLI with --json; return the summary (asserting exit 0)."""
    args = ["ingest", kind, *map(str, files), "--store", str(store), "--json", *extra]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def fails(store: Path, kind: str, file: Path, *extra: str) -> str:
    """Run the CLI; assert exit 3 and no traceback; return the message (one line)."""
    r = runner.invoke(app, ["ingest", kind, str(file), "--store", str(store), *extra])
    assert r.exit_code == 3, r.output
    assert "Traceback" not in r.output and "unexpected" not in r.output, r.output
    return " ".join(r.output.split())


def att(*rows: str) -> str:
    return "\n".join([ATT_HEADER, *rows]) + "\n"


def att_row(ts: str, kind: str = "IN", nip: str = NIP1) -> str:
    return f"{nip},{ts},{kind},-6.9,107.6,5,dA,WFO"


def rejects_table(store: Path) -> pl.DataFrame:
    s = Store(store)
    return s.scan(REJECTS.name).collect() if s.exists(REJECTS.name) else REJECTS.empty()


# --- 1: CR-only line endings --------------------------------------------------------


def test_1_cr_only_line_endings_are_split_on_cr(tmp_path: Path) -> None:
    lines = (WORKED / "employees.csv").read_text().splitlines()[:4]
    cr = tmp_path / "cr.csv"
    cr.write_bytes("\r".join(lines).encode() + b"\r")
    out = ingest(tmp_path / "s", "employees", cr)
    assert (out["read"], out["stored"], out["rejected"]) == (3, 3, 0)
    assert Store(tmp_path / "s").scan("employees").collect().height == 3


def test_1_cr_then_lf_endings_are_refused_not_read_as_zero_rows(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.csv"
    rows = (WORKED / "employees.csv").read_text().splitlines()
    # CR line ends for the first 64 KiB (what is sniffed), LF ones later
    head = "\r".join([rows[0], *[rows[1]] * 1000]) + "\r"
    mixed.write_bytes((head + "\n".join(rows[2:]) + "\n").encode())
    message = fails(tmp_path / "s", "employees", mixed)
    assert "end in CR only" in message and "mixed.csv" in message
    assert not Store(tmp_path / "s").exists("employees")


# --- 2: a kill between the table commit and the rejects commit ---------------------------


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not even except Exception)."""


def _killed(*args: object, **kwargs: object) -> None:
    raise Killed


def _two_bad_rows(tmp_path: Path) -> Path:
    f = tmp_path / "a.csv"
    f.write_text(
        att(att_row("2025-12-02 07:00:00"), att_row("2025-12-02 xx"), att_row("bad", "OUT"))
    )
    return f


def test_2_kill_after_the_table_commit_is_repaired_by_the_next_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "s")
    monkeypatch.setattr(Store, "append_rejects", _killed)
    with pytest.raises(Killed):
        ingest_files(store, "attendance", [_two_bad_rows(tmp_path)])
    monkeypatch.undo()
    assert store.scan("attendance").collect().height == 1  # the table commit happened
    assert not store.exists(REJECTS.name)  # ... but not the rejects commit
    # the next ingest (of any kind) finishes it first
    ingest(tmp_path / "s", "offices", WORKED / "offices.csv")
    got = rejects_table(tmp_path / "s")
    assert sorted(got.get_column("source_row").to_list()) == ["3", "4"]
    assert list((tmp_path / "s" / ".pending").iterdir()) == []
    csvs = list((tmp_path / "s" / "rejected-rows").glob("*-attendance-*.csv"))
    assert len(csvs) == 1 and pl.read_csv(csvs[0]).height == 2


def test_2_kill_before_the_table_commit_stores_nothing_of_that_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "s")
    monkeypatch.setattr(Store, "_commit", _killed)
    with pytest.raises(Killed):
        ingest_files(store, "attendance", [_two_bad_rows(tmp_path)])
    monkeypatch.undo()
    assert store.repair() != []  # the journal is dropped: that ingest stored nothing
    assert not store.exists("attendance") and not store.exists(REJECTS.name)
    assert not list((tmp_path / "s" / "rejected-rows").glob("*.csv"))


def test_2_a_running_ingest_s_journal_is_left_alone(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    rejects = REJECTS.empty().vstack(
        pl.DataFrame(
            {
                "kind": ["attendance"],
                "source_file": ["a.csv"],
                "source_row": ["2"],
                "values": ["{}"],
                "error_code": ["type-error"],
                "message": ["x"],
                "action": ["rejected"],
                "ingested_at": [dt.datetime(2025, 12, 2)],
            },
            schema=REJECTS.schema,
        )
    )
    with store._journal("attendance", "abc", rejects):  # noqa: SLF001 - the running ingest
        assert store.repair() == []
    assert store.repair() == ["abc"]


# --- 3: rejects CSV names ------------------------------------------------------------


def test_3_rejects_csv_names_are_unique_even_with_the_same_id(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    rows = REJECTS.empty()
    paths = {store.write_rejects_csv("roster", rows, 4, "same") for _ in range(5)}
    assert len(paths) == 5
    assert all(p.name.endswith(".csv") and "-roster-v4-" in p.name for p in paths)
    assert all(p.read_text().startswith("kind,source_file") for p in paths)


def test_3_an_ingest_never_overwrites_another_s_rejects_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race of concurrent ingests, made certain: every existence check of a rejects
    file says 'free' (as when another writer creates it just after the check)."""
    real = Path.exists
    monkeypatch.setattr(
        Path, "exists", lambda self: False if "rejected-rows" in str(self) else real(self)
    )
    store = Store(tmp_path / "s")
    for i in range(8):  # several within one second: the old names were per second
        f = tmp_path / f"a{i}.csv"
        f.write_text(att(att_row(f"2025-12-02 07:00:0{i}"), att_row("bad")))
        ingest_files(store, "attendance", [f])
    monkeypatch.undo()
    csvs = sorted((tmp_path / "s" / "rejected-rows").glob("*.csv"))
    sources = [pl.read_csv(c).get_column("source_file").to_list() for c in csvs]
    assert sorted(sources) == [[str(tmp_path / f"a{i}.csv")] for i in range(8)]


# --- 4: leap seconds -------------------------------------------------------------------


def test_4_a_leap_second_is_a_type_error_not_the_next_day(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text(att(att_row("2025-12-02 23:59:60", "OUT"), att_row("2025-12-02 07:00:00")))
    out = ingest(tmp_path / "s", "attendance", f)
    assert (out["stored"], out["rejected_by_code"]) == (1, {"type-error": 1})
    ts = Store(tmp_path / "s").scan("attendance").collect().get_column("ts").to_list()
    assert ts == [dt.datetime(2025, 12, 2, 7, 0)]


def test_4_a_leap_second_in_a_kmob_time_column_is_a_type_error(tmp_path: Path) -> None:
    f = tmp_path / "k.csv"
    f.write_text(
        f"{KMOB_HEADER}\n{NIP1};Ani;02/12/2025;23:59:60;Pulang;-6,9;107,6;4,5;dA;WFO\n"
        f"{NIP1};Ani;02/12/2025;07:00:00;Masuk;-6,9;107,6;4,5;dA;WFO\n"
    )
    out = ingest(tmp_path / "s", "attendance", f, extra=("--profile", "kmob"))
    assert (out["stored"], out["rejected_by_code"]) == (1, {"type-error": 1})


# --- 9: a path is a name, never a pattern -------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_9_a_file_named_with_brackets_is_read(tmp_path: Path, fmt: str) -> None:
    f = tmp_path / f"pegawai[revisi].{fmt}"
    df = pl.read_csv(WORKED / "employees.csv", infer_schema=False)
    df.write_csv(f) if fmt == "csv" else df.write_parquet(f)
    out = ingest(tmp_path / "s", "employees", f)
    assert out["stored"] == df.height and out["files"][0]["file"] == str(f)


# --- 10: headers differing only by spaces -------------------------------------------------


def test_10_headers_differing_only_by_spaces_do_not_crash(tmp_path: Path) -> None:
    f = tmp_path / "k.csv"
    f.write_text(
        f"{KMOB_HEADER};Nama \n{NIP1};Ani;02/12/2025;07:00:00;Masuk;-6,9;107,6;4,5;dA;WFO;x\n"
    )
    out = ingest(tmp_path / "s", "attendance", f, extra=("--profile", "kmob"))
    assert (out["read"], out["stored"]) == (1, 1)


def test_10_two_headers_mapping_to_one_column_are_one_sentence(tmp_path: Path) -> None:
    f = tmp_path / "e.csv"
    f.write_text(f"nip,name,unit_code,office_id, NIP\n{NIP1},A,U1,O1,{NIP1}\n")
    message = fails(tmp_path / "s", "employees", f)
    assert "both map to 'nip'" in message


# --- 11: years out of range ------------------------------------------------------------


def test_11_year_zero_and_negative_years_are_rejected_and_store_info_works(
    tmp_path: Path,
) -> None:
    f = tmp_path / "leave.csv"
    f.write_text(
        "nip,start,end,kind\n"
        f"{NIP1},0000-01-01,2025-12-08,CUTI\n"
        f"{NIP1},-0001-02-03,2025-12-08,CUTI\n"
        f"{NIP1},2025-12-08,2025-12-08,CUTI\n"
    )
    out = ingest(tmp_path / "s", "leave", f)
    assert (out["stored"], out["rejected_by_code"]) == (1, {"type-error": 2})
    r = runner.invoke(app, ["store", "info", "--store", str(tmp_path / "s"), "--json"])
    assert r.exit_code == 0, r.output
    leave = next(t for t in json.loads(r.stdout)["tables"] if t["table"] == "leave")
    assert (leave["first_date"], leave["last_date"]) == ("2025-12-08", "2025-12-08")


# --- 13: disk full, read-only store ---------------------------------------------------------

_LIMITED = textwrap.dedent(
    """
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    from wfhaudit.cli import app
    sys.argv = ["wfhaudit", *sys.argv[2:]]
    app()
    """
)


def test_13_a_file_size_limit_is_one_sentence_and_the_store_is_unchanged(
    tmp_path: Path,
) -> None:
    """A real failing write (RLIMIT_FSIZE, the nearest thing to a full disk a test can
    make without root): exit 3, one sentence saying the store is unchanged."""
    f = tmp_path / "a.csv"
    nips = [f"{198501012010011001 + i}" for i in range(300)]
    rows = [att_row(f"2025-12-03 07:{i % 60:02d}:00", nip=n) for i, n in enumerate(nips)]
    f.write_text(att(*rows))
    store = tmp_path / "s"
    ingest(store, "attendance", WORKED / "attendance.csv")
    before = Store(store).scan("attendance").collect().height
    command = ["ingest", "attendance", str(f), "--store", str(store)]
    r = subprocess.run(
        [sys.executable, "-c", _LIMITED, "2000", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 3, r.stderr
    message = " ".join(r.stderr.split())
    assert "File too large" in message and "the store is unchanged" in message
    assert "Traceback" not in r.stderr
    assert Store(store).version("attendance") == 0
    assert Store(store).scan("attendance").collect().height == before


def test_13_disk_full_during_the_rejects_says_the_rows_were_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.replace

    def full(src: object, dst: object) -> None:
        if str(dst).endswith(".csv"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", full)
    message = fails(tmp_path / "s", "attendance", _two_bad_rows(tmp_path))
    monkeypatch.undo()
    assert "rows were stored (version 0)" in message and "No space left on device" in message
    assert "next 'wfhaudit ingest' records them" in message
    ingest(tmp_path / "s", "offices", WORKED / "offices.csv")  # repairs
    assert rejects_table(tmp_path / "s").height == 2


def test_13_a_read_only_store_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    message = fails(tmp_path / "s", "offices", WORKED / "offices.csv")
    assert "Read-only file system" in message and "the store is unchanged" in message


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (OSError(errno.EROFS, "Read-only file system", "/out/x"), " /out/x: Read-only file system"),
        (  # what Polars raises for a full disk
            pl.exceptions.ComputeError("parquet: underlying IO error: (os error 28)"),
            ": No space left on device",
        ),
    ],
)
def test_13_an_oserror_anywhere_is_one_sentence_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, words: str
) -> None:
    import wfhaudit.ingest.core as core

    def broken(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(core, "load_profile", broken)
    message = fails(tmp_path / "s", "offices", WORKED / "offices.csv")
    assert message.startswith(f"error: could not read or write{words}"), message


# --- 14: policy numbers and nesting --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[output]\ndeadline_days = 9223372036854775807\n", "at most 100,000"),
        ("[location]\noffice_radius_m = 1e300\n", "at most 10,000,000"),
        ("x = " + "[" * 100_000 + "]" * 100_000 + "\n", "more than 10 deep"),
        ("holidays = " + "[" * 12 + "]" * 12 + "\n", "more than 10 deep"),
    ],
)
def test_14_policy_numbers_are_bounded_and_nesting_is_limited(
    tmp_path: Path, text: str, words: str
) -> None:
    f = tmp_path / "p.toml"
    f.write_text(text)
    r = runner.invoke(app, ["policy", "check", str(f)])
    assert r.exit_code == 3, r.output
    assert words in " ".join(r.output.split()) and "Traceback" not in r.output


# --- 15: an extra binary Parquet column -----------------------------------------------------


def test_15_an_extra_binary_parquet_column_is_ignored(tmp_path: Path) -> None:
    f = tmp_path / "o.parquet"
    df = pl.read_csv(WORKED / "offices.csv", infer_schema=False)
    bad = df.head(1).with_columns(pl.lit("O9").alias("office_id"), pl.lit("x").alias("radius_m"))
    df = pl.concat([df, bad])  # a rejected row: its cells, 'foto' too, go to the rejects
    df.with_columns(pl.lit(b"\xff\xfe\x00", pl.Binary).alias("foto")).write_parquet(f)
    out = ingest(tmp_path / "s", "offices", f)
    assert (out["stored"], out["rejected_by_code"]) == (df.height - 1, {"type-error": 1})


# --- 16: NUL bytes past the sniffed head ---------------------------------------------------------


def test_16_a_nul_in_a_cell_past_the_first_64_kib_is_a_type_error(tmp_path: Path) -> None:
    f = tmp_path / "outputs.csv"
    filler = "x" * 70_000
    f.write_bytes(
        (
            "nip,date,submitted_at,text\n"
            f"{NIP1},2025-12-02,2025-12-02 21:00:00,{filler}\n"
            f"{NIP1},2025-12-03,2025-12-03 21:00:00,laporan\x00biner\n"
        ).encode()
    )
    out = ingest(tmp_path / "s", "outputs", f)
    assert (out["stored"], out["rejected_by_code"]) == (1, {"type-error": 1})
    texts = Store(tmp_path / "s").scan("outputs").collect().get_column("text").to_list()
    assert not any("\x00" in t for t in texts)
    assert "NUL byte" in out["rejects_sample"][0]["message"]


# --- 17: blank lines ---------------------------------------------------------------------


def test_17_lines_of_only_quotes_or_spaces_are_blank(tmp_path: Path) -> None:
    f = tmp_path / "e.csv"
    rows = (WORKED / "employees.csv").read_text().splitlines()
    f.write_text("\n".join([rows[0], rows[1], '""', "   ", '"",""', '" "', rows[2]]) + "\n")
    out = ingest(tmp_path / "s", "employees", f)
    assert (out["read"], out["stored"], out["rejected"]) == (2, 2, 0)


# --- 18: special files and broken CSV, each one sentence --------------------------------------


def test_18_a_fifo_is_named_as_such(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert "is a named pipe (FIFO)" in fails(tmp_path / "s", "offices", fifo)


def test_18_dev_null_is_a_device(tmp_path: Path) -> None:
    message = fails(tmp_path / "s", "offices", Path("/dev/null"), "--format", "csv")
    assert "cannot read /dev/null: it is a device" in message


def test_18_a_symlink_loop_is_named_as_such(tmp_path: Path) -> None:
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    assert "loops back on itself" in fails(tmp_path / "s", "offices", loop)


def test_18_a_proc_file_is_not_called_empty(tmp_path: Path) -> None:
    message = fails(tmp_path / "s", "offices", Path("/proc/self/status"), "--format", "csv")
    assert "size is not known" in message and "empty" not in message


def test_18_an_unreadable_file_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "o.csv"
    f.write_text((WORKED / "offices.csv").read_text())
    real = Path.open

    def denied(self: Path, *args: object, **kwargs: object) -> object:
        if self == f:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", denied)
    message = fails(tmp_path / "s", "offices", f)
    assert f"cannot read {f}: permission denied" in message


@pytest.mark.parametrize("rows_before", [1, 5000])
def test_18_an_unclosed_quote_names_its_line(tmp_path: Path, rows_before: int) -> None:
    f = tmp_path / "e.csv"
    rows = (WORKED / "employees.csv").read_text().splitlines()
    body = [rows[1]] * rows_before
    f.write_text("\n".join([rows[0], *body, f'{NIP1},"Ani,U1,Dinas,O1,-6.9,107.6,,', *body]) + "\n")
    message = fails(tmp_path / "s", "employees", f)
    assert f"the quote opened on line {rows_before + 2} is never closed" in message

