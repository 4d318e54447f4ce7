"""``wfhaudit sample``: the command, determinism, and the realism the ground truth relies on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from wfhaudit.cli import app
from wfhaudit.sample import generate_sample
from wfhaudit.sample.generator import KMOB_HEADERS, make_units
from wfhaudit.sample.geo import haversine_m
from wfhaudit.schema import TABLES

runner = CliRunner()


@pytest.fixture(scope="module")
def export_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "data"
    generate_sample(out, employees=120, units=5, month="2025-12", seed=4, fmt="export")
    return out


def test_cli_writes_the_set_and_says_what(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    args = ["sample", "--employees", "60", "--units", "4", "--seed", "3", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "60 employees in 4 agencies" in result.output
    assert "planted findings" in result.output
    for name in (
        "employees.csv",
        "offices.csv",
        "attendance-kmob-2025-12.csv",
        "outputs.csv",
        "leave.csv",
        "ground_truth.csv",
        "README.md",
    ):
        assert (out / name).is_file(), name
    assert len(list((out / "roster").glob("*.xlsx"))) == 4


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_cli_canonical_formats(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / fmt
    result = runner.invoke(
        app,
        [
            "sample",
            "--employees",
            "50",
            "--units",
            "3",
            "--format",
            fmt,
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output == ""
    for kind, table in TABLES.items():
        if kind in ("clarifications", "feedback"):  # decisions and feedback: not planted here
            continue
        path = out / f"{kind}.{fmt}"
        frame = pl.read_parquet(path) if fmt == "parquet" else pl.read_csv(path, n_rows=1)
        assert frame.columns == list(table.columns), kind
    if fmt == "parquet":
        assert pl.read_parquet(out / "attendance.parquet").schema == TABLES["attendance"].schema


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--month", "2025-13"], "--month '2025-13' is not a month"),
        (["--month", "Dec 2025"], "is not a month"),
        (["--format", "xml"], "--format 'xml' is not one of export, csv, parquet"),
        (["--employees", "10"], "--employees 10 is too few"),
        (["--units", "0"], "--units must be at least 1"),
    ],
)
def test_cli_bad_options_exit_2(tmp_path: Path, args: list[str], words: str) -> None:
    result = runner.invoke(app, ["sample", "--out", str(tmp_path / "x"), *args])
    assert result.exit_code == 2
    assert words in result.output
    assert "Traceback" not in result.output


def test_same_arguments_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    def make(name: str, seed: int) -> dict[str, bytes]:
        out = tmp_path / name / "data"  # README.md names the directory
        generate_sample(out, employees=70, units=4, month="2025-12", seed=seed, fmt="export")
        return {
            str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
        }

    first, again, other = make("a", 9), make("b", 9), make("c", 10)
    assert first.keys() == again.keys()
    for name in first:
        assert first[name] == again[name], name
    assert first["attendance-kmob-2025-12.csv"] != other["attendance-kmob-2025-12.csv"]


def test_nips_are_valid_and_unique(export_set: Path) -> None:
    employees = pl.read_csv(export_set / "employees.csv", schema_overrides={"nip": pl.String})
    nips = employees["nip"].to_list()
    assert len(set(nips)) == len(nips)
    for nip in nips:
        assert len(nip) == 18 and nip.isdigit()
        birth = dt.date(int(nip[:4]), int(nip[4:6]), int(nip[6:8]))
        assert 1960 <= birth.year <= 2005
        appointed_year, appointed_month = int(nip[8:12]), int(nip[12:14])
        assert birth.year + 18 <= appointed_year <= 2025 and 1 <= appointed_month <= 12
        assert nip[14] in "12" and nip[15:] != "000"


def test_kmob_export_layout(export_set: Path) -> None:
    path = export_set / "attendance-kmob-2025-12.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header == ";".join(KMOB_HEADERS)
    rows = pl.read_csv(path, separator=";", infer_schema=False)
    assert set(rows["Jenis"].unique()) == {"Masuk", "Pulang"}
    assert rows["Tanggal"].str.contains(r"^\d{2}/12/2025$").all()
    assert rows["Jam"].str.contains(r"^\d{2}:\d{2}:\d{2}$").all()
    assert rows["Latitude"].drop_nulls().str.contains(",").all()
    days = rows["Tanggal"].str.to_date("%d/%m/%Y").unique()
    assert (
        dt.date(2025, 12, 25) not in days.to_list() and dt.date(2025, 12, 26) not in days.to_list()
    )
    assert (days.dt.weekday() <= 5).all()  # no weekend check-ins


def test_roster_grids_are_text_headers_and_modes(export_set: Path) -> None:
    grids = sorted((export_set / "roster").glob("*.xlsx"))
    assert len(grids) == 5
    grid = pl.read_excel(grids[0])
    assert grid.columns[:2] == ["NIP", "Nama"]
    assert grid.columns[2] == "2025-12-01" and "2025-12-25" not in grid.columns
    cells = pl.concat([grid[c] for c in grid.columns[2:]]).drop_nulls().unique().to_list()
    assert set(cells) <= {"WFH", "WFO"}


def test_clean_days_are_clean(export_set: Path) -> None:
    """Arrivals before start, devices own, reports unique: what keeps the ground truth exact."""
    truth = pl.read_csv(export_set / "ground_truth.csv", schema_overrides={"nip": pl.String})
    planted = set(truth["nip"].drop_nulls())
    rows = pl.read_csv(
        export_set / "attendance-kmob-2025-12.csv", separator=";", infer_schema=False
    )
    clean = rows.filter(~pl.col("NIP").is_in(list(planted)))
    arrivals = clean.filter(pl.col("Jenis") == "Masuk")["Jam"]
    # 06:45-07:29 (the clean edge case arrives within the minute 07:30, which is not late)
    assert (arrivals < "07:31:00").all() and (arrivals >= "06:44:00").all()
    assert (arrivals < "07:30:00").mean() > 0.99
    devices = clean.group_by("ID Perangkat").agg(pl.col("NIP").n_unique().alias("n"))
    assert (devices["n"] == 1).all()


def test_offices_are_apart_and_homes_in_greater_bandung(export_set: Path) -> None:
    units = make_units(60)  # the 30 agencies and 30 numbered UPTDs
    offices = {u.office.office_id: u.office for u in units}
    points = list(offices.values())
    for i, a in enumerate(points):
        for b in points[i + 1 :]:
            assert haversine_m(a.lat, a.lon, b.lat, b.lon) > 600, (a.office_id, b.office_id)
    employees = (
        pl.read_csv(export_set / "employees.csv")
        .join(pl.read_csv(export_set / "offices.csv"), on="office_id", how="inner")
        .drop_nulls("home_lat")
    )
    dist = haversine_m(
        employees["home_lat"].to_numpy(),
        employees["home_lon"].to_numpy(),
        employees["lat"].to_numpy(),
        employees["lon"].to_numpy(),
    )
    assert np.all(dist >= 1900) and np.all(dist <= 20100)
