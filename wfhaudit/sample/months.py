"""Several months of synthetic data with a planted WFH effect, for ``wfhaudit evaluate``.

``generate_months(out_dir, months="2025-11..2026-02", ...)`` calls the
single-month generator (``generate_sample``) once per month with the same
seed (so the same civil servants every month), merges the months into one
data set of canonical tables, then plants the effect the evaluation must
find:

- in one agency (the **planted** one), clean employees hand in their daily
  report late (after the cutoff) on 60% of their WFH days and never on WFO
  days: WFH days clearly have fewer on-time reports;
- in another (the **alike** one), clean employees hand it in late on 25% of
  their days, WFH or WFO alike;

plus ``feedback`` rows (complaints per agency and day, LAPOR / SAPAWARGA).

``ground_truth.csv`` is the months' planted violations plus one
``LATE_DAILY_OUTPUT`` row per late report planted here;
``evaluation_truth.csv`` says which agencies the evaluation must flag
(``unit_code, role, flagged, measure``).

Employees whose row is not the same in every month (a new hire or a leaver
of one month, an employee planted without an office or a home point) become
one employee per month, under a fresh nip, active only within that month: every
month holds exactly the people, data and planted findings of its single-month
generator, so ``ground_truth.csv`` stays exact.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from wfhaudit.errors import UsageError
from wfhaudit.policy import Policy, load_policy
from wfhaudit.sample.generator import GROUND_TRUTH_COLUMNS, generate_sample
from wfhaudit.schema import TABLES

KINDS = ("employees", "offices", "roster", "attendance", "outputs", "leave")
DATED = {"roster": "date", "outputs": "date", "leave": "start"}
LATE_SHARE_PLANTED = 0.6
LATE_SHARE_ALIKE = 0.25
FEEDBACK_CHANNELS = ("LAPOR", "SAPAWARGA")
FEEDBACK_CATEGORIES = ("pelayanan lambat", "petugas tidak ada", "informasi tidak jelas")


@dataclass
class MonthsInfo:
    out_dir: Path
    months: list[str]
    planted_unit: str
    alike_unit: str
    rows: dict[str, int] = field(default_factory=dict)
    late_planted: int = 0


def month_list(span: str) -> list[str]:
    """``2025-11..2026-02`` -> ``["2025-11", "2025-12", "2026-01", "2026-02"]``."""
    try:
        first, last = (p.strip() for p in span.split(".."))
        y0, m0 = (int(x) for x in first.split("-"))
        y1, m1 = (int(x) for x in last.split("-"))
        dt.date(y0, m0, 1), dt.date(y1, m1, 1)
    except ValueError:
        raise UsageError(
            f"--month {span!r} is not a month or a span of months; write e.g. 2025-12 or "
            "2025-11..2026-02."
        ) from None
    out = []
    y, m = y0, m0
    while (y, m) <= (y1, m1):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    if not out:
        raise UsageError(f"--month {span!r} ends before it starts; write the earlier month first.")
    return out


def _month_bounds(month: str) -> tuple[dt.date, dt.date]:
    y, m = (int(x) for x in month.split("-"))
    start = dt.date(y, m, 1)
    following = dt.date(y + 1, 1, 1) if m == 12 else dt.date(y, m + 1, 1)
    return start, following - dt.timedelta(days=1)


def _read(path: Path, kind: str) -> pl.DataFrame:
    file = path / f"{kind}.parquet"
    return pl.read_parquet(file, glob=False) if file.is_file() else TABLES[kind].empty()


def _merge_employees(
    per_month: dict[str, pl.DataFrame],
) -> tuple[pl.DataFrame, dict[str, dict[str, str]]]:
    """One employees table for all months, and per month the nips renamed in it.

    A civil servant with the same row in every month keeps their nip.  Anyone
    else — a new hire or a leaver of one month, an employee planted without an
    office or a home in one month, one transferred within a month — becomes one
    employee per month present: that month's rows under a fresh nip, active only
    within the month.  Each
    month then audits exactly the people its single-month generator made.
    """
    months = list(per_month)
    columns = list(TABLES["employees"].columns)
    tagged = pl.concat([f.with_columns(pl.lit(m).alias("_month")) for m, f in per_month.items()])
    taken = set(tagged.get_column("nip").to_list())
    same = (
        tagged.group_by("nip")
        .agg(pl.len().alias("n"), pl.struct(columns).n_unique().alias("rows"))
        .filter((pl.col("n") == len(months)) & (pl.col("rows") == 1))
        .get_column("nip")
    )
    stable = tagged.filter(pl.col("nip").is_in(same.implode())).unique("nip", keep="first")
    rows: list[dict[str, Any]] = []
    renamed: dict[str, dict[str, str]] = {m: {} for m in months}
    changing = tagged.filter(~pl.col("nip").is_in(same.implode())).sort("nip", "_month")
    for row in changing.iter_rows(named=True):
        month, nip = row.pop("_month"), str(row["nip"])
        first, last = _month_bounds(month)
        if nip not in renamed[month]:  # a transfer's rows (valid_from) share the new nip
            renamed[month][nip] = _fresh_nip(nip, taken)
        row["nip"] = renamed[month][nip]
        row["active_from"] = max(row["active_from"] or first, first)
        row["active_to"] = min(row["active_to"] or last, last)
        rows.append(row)
    merged = pl.concat(
        [
            stable.select(columns).cast(TABLES["employees"].schema),
            pl.DataFrame(rows, schema=TABLES["employees"].schema, orient="row"),
        ]
    )
    return merged.sort("unit_code", "nip"), renamed


def _fresh_nip(nip: str, taken: set[str]) -> str:
    """A nip not yet used: the same first 15 digits, another serial number (999 down)."""
    for serial in range(999, 0, -1):
        candidate = f"{nip[:15]}{serial:03d}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise UsageError("too many employees share a birth date and appointment month; use --seed")


def _renamed(frame: pl.DataFrame, rename: dict[str, str]) -> pl.DataFrame:
    if not rename:
        return frame
    return frame.with_columns(pl.col("nip").replace(rename))


def _modes(
    policy: Policy, days: list[dt.date], employees: pl.DataFrame, roster: pl.DataFrame
) -> pl.DataFrame:
    """The planned mode of every (nip, working day): roster entry, else the policy's default."""
    default = []
    for d in days:
        period = policy.wfh_period_on(d)
        weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d.weekday()]
        wfh = period is not None and weekday in period.default_wfh_weekdays
        exempt = set(period.exempt_units) if period is not None else set()
        default.append((d, wfh, sorted(exempt)))
    cal = pl.DataFrame(
        {"date": [d for d, _, _ in default], "default_wfh": [w for _, w, _ in default]}
    )
    grid = employees.select("nip", "unit_code").join(cal, how="cross")
    return (
        grid.join(roster.select("nip", "date", "mode"), on=["nip", "date"], how="left")
        .with_columns(
            pl.coalesce(
                "mode", pl.when(pl.col("default_wfh")).then(pl.lit("WFH")).otherwise(pl.lit("WFO"))
            ).alias("mode")
        )
        .select("nip", "unit_code", "date", "mode")
    )


