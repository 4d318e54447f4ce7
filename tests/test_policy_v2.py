"""Policy v2 (policy.md): 2025 holidays, extra_holidays, special hours of the listed weekdays
only, and the `policy check` error and warnings."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfhaudit.audit.calendar import calendar, working_days
from wfhaudit.cli import app
from wfhaudit.errors import DataError
from wfhaudit.policy import Hours, load_policy, policy_to_toml, replaced_defaults
from wfhaudit.policy.loader import build_policy

D = dt.date
runner = CliRunner()

SPECIAL = """
[[hours.special]]
name = "Pekan pendek"
from = 2025-12-08
to = 2025-12-12
mon = "08:00-12:00"
fri = "off"
"""


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def check(path: Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["policy", "check", str(path)])
    return result.exit_code, " ".join(result.stdout.split()), result.stderr


# --- 2025 holidays --------------------------------------------------------------------


def test_the_default_holds_the_2025_holidays_and_cuti_bersama() -> None:
    policy = load_policy()
    in_2025 = [d for d in policy.holidays if d.year == 2025]
    assert len(in_2025) == 28
    for day in (D(2025, 1, 1), D(2025, 3, 31), D(2025, 4, 7), D(2025, 8, 18), D(2025, 12, 26)):
        assert policy.hours_on(day) is None, day
    # a year to date for December 2025 starts on 1 January 2025: January has 23 weekdays,
    # minus New Year (Wed 1), the cuti bersama (Mon 27, Tue 28) and Isra Mi'raj (Wed 29)
    assert len(working_days(policy, D(2025, 1, 1), D(2025, 1, 31))) == 19


# --- extra_holidays -----------------------------------------------------------------


def test_extra_holidays_are_appended_to_the_default(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "extra_holidays = [2025-12-24, 2025-12-25]\n"))
    default = load_policy()
    assert set(policy.holidays) == set(default.holidays) | {D(2025, 12, 24)}
    assert policy.hours_on(D(2025, 12, 24)) is None
    assert calendar(policy, D(2025, 12, 24), D(2025, 12, 24))["holiday"].to_list() == [True]
    code, out, err = check(write(tmp_path, "extra_holidays = [2025-12-24]\n"))
    assert code == 0 and err == ""
    assert "(3 WFH periods, 50 holidays)" in out


def test_extra_holidays_are_appended_to_the_users_holidays(tmp_path: Path) -> None:
    policy = load_policy(
        write(tmp_path, "holidays = [2025-12-25]\nextra_holidays = [2025-12-24]\n")
    )
    assert policy.holidays == (D(2025, 12, 24), D(2025, 12, 25))


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            "extra_holidays = [2025-12-24, 2025-13-01]\n",
            "is not valid TOML",
        ),
        (
            'extra_holidays = [2025-12-24, "24 Des"]\n',
            "extra_holidays[2] = '24 Des'",
        ),
        (
            "extra_holidays = 2025-12-24\n",
            "extra_holidays = 2025-12-24 in",
        ),
        (
            "[location]\noffice_radius_m = 120\nextra_holidays = [2025-12-24]\n",
            "extra_holidays is a top-level key, but",
        ),
    ],
)
def test_bad_extra_holidays_name_the_key(tmp_path: Path, text: str, sentence: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataError) as info:
        load_policy(path)
    assert sentence in info.value.message
    code, _, err = check(path)
    assert code == 3 and sentence in " ".join(err.split())


def test_extra_holidays_under_a_table_says_where_to_move_it(tmp_path: Path) -> None:
    path = write(tmp_path, "[data]\nextra_holidays = [2025-12-24]\n")
    with pytest.raises(DataError) as info:
        load_policy(path)
    assert info.value.message == (
        f"extra_holidays is a top-level key, but {path} has it under [data]; move it above "
        "the first [table] of the file."
    )


# --- special hours replace only the weekdays they list ------------------------------------


def test_special_hours_replace_only_the_listed_weekdays(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, SPECIAL))
    (special,) = policy.special_hours
    assert special.hours == {"mon": Hours(480, 720)} and special.off == ("fri",)
    assert policy.hours_on(D(2025, 12, 8)) == Hours(480, 720)  # Monday: listed
    assert policy.hours_on(D(2025, 12, 9)) == Hours(450, 960)  # Tuesday: normal hours
    assert policy.hours_on(D(2025, 12, 12)) is None  # Friday: listed as off
    assert policy.hours_on(D(2025, 12, 13)) is None  # Saturday: no hours at all
    assert policy.hours_on(D(2025, 12, 15)) == Hours(450, 960)  # after the period
    frame = calendar(policy, D(2025, 12, 8), D(2025, 12, 12))
    assert frame.select("working", "start_min", "end_min", "special_name").rows() == [
        (True, 480, 720, "Pekan pendek"),
        (True, 450, 960, "Pekan pendek"),
        (True, 450, 960, "Pekan pendek"),
        (True, 450, 960, "Pekan pendek"),
        (False, None, None, "Pekan pendek"),
    ]


def test_special_off_days_survive_policy_show(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, SPECIAL))
    text = policy_to_toml(policy)
    assert 'fri = "off"' in text
    again = build_policy(tomllib.loads(text), "shown", ("default",))
    assert again.special_hours == policy.special_hours
    assert again.holidays == policy.holidays


# --- policy check: default_wfh_weekdays error, warnings -------------------------------------


def test_default_wfh_weekday_outside_weekdays_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[wfh]]\nname = "WFH Kamis"\nfrom = 2026-01-01\nto = 2026-12-31\n'
        'weekdays = ["thu"]\ndefault_wfh_weekdays = ["fri"]\n',
    )
    code, out, err = check(path)
    assert code == 3 and out == ""
    assert (
        f'wfh[1].default_wfh_weekdays contains "fri" in {path}, which is not in wfh[1].weekdays'
        in " ".join(err.split())
    )


def test_policy_check_warns_for_each_replaced_default_array(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "holidays = [2025-12-25, 2025-12-26, 2026-01-01]\n"
        + SPECIAL
        + '[[wfh]]\nname = "WFH 50:50"\nfrom = 2025-12-02\nto = 2025-12-31\n'
        'weekdays = ["mon", "tue", "wed", "thu", "fri"]\nmax_share = 0.5\n',
    )
    code, out, err = check(path)
    assert code == 0
    assert "ok:" in out
    lines = err.strip().splitlines()
    assert lines == [
        f"warning: {path} replaces the default holidays whole and drops 46 of its 49 entries; "
        "list only the days to add in extra_holidays instead, which keeps the default's.",
        f"warning: {path} replaces the default [[hours.special]] whole and drops 1 of its 1 "
        "entries; copy the entries to keep from `wfhaudit policy show`.",
        f"warning: {path} replaces the default [[wfh]] whole and drops 2 of its 3 entries; "
        "copy the entries to keep from `wfhaudit policy show`.",
    ]


def test_no_warning_when_nothing_of_the_default_is_dropped(tmp_path: Path) -> None:
    shown = write(tmp_path, policy_to_toml(load_policy()), "shown.toml")
    assert replaced_defaults(shown) == []
    code, _, err = check(shown)
    assert code == 0 and err == ""
    tables_only = write(tmp_path, "[location]\noffice_radius_m = 150\n")
    assert replaced_defaults(tables_only) == []


# --- docs/policy.md stays true ------------------------------------------------------------


def test_docs_policy_md_names_the_default_holidays_and_the_tier_bounds() -> None:
    import re

    from wfhaudit.policy.sanctions import TIERS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "policy.md").read_text("utf-8")
    default = load_policy()
    assert f"| `holidays` | {len(default.holidays)} dates:" in doc
    assert f"({len(default.wfh)} WFH periods, {len(default.holidays)} holidays)" in doc
    bounds = re.findall(r"^\| ≥ (\d+) \| `([A-Z_0-9]+)` \|", doc, flags=re.MULTILINE)
    assert [(int(n), code) for n, code in bounds] == [(t.min_days, t.code) for t in TIERS]
