"""Import profiles are validated with a typed model (issue 15): a bad profile is exit 3."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfhaudit.cli import app

runner = CliRunner()
HEADER = "NIP,Tanggal,Jam,Jenis,Latitude,Longitude,Akurasi GPS,ID Perangkat,Mode\n"
ROW = "199001012020011001,2025-12-01,07:30:00,IN,-6.9,107.6,12,HP-1,WFO\n"


def ingest(tmp_path: Path, profiles: str, profile: str = "mine"):
    (tmp_path / "profiles.toml").write_text(profiles, "utf-8")
    (tmp_path / "att.csv").write_text(HEADER + ROW, "utf-8")
    args = ["ingest", "attendance", tmp_path / "att.csv", "--store", tmp_path / "s"]
    args += ["--profile", profile, "--profiles", tmp_path / "profiles.toml"]
    return runner.invoke(app, [str(a) for a in args])


BASE = """[mine]
date_formats = ["%Y-%m-%d"]
datetime_formats = ["%Y-%m-%d %H:%M:%S"]
[mine.combine.ts]
date = "Tanggal"
time = "Jam"
[mine.columns]
NIP = "nip"
Jenis = "kind"
Latitude = "lat"
Longitude = "lon"
"ID Perangkat" = "device_id"
Mode = "mode"
"""


def test_an_unknown_target_column_is_exit_3_with_a_did_you_mean(tmp_path: Path):
    result = ingest(tmp_path, BASE + '"Akurasi GPS" = "accuracy"\n')
    assert result.exit_code == 3, result.output
    assert " ".join(result.output.split()) == (
        f"error: profile 'mine' in {tmp_path / 'profiles.toml'} maps columns.'Akurasi GPS' to "
        "'accuracy', which is not a column of attendance; did you mean accuracy_m? valid "
        "attendance columns: nip, ts, kind, lat, lon, accuracy_m, device_id, mode."
    )
    assert not (tmp_path / "s").exists()  # nothing stored


def test_the_right_target_stores_the_column(tmp_path: Path):
    import polars as pl

    from wfhaudit.store import Store

    result = ingest(tmp_path, BASE + '"Akurasi GPS" = "accuracy_m"\n')
    assert result.exit_code == 0, result.output
    stored = Store(tmp_path / "s").scan("attendance").collect()
    assert stored.get_column("accuracy_m").to_list() == [12.0]
    assert stored.select(pl.col("device_id")).item() == "HP-1"


def test_a_per_kind_table_must_name_columns_of_that_kind(tmp_path: Path):
    result = ingest(tmp_path, BASE + '[mine.attendance.columns]\n"Akurasi GPS" = "home_lat"\n')
    assert result.exit_code == 3
    assert (
        "maps attendance.columns.'Akurasi GPS' to 'home_lat', which is not a column of "
        "attendance" in " ".join(result.output.split())
    )


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('delimiter = ";;"\n', "'delimiter' is invalid (string should have at most 1 character)"),
        ('time_formats = "%H:%M"\n', "'time_formats' is invalid"),
        ("colums = 1\n", "has an unknown key 'colums'; allowed: description, delimiter"),
        (
            '[mine.combine.ts2]\ndate = "Tanggal"\n',
            "'combine.ts2.time' is invalid (field required)",
        ),
    ],
)
def test_a_badly_typed_profile_is_exit_3(tmp_path: Path, extra: str, words: str):
    head, _, rest = BASE.partition("[mine.combine.ts]")
    result = ingest(tmp_path, head + extra + "[mine.combine.ts]" + rest)
    assert result.exit_code == 3, result.output
    text = " ".join(result.output.split())
    assert text.startswith("error: profile 'mine' in ") and words in text, text


def test_bad_profile_and_bad_policy_share_the_exit_code(tmp_path: Path):
    bad_policy = tmp_path / "p.toml"
    bad_policy.write_text("[wfh\n", "utf-8")
    policy = runner.invoke(app, ["policy", "check", str(bad_policy)])
    profile = ingest(tmp_path, BASE + '"Akurasi GPS" = "accuracy"\n')
    assert policy.exit_code == profile.exit_code == 3