def _plant(
    outputs: pl.DataFrame,
    modes: pl.DataFrame,
    clean: pl.DataFrame,
    planted: str,
    alike: str,
    policy: Policy,
    rng: np.random.Generator,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Move reports past the cutoff; (outputs, ground-truth rows of the late reports)."""
    days = (
        outputs.select("nip", "date")
        .unique()
        .join(clean.select("nip"), on="nip", how="semi")
        .join(modes, on=["nip", "date"], how="inner")
        .filter(pl.col("unit_code").is_in([planted, alike]))
        .sort("nip", "date")
    )
    draw = rng.random(days.height)
    share = np.where(
        days.get_column("unit_code").to_numpy() == planted,
        np.where(days.get_column("mode").to_numpy() == "WFH", LATE_SHARE_PLANTED, 0.0),
        LATE_SHARE_ALIKE,
    )
    late = days.filter(pl.Series(draw < share)).with_columns(
        pl.Series("late_by_s", rng.integers(60, 4 * 3600, size=int((draw < share).sum())))
    )
    cutoff = pl.col("date").cast(pl.Datetime("us")) + pl.duration(
        days=policy.output_deadline_days + 1
    )
    moved = (
        outputs.join(late.select("nip", "date", "late_by_s"), on=["nip", "date"], how="left")
        .with_columns(
            pl.when(pl.col("late_by_s").is_not_null())
            .then(
                cutoff
                + pl.duration(seconds=pl.col("late_by_s"))
                + pl.duration(seconds=pl.int_range(pl.len()).over("nip", "date"))
            )
            .otherwise(pl.col("submitted_at"))
            .alias("submitted_at")
        )
        .drop("late_by_s")
    )
    truth = late.select(
        "nip",
        "unit_code",
        "date",
        pl.lit("LATE_DAILY_OUTPUT").alias("rule"),
        pl.lit("evaluation_effect").alias("scenario"),
    )
    return moved, truth


def _feedback(
    employees: pl.DataFrame, days: list[dt.date], planted: str, rng: np.random.Generator
) -> pl.DataFrame:
    units = sorted(set(employees.get_column("unit_code").to_list()))
    rows = []
    for d in days:
        for u in units:
            for channel in FEEDBACK_CHANNELS:
                n = int(rng.poisson(0.8 if u == planted else 0.3))
                if n:
                    category = FEEDBACK_CATEGORIES[int(rng.integers(len(FEEDBACK_CATEGORIES)))]
                    rows.append((d, u, channel, category, float(n)))
    schema = {c: t for c, t in TABLES["feedback"].columns.items()}
    return pl.DataFrame(rows, schema=schema, orient="row")


def generate_months(
    out_dir: Path | str,
    *,
    months: str,
    employees: int = 300,
    units: int = 12,
    seed: int = 1,
    fmt: str = "csv",
    policy: Policy | None = None,
) -> MonthsInfo:
    """Write several months of canonical tables with the planted effect (module docstring)."""
    if fmt not in ("csv", "parquet"):
        raise UsageError(
            f"--format {fmt!r} with several months: use --format csv or --format parquet "
            "(one canonical file per table)."
        )
    policy = policy or load_policy(None)
    chosen = month_list(months)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables: dict[str, dict[str, pl.DataFrame]] = {k: {} for k in KINDS}
    truths: dict[str, pl.DataFrame] = {}
    sizes: list[tuple[str, str, int]] = []
    work = Path(tempfile.mkdtemp(prefix=".months-", dir=out))
    try:
        for month in chosen:
            info = generate_sample(
                work / month,
                employees=employees,
                units=units,
                month=month,
                seed=seed,
                fmt="parquet",
                policy=policy,
            )
            sizes = list(info.extra["units"])
            for kind in KINDS:
                tables[kind][month] = _read(work / month, kind)
            truths[month] = pl.read_csv(
                work / month / "ground_truth.csv",
                schema={c: (pl.Date if c == "date" else pl.String) for c in GROUND_TRUTH_COLUMNS},
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    merged, renamed = _merge_employees(tables["employees"])
    # the two largest agencies that WFH can apply to (not exempt anywhere)
    exempt = {u for p in policy.wfh for u in p.exempt_units}
    candidates = [c for c, _, n in sorted(sizes, key=lambda s: (-s[2], s[0])) if c not in exempt]
    if len(candidates) < 2:
        raise UsageError("--units must be at least 2 for several months (two planted agencies).")
    planted, alike = candidates[0], candidates[1]
    rng = np.random.default_rng([seed, 13])
    result: dict[str, list[pl.DataFrame]] = {
        k: [] for k in ("roster", "attendance", "outputs", "leave")
    }
    truth_parts, feedback_parts = [], []
    late_total = 0
    for month in chosen:
        rename = renamed[month]
        frames = {
            k: _renamed(tables[k][month], rename)
            for k in ("roster", "attendance", "outputs", "leave")
        }
        truth = _renamed(truths[month], rename)
        day_list = sorted(set(frames["outputs"].get_column("date").to_list()))
        # clean: the same in every month, no planted finding, no leave this month
        touched = set(truth.get_column("nip").drop_nulls().to_list())
        on_leave = set(frames["leave"].get_column("nip").to_list())
        clean = merged.filter(
            ~pl.col("nip").is_in(sorted(touched | on_leave))
            & pl.col("active_from").is_null()
            & pl.col("active_to").is_null()
        )
        modes = _modes(policy, day_list, clean, frames["roster"])
        frames["outputs"], late = _plant(
            frames["outputs"], modes, clean, planted, alike, policy, rng
        )
        late_total += late.height
        for k, f in frames.items():
            result[k].append(f)
        truth_parts += [truth.select(GROUND_TRUTH_COLUMNS), late.select(GROUND_TRUTH_COLUMNS)]
        feedback_parts.append(_feedback(merged, day_list, planted, rng))
    offices = pl.concat(list(tables["offices"].values())).unique("office_id", keep="last")
    final = {
        "employees": merged,
        "offices": offices.sort("office_id"),
        **{k: pl.concat(v) for k, v in result.items()},
        "feedback": pl.concat(feedback_parts),
    }
    info_rows = {}
    for kind, frame in final.items():
        path = out / f"{kind}.{fmt}"
        if fmt == "parquet":
            frame.write_parquet(path)
        else:
            frame.write_csv(path, datetime_format="%Y-%m-%d %H:%M:%S", date_format="%Y-%m-%d")
        info_rows[kind] = frame.height
    truth_df = pl.concat(truth_parts).sort(
        pl.col("nip").fill_null("") == "", "unit_code", "nip", "date", "rule"
    )
    truth_df.write_csv(out / "ground_truth.csv", date_format="%Y-%m-%d")
    pl.DataFrame(
        {
            "unit_code": [planted, alike],
            "role": ["planted", "alike"],
            "flagged": [True, False],
            "measure": ["on_time_output", "on_time_output"],
        }
    ).write_csv(out / "evaluation_truth.csv")
    (out / "README.md").write_text(_readme(chosen, planted, alike, fmt), "utf-8")
    return MonthsInfo(out, chosen, planted, alike, info_rows, late_total)


def _readme(months: list[str], planted: str, alike: str, fmt: str) -> str:
    span = f"{months[0]}..{months[-1]}"
    kinds = " ".join([*KINDS, "feedback"])
    return f"""# Synthetic data for `wfhaudit evaluate` ({span})

Canonical tables (`<kind>.{fmt}`), one per kind, covering {len(months)} months.

- In agency **{planted}**, clean employees hand in their daily report after the
  cutoff on {LATE_SHARE_PLANTED:.0%} of their WFH days and on none of their WFO days:
  `wfhaudit evaluate {span}` must flag it (on-time output on WFH days).
- In agency **{alike}**, clean employees hand it in late on {LATE_SHARE_ALIKE:.0%} of
  their days, WFH or WFO alike: it must not be flagged.
- `evaluation_truth.csv` says so; `ground_truth.csv` lists every planted violation.

```sh
for kind in {kinds}; do wfhaudit ingest $kind $kind.{fmt}; done
wfhaudit evaluate {span} --by month --format html --out evaluation/
```
"""


def sample_months_command(
    out: Path,
    months: str,
    employees: int,
    units: int,
    seed: int,
    fmt: str,
    quiet: bool,
    console: Any,
) -> None:
    """``wfhaudit sample --month A..B``: canonical CSV unless ``--format parquet``."""
    info = generate_months(
        out,
        months=months,
        employees=employees,
        units=units,
        seed=seed,
        fmt="csv" if fmt == "export" else fmt,
    )
    if quiet:
        return
    console.print(
        f"Wrote {len(info.months)} months ({info.months[0]}..{info.months[-1]}) "
        f"into {info.out_dir}/: "
        + ", ".join(f"{k} {n}" for k, n in info.rows.items())
        + f"; planted agency {info.planted_unit} ({info.late_planted} late reports), "
        f"alike agency {info.alike_unit}; evaluation_truth.csv says which to flag.",
        highlight=False,
        soft_wrap=True,
    )
