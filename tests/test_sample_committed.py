"""The committed ``sample_data/`` is exactly what its documented command generates."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from wfhaudit.sample import generate_sample

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"


def documented_arguments() -> dict[str, str]:
    """The ``wfhaudit sample ...`` command written in sample_data/README.md."""
    readme = (SAMPLE_DATA / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^wfhaudit sample (.+)$", readme, flags=re.MULTILINE)
    assert match, "sample_data/README.md must give the command that made the data"
    return dict(re.findall(r"--(\w+) (\S+)", match.group(1)))


def files_of(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_committed_sample_equals_a_fresh_generation(tmp_path: Path) -> None:
    args = documented_arguments()
    assert (
        args["month"] == "2025-12" and args["format"] == "export" and args["out"] == "sample_data"
    )
    fresh = tmp_path / "sample_data"
    generate_sample(
        fresh,
        employees=int(args["employees"]),
        units=int(args["units"]),
        month=args["month"],
        seed=int(args["seed"]),
        fmt=args["format"],
    )
    assert files_of(fresh) == files_of(SAMPLE_DATA)
    for name in files_of(SAMPLE_DATA):
        committed, regenerated = SAMPLE_DATA / name, fresh / name
        if committed.read_bytes() == regenerated.read_bytes():
            continue
        # An .xlsx may differ in zip metadata only; its cells must not.
        assert name.endswith(".xlsx"), f"sample_data/{name} differs from a fresh generation"
        assert pl.read_excel(committed).equals(pl.read_excel(regenerated)), name


def test_committed_sample_is_small_and_complete() -> None:
    total = sum(p.stat().st_size for p in SAMPLE_DATA.rglob("*") if p.is_file())
    assert total < 5 * 1024 * 1024
    names = files_of(SAMPLE_DATA)
    for expected in (
        "employees.csv",
        "offices.csv",
        "outputs.csv",
        "leave.csv",
        "ground_truth.csv",
    ):
        assert expected in names
    assert "attendance-kmob-2025-12.csv" in names
    assert len([n for n in names if n.startswith("roster/") and n.endswith(".xlsx")]) == 12
