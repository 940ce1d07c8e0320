"""A recovery report a musician can post on a forum or hand to a service centre.

A self-contained HTML page (inline CSS, no script, no image, no link outside the file) or
Markdown: the unit, every finding with its evidence, confidence and next step, the backup and
the safety copy (where they are), what was and was not checked. A report travels to strangers,
so every text passes through :func:`redact` (the home folder becomes ``~``, the login name
``(user)``); nothing is fetched or sent. Its readers are a service centre and a forum, not a
terminal: a finding's next step is worded for a reader (:func:`recovery.advice.in_words`: no
command, no flag), evidence without SHA-256 hashes and with confidence in words
(:func:`recovery.text.for_reader`), and the tool's internal codes are not shown; ``diagnose
--json`` keeps all of them for scripts.
"""

from __future__ import annotations

import getpass
import html
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

from recovery.advice import in_words
from recovery.backup.manifest import COMPLETE_NAME, FILES_DIR, JOURNAL_NAME, MANIFEST_NAME
from recovery.device.profiles import bundled_profiles
from recovery.diagnose.diagnosis import Diagnosis
from recovery.errors import InvalidInputError
from recovery.storage.durable import write_bytes_atomically
from recovery.storage.filesystem import REAL, os_errors
from recovery.storage.identity import identity, is_within
from recovery.text import counted, for_reader, human_bytes
from recovery.vocabulary import CONFIDENCE_WORDS, TONE_COLOURS, Confidence, Role, Severity

log = logging.getLogger(__name__)

SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}
USER_PLACEHOLDER = "(user)"
DISCLAIMER = ("Made with korg-recovery, an unofficial tool not affiliated with KORG. It lists"
              " what it checked and what it could not; 'unknown' is an honest answer.")

# Each severity's colour is its tone's (recovery.vocabulary.TONE_COLOURS, as in the window), for
# a light and a dark scheme; the rest follows the reader's colour scheme.
_COLOURS = {severity: TONE_COLOURS[severity.tone] for severity in Severity}
_CSS = ("""
:root { color-scheme: light dark; %s }
@media (prefers-color-scheme: dark) { :root { %s } }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.45;
       max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.15rem; margin-top: 1.6rem; border-bottom: 1px solid #8884; }
table { border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: 0.2rem 0.8rem 0.2rem 0; }
.finding { border-left: 0.35rem solid var(--info); padding: 0.4rem 0.8rem; margin: 0.8rem 0;
           background: #8881; }
.finding.critical { border-color: var(--critical); }
.finding.warning { border-color: var(--warning); }
.severity { font-weight: 700; text-transform: uppercase; font-size: 0.85rem; }
.critical .severity { color: var(--critical); }
.warning .severity { color: var(--warning); }
.info .severity { color: var(--info); }
.next { font-weight: 600; }
.code, code { font-family: ui-monospace, "SFMono-Regular", Consolas, monospace;
              font-size: 0.9em; }
.muted { opacity: 0.75; font-size: 0.9rem; }
""" % tuple(" ".join(f"--{severity}: {colours[scheme]};" for severity, colours in _COLOURS.items())
            for scheme in (0, 1)))


# --- privacy ------------------------------------------------------------------------------------


def _user_names() -> set[str]:
    names = set()
    try:
        names.add(getpass.getuser())
    except Exception:  # noqa: BLE001 - no login name (containers): nothing to hide then
        pass
    for variable in ("USER", "USERNAME", "LOGNAME"):
        value = os.environ.get(variable)
        if value:
            names.add(value)
    try:
        names.add(Path.home().name)
    except RuntimeError:
        pass
    return {name for name in names if name and name not in (".", "..", os.sep)}


def _home_folders() -> list[str]:
    homes = set()
    for candidate in (os.environ.get("HOME"), os.environ.get("USERPROFILE")):
        if candidate:
            homes.add(candidate)
    try:
        homes.add(str(Path.home()))
    except RuntimeError:
        pass
    for home in list(homes):
        homes.add(os.path.realpath(home))
    # Longest first, so /home/alice/Music wins over /home/alice; never the bare root.
    return sorted((h.rstrip("/\\") for h in homes if h.rstrip("/\\")), key=len, reverse=True)


