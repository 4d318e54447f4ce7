"""The policy: Jabar default, merge semantics, validation errors, TOML output, sanctions."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from wfhaudit.cli import app
from wfhaudit.errors import DataError
from wfhaudit.policy import (
    Hours,
    check_policy_file,
    load_policy,
    policy_to_toml,
)
from wfhaudit.policy.loader import merge
from wfhaudit.policy.sanctions import TIERS, sanction_label, sanction_tier, tier_for

D = dt.date
runner = CliRunner()


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the default ----------------------------------------------------------------


def test_default_top_level_and_holidays() -> None:
    p = load_policy()
    assert p.timezone == "Asia/Jakarta"
    assert p.minutes_per_day == 450
    assert p.sources == ("default",)
    assert len(p.holidays) == 49  # 2025 (28) and 2026 (21), cuti bersama included
    assert p.holidays[:2] == (D(2025, 1, 1), D(2025, 1, 27))
    assert D(2025, 8, 18) in p.holidays and D(2025, 12, 26) in p.holidays
    assert D(2026, 3, 20) in p.holidays and D(2026, 8, 17) in p.holidays
    assert p.holidays[-1] == D(2026, 12, 25)


def test_default_hours_and_special() -> None:
    p = load_policy()
    assert p.hours == {
        "mon": Hours(450, 960),
        "tue": Hours(450, 960),
        "wed": Hours(450, 960),
        "thu": Hours(450, 960),
        "fri": Hours(450, 990),
    }
    assert p.late_grace_minutes == 0 and p.early_grace_minutes == 0
    (ramadan,) = p.special_hours
    assert ramadan.name == "Ramadan 1447 H"
    assert (ramadan.start, ramadan.end) == (D(2026, 2, 19), D(2026, 3, 19))
    assert ramadan.hours == {d: Hours(390, 840) for d in ("mon", "tue", "wed", "thu", "fri")}


def test_default_location_output_integrity() -> None:
    p = load_policy()
    assert (p.office_radius_m, p.home_radius_m, p.accuracy_allowance_max_m) == (100, 200, 50)
    assert (p.output_min_chars, p.output_deadline_days) == (10, 0)
    assert p.shared_coordinates_min_employees == 3
    assert p.max_speed_kmh == 120
    assert p.duplicate_output_min_days == 3


def test_default_wfh_periods() -> None:
    trial, half, thursdays = load_policy().wfh
    assert trial.name == "Uji coba WFH Kamis"
    assert (trial.start, trial.end) == (D(2025, 11, 1), D(2025, 11, 30))
    assert trial.weekdays == ("thu",) and trial.default_wfh_weekdays == ("thu",)
    assert trial.max_share == 1.0 and trial.exempt_units == ()
    assert half.name == "WFH 50:50"
    assert (half.start, half.end) == (D(2025, 12, 2), D(2025, 12, 31))
    assert half.weekdays == ("mon", "tue", "wed", "thu", "fri")
    assert half.default_wfh_weekdays == () and half.max_share == 0.5
    assert thursdays.name == "WFH Kamis 2026"
    assert (thursdays.start, thursdays.end) == (D(2026, 1, 1), D(2026, 12, 31))
    assert thursdays.weekdays == ("thu", "fri") and thursdays.default_wfh_weekdays == ("thu",)


def test_default_policy_helpers() -> None:
    p = load_policy()
    assert p.hours_on(D(2025, 12, 25)) is None  # Christmas
    assert p.hours_on(D(2025, 12, 5)) == Hours(450, 990)  # a Friday
    assert p.hours_on(D(2026, 2, 20)) == Hours(390, 840)  # Ramadan Friday
    assert p.wfh_period_on(D(2025, 12, 1)) is None
    assert p.wfh_period_on(D(2025, 12, 2)).name == "WFH 50:50"


# --- merge ------------------------------------------------------------------------


def test_merge_tables_recursively_and_replace_values_and_arrays() -> None:
    base = {"a": {"x": 1, "y": {"p": 1, "q": 2}}, "arr": [1, 2], "t": [{"n": 1}, {"n": 2}]}
    over = {"a": {"y": {"q": 3}}, "arr": [9], "t": [{"n": 7}]}
    assert merge(base, over) == {
        "a": {"x": 1, "y": {"p": 1, "q": 3}},
        "arr": [9],
        "t": [{"n": 7}],
    }
    assert base["a"]["y"]["q"] == 2  # the default is not modified


def test_user_table_merges_key_by_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[location]\noffice_radius_m = 150\n[hours]\nfri = "07:30-16:00"\n')
    p = load_policy(path)
    assert p.office_radius_m == 150
    assert p.home_radius_m == 200  # kept from the default
    assert p.hours["fri"] == Hours(450, 960)
    assert p.hours["mon"] == Hours(450, 960)
    assert len(p.wfh) == 3 and len(p.special_hours) == 1  # untouched arrays kept
    assert p.sources == ("default", str(path))
    assert p.raw["location"]["office_radius_m"] == 150


def test_user_arrays_replace_the_default_whole(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
holidays = [2026-01-02]

[[hours.special]]
name = "Ramadan 1447 H (revisi)"
from = 2026-02-18
to = 2026-03-19
mon = "07:00-14:30"

[[wfh]]
name = "WFH Kamis 2026"
from = 2026-01-01
to = 2026-12-31
weekdays = ["thu"]
default_wfh_weekdays = ["thu"]
exempt_units = ["RSUD-AM", "DISHUB"]
""",
    )
    p = load_policy(path)
    assert p.holidays == (D(2026, 1, 2),)
    (special,) = p.special_hours
    assert special.name == "Ramadan 1447 H (revisi)"
    assert special.hours == {"mon": Hours(420, 870)}  # other weekdays keep their hours
    assert p.hours_on(D(2026, 2, 24)) == Hours(450, 960)  # a Tuesday inside it
    (only,) = p.wfh
    assert only.exempt_units == ("RSUD-AM", "DISHUB")
    assert only.max_share == 1.0  # filled default of an omitted key
    assert p.hours["mon"] == Hours(450, 960)  # [hours] itself still merged


