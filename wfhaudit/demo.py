"""``make demo``: ingest the committed sample data, audit December 2025, write the reports.

    python -m wfhaudit.demo --data sample_data --store .demo/store

Steps: a fresh store (the ``--store`` directory is deleted first), every file of
``--data`` ingested with the right kind and profile, ``wfhaudit run 2025-12
--as-of 2026-01-01`` (audit + HTML and Markdown reports) into
``.demo/out/2025-12/``, then the findings are compared with the data set's
``ground_truth.csv``.  Everything is written under ``.demo/`` (git ignores it):
the committed ``reports/examples/`` are rewritten only with ``--examples DIR``
(``make examples``).  Commands run in-process through the Typer app, so the
demo costs one Python start-up.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from wfhaudit.report.examples import write_examples
from wfhaudit.schema import KINDS


def ingest_plan(data: Path) -> list[tuple[str, list[Path], list[str]]]:
    """(kind, files, extra options) for every input file found in ``data``.

    Understands the three layouts ``wfhaudit sample`` writes: the export layout
    (K-Mob attendance CSV, one roster grid per agency under ``roster/``), and
    canonical ``<kind>.csv`` / ``<kind>.parquet``.
    """
    steps: list[tuple[str, list[Path], list[str]]] = []
    for kind in KINDS:
        files = [p for ext in ("csv", "parquet") if (p := data / f"{kind}.{ext}").is_file()]
        options: list[str] = []
        if kind == "attendance" and not files:
            files = sorted(data.glob("attendance-kmob-*.csv"))
            options = ["--profile", "kmob"]
        if kind == "roster" and not files:
            files = sorted((data / "roster").glob("*.xlsx"))
        if files:
            steps.append((kind, files, options))
        if kind == "employees":
            steps += [("employees", [f], ["--valid-from", day]) for f, day in snapshots(data)]
    return steps


def snapshots(data: Path) -> list[tuple[Path, str]]:
    """Later employees snapshots of the export layout (``employees-<YYYY-MM-DD>.csv``, a SIMPEG
    export without a valid_from column) and the day each is valid from, oldest first."""
    found = []
    for path in sorted(data.glob("employees-*.csv")):
        day = path.stem.removeprefix("employees-")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            found.append((path, day))
    return found


def _call(args: list[str]) -> int:
    """Run one ``wfhaudit`` command in-process; its exit code."""
    from typer.main import get_command

    from wfhaudit.cli import app

    code = get_command(app).main(args, standalone_mode=False)
    return int(code or 0)


def truth_check(data: Path, results: Path) -> tuple[int, int, int] | None:
    """(planted, found of them, reported but not planted), or None without ground truth."""
    truth_path = data / "ground_truth.csv"
    if not truth_path.is_file():
        return None
    truth = pl.read_csv(truth_path, schema_overrides={"nip": pl.String, "date": pl.String})
    truth = truth.with_columns(pl.col("nip").fill_null(""))
    want = {(r["nip"] or r["unit_code"], r["date"], r["rule"]) for r in truth.iter_rows(named=True)}
    violations = pl.read_parquet(results / "violations.parquet", glob=False)
    findings = pl.read_parquet(results / "unit_findings.parquet", glob=False)
    got = {
        (n, d.isoformat(), r) for n, d, r in violations.select("nip", "date", "rule").iter_rows()
    }
    got |= {
        (u, d.isoformat(), r)
        for u, d, r in findings.select("unit_code", "date", "rule").iter_rows()
    }
    return len(want), len(want & got), len(got - want)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wfhaudit.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=Path("sample_data"))
    parser.add_argument("--store", type=Path, default=Path(".demo/store"))
    parser.add_argument("--out", type=Path, default=None, help="default: .demo/out/<period>/")
    parser.add_argument("--period", default="2025-12")
    parser.add_argument("--as-of", default="2026-01-01")
    parser.add_argument(
        "--examples",
        type=Path,
        default=None,
        help="also rewrite the example reports and first-page pictures there "
        "(make examples: reports/examples/)",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    data: Path = args.data
    if not data.is_dir():
        print(f"error: no data directory {data}; run from the repository root.", file=sys.stderr)
        return 3
    out: Path = args.out or Path(".demo") / "out" / args.period
    if args.store.exists():
        shutil.rmtree(args.store)
    args.store.parent.mkdir(parents=True, exist_ok=True)

    print(f"wfhaudit demo: {data}/ -> store {args.store}/ -> {out}/")
    for kind, files, options in ingest_plan(data):
        code = _call(
            ["ingest", kind, *map(str, files), *options, "--store", str(args.store), "--quiet"]
        )
        if code:
            print(f"error: ingest {kind} failed (exit {code}).", file=sys.stderr)
            return code
        shown = (
            files[0].name if len(files) == 1 else f"{len(files)} files in {files[0].parent.name}/"
        )
        print(f"  ingested {kind:<10} {shown} {' '.join(options)}".rstrip())

    common = ["--store", str(args.store), "--as-of", args.as_of, "--out", str(out)]
    code = _call(["run", args.period, *common, "--format", "html", "--format", "md", "--quiet"])
    if code:
        print(f"error: wfhaudit run failed (exit {code}).", file=sys.stderr)
        return code

    violations = pl.read_parquet(out / "violations.parquet", glob=False)
    findings = pl.read_parquet(out / "unit_findings.parquet", glob=False)
    days = pl.read_parquet(out / "employee_days.parquet", glob=False)
    print(
        f"\naudited {args.period} (as of {args.as_of}): {days.height} employee-days of "
        f"{days['nip'].n_unique()} employees; {violations.height} violations by "
        f"{violations['nip'].n_unique()} employees; {findings.height} agency findings"
    )
    counts = pl.concat([violations.select("rule"), findings.select("rule")]).group_by("rule").len()
    for rule, n in sorted(counts.iter_rows(), key=lambda r: (-r[1], r[0])):
        print(f"  {rule:<20} {n:>5}")
    check = truth_check(data, out)
    if check is not None:
        planted, found, extra = check
        verdict = "OK" if found == planted and extra == 0 else "MISMATCH"
        print(
            f"\nground truth: {found} of {planted} planted findings found, "
            f"{extra} reported that were not planted: {verdict}"
        )
    print("\nfiles:")
    for path in sorted(out.iterdir()):
        if path.is_file():
            print(f"  {path}")
    if args.examples is not None:
        examples = write_examples(out, args.examples, store=args.store)
        print(f"example reports (committed copies): {', '.join(str(p) for p in examples)}")
    print(
        f"\ndone in {time.perf_counter() - started:.1f} s. Open {out}/wfhaudit-{args.period}.html"
    )
    return 0 if check is None or (check[1] == check[0] and check[2] == 0) else 1


if __name__ == "__main__":
    sys.exit(main())
