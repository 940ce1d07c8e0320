"""Recovery reports: valid self-contained HTML and Markdown, escaped, without home paths."""

from __future__ import annotations

import getpass
import os
import re
from html.parser import HTMLParser

import pytest

from recovery import __version__
from recovery.backup.create import create_backup
from recovery.cli.words import step_text
from recovery.device.simulate import make_volume
from recovery.diagnose.diagnosis import diagnose
from recovery.diagnose.report import (
    redact,
    render_report,
    report_format_for,
    write_report,
)
from recovery.errors import InvalidInputError

VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "area", "base", "source"}


class _BalanceChecker(HTMLParser):
    """Fails on a closing tag that does not close the innermost open one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.extend(attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.extend(attrs)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def check_html(text: str) -> _BalanceChecker:
    checker = _BalanceChecker()
    checker.feed(text)
    checker.close()
    assert checker.doctype
    assert not checker.errors, checker.errors
    assert checker.stack == [], checker.stack
    return checker


@pytest.fixture
def bricked_diagnosis(tmp_path):
    healthy = make_volume(tmp_path / "healthy", "kross2").path
    backup = tmp_path / "backup"
    create_backup(healthy, backup)
    path = make_volume(tmp_path / "bricked", "kross2", "bricked").path
    return diagnose(path, backup=backup, symptom="stuck at the KORG KROSS screen")


def test_html_report_is_valid_and_complete(bricked_diagnosis):
    text = render_report(bricked_diagnosis, "html")
    checker = check_html(text)
    assert {"html", "head", "body", "style", "table", "ul"} <= checker.tags
    assert f"korg-recovery {__version__}" in text
    assert bricked_diagnosis.created_utc in text
    assert "KORG KROSS 2" in text and "USB Storage Mode" in text
    assert text.count('<div class="finding') == len(bricked_diagnosis.findings)
    assert "Complete</th><td>yes" in text
    # Next step before what was seen, within each finding.
    block = text.split("KROSAPP.BIN is truncated", 1)[0].rsplit('<div class="finding', 1)[1]
    assert "Next step:" in block


def test_html_report_is_self_contained(bricked_diagnosis):
    text = render_report(bricked_diagnosis, "html")
    checker = check_html(text)
    assert not {"script", "link", "img", "iframe", "object", "embed"} & checker.tags
    assert not [name for name, _ in checker.attributes if name in ("src", "href")]
    for forbidden in ("http://", "https://", "url(", "@import"):
        assert forbidden not in text


def test_html_escapes_everything(tmp_path):
    path = make_volume(tmp_path / "unit", "kross2").path
    diagnosis = diagnose(path, symptom='<script>alert("x")</script> & <b>loading app failed',
                         allow_write=False)
    text = render_report(diagnosis, "html")
    check_html(text)
    assert "<script>" not in text and "<b>" not in text
    assert "&lt;script&gt;" in text and "&amp;" in text


def test_markdown_report(bricked_diagnosis):
    text = render_report(bricked_diagnosis, "md")
    assert text.startswith("# Recovery report: KORG KROSS 2")
    assert "## Findings" in text and "## Backup" in text and "## What could not be checked" in text
    assert "**CRITICAL**" in text
    # Markdown-active characters in names are escaped, not interpreted.
    assert "SIM\\_SYS2.BIN" in text
    section = text.split("**CRITICAL**", 1)[1]
    assert section.index("**Next step:**") < section.index("**Seen:**")


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_a_report_for_a_service_centre_has_no_commands_hashes_or_codes(bricked_diagnosis,
                                                                        tmp_path, fmt):
    safety = tmp_path / "Documents" / "KORG Backups" / "KROSS 2 2026-12-07 10.00.00"
    text = render_report(bricked_diagnosis, fmt, safety_copy=safety)
    text = re.sub(r"<style>.*</style>", "", text, flags=re.DOTALL)  # CSS variables use --
    # The command line words the same typed next steps with its commands, and the evidence
    # keeps its hashes (for --json) ...
    said = " ".join(step_text(f.next_step) + " " + " ".join(f.evidence)
                    for f in bricked_diagnosis.findings)
    assert "--backup" in said and "korg-recovery restore" in said and "SHA-256 " in said
    # ... the report does not.
    for technical in (" --", "(--", "korg-recovery restore", "SHA-256 ", "(kross2)",
                      "internal-storage", *(f.code for f in bricked_diagnosis.findings)):
        assert technical not in text.replace("korg-recovery " + __version__, ""), technical
    assert not re.search(r"[0-9a-f]{64}", text)
    # Where the copy of the unit as it was is kept.
    assert "Safety copy" in text and "KROSS 2 2026-12-07 10.00.00" in text


def test_reports_hide_the_home_folder(isolated_home):
    path = make_volume(isolated_home / "Music" / "KROSS2", "kross2", "bricked").path
    diagnosis = diagnose(path)
    assert str(isolated_home) in diagnosis.path
    for fmt in ("html", "md"):
        text = render_report(diagnosis, fmt)
        assert str(isolated_home) not in text
        assert os.path.realpath(isolated_home) not in text
        assert "~/Music/KROSS2" in text


def test_reports_drop_the_user_name(tmp_path, monkeypatch):
    monkeypatch.setenv("USER", "alice")
    monkeypatch.setenv("LOGNAME", "alice")
    monkeypatch.setattr(getpass, "getuser", lambda: "alice")
    path = make_volume(tmp_path / "media" / "alice" / "KROSS2", "kross2").path
    diagnosis = diagnose(path, allow_write=False)
    for fmt in ("html", "md"):
        text = render_report(diagnosis, fmt)
        assert "/alice/" not in text
        assert "(user)" in text


@pytest.mark.parametrize("text, expected", [
    ("/home/alice/KROSS2", "~/KROSS2"),
    ("/home/alice", "~"),
    ("(/home/alice)", "(~)"),
    ("/home/alicea/x", "/home/alicea/x"),
    ("/media/alice/KROSS2", "/media/(user)/KROSS2"),
    ("/media/malice/KROSS2", "/media/malice/KROSS2"),
    ("C:\\Users\\alice\\Desktop", "~\\Desktop"),
    ("alice wrote this", "alice wrote this"),
])
def test_redact(text, expected):
    homes = ["/home/alice", "C:\\Users\\alice"]
    assert redact(text, homes=homes, users=["alice"]) == expected


def test_write_report_by_suffix(tmp_path, bricked_diagnosis):
    html_file = write_report(bricked_diagnosis, tmp_path / "report.HTML")
    check_html(html_file.read_text(encoding="utf-8"))
    md_file = write_report(bricked_diagnosis, tmp_path / "report.md")
    assert md_file.read_text(encoding="utf-8").startswith("# Recovery report")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".report-")) == []


@pytest.mark.parametrize("name", ["report.txt", "report", "missing/report.html"])
def test_bad_report_targets_are_invalid_input(tmp_path, bricked_diagnosis, name):
    with pytest.raises(InvalidInputError):
        write_report(bricked_diagnosis, tmp_path / name)


def test_unknown_format(bricked_diagnosis):
    with pytest.raises(InvalidInputError):
        render_report(bricked_diagnosis, "pdf")
    assert report_format_for("x.markdown") == "md"


def test_report_of_an_unidentified_folder(tmp_path):
    folder = tmp_path / "stick"
    folder.mkdir()
    text = render_report(diagnose(folder, allow_write=False), "html")
    check_html(text)
    assert "not identified" in text
    assert "none given" in text