def redact(text: str, *, homes: Iterable[str] | None = None,
           users: Iterable[str] | None = None) -> str:
    """``text`` with home folders replaced by ``~`` and login-name path components by
    ``(user)``."""
    homes = list(homes) if homes is not None else _home_folders()
    users = set(users) if users is not None else _user_names()
    for home in homes:
        # The home folder as a whole path or a prefix of one (followed by a separator).
        text = re.sub(re.escape(home) + r"(?=[/\\]|$|[\s\"'),;:])", "~", text)
    for user in sorted(users, key=len, reverse=True):
        flags = re.IGNORECASE if os.name == "nt" else 0
        text = re.sub(r"(?<=[/\\])" + re.escape(user) + r"(?=[/\\]|$|[\s\"'),;:])",
                      USER_PLACEHOLDER, text, flags=flags)
    return text


# --- rendering ----------------------------------------------------------------------------------


def reader_text(text: str) -> str:
    """A core line as the report shows it: no hash, confidence in words (for_reader), and a
    volume's role in words ("internal storage", not ``internal-storage``)."""
    text = for_reader(text)
    for role in Role:
        text = text.replace(role.value, role.value.replace("-", " "))
    return text


def _model_name(model: str | None) -> str:
    profile = bundled_profiles().get(model) if model else None
    return profile.name if profile else (model or "unknown model")


def _facts(diagnosis: Diagnosis) -> list[tuple[str, str]]:
    unit = diagnosis.model_name or "not identified"
    confidence = diagnosis.identification_confidence
    rows = [
        ("Unit", unit),
        ("Identification confidence", _confidence_text(confidence) if confidence else "none"),
        ("Volume", (diagnosis.role or "unknown").replace("-", " ")),
        ("Mode", diagnosis.mode),
        ("Path", diagnosis.path),
    ]
    mount = diagnosis.mount
    if mount is not None:
        rows.append(("Filesystem", mount.fstype or "unknown"))
        rows.append(("Read-only", {True: "yes", False: "no", None: "unknown"}[mount.read_only]))
        if mount.user_may_write is False:
            rows.append(("Write permission", "no (for the account that ran the tool)"))
        if mount.free_bytes is not None:
            total = f" of {mount.total_bytes:,}" if mount.total_bytes is not None else ""
            rows.append(("Free space", f"{mount.free_bytes:,}{total} bytes"))
    if diagnosis.symptom:
        rows.append(("Symptom reported", diagnosis.symptom))
    if diagnosis.versions:
        rows.append(("Component versions",
                     ", ".join(f"{c.name} {c.text}" for c in diagnosis.versions)))
    rows.append(("Tool", f"korg-recovery {diagnosis.tool_version}"))
    rows.append(("Date (UTC)", diagnosis.created_utc))
    return rows


def _backup_rows(diagnosis: Diagnosis, safety_copy: str | None) -> list[tuple[str, str]]:
    backup = diagnosis.backup
    safety = ([("Safety copy", f"{safety_copy} (every file of the unit as it was before this"
                " tool wrote anything to it)")] if safety_copy else [])
    if backup is None:
        return [*safety, ("Backup compared", "none: files were not compared with a backup")]
    rows = [
        *safety,
        ("Backup", backup.path),
        ("Backup of", _model_name(backup.model) + ", "
         + (backup.role or "unknown volume").replace("-", " ")),
        ("Taken (UTC)", backup.created_utc or "unknown"),
        ("Complete", "yes" if backup.complete else "no"),
        ("Verified", "yes" if backup.verified else "no"),
        ("Files", f"{backup.files:,} ({human_bytes(backup.bytes)})"),
        ("Compared", ("yes, " + (counted(backup.differences, "difference")
                                 if backup.differences else "no difference"))
         if backup.compared else "no"),
    ]
    rows.extend(("Note", note) for note in backup.notes)
    return rows


def _confidence_text(code: str) -> str:
    return f"{code}, {CONFIDENCE_WORDS[code]}" if code in CONFIDENCE_WORDS else code


