"""The working-day calendar: holidays, hours, special periods, WFH periods, exempt units."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from wfhaudit.audit.calendar import CALENDAR_SCHEMA, calendar, working_days
from wfhaudit.errors import UsageError
from wfhaudit.policy import load_policy

D = dt.date


@pytest.fixture(scope="module")
def december() -> pl.DataFrame:
    return calendar(load_policy(), D(2025, 12, 1), D(2025, 12, 31))


def row(frame: pl.DataFrame, day: dt.date) -> dict:
    (found,) = frame.filter(pl.col("date") == day).to_dicts()
    return found


def test_schema_and_one_row_per_date(december: pl.DataFrame) -> None:
    assert december.schema == CALENDAR_SCHEMA
    assert december.height == 31
    assert december["date"].to_list() == [D(2025, 12, d) for d in range(1, 32)]
    assert december["weekday"].head(7).to_list() == [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ]


def test_december_holidays(december: pl.DataFrame) -> None:
    holidays = december.filter(pl.col("holiday"))["date"].to_list()
    assert holidays == [D(2025, 12, 25), D(2025, 12, 26)]
    christmas = row(december, D(2025, 12, 25))
    assert christmas["working"] is False
    assert christmas["start_min"] is None and christmas["end_min"] is None
    # 23 weekdays in December 2025, minus Christmas (Thu) and cuti bersama (Fri)
    assert december["working"].sum() == 21


def test_working_hours_and_weekends(december: pl.DataFrame) -> None:
    fridays = december.filter((pl.col("weekday") == "fri") & pl.col("working"))
    assert fridays.height == 3  # 5, 12, 19 (26 is cuti bersama)
    assert set(fridays["start_min"]) == {450} and set(fridays["end_min"]) == {990}
    monday = row(december, D(2025, 12, 1))
    assert (monday["start_min"], monday["end_min"]) == (450, 960)
    saturday = row(december, D(2025, 12, 6))
    assert saturday["working"] is False and saturday["holiday"] is False
    assert saturday["start_min"] is None


def test_wfh_50_50_starts_2_december(december: pl.DataFrame) -> None:
    first = row(december, D(2025, 12, 1))
    assert first["wfh_period"] is None
    assert first["wfh_weekday_allowed"] is False and first["default_wfh"] is False
    assert first["max_share"] is None and first["exempt_units"] == []
    second = row(december, D(2025, 12, 2))
    assert second["wfh_period"] == "WFH 50:50"
    assert second["wfh_weekday_allowed"] is True and second["default_wfh"] is False
    assert second["max_share"] == 0.5
    assert december.filter(pl.col("date") >= D(2025, 12, 2))["wfh_period"].unique().to_list() == [
        "WFH 50:50"
    ]


def test_november_thursdays_are_default_wfh() -> None:
    november = calendar(load_policy(), D(2025, 11, 1), D(2025, 11, 30))
    thursdays = november.filter(pl.col("weekday") == "thu")
    assert thursdays["date"].to_list() == [D(2025, 11, d) for d in (6, 13, 20, 27)]
    assert thursdays["default_wfh"].all() and thursdays["wfh_weekday_allowed"].all()
    others = november.filter(pl.col("weekday") != "thu")
    assert not others["default_wfh"].any() and not others["wfh_weekday_allowed"].any()
    assert set(november["wfh_period"]) == {"Uji coba WFH Kamis"}
    assert set(november["max_share"]) == {1.0}


def test_ramadan_2026_hours() -> None:
    frame = calendar(load_policy(), D(2026, 2, 16), D(2026, 3, 25))
    ramadan = frame.filter(pl.col("special_name") == "Ramadan 1447 H")
    assert ramadan["date"].min() == D(2026, 2, 19) and ramadan["date"].max() == D(2026, 3, 19)
    working = ramadan.filter(pl.col("working"))
    assert set(working["start_min"]) == {390} and set(working["end_min"]) == {840}  # 06:30-14:00
    assert row(frame, D(2026, 2, 18))["end_min"] == 960  # Wednesday before: normal hours
    assert row(frame, D(2026, 3, 20))["special_name"] is None  # after Ramadan
    assert row(frame, D(2026, 3, 18))["working"] is False  # cuti bersama inside Ramadan
    assert row(frame, D(2026, 2, 21))["working"] is False  # Saturday inside Ramadan
    # 2026: Thursdays default WFH, Fridays allowed on request
    friday = row(frame, D(2026, 2, 20))
    assert friday["wfh_weekday_allowed"] is True and friday["default_wfh"] is False
    thursday = row(frame, D(2026, 2, 19))
    assert thursday["default_wfh"] is True and thursday["wfh_period"] == "WFH Kamis 2026"


def test_exempt_units_and_user_special_hours_flow_through(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        """
holidays = []

[hours]
sat = "08:00-12:00"

[[hours.special]]
name = "Short week"
from = 2025-12-08
to = 2025-12-09
mon = "08:00-12:00"

[[wfh]]
name = "WFH 50:50"
from = 2025-12-02
to = 2025-12-31
weekdays = ["mon", "tue", "wed", "thu", "fri"]
max_share = 0.5
exempt_units = ["RSUD", "DISHUB"]
""",
        encoding="utf-8",
    )
    frame = calendar(load_policy(path), D(2025, 12, 1), D(2025, 12, 31))
    assert row(frame, D(2025, 12, 2))["exempt_units"] == ["RSUD", "DISHUB"]
    assert row(frame, D(2025, 12, 1))["exempt_units"] == []
    assert row(frame, D(2025, 12, 25))["working"] is True  # holidays replaced by []
    saturday = row(frame, D(2025, 12, 6))
    assert saturday["working"] is True and saturday["end_min"] == 720
    assert row(frame, D(2025, 12, 8))["start_min"] == 480  # special Monday
    tuesday = row(frame, D(2025, 12, 9))  # in the special period, no hours listed for tue:
    assert tuesday["working"] is True and tuesday["special_name"] == "Short week"
    assert (tuesday["start_min"], tuesday["end_min"]) == (450, 960)  # the normal hours
    assert row(frame, D(2025, 12, 13))["working"] is True  # Saturday outside the special


def test_calendar_matches_policy_hours_on() -> None:
    policy = load_policy()
    frame = calendar(policy, D(2025, 10, 1), D(2026, 12, 31))
    for item in frame.iter_rows(named=True):
        hours = policy.hours_on(item["date"])
        assert item["working"] == (hours is not None)
        if hours is not None:
            assert (item["start_min"], item["end_min"]) == (hours.start_min, hours.end_min)
        period = policy.wfh_period_on(item["date"])
        assert item["wfh_period"] == (period.name if period else None)


def test_single_day_and_working_days() -> None:
    policy = load_policy()
    assert calendar(policy, D(2025, 12, 3), D(2025, 12, 3)).height == 1
    assert working_days(policy, D(2025, 12, 22), D(2025, 12, 28)) == [
        D(2025, 12, 22),
        D(2025, 12, 23),
        D(2025, 12, 24),
    ]
    with pytest.raises(UsageError):
        calendar(policy, D(2025, 12, 3), D(2025, 12, 2))
