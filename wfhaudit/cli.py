"""The ``wfhaudit`` command line: parse options, call the library, print.

Keep this module thin.  Every command body is a few lines: build the arguments,
call a function of ``wfhaudit.ingest`` / ``store`` / ``audit`` / ``report`` /
``sample`` / ``policy``, print its result with Rich.  Errors raised as
``WfhauditError`` become one sentence on stderr and the exit code of cli.md;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from wfhaudit import __version__
from wfhaudit.errors import (
    EXIT_DATA,
    EXIT_THRESHOLD,
    EXIT_USAGE,
    WfhauditError,
    as_os_error,
)

F = TypeVar("F", bound=Callable[..., Any])

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="wfhaudit",
    help="Audit the West Java 50:50 work-from-home policy: ingest exports, audit a period, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
store_app = typer.Typer(help="Inspect the store.", no_args_is_help=True)
policy_app = typer.Typer(help="Show or check the policy.", no_args_is_help=True)
app.add_typer(store_app, name="store")
app.add_typer(policy_app, name="policy")

_state: dict[str, Any] = {"debug": False}

DEFAULT_STORE = "./wfhaudit-store"

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Store directory (default: $WFHAUDIT_STORE or ./wfhaudit-store).",
        show_default=False,
    ),
]
PolicyOpt = Annotated[
    Path | None,
    typer.Option("--policy", help="Policy TOML merged over the Jabar default.", show_default=False),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors (cron).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON (scripts).")]
PartitionDaysOpt = Annotated[
    str,
    typer.Option(
        "--partition-days",
        help="auto (default: in memory when the period fits, else in chunks), 0 (all days in "
        "memory) or N (stage the store and audit N days at a time, for very large stores).",
    ),
]
ClusterOpt = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Run the chunks on Dask: local:N (N worker processes here) or "
        "tcp://HOST:PORT (a running scheduler). Needs pip install 'wfhaudit\\[cluster]'.",
        show_default=False,
    ),
]
PeriodArg = Annotated[str, typer.Argument(help="2025-12, 2025-W49 or 2025-12-02..2025-12-19.")]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="YYYY-MM-DD; days from it on are not audited (default: today, WIB).",
        show_default=False,
    ),
]
FailOnOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-on",
        help="RULE=N or any=N: exit 1 when more than N findings (repeatable).",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--format",
        help="html, md, xlsx or json (repeatable; default html and md).",
        show_default=False,
    ),
]
LangOpt = Annotated[str, typer.Option("--lang", help="id (Bahasa Indonesia) or en.")]
UnitOpt = Annotated[
    str | None, typer.Option("--unit", help="One agency's report (unit code).", show_default=False)
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Directory to write into (audit, run: default reports/out/<period>/; report: "
        "default the results directory).",
        show_default=False,
    ),
]


def store_path(store: Path | None) -> Path:
    """The store directory: ``--store``, else ``$WFHAUDIT_STORE``, else ``./wfhaudit-store``."""
    if store is not None:
        return store
    return Path(os.environ.get("WFHAUDIT_STORE") or DEFAULT_STORE)


def fail(message: str, code: int) -> None:
    """Print one sentence on stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """Turn ``WfhauditError`` (and unexpected errors) into one sentence and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except WfhauditError as exc:
            if _state["debug"]:
                raise
            fail(exc.message, exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted; the store is unchanged by the unfinished step.", 130)
        except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
            if _state["debug"]:
                raise
            error = as_os_error(exc)  # disk full, read-only or unwritable folder (issue 17)
            if error is not None:
                where = f" {error.filename}" if error.filename else ""
                fail(
                    f"could not read or write{where}: {error.strerror or error}; free space or "
                    "fix the permissions and run again.",
                    EXIT_DATA,
                )
            fail(
                f"unexpected {type(exc).__name__}: {exc}. Run again with --debug for the "
                "traceback and report it.",
                EXIT_USAGE if isinstance(exc, typer.BadParameter) else 4,
            )
        return None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        console.print(f"wfhaudit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """wfhaudit: ingest K-Mob and agency exports, audit a period, render reports.

    Example: [bold]wfhaudit ingest attendance kmob.csv --profile kmob[/]
    """
    _state["debug"] = debug


def is_interactive() -> bool:
    """True when progress displays should be shown (stderr is a terminal)."""
    return sys.stderr.isatty()


@contextlib.contextmanager
def status_line(show: bool, message: str) -> Iterator[Callable[[str], None] | None]:
    """A Rich status line on stderr when ``show``; yields its ``update`` (or None)."""
    if not show:
        yield None
        return
    with err_console.status(message) as status:
        yield status.update


def step_progress(update: Callable[[str], None] | None, verb: str) -> Callable[[str], None] | None:
    """A ``progress(step)`` callback showing "<verb>: <step>…" on the status line, or None."""
    if update is None:
        return None
    return lambda step: update(f"{verb}: {step}…")


def report_threshold(crossed: list[str], where: str) -> None:
    """Exit 1 naming the crossed ``--fail-on`` thresholds (results are already written)."""
    if crossed:
        err_console.print(
            f"--fail-on threshold crossed: {'; '.join(crossed)} ({where}).",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_THRESHOLD)


# --- audit plumbing shared by `audit` and `run` -----------------------------


def finish_audit(
    command: Any, result: Any, *, quiet: bool, as_json: bool, written: list[Path]
) -> None:
    """Print the summary (table, JSON or nothing) and apply ``--fail-on``."""
    import json

    from wfhaudit.audit.summary import crossed_thresholds, print_summary, summary_json

    if as_json:
        doc = summary_json(result)
        if written:
            doc["reports"] = [str(p) for p in written]
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif not quiet:
        print_summary(console, result)
        for path in written:
            console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    where = "results and reports" if written else "results"
    report_threshold(
        crossed_thresholds(result, command.thresholds), f"{where} in {result.out_dir}/"
    )


# --- ingest (issue 2) --------------------------------------------------------


@app.command()
@handle_errors
def ingest(
    kind: Annotated[
        str, typer.Argument(help="employees, offices, roster, attendance, outputs or leave.")
    ],
    files: Annotated[list[Path], typer.Argument(help="CSV, .xlsx or Parquet files.")],
    store: StoreOpt = None,
    profile: Annotated[
        str, typer.Option(help="Import profile: canonical, kmob, or one of --profiles.")
    ] = "canonical",
    profiles: Annotated[
        Path | None,
        typer.Option(help="TOML file with your own import profiles.", show_default=False),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="csv, xlsx or parquet (default: by extension).", show_default=False
        ),
    ] = None,
    month: Annotated[
        str | None,
        typer.Option(
            help="YYYY-MM of a roster grid whose headers are day numbers.", show_default=False
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="Any rejected row fails the command and stores nothing.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate only; store nothing.")
    ] = False,
    valid_from: Annotated[
        str | None,
        typer.Option(
            "--valid-from",
            help="employees: YYYY-MM-DD the file describes (fills rows without valid_from).",
            show_default=False,
        ),
    ] = None,
    full_snapshot: Annotated[
        bool,
        typer.Option(
            "--full-snapshot",
            help="employees: the file lists every employee; those missing are ended.",
        ),
    ] = False,
    replace_period: Annotated[
        str | None,
        typer.Option(
            "--replace-period",
            help="FROM..TO: replace the table's rows of those dates (same commit).",
            show_default=False,
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            "--delimiter",
            help="CSV separator, one character or 'tab' (default: the profile's).",
            show_default=False,
        ),
    ] = None,
    decimal_comma: Annotated[
        bool, typer.Option("--decimal-comma", help="Numbers are written 6,9 (CSV).")
    ] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Validate files and store them.

    Example: [bold]wfhaudit ingest attendance kmob-2025-12.csv --profile kmob[/]"""
    from wfhaudit.ingest import ingest_files
    from wfhaudit.ingest.core import parse_delimiter, parse_replace_period
    from wfhaudit.ingest.display import print_summary, summary_json
    from wfhaudit.ingest.history import parse_valid_from
    from wfhaudit.ingest.notes import print_notes
    from wfhaudit.store import Store

    snapshot_day = parse_valid_from(valid_from) if valid_from is not None else None
    period = parse_replace_period(replace_period) if replace_period is not None else None
    if delimiter is not None:
        parse_delimiter(delimiter)
    with status_line(is_interactive() and not quiet, f"ingesting {kind}") as update:
        summary = ingest_files(
            Store(store_path(store)),
            kind,
            files,
            profile=profile,
            profiles_file=profiles,
            fmt=fmt,
            month=month,
            strict=strict,
            dry_run=dry_run,
            on_step=update,
            valid_from=snapshot_day,
            full_snapshot=full_snapshot,
            replace_period=period,
            delimiter=delimiter,
            decimal_comma=decimal_comma,
        )
    if as_json:
        typer.echo(summary_json(summary))
    elif not quiet:
        print_summary(summary, console)
        print_notes(summary, console)