def test_weekday_can_be_switched_off(tmp_path: Path) -> None:
    p = load_policy(write(tmp_path, '[hours]\nfri = "off"\nsat = "07:30-12:00"\n'))
    assert "fri" not in p.hours
    assert p.hours["sat"] == Hours(450, 720)
    assert p.hours_on(D(2025, 12, 5)) is None


def test_empty_wfh_array_removes_all_periods(tmp_path: Path) -> None:
    p = load_policy(write(tmp_path, "wfh = []\n"))
    assert p.wfh == ()


# --- TOML output --------------------------------------------------------------------


def test_policy_to_toml_round_trips(tmp_path: Path) -> None:
    p = load_policy()
    text = policy_to_toml(p)
    assert text.startswith("# wfhaudit policy in force")
    assert "[[hours.special]]" in text and text.count("[[wfh]]") == 3
    assert "from = 2025-12-02" in text  # a TOML date, not a string
    assert tomllib.loads(text) == p.raw
    again = load_policy(write(tmp_path, text))
    assert replace(again, sources=p.sources) == p
    assert again.raw == p.raw


def test_policy_to_toml_round_trips_a_user_policy(tmp_path: Path) -> None:
    user = load_policy(
        write(tmp_path, 'wfh = []\n[hours]\nfri = "off"\n[location]\nhome_radius_m = 250.5\n')
    )
    text = policy_to_toml(user)
    assert 'fri = "off"' in text and "wfh = []" in text
    again = load_policy(write(tmp_path, text, "again.toml"))
    assert replace(again, sources=user.sources) == user and again.raw == user.raw


def test_policy_to_toml_escapes_strings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[wfh]]\nname = "Uji \\"coba\\" \\\\ tab\\t"\nfrom = 2026-01-01\nto = 2026-01-31\n'
        'weekdays = ["thu"]\n',
    )
    p = load_policy(path)
    assert p.wfh[0].name == 'Uji "coba" \\ tab'  # stripped of the trailing tab
    again = load_policy(write(tmp_path, policy_to_toml(p), "again.toml"))
    assert replace(again, sources=p.sources) == p


# --- validation errors -------------------------------------------------------------

