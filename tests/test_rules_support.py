"""Helpers for the rule tests (no tests here): a store whose agencies' data spans
cover the audited days.

v2 (``rules.md``): outside an agency's attendance (output) span the days are missing
data, and an audit whose days hold no attendance at all exits 3.  The rule tests of
v1 audit one employee on a few days; ``make_store`` here adds, for every unit of the
given employees, an **anchor** employee who is never active (so never audited) but
has a check-in and a report every day from 1 Nov 2025 to 31 Mar 2026: the spans then
cover every audited day, and the rows under test decide alone.  Tests of the spans
themselves use ``test_audit_support.make_store``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from test_audit_support import employee
from test_audit_support import make_store as bare_store

from wfhaudit.store import Store

ANCHOR_FROM, ANCHOR_TO = dt.date(2025, 11, 1), dt.date(2026, 3, 31)


def anchor_nip(unit: str) -> str:
    """An 18-digit nip of the anchor of ``unit`` (distinct per unit)."""
    return "19000101" + f"{abs(hash(unit)) % 10**10:010d}"


def anchors(units: set[str]) -> tuple[list[dict], list[dict], list[dict]]:
    """The anchor employees, their events and their reports for ``units``."""
    people, events, reports = [], [], []
    days = (ANCHOR_TO - ANCHOR_FROM).days + 1
    for unit in sorted(units):
        nip = anchor_nip(unit)
        people.append(
            employee(nip, unit=unit, home=None, active_from=dt.date(1999, 1, 1),
                     active_to=dt.date(1999, 1, 1))
        )
        for i in range(days):
            day = ANCHOR_FROM + dt.timedelta(days=i)
            events.append({"nip": nip, "ts": dt.datetime.combine(day, dt.time(12)),
                           "kind": "IN", "lat": None, "lon": None})
            reports.append({"nip": nip, "date": day, "text": "anchor",
                            "submitted_at": dt.datetime.combine(day, dt.time(12))})
    return people, events, reports


def make_store(path: Path, **tables: Any) -> Store:
    """``test_audit_support.make_store`` with an anchor per unit of the employees."""
    people = tables.get("employees")
    if people is None:
        people = [employee()]
    units = {p["unit_code"] for p in people}
    extra_people, extra_events, extra_reports = anchors(units)
    tables["employees"] = [*people, *extra_people]
    tables["attendance"] = [*(tables.get("attendance") or []), *extra_events]
    tables["outputs"] = [*(tables.get("outputs") or []), *extra_reports]
    return bare_store(path, **tables)
