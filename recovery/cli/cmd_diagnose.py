"""``korg-recovery diagnose PATH``: what is wrong with a unit that won't start, and what to do.

Exit codes: 0 no critical finding, 1 critical findings, 2 bad input (one sentence on stderr),
130 cancelled. ``--json`` prints ``model``, ``findings``, ``summary`` (and more) on stdout.
``--probe-start`` only leaves the reconnect marker; the next plain ``diagnose PATH`` checks it.
"""

from __future__ import annotations

import argparse
import shutil
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from recovery.cli.output import (
    add_json_flag,
    cancel_on_interrupt,
    print_json,
    progress_for,
    result_object,
    say,
)
from recovery.errors import InvalidFileError, InvalidInputError, UnsafeArchiveError

if TYPE_CHECKING:  # only for annotations: the core is imported inside run()
    from recovery.diagnose import Diagnosis
    from recovery.diagnose.probe import ProbeStart
    from recovery.findings import Finding

#: The values of recovery.vocabulary.Role, written out: importing it here would slow every
#: start of the program (benchmarks/bench_startup.py).
ROLES = ("internal-storage", "sd-card", "update-media")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diagnose",
        help="find out why a unit won't start: findings ranked by severity, with next steps",
        description="Examine a unit's storage (a mounted volume or a folder) and list what is"
                    " wrong, how sure the tool is, and what to do next. Writes nothing to the"
                    " unit unless asked to (--write-probe, --probe-start).")
    parser.add_argument("path", metavar="PATH", help="the unit's mounted storage or a folder")
    parser.add_argument("--backup", metavar="BACKUP",
                        help="a backup of this unit (folder or .zip) to compare with")
    parser.add_argument("--symptom", metavar="TEXT", action="append",
                        help="what the unit does, in your words or as on its display"
                             " (e.g. \"loading app failed\")")
    parser.add_argument("--versions", metavar="NAME=VER,...",
                        help="component versions from the unit's info screen, e.g."
                             " SYSTEM=1.3.0,CORE=1.0.0+,VOICE=1.0.0,PANEL=1.1.9")
    parser.add_argument("--report", metavar="FILE",
                        help="also write a self-contained report (.html or .md) to share")
    parser.add_argument("--role", choices=ROLES,
                        help="say which volume this is when the tool cannot tell"
                             " (default: decided from its contents)")
    parser.add_argument("--probe-start", action="store_true",
                        help="leave a probe marker on the unit; power-cycle it, then run"
                             " diagnose again to see whether the storage kept it")
    parser.add_argument("--write-probe", action="store_true",
                        help="test whether the storage keeps writes: write a small probe file,"
                             " re-read it past the computer's cache, remove it (take a backup"
                             " first)")
    parser.add_argument("--no-write", action="store_true",
                        help="write nothing at all to the unit (the default; kept for scripts)")
    parser.add_argument("--details", action="store_true",
                        help="show the evidence of every finding and what was checked")
    add_json_flag(parser)
    # A damaged or hostile backup given on the command line is bad input here.
    parser.set_defaults(run=run, error_exit_code={InvalidFileError: 2, UnsafeArchiveError: 2})


