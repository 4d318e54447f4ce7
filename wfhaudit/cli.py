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
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

# typer >= 0.29 carries its own copy of Click: its classes and exceptions are the ones raised.
from typer._click.core import Command, Context
from typer._click.exceptions import NoArgsIsHelpError
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperGroup, TyperOption

from wfhaudit import __version__
from wfhaudit.errors import (
    EXIT_DATA,
    EXIT_THRESHOLD,
    EXIT_USAGE,
    UsageError,
    WfhauditError,
    as_os_error,
)

F = TypeVar("F", bound=Callable[..., Any])

console = Console()
err_console = Console(stderr=True)

#: Rich markup tags the command docstrings use; help is plain text, so they are dropped there.
_HELP_MARKUP = re.compile(r"\[(?:/|bold|/bold|italic|/italic)\]")


def _plain_help(command: Command) -> None:
    """Drop the few Rich style tags from the help of ``command`` and its subcommands.

    Help is rendered as plain text (no Rich markup mode), so ``[cluster]`` in an
    option's help stays visible and flags show no ``<bool>``; only the tags
    written on purpose in docstrings are removed here.
    """
    if command.help:
        command.help = _HELP_MARKUP.sub("", command.help)
    for param in command.params:
        if isinstance(param, TyperOption) and param.help:
            param.help = _HELP_MARKUP.sub("", param.help)
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _plain_help(sub)


def _usage_sentence(exc: ClickUsageError) -> str:
    """A click usage error as one sentence naming where to read the help."""
    text = " ".join(exc.format_message().split()).rstrip(".")
    text = text[:1].lower() + text[1:]
    where = exc.ctx.command_path if exc.ctx is not None else "wfhaudit"
    return f"{text}; see '{where} --help'."


class WfhauditGroup(TyperGroup):
    """The top-level group: ``--debug`` anywhere, usage errors as one sentence (exit 2)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_help(self)

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        # "--debug" after the subcommand (or its options) counts as the global flag;
        # after "--" it is an argument like any other.
        end = args.index("--") if "--" in args else len(args)
        debug = [a for a in args[:end] if a == "--debug"]
        if debug:
            args = ["--debug", *[a for a in args[:end] if a != "--debug"], *args[end:]]
        return super().parse_args(ctx, args)

    def make_context(self, *args: Any, **kwargs: Any) -> Context:
        try:
            return super().make_context(*args, **kwargs)
        except NoArgsIsHelpError:
            raise  # "wfhaudit store" alone: the help, as Click prints it
        except ClickUsageError as exc:
            _usage_exit(exc)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise
        except ClickUsageError as exc:
            _usage_exit(exc)


def _usage_exit(exc: ClickUsageError) -> NoReturn:
    err_console.print(
        f"error: {_usage_sentence(exc)}", markup=False, highlight=False, soft_wrap=True
    )
    raise typer.Exit(EXIT_USAGE)


app = typer.Typer(
    name="wfhaudit",
    cls=WfhauditGroup,
    help="Audit the West Java 50:50 work-from-home policy: ingest exports, audit a period, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
store_app = typer.Typer(help="Inspect the store.", no_args_is_help=True)
policy_app = typer.Typer(help="Show or check the policy.", no_args_is_help=True)
app.add_typer(store_app, name="store")
app.add_typer(policy_app, name="policy")
roster_app = typer.Typer(
    help="Check agencies' WFH rosters before the month; export the consolidated roster.",
    no_args_is_help=True,
)
app.add_typer(roster_app, name="roster")

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
        "memory) or N (audit N days at a time, memory bounded by them: very large stores).",
    ),
]
ClusterOpt = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Run the chunks on Dask: local:N (N worker processes here) or "
        "tcp://HOST:PORT (a running scheduler). Needs pip install 'wfhaudit[cluster]'.",
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
    where = "--store"
    if store is None:
        env = os.environ.get("WFHAUDIT_STORE")
        store, where = (Path(env), "$WFHAUDIT_STORE") if env else (Path(DEFAULT_STORE), "")
    if store.exists() and not store.is_dir():
        given = f"{where} {store}" if where else f"the default store {store}"
        raise UsageError(
            f"{given} is a file, not a store directory; give a directory with --store."
        )
    return store


def output_dir(path: Path, option: str) -> Path:
    """``path`` for a directory option such as ``--out``: a usage error when it is a file."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} is a file, not a directory; give a directory.")
    return path


def input_files(files: list[Path]) -> list[Path]:
    """The input file arguments: a usage error naming the first that is a directory."""
    for path in files:
        if path.is_dir():
            raise UsageError(
                f"{path} is a directory, not a file; give the files in it (e.g. {path}/*.csv)."
            )
    return files


def fail(message: str, code: int) -> None:
    """Print one sentence on stderr and exit with ``code``."""
    # The message holds user text (file names, cell values): never parse it as markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
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
            markup=False,
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
            console.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)
    where = "results and reports" if written else "results"
    report_threshold(
        crossed_thresholds(result, command.thresholds), f"{where} in {result.out_dir}/"
    )