# --- store (issue 2) ---------------------------------------------------------


@store_app.command("info")
@handle_errors
def store_info(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Tables, row counts, periods covered, versions. Example: [bold]wfhaudit store info[/]"""
    from wfhaudit.store import info as store_info_view

    path = store_path(store)
    infos = store_info_view.load_info(path)
    if as_json:
        print(store_info_view.as_json(path, infos))
    else:
        console.print(store_info_view.as_rich(path, infos))


# --- policy (issue 3) --------------------------------------------------------


@policy_app.command("show")
@handle_errors
def policy_show(policy: PolicyOpt = None) -> None:
    """Print the policy in force as TOML.

    Example: [bold]wfhaudit policy show --policy mine.toml[/]"""
    from wfhaudit.policy import load_policy, policy_to_toml

    text = policy_to_toml(load_policy(policy))
    if console.is_terminal:
        from rich.syntax import Syntax

        console.print(Syntax(text, "toml", background_color="default", word_wrap=True))
    else:
        sys.stdout.write(text)


@policy_app.command("check")
@handle_errors
def policy_check(
    file: Annotated[Path, typer.Argument(help="Policy TOML to validate.")],
) -> None:
    """Validate a policy file; warn when it drops default holidays, special hours or WFH
    periods. Example: [bold]wfhaudit policy check mine.toml[/]"""
    from wfhaudit.policy import check_policy_file, replaced_defaults

    checked = check_policy_file(file)
    for warning in replaced_defaults(file, checked):
        err_console.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    console.print(
        f"ok: {file} is a valid policy ({len(checked.wfh)} WFH periods, "
        f"{len(checked.holidays)} holidays)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


# --- audit (issue 3) ---------------------------------------------------------


@app.command()
@handle_errors
def audit(
    period: PeriodArg,
    store: StoreOpt = None,
    policy: PolicyOpt = None,
    out: OutOpt = None,
    as_of: AsOfOpt = None,
    fail_on: FailOnOpt = None,
    partition_days: PartitionDaysOpt = "auto",
    cluster: ClusterOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run the rules over a period. Example: [bold]wfhaudit audit 2025-12 --fail-on ABSENT=0[/]"""
    from wfhaudit.audit.command import plan_command, run_command
    from wfhaudit.store import Store

    command = plan_command(period, policy=policy, out=out, as_of=as_of, fail_on=fail_on,
                           partition_days=partition_days, cluster=cluster)
    with status_line(is_interactive() and not quiet and not as_json, "auditing…") as update:
        result = run_command(command, Store(store_path(store)), step_progress(update, "auditing"))
    finish_audit(command, result, quiet=quiet, as_json=as_json, written=[])


# --- report and run (issue 5) ------------------------------------------------


@app.command()
@handle_errors
def report(
    period: PeriodArg,
    results: Annotated[
        Path | None,
        typer.Option(
            help="Audit result directory (default: reports/out/<period>/).", show_default=False
        ),
    ] = None,
    fmt: FormatOpt = None,
    lang: LangOpt = "id",
    unit: UnitOpt = None,
    out: OutOpt = None,
    store: StoreOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Render a report from an audit result.

    Example: [bold]wfhaudit report 2025-12 --format html --lang en[/]"""
    from wfhaudit.report.command import report_command

    written = report_command(
        period, results=results, formats=fmt, lang=lang, unit=unit, out=out, store=store
    )
    if not quiet:
        for path in written:
            console.print(f"wrote {path}", highlight=False, soft_wrap=True)


@app.command()
@handle_errors
def run(
    period: PeriodArg,
    store: StoreOpt = None,
    policy: PolicyOpt = None,
    out: OutOpt = None,
    as_of: AsOfOpt = None,
    fail_on: FailOnOpt = None,
    fmt: FormatOpt = None,
    lang: LangOpt = "id",
    unit: UnitOpt = None,
    partition_days: PartitionDaysOpt = "auto",
    cluster: ClusterOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Audit then report, for cron.

    Example: [bold]wfhaudit run 2025-W49 --quiet --fail-on any=100[/]"""
    from wfhaudit.audit.command import check_unit, plan_command, run_command
    from wfhaudit.report.render import check_options, render_reports
    from wfhaudit.store import Store

    formats = check_options(fmt, lang)  # every option is checked before the audit
    command = plan_command(period, policy=policy, out=out, as_of=as_of, fail_on=fail_on,
                           partition_days=partition_days, cluster=cluster)
    the_store = Store(store_path(store))
    unit = check_unit(the_store, unit)
    with status_line(is_interactive() and not quiet and not as_json, "auditing…") as update:
        result = run_command(command, the_store, step_progress(update, "auditing"))
        if update is not None:
            update("rendering the reports…")
        written = render_reports(
            result.out_dir, formats=formats, lang=lang, unit=unit, out_dir=result.out_dir,
            store=the_store.path,
        )
    finish_audit(command, result, quiet=quiet, as_json=as_json, written=written)


# --- evaluate (issue 13) -------------------------------------------------------


@app.command()
@handle_errors
def evaluate(
    period: Annotated[
        str, typer.Argument(help="2025-11..2026-02 (months), 2025-W45..2025-W52 or any PERIOD.")
    ],
    by: Annotated[str, typer.Option(help="month or week (ISO week).")] = "month",
    unit: UnitOpt = None,
    fmt: FormatOpt = None,
    lang: LangOpt = "id",
    out: Annotated[
        Path | None,
        typer.Option(
            help="Directory (default: reports/out/evaluation-<period>/).", show_default=False
        ),
    ] = None,
    store: StoreOpt = None,
    policy: PolicyOpt = None,
    as_of: AsOfOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate the 50:50 scheme over several months or weeks.

    Example: [bold]wfhaudit evaluate 2025-11..2026-02 --by month --format html[/]"""
    import json

    from wfhaudit.audit.command import parse_as_of
    from wfhaudit.evaluate.command import evaluate_command, summary

    with status_line(is_interactive() and not quiet and not as_json, "evaluating…") as update:
        model, written = evaluate_command(
            period, store=store_path(store), by=by, unit=unit, formats=fmt, lang=lang, out=out,
            policy=policy, as_of=parse_as_of(as_of), progress=update,
        )
    if as_json:
        console.print_json(json.dumps(summary(model), default=str))
        return
    if quiet:
        return
    audited = [b["label"] for b in model["buckets"] if b["audited"]]
    console.print(f"evaluated {', '.join(audited)}", highlight=False, soft_wrap=True)
    flagged = sorted({(f["unit_code"], f["measure"]) for f in model["flagged"]})
    if flagged:
        console.print(
            "flagged (WFH days worse than the same employees' WFO days): "
            + ", ".join(f"{u} ({m})" for u, m in flagged),
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print("no agency flagged", highlight=False)
    for path in written:
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)


# --- sample (issue 4) --------------------------------------------------------


@app.command()
@handle_errors
def sample(
    out: Annotated[Path, typer.Option(help="Directory to write the data set into.")] = Path(
        "sample_out"
    ),
    employees: Annotated[int, typer.Option(help="Number of employees.")] = 300,
    units: Annotated[int, typer.Option(help="Number of agencies.")] = 12,
    month: Annotated[
        str, typer.Option(help="YYYY-MM, or a span of months YYYY-MM..YYYY-MM (for evaluate).")
    ] = "2025-12",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 1,
    fmt: Annotated[
        str, typer.Option("--format", help="export (as analysts receive files), csv or parquet.")
    ] = "export",
    quiet: QuietOpt = False,
) -> None:
    """Write a synthetic Pemprov Jabar with known violations.

    Example: [bold]wfhaudit sample --out demo --seed 7[/]"""
    from wfhaudit.sample import generate_sample

    if ".." in month:
        from wfhaudit.sample.months import sample_months_command

        sample_months_command(out, month, employees, units, seed, fmt, quiet, console)
        return
    with status_line(is_interactive() and not quiet, "generating…") as update:
        info = generate_sample(
            out,
            employees=employees,
            units=units,
            month=month,
            seed=seed,
            fmt=fmt,
            progress=step_progress(update, "generating"),
        )
    if quiet:
        return
    planted = sum(info.truth.values())
    console.print(
        f"Wrote a synthetic Pemprov Jabar for {info.month}: {info.employees} employees in "
        f"{info.units} agencies, {info.working_days} working days, format {info.fmt}, "
        f"into {info.out_dir}/",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        "rows: " + ", ".join(f"{kind} {count}" for kind, count in info.rows.items()),
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"ground_truth.csv: {planted} planted findings ("
        + ", ".join(f"{rule} {count}" for rule, count in info.truth.items())
        + "); README.md says how to ingest and audit them.",
        highlight=False,
        soft_wrap=True,
    )