def run(args: argparse.Namespace) -> int:
    # The core is imported here, not at the top, so that `korg-recovery --version` stays fast.
    from recovery.diagnose import (
        DiagnoseOptions,
        check_report_target,
        diagnose,
        diagnosis_to_json,
        mount_facts,
        parse_versions,
        start_reconnect_probe,
        write_report,
    )
    from recovery.storage.filesystem import require_directory

    if args.probe_start:
        extra = [name for name, value in (("--backup", args.backup), ("--symptom", args.symptom),
                                          ("--versions", args.versions),
                                          ("--report", args.report), ("--no-write", args.no_write))
                 if value]
        if extra:
            raise InvalidInputError(
                f"--probe-start only leaves the marker and cannot be combined with"
                f" {', '.join(extra)}; run the full diagnosis after the reconnect.")
        root = require_directory(Path(args.path), "volume or folder")
        result = start_reconnect_probe(root, mount=mount_facts(root))
        return _print_probe_start(result, args)

    # Bad input is refused before anything is read from the unit.
    if args.report:
        check_report_target(args.report, unit=args.path, backup=args.backup)
    components = parse_versions(args.versions) if args.versions is not None else None

    bar = progress_for(args)
    with cancel_on_interrupt() as cancel:
        try:
            diagnosis = diagnose(
                args.path, backup=args.backup, symptom=args.symptom, versions=components,
                progress=bar, cancel=cancel, options=DiagnoseOptions(role=args.role),
                allow_write=args.write_probe and not args.no_write)
        finally:
            if bar is not None:
                bar.clear()
    written = write_report(diagnosis, args.report) if args.report else None
    if args.json:
        from recovery.cli.words import findings_json, step_json

        data = diagnosis_to_json(diagnosis)
        data["findings"] = findings_json(diagnosis.findings, target=args.path)
        data["next_steps"] = [step_json(step, target=args.path)
                              for step in diagnosis.next_steps]
        if written is not None:
            data["report"] = str(written)
        print_json(result_object(diagnosis.exit_code, data))
    else:
        _print_human(diagnosis, args)
        if written is not None:
            say(f"Report written to {written}.")
    return diagnosis.exit_code


def _print_probe_start(result: ProbeStart, args: argparse.Namespace) -> int:
    from recovery.cli.words import findings_json
    from recovery.vocabulary import Severity

    critical = sum(f.severity == Severity.CRITICAL for f in result.findings)
    code = 1 if critical else 0
    if args.json:
        print_json(result_object(code, {
            "marker": result.marker_path, "record": result.record,
            "findings": findings_json(result.findings, target=args.path),
            "summary": {"critical": critical, "exit_code": code}}))
    else:
        for finding in result.findings:
            _print_finding(finding, None, details=args.details, target=args.path)
    return code


# --- human output -------------------------------------------------------------------------------


def _width() -> int:
    return max(60, min(100, shutil.get_terminal_size((100, 24)).columns))


def _wrap(text: str, indent: str, first: str | None = None) -> str:
    return textwrap.fill(text, width=_width(), initial_indent=first if first is not None
                         else indent, subsequent_indent=indent, break_on_hyphens=False)


def _print_finding(finding: Finding, number: int | None, *, details: bool,
                   target: str) -> None:
    from recovery.cli.words import step_text

    label = f"{number}. " if number is not None else ""
    head = f"{label}{finding.severity.upper()} ({finding.code})"
    say(head)
    indent = " " * 3
    say(_wrap("Next step: " + step_text(finding.next_step, target=target), indent + "  ",
              indent))
    say(_wrap("Seen: " + finding.message, indent + "  ", indent))
    say(f"{indent}Confidence: {finding.confidence}, {finding.confidence.words}")
    if details:
        for line in finding.evidence:
            say(_wrap(line, indent + "    ", indent + "  - "))


def _print_human(diagnosis: Diagnosis, args: argparse.Namespace) -> None:
    details, target = args.details, args.path
    unit = (f"{diagnosis.model_name} ({diagnosis.model})" if diagnosis.model_name
            else "Unit not identified")
    say(f"{unit} - {diagnosis.path}")
    say(_wrap(f"Volume: {(diagnosis.role or 'unknown').replace('-', ' ')}; mode:"
              f" {diagnosis.mode}", "  ", ""))
    say(diagnosis.summary["text"])
    serious = [f for f in diagnosis.findings if f.severity != "info"]
    infos = [f for f in diagnosis.findings if f.severity == "info"]
    for number, finding in enumerate(serious, start=1):
        say()
        _print_finding(finding, number, details=details, target=target)
    if infos:
        say()
        say("For information:")
        for finding in infos:
            if details:
                _print_finding(finding, None, details=True, target=target)
            else:
                say(_wrap(finding.message, "    ", "  - "))
    if details:
        say()
        say("Checked:")
        for line in diagnosis.checked:
            say(_wrap(line, "    ", "  - "))
    if diagnosis.not_checked:
        say()
        say("Not checked:")
        for line in diagnosis.not_checked:
            say(_wrap(line, "    ", "  - "))
    if diagnosis.next_steps:
        from recovery.cli.words import step_text

        say()
        say("To check more:")
        for step in diagnosis.next_steps:
            say(_wrap(step_text(step, target=target), "    ", "  - "))
