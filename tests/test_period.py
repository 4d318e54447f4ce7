"""PERIOD parsing: months, ISO weeks, ranges; previous periods; bad periods exit 2."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from wfhaudit.audit.period import Period, parse_period, previous_period
from wfhaudit.errors import UsageError

D = dt.date


@pytest.mark.parametrize(
    ("text", "label", "start", "end", "days"),
    [
        ("2025-12", "2025-12", D(2025, 12, 1), D(2025, 12, 31), 31),
        ("2026-02", "2026-02", D(2026, 2, 1), D(2026, 2, 28), 28),
        ("2024-02", "2024-02", D(2024, 2, 1), D(2024, 2, 29), 29),
        ("2025-W49", "2025-W49", D(2025, 12, 1), D(2025, 12, 7), 7),
        ("2025-w49", "2025-W49", D(2025, 12, 1), D(2025, 12, 7), 7),
        ("2026-W01", "2026-W01", D(2025, 12, 29), D(2026, 1, 4), 7),
        ("2020-W53", "2020-W53", D(2020, 12, 28), D(2021, 1, 3), 7),
        ("2025-W01", "2025-W01", D(2024, 12, 30), D(2025, 1, 5), 7),
        ("2025-12-02..2025-12-19", "2025-12-02..2025-12-19", D(2025, 12, 2), D(2025, 12, 19), 18),
        (" 2025-12-02 .. 2025-12-02 ", "2025-12-02..2025-12-02", D(2025, 12, 2), D(2025, 12, 2), 1),
        ("2025-12-30..2026-01-02", "2025-12-30..2026-01-02", D(2025, 12, 30), D(2026, 1, 2), 4),
    ],
)
def test_parse_period(text: str, label: str, start: dt.date, end: dt.date, days: int) -> None:
    period = parse_period(text)
    assert period == Period(label, start, end)
    assert period.days == days
    assert len(period.dates()) == days and period.dates()[0] == start
    assert str(period) == label
    assert start in period and end + dt.timedelta(days=1) not in period


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2025-13", "month 13 does not exist"),
        ("2025-00", "month 00 does not exist"),
        ("2025-W53", "W01..W52"),
        ("2025-W00", "W01..W52"),
        ("2020-W54", "W01..W53"),
        ("2025-12-19..2025-12-02", "ends (2025-12-02) before it starts (2025-12-19)"),
        ("2025-02-30..2025-03-01", "does not exist"),
        ("2025-12-02", "not a month, an ISO week or a date range"),
        ("Desember 2025", "not a month"),
        ("2025-12-02..", "not a month"),
        ("", "not a month"),
    ],
)
def test_bad_period_is_usage_error_with_examples(text: str, why: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_period(text)
    message = info.value.message
    assert info.value.exit_code == 2
    assert why in message
    for example in ("2025-12", "2025-W49", "2025-12-02..2025-12-19"):
        assert example in message


@pytest.mark.parametrize(
    ("text", "previous"),
    [
        ("2025-12", Period("2025-11", D(2025, 11, 1), D(2025, 11, 30))),
        ("2026-01", Period("2025-12", D(2025, 12, 1), D(2025, 12, 31))),
        ("2026-03", Period("2026-02", D(2026, 2, 1), D(2026, 2, 28))),
        ("2025-W49", Period("2025-W48", D(2025, 11, 24), D(2025, 11, 30))),
        ("2026-W01", Period("2025-W52", D(2025, 12, 22), D(2025, 12, 28))),
        ("2021-W01", Period("2020-W53", D(2020, 12, 28), D(2021, 1, 3))),
        (
            "2025-12-02..2025-12-19",
            Period("2025-11-14..2025-12-01", D(2025, 11, 14), D(2025, 12, 1)),
        ),
        (
            "2026-03-01..2026-03-01",
            Period("2026-02-28..2026-02-28", D(2026, 2, 28), D(2026, 2, 28)),
        ),
    ],
)
def test_previous_period(text: str, previous: Period) -> None:
    current = parse_period(text)
    assert previous_period(current) == previous
    assert previous.end + dt.timedelta(days=1) == current.start
    if current.kind == "range":
        assert previous.days == current.days


def test_bad_period_through_the_cli_exits_2() -> None:
    """The CLI wraps UsageError into one sentence and exit 2 (uses a throwaway command)."""
    import typer

    from wfhaudit.cli import handle_errors

    probe = typer.Typer()

    @probe.command()
    @handle_errors
    def check(period: str) -> None:
        print(parse_period(period).label)

    runner = CliRunner()
    ok = runner.invoke(probe, ["2025-W49"])
    assert ok.exit_code == 0 and "2025-W49" in ok.output
    bad = runner.invoke(probe, ["2025-W53"])
    assert bad.exit_code == 2
    text = " ".join(bad.output.split())
    assert "bad period '2025-W53'" in text and "2025-12-02..2025-12-19" in text
    assert "Traceback" not in text