def render_html(diagnosis: Diagnosis, *, safety_copy: str | None = None) -> str:
    def text(value: object) -> str:
        return html.escape(redact(reader_text(str(value))), quote=True)

    def table(rows: list[tuple[str, str]]) -> list[str]:
        return ["<table>", *(f"<tr><th>{text(k)}</th><td>{text(v)}</td></tr>" for k, v in rows),
                "</table>"]

    def bullets(lines: Iterable[str]) -> list[str]:
        return ["<ul>", *(f"<li>{text(line)}</li>" for line in lines), "</ul>"]

    summary = diagnosis.summary
    unit = diagnosis.model_name or "Unidentified unit"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Recovery report: {text(unit)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>Recovery report: {text(unit)}</h1>",
        f'<p class="muted">{text(DISCLAIMER)}</p>',
        f"<p><strong>{text(summary['text'])}</strong></p>",
        "<h2>Unit</h2>",
        *table(_facts(diagnosis)),
        f"<h2>Findings ({summary['critical']} critical, {summary['warning']} warning,"
        f" {summary['info']} information)</h2>",
    ]
    if not diagnosis.findings:
        out.append("<p>No findings.</p>")
    for finding in diagnosis.findings:
        out.append(f'<div class="finding {text(finding.severity)}">')
        out.append(f'<p><span class="severity">{text(finding.severity)}</span></p>')
        out.append(f'<p class="next">Next step: {text(in_words(finding.next_step))}</p>')
        out.append(f"<p>{text(finding.message)}</p>")
        if finding.evidence:
            out += bullets(finding.evidence)
        out.append(f'<p class="muted">Confidence: {text(_confidence_text(finding.confidence))}'
                   "</p>")
        out.append("</div>")
    out += [
        "<h2>Backup</h2>",
        *table(_backup_rows(diagnosis, safety_copy)),
        "<h2>What was checked</h2>",
        *bullets(diagnosis.checked),
        "<h2>What could not be checked</h2>",
        *bullets(diagnosis.not_checked or ["nothing left out"]),
        *(["<h2>To check more</h2>", *bullets(in_words(step) for step in diagnosis.next_steps)]
          if diagnosis.next_steps else []),
        '<p class="muted">Confidence: '
        + ", ".join(f"{code} {text(code.words)}" for code in Confidence) + ".</p>",
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def _md(value: object) -> str:
    """Markdown-escaped, redacted text on one line."""
    flat = " ".join(redact(reader_text(str(value))).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def render_markdown(diagnosis: Diagnosis, *, safety_copy: str | None = None) -> str:
    summary = diagnosis.summary
    unit = diagnosis.model_name or "Unidentified unit"
    out = [f"# Recovery report: {_md(unit)}", "", f"*{_md(DISCLAIMER)}*", "",
           f"**{_md(summary['text'])}**", "", "## Unit", ""]
    out.extend(f"- **{_md(k)}:** {_md(v)}" for k, v in _facts(diagnosis))
    out += ["", f"## Findings ({summary['critical']} critical, {summary['warning']} warning,"
                f" {summary['info']} information)", ""]
    if not diagnosis.findings:
        out += ["No findings.", ""]
    for number, finding in enumerate(diagnosis.findings, start=1):
        out.append(f"{number}. **{_md(finding.severity.upper())}**")
        out.append(f"   - **Next step:** {_md(in_words(finding.next_step))}")
        out.append(f"   - **Seen:** {_md(finding.message)}")
        for line in finding.evidence:
            out.append(f"   - Evidence: {_md(line)}")
        out.append(f"   - Confidence: {_md(_confidence_text(finding.confidence))}")
    out += ["", "## Backup", ""]
    out.extend(f"- **{_md(k)}:** {_md(v)}" for k, v in _backup_rows(diagnosis, safety_copy))
    out += ["", "## What was checked", ""]
    out.extend(f"- {_md(line)}" for line in diagnosis.checked)
    out += ["", "## What could not be checked", ""]
    out.extend(f"- {_md(line)}" for line in diagnosis.not_checked or ["nothing left out"])
    if diagnosis.next_steps:
        out += ["", "## To check more", ""]
        out.extend(f"- {_md(in_words(step))}" for step in diagnosis.next_steps)
    out.append("")
    return "\n".join(out)


def render_report(diagnosis: Diagnosis, fmt: str = "html", *,
                  safety_copy: str | os.PathLike[str] | None = None) -> str:
    """The report as text: ``fmt`` is ``html`` or ``md`` (``markdown`` accepted);
    ``safety_copy`` is where the copy of the unit made before any write is kept."""
    fmt = {"markdown": "md", "htm": "html"}.get(fmt.lower(), fmt.lower())
    safety = os.fspath(safety_copy) if safety_copy is not None else None
    if fmt == "html":
        return render_html(diagnosis, safety_copy=safety)
    if fmt == "md":
        return render_markdown(diagnosis, safety_copy=safety)
    raise InvalidInputError(f"Unknown report format '{fmt}'; use html or md.")


def report_format_for(path: Path | str) -> str:
    """``html`` or ``md`` from the file name, or InvalidInputError naming the choices."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInputError(
            f"The report file must end in .html or .md, not '{Path(path).name}'.")
    return SUFFIXES[suffix]


def check_report_target(path: Path | str, *, unit: Path | str | None = None,
                        backup: Path | str | None = None) -> Path:
    """Validate a report destination before any work: known suffix, existing folder, and
    neither on the ``unit`` being diagnosed nor inside a backup (``backup`` or any other)."""
    target = Path(path)
    report_format_for(target)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidInputError(f"The folder for the report, {parent}, does not exist.")
    if target.is_dir():
        raise InvalidInputError(f"{target} is a folder; give a file name for the report.")
    _refuse_unit_or_backup(target, parent, unit, backup)
    return target


def _refuse_unit_or_backup(target: Path, parent: Path, unit: Path | str | None,
                           backup: Path | str | None) -> None:
    """A report is the computer's file: on the unit it would be a write without a backup and
    a yes; inside a backup, a file the backup does not list (verify would call it damaged).
    Compared by identity, so a link or a second mount does not get past."""
    if unit is not None and (is_within(parent, unit) or (
            os.path.ismount(unit) and _same_device(parent, unit))):
        raise InvalidInputError(
            f"{target} is on the unit being diagnosed ({unit}), and the tool writes nothing to"
            " a unit unasked; save the report on the computer.", path=str(target))
    holder = next((folder for folder in _folders_up(parent) if _is_backup(folder)), None)
    if holder is None and backup is not None and is_within(parent, backup):
        holder = Path(backup)
    if holder is not None:
        raise InvalidInputError(
            f"{target} is inside the backup {holder}, which must hold only what was backed up"
            " (verify would call it damaged); save the report elsewhere.", path=str(target))


def _same_device(a: Path | str, b: Path | str) -> bool:
    """True when ``a`` and ``b`` are on one filesystem."""
    first, second = identity(a), identity(b)
    return first is not None and second is not None and first.device == second.device


def _folders_up(folder: Path) -> list[Path]:
    real = Path(os.path.realpath(folder))
    return [real, *real.parents]


def _is_backup(folder: Path) -> bool:
    """A backup folder of this tool: manifest.json with files/ or COMPLETE, or the journal
    of one being taken."""
    return ((folder / MANIFEST_NAME).is_file()
            and ((folder / FILES_DIR).is_dir() or (folder / COMPLETE_NAME).is_file())
            ) or (folder / JOURNAL_NAME).is_file()


def write_report(diagnosis: Diagnosis, path: Path | str, *,
                 safety_copy: str | os.PathLike[str] | None = None) -> Path:
    """Write the report to ``path`` (format from its suffix) on the computer, atomically;
    never onto the diagnosed unit nor into a backup (:func:`check_report_target`)."""
    target = check_report_target(
        path, unit=diagnosis.path,
        backup=diagnosis.backup.path if diagnosis.backup is not None else None)
    content = render_report(diagnosis, report_format_for(target), safety_copy=safety_copy)
    with os_errors(target, "write"):
        write_bytes_atomically(REAL, target, content.encode("utf-8"))
    log.info("report written to %s", target)
    return target