BAD_FILES = [
    (
        "[location]\noffice_radiu_m = 100\n",
        ["unknown key location.office_radiu_m", "did you mean location.office_radius_m"],
    ),
    ("unknown_top = 1\n", ["unknown key unknown_top"]),
    ("[[wfh]]\nname='x'\nfrom=2026-01-01\nto=2026-01-02\nweekdays=[]\nfoo=1\n", ["wfh[1].foo"]),
    ('[hours]\nmon = "7:3O-16:00"\n', ["hours.mon", "'7:3O-16:00'", "HH:MM-HH:MM"]),
    ('[hours]\ntue = "25:00-26:00"\n', ["hours.tue", "not a valid time range"]),
    ('[hours]\nwed = "16:00-07:30"\n', ["hours.wed", "ends before it starts"]),
    ("[hours]\nthu = 730\n", ["hours.thu", "HH:MM-HH:MM"]),
    (
        "[[wfh]]\nname='x'\nfrom=2026-01-01\nto=2026-01-31\nweekdays=['thursday']\n",
        ["wfh[1].weekdays[1]", "'thursday'", "not a weekday name"],
    ),
    (
        "[[wfh]]\nname='x'\nfrom=2026-01-01\nto=2026-01-31\nweekdays=['thu']\n"
        "default_wfh_weekdays=['fri']\n",
        ["wfh[1].default_wfh_weekdays", '"fri"', "wfh[1].weekdays"],
    ),
    (
        "[[wfh]]\nname='a'\nfrom=2026-01-01\nto=2026-01-31\nweekdays=['thu']\n"
        "[[wfh]]\nname='b'\nfrom=2026-01-31\nto=2026-02-28\nweekdays=['thu']\n",
        ['wfh[1] "a"', 'wfh[2] "b"', "overlaps"],
    ),
    (
        "[[hours.special]]\nname='a'\nfrom=2026-02-01\nto=2026-02-10\n"
        "[[hours.special]]\nname='b'\nfrom=2026-01-01\nto=2026-02-01\n",
        ["hours.special[1]", "hours.special[2]", "overlaps"],
    ),
    (
        "[[wfh]]\nname='x'\nfrom=2026-02-01\nto=2026-01-01\nweekdays=['thu']\n",
        ["wfh[1].from 2026-02-01 is after wfh[1].to 2026-01-01"],
    ),
    (
        "[[hours.special]]\nname='x'\nfrom=2026-02-01\nto=2026-01-01\n",
        ["hours.special[1].from", "is after"],
    ),
    ("[[wfh]]\nname='x'\nto=2026-01-01\nweekdays=['thu']\n", ["wfh[1].from is missing"]),
    ("[location]\noffice_radius_m = -5\n", ["location.office_radius_m = -5", "positive"]),
    ("[location]\nhome_radius_m = 0\n", ["location.home_radius_m", "positive"]),
    ("[location]\naccuracy_allowance_max_m = -1\n", ["location.accuracy_allowance_max_m"]),
    ("[integrity]\nmax_speed_kmh = -120\n", ["integrity.max_speed_kmh"]),
    ("[integrity]\nshared_coordinates_min_employees = 1\n", ["shared_coordinates_min_employees"]),
    ("[hours]\nlate_grace_minutes = -1\n", ["hours.late_grace_minutes", "at least 0"]),
    ("[output]\nmin_chars = 'ten'\n", ["output.min_chars", "not a whole number"]),
    ("minutes_per_day = 0\n", ["minutes_per_day", "between 1 and 1440"]),
    ("[location]\noffice_radius_m = '100'\n", ["location.office_radius_m", "not a number"]),
    (
        "[[wfh]]\nname='x'\nfrom=2026-01-01\nto=2026-01-31\nweekdays=['thu']\nmax_share=1.5\n",
        ["wfh[1].max_share = 1.5", "outside [0, 1]"],
    ),
    (
        "[[wfh]]\nname='x'\nfrom=2026-01-01\nto=2026-01-31\nweekdays=['thu']\nmax_share=-0.1\n",
        ["wfh[1].max_share"],
    ),
    ("holidays = [2025-13-01]\n", ["not valid TOML", "line 1"]),
    ("holidays = ['25-12-2025']\n", ["holidays[1]", "not a date", "YYYY-MM-DD"]),
    ("holidays = [2025-12-25T00:00:00]\n", ["holidays[1]", "date-time"]),
    ("timezone = 'Asia/Bandung'\n", ["timezone", "not a known time zone"]),
    ("timezone = 'Asia/Makassar'\n", ["timezone", "not supported", "WIB"]),
    ("hours = 5\n", ["hours", "must be a table"]),
    ("wfh = 5\n", ["wfh", "array of tables"]),
    ("[hours.special]\nname='x'\n", ["hours.special", "array of tables"]),
    ("[location]\noffice_radius_m = 100\n[location\n", ["not valid TOML", "line 3"]),
]