# --- ingest (issue 2) --------------------------------------------------------


@app.command()
@handle_errors
def ingest(
    kind: Annotated[
        str,
        typer.Argument(
            help="employees, offices, roster, attendance, outputs, leave or clarifications."
        ),
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
            input_files(files),
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


# --- clarify (issue 12) ------------------------------------------------------


@app.command()
@handle_errors
def clarify(
    date: Annotated[
        str, typer.Option("--date", help="First day waived (YYYY-MM-DD).", show_default=False)
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why, in the official's words.", show_default=False)
    ],
    by: Annotated[
        str,
        typer.Option("--by", help="Who decided (name or letter number).", show_default=False),
    ],
    unit: Annotated[
        str | None,
        typer.Option(
            "--unit", help="Agency (unit code); default: every agency.", show_default=False
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option("--to", help="Last day waived (default: --date).", show_default=False),
    ] = None,
    nip: Annotated[
        str | None,
        typer.Option("--nip", help="One employee; default: every employee.", show_default=False),
    ] = None,
    rule: Annotated[
        str | None,
        typer.Option(
            "--rule", help="One rule code, e.g. LATE; default: every rule.", show_default=False
        ),
    ] = None,
    store: StoreOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Record one decision that waives findings (no file needed).

    Example: [bold]wfhaudit clarify --unit U1 --date 2025-12-10 --rule LATE --reason "K-Mob
    gangguan 07:00-09:00" --by "Kepala BKD"[/]"""
    from wfhaudit.audit.clarifications import decision_frame, describe, record_decision
    from wfhaudit.report.command import DEFAULT_RESULTS_ROOT
    from wfhaudit.store import Store

    decision = decision_frame(
        start=date, end=to, reason=reason, decided_by=by, unit=unit, nip=nip, rule=rule
    )
    done = record_decision(Store(store_path(store)), decision, DEFAULT_RESULTS_ROOT)
    if quiet:
        return
    verb = "replaced" if done.replaced else "recorded"
    console.print(
        f"{verb} clarification ({describe(done.row)}): {done.row['reason']!r} by "
        f"{done.row['decided_by']!r}; clarifications version {done.store_version}.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for note in done.unknown or []:
        err_console.print(
            f"warning: {note}; check the code (it waives nothing it does not match).",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if done.results_dir is None:
        console.print(
            f"No audit result in {DEFAULT_RESULTS_ROOT}/ yet: the next audit applies it.",
            highlight=False,
            soft_wrap=True,
        )
        return
    console.print(
        f"In the last audit ({done.period}, {done.results_dir}/) it would waive "
        f"{done.violations:,} violation(s) and {done.unit_findings:,} agency finding(s); "
        "audit again to apply it.",
        highlight=False,
        soft_wrap=True,
    )


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
        if (hint := store_info_view.layout_hint(infos)) is not None:
            console.print(hint, highlight=False, soft_wrap=True)


@store_app.command("migrate")
@handle_errors
def store_migrate(store: StoreOpt = None) -> None:
    """Rewrite data files written by an older wfhaudit into the current layout (sorted by
    day and NIP), without changing a row. Example: [bold]wfhaudit store migrate[/]"""
    from wfhaudit.store import Store
    from wfhaudit.store import info as store_info_view

    path = store_path(store)
    store_info_view.load_info(path)  # exit 3 when there is no store
    done = Store(path).migrate_layout()
    rewritten = {kind: n for kind, (n, _) in done.items() if n}
    if not rewritten:
        console.print(f"The store {path} is already in the current layout; nothing rewritten.",
                      highlight=False, soft_wrap=True)
        return
    listed = ", ".join(f"{kind} {n:,} file(s) (version {done[kind][1]})"
                       for kind, n in rewritten.items())
    console.print(f"Rewritten in the current layout, no row changed: {listed}.",
                  highlight=False, soft_wrap=True)


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

    replaced: list[Path] = []
    written = report_command(
        period,
        results=results,
        formats=fmt,
        lang=lang,
        unit=unit,
        out=output_dir(out, "--out") if out is not None else None,
        store=store_path(store) if store is not None else None,
        replaced=replaced,
    )
    if not quiet:
        for path in written:
            verb = "replaced" if path in replaced else "wrote"
            console.print(f"{verb} {path}", markup=False, highlight=False, soft_wrap=True)


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

    output_dir(out, "--out")
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
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        "rows: " + ", ".join(f"{kind} {count}" for kind, count in info.rows.items()),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"ground_truth.csv: {planted} planted findings ("
        + ", ".join(f"{rule} {count}" for rule, count in info.truth.items())
        + "); README.md says how to ingest and audit them.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


# --- roster (issue 14) -------------------------------------------------------

MonthOpt = Annotated[str, typer.Option("--month", help="YYYY-MM: the month the roster plans.")]
RosterUnitOpt = Annotated[
    str | None, typer.Option("--unit", help="One agency only (unit code).", show_default=False)
]


@roster_app.command("check")
@handle_errors
def roster_check(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Agency roster files (grids or long form); none: the stored roster."),
    ] = None,
    month: MonthOpt = "",
    store: StoreOpt = None,
    policy: PolicyOpt = None,
    unit: RosterUnitOpt = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            help="md, html, xlsx or json (repeatable; default html and md).",
            show_default=False,
        ),
    ] = None,
    lang: Annotated[str, typer.Option(help="id (Bahasa Indonesia) or en.")] = "id",
    out: Annotated[
        Path | None,
        typer.Option(help="Directory for the feedback files (default: reports/out/<month>/).",
                     show_default=False),
    ] = None,
    profile: Annotated[
        str, typer.Option(help="Import profile of the files, as in ingest.")
    ] = "canonical",
    profiles: Annotated[
        Path | None,
        typer.Option(help="TOML file with your own import profiles.", show_default=False),
    ] = None,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            help="WFH_QUOTA_EXCEEDED=N, WFH_NOT_ALLOWED=N or any=N agency-days "
            "(default any=0: exit 1 on any breach).",
            show_default=False,
        ),
    ] = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Check WFH rosters before the month against the policy and the staff master.

    Example: [bold]wfhaudit roster check drop/DINKES.xlsx --month 2026-01 --out drop/[/]"""
    import json

    from wfhaudit.errors import UsageError
    from wfhaudit.policy import load_policy
    from wfhaudit.report.render import check_options
    from wfhaudit.roster.check import check_roster, check_thresholds, crossed_thresholds
    from wfhaudit.roster.plan import parse_roster_month
    from wfhaudit.roster.render import print_table, write_reports
    from wfhaudit.store import Store

    if not month:
        raise UsageError("roster check needs --month YYYY-MM, e.g. --month 2026-01.")
    period = parse_roster_month(month)
    formats = check_options(fmt, lang)
    thresholds = check_thresholds(fail_on)
    the_policy = load_policy(policy)
    out_dir = out or Path("reports") / "out" / period.label
    with status_line(is_interactive() and not quiet and not as_json, "checking…") as update:
        result = check_roster(
            Store(store_path(store)), month, the_policy, files=files or None, unit=unit,
            profile=profile, profiles_file=profiles, on_step=update,
        )
        written = write_reports(result, out_dir, formats, lang)
    if as_json:
        doc = {
            "month": result.month,
            "source": result.source,
            "units": {u: result.problem_counts(u) for u in result.units},
            "breaks": result.breaks(),
            "suggested_moves": result.suggestion.moves.height,
            "suggestion_verified": result.suggestion.verified,
            "reports": [str(p) for p in written],
        }
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif not quiet:
        print_table(console, result)
        console.print(
            f"{len(written)} feedback files written to {out_dir}/", highlight=False,
            soft_wrap=True,
        )
    crossed = crossed_thresholds(result, thresholds)
    if crossed and not fail_on:
        breaks = result.breaks()
        err_console.print(
            f"the roster breaks the WFH policy on {sum(breaks.values())} agency-day(s) "
            f"({', '.join(f'{code} {n}' for code, n in breaks.items() if n)}); the feedback "
            f"files in {out_dir}/ say what to change.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_THRESHOLD)
    report_threshold(crossed, f"feedback in {out_dir}/")


@roster_app.command("export")
@handle_errors
def roster_export(
    month: MonthOpt = "",
    store: StoreOpt = None,
    policy: PolicyOpt = None,
    unit: RosterUnitOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    out: Annotated[
        Path | None,
        typer.Option(help="Directory for the file (default: reports/out/<month>/).",
                     show_default=False),
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """The consolidated roster of a month for the attendance app: one row per employee-day.

    Example: [bold]wfhaudit roster export --month 2026-01 --format xlsx[/]"""
    from wfhaudit.errors import UsageError
    from wfhaudit.policy import load_policy
    from wfhaudit.roster.export import export_name, export_roster, write_export
    from wfhaudit.roster.plan import parse_roster_month
    from wfhaudit.store import Store

    if not month:
        raise UsageError("roster export needs --month YYYY-MM, e.g. --month 2026-01.")
    period = parse_roster_month(month)
    kind = fmt.strip().lower()
    if kind not in ("csv", "xlsx"):
        raise UsageError(f"unknown export format {fmt!r}; use --format csv or --format xlsx.")
    rows = export_roster(Store(store_path(store)), month, load_policy(policy), unit=unit)
    path = (out or Path("reports") / "out" / period.label) / export_name(period.label, unit, kind)
    write_export(rows, path)
    if not quiet:
        console.print(
            f"wrote {path}: {rows.height:,} employee-days "
            f"({rows.filter(rows['source'] == 'roster').height:,} from the roster, "
            f"the rest the policy's default)",
            highlight=False,
            soft_wrap=True,
        )