@pytest.mark.parametrize(("text", "words"), BAD_FILES)
def test_bad_policy_raises_data_error_naming_the_key(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataError) as info:
        load_policy(path)
    message = info.value.message
    assert str(path) in message
    for word in words:
        assert word in message, message
    assert info.value.exit_code == 3


@pytest.mark.parametrize(("text", "words"), BAD_FILES)
def test_policy_check_cli_exits_3_with_the_sentence(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    path = write(tmp_path, text)
    result = runner.invoke(app, ["policy", "check", str(path)])
    assert result.exit_code == 3, result.output
    output = " ".join(result.output.split())  # undo terminal wrapping
    assert "error:" in output
    for word in words:
        assert word in output, output
    assert "Traceback" not in output


def test_missing_file_exits_3(tmp_path: Path) -> None:
    result = runner.invoke(app, ["policy", "check", str(tmp_path / "nope.toml")])
    assert result.exit_code == 3
    assert "does not exist" in result.output
    result = runner.invoke(app, ["policy", "show", "--policy", str(tmp_path / "nope.toml")])
    assert result.exit_code == 3


def test_directory_and_binary_files_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is a directory"):
        check_policy_file(tmp_path)
    binary = tmp_path / "x.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DataError, match="not UTF-8"):
        check_policy_file(binary)


# --- CLI ---------------------------------------------------------------------------


def test_policy_check_ok(tmp_path: Path) -> None:
    path = write(tmp_path, "[location]\noffice_radius_m = 150\n")
    result = runner.invoke(app, ["policy", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert f"ok: {path} is a valid policy (3 WFH periods, 49 holidays)" in " ".join(
        result.output.split()
    )


def test_policy_show_default_is_valid_toml() -> None:
    result = runner.invoke(app, ["policy", "show"])
    assert result.exit_code == 0, result.output
    assert "sources: default" in result.output
    assert tomllib.loads(result.output) == load_policy().raw


def test_policy_show_with_user_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[location]\noffice_radius_m = 150\n")
    result = runner.invoke(app, ["policy", "show", "--policy", str(path)])
    assert result.exit_code == 0, result.output
    assert f"sources: default + {path}" in result.output
    shown = tomllib.loads(result.output)
    assert shown["location"] == {
        "office_radius_m": 150,
        "home_radius_m": 200,
        "accuracy_allowance_max_m": 50,
    }


def test_policy_show_bad_user_file_exits_3(tmp_path: Path) -> None:
    path = write(tmp_path, "[output]\ndeadline_dayz = 1\n")
    result = runner.invoke(app, ["policy", "show", "--policy", str(path)])
    assert result.exit_code == 3
    assert "unknown key output.deadline_dayz" in " ".join(result.output.split())


# --- sanctions (PP 94/2021) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "code"),
    [
        (0, None),
        (2.99, None),
        (2 + 449 / 450, None),  # the largest value below 3 that whole minutes can give
        (3, "TEGURAN_LISAN"),
        (3.4, "TEGURAN_LISAN"),
        (3.99, "TEGURAN_LISAN"),
        (4, "TEGURAN_TERTULIS"),
        (6.5, "TEGURAN_TERTULIS"),
        (7, "PERNYATAAN_TIDAK_PUAS"),
        (10.9, "PERNYATAAN_TIDAK_PUAS"),
        (11, "POTONGAN_TUKIN_6_BULAN"),
        (13, "POTONGAN_TUKIN_6_BULAN"),
        (14, "POTONGAN_TUKIN_9_BULAN"),
        (16, "POTONGAN_TUKIN_9_BULAN"),
        (17, "POTONGAN_TUKIN_12_BULAN"),
        (20, "POTONGAN_TUKIN_12_BULAN"),
        (21, "PENURUNAN_JABATAN"),
        (24, "PENURUNAN_JABATAN"),
        (25, "PEMBEBASAN_JABATAN"),
        (27.9, "PEMBEBASAN_JABATAN"),
        (28, "PEMBERHENTIAN"),
        (200, "PEMBERHENTIAN"),
        (float("nan"), None),
        (None, None),
    ],
)
def test_sanction_tier(days: float | None, code: str | None) -> None:
    assert sanction_tier(days) == code


def test_sanction_tier_float_noise() -> None:
    assert sanction_tier(0.1 + 0.2 + 2.7) == "TEGURAN_LISAN"  # 2.9999999999999996


def test_sanction_tiers_cover_every_day_from_3_without_gaps() -> None:
    for days in range(3, 60):
        assert sum(1 for t in TIERS if t.min_days <= days <= (t.max_days or 10**6)) == 1
    assert tier_for(3).label("id") == "teguran lisan"
    assert tier_for(3).label("en") == "verbal warning"
    assert tier_for(5).days_text == "4-6" and tier_for(30).days_text == "28+"
    assert sanction_label("TEGURAN_TERTULIS", "en") == "written warning"
    assert sanction_label(None) is None
    assert [t.level for t in TIERS].count("berat") == 3


def test_policy_to_toml_follows_the_typed_fields() -> None:
    """A Policy changed with dataclasses.replace is written as it is, not as loaded."""
    changed = replace(load_policy(), office_radius_m=75.5, hours={"mon": Hours(480, 900)})
    shown = tomllib.loads(policy_to_toml(changed))
    assert shown["location"]["office_radius_m"] == 75.5
    assert shown["hours"]["mon"] == "08:00-15:00"
    assert shown["hours"]["fri"] == "off"
    assert "sat" not in shown["hours"]


def test_the_example_in_docs_policy_md_is_valid(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "policy.md").read_text("utf-8")
    example = doc.split("## Example:", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    p = load_policy(write(tmp_path, example))
    assert p.special_hours[0].start == D(2026, 2, 18)
    assert p.wfh[2].exempt_units == ("RSUD-AIH", "DISHUB")
    assert [w.name for w in p.wfh] == [w.name for w in load_policy().wfh]


def test_windows_file_with_bom_and_crlf_is_read(tmp_path: Path) -> None:
    path = tmp_path / "notepad.toml"
    path.write_bytes(b"\xef\xbb\xbf[location]\r\noffice_radius_m = 120\r\n")
    assert load_policy(path).office_radius_m == 120


@given(st.lists(st.floats(min_value=0, max_value=400, allow_nan=False), max_size=40))
def test_the_summary_s_tiers_are_sanction_tier_of_each_employee(days: list[float]) -> None:
    """employee_summary looks a tier up once per distinct whole number of days: the same
    tier as ``sanction_tier`` of each employee's year to date, float noise included."""
    import polars as pl

    from wfhaudit.audit.run import employee_summary
    from wfhaudit.policy import load_policy

    days = [*days, 0.1 + 0.2 + 2.7, 6.999999999999999]
    nips = [f"N{i:03d}" for i in range(len(days))]
    counts = pl.DataFrame({"nip": nips, "working_days": [1] * len(days), "excused_days": 0,
                           "duty_days": 0, "no_attendance_data_days": 0})
    none = pl.DataFrame(schema={"nip": pl.String, "violation_days": pl.Int64,
                                "absent_days": pl.Int64, "late_minutes": pl.Int64,
                                "early_minutes": pl.Int64})
    summary = employee_summary(
        pl.DataFrame({"nip": nips, "name": nips, "unit_code": "U1"}), counts, none,
        pl.DataFrame({"nip": nips, "ytd_equivalent_days": days}), load_policy(None),
    )
    got = dict(summary.select("nip", "ytd_tier").iter_rows())
    assert got == {n: sanction_tier(d) for n, d in zip(nips, days, strict=True)}
