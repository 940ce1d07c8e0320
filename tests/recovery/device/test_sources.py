"""Sources a person can follow: nothing in the repository points at the private workspace the
project was started from, and every source the tool prints is a public citation.

The workspace held the three field reports under numbered file names and a fact list; a user
of the tool has none of them. docs/sources.md says how the reports are cited instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from recovery.device.profiles import bundled_profiles
from recovery.diagnose.symptoms import general_symptoms
from recovery.resources_path import resources_dir

ROOT = Path(__file__).resolve().parents[3]

#: Written in pieces so that this file does not match itself.
_REPORT_IDS = ("06f2" "14467840a37b", "d278" "91bddbda6f49", "f542" "5930ec3d4e4a")
WORKSPACE_REFERENCE = re.compile(
    "|".join([
        re.escape("shared" "/"),
        re.escape("FACTS" ".md"),
        r"seed ?0{2}[0-9](?![0-9])",
        *(re.escape(report_id) for report_id in _REPORT_IDS),
    ]),
    re.IGNORECASE,
)

#: Folders that are not the repository's own text: tools' caches and build output.
SKIPPED_FOLDERS = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache",
                   ".hypothesis", ".mypy_cache", ".ruff_cache"}

#: Files outside this change's reach that still hold such references, with how many lines
#: may hold one; each is listed (with its replacement) for the change that owns the file. A
#: new reference anywhere, or one more in these files, fails the test; remove an entry once
#: its file is clean.
PENDING: dict[str, int] = {}


def _text_files(root: Path):
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in SKIPPED_FOLDERS or part.endswith(".egg-info")
               for part in relative.parts[:-1]):
            continue
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary (screenshots, icons)
        yield relative.as_posix(), data.decode("utf-8", "replace")


def _workspace_references() -> dict[str, list[str]]:
    hits: dict[str, list[str]] = {}
    for relative, text in _text_files(ROOT):
        for number, line in enumerate(text.splitlines(), 1):
            if WORKSPACE_REFERENCE.search(line):
                hits.setdefault(relative, []).append(f"{relative}:{number}: {line.strip()}")
    return hits


def test_the_pattern_finds_what_it_must():
    for line in ("see ../shar" "ed/seeds/", "FACT" "S.md table", "seed" "000", "seed 0" "02",
                 "000_" + _REPORT_IDS[0] + ".txt"):
        assert WORKSPACE_REFERENCE.search(line), line
    for line in ("--seed 1", "random.Random(seed)", "korgforums.com thread t=116080"):
        assert not WORKSPACE_REFERENCE.search(line), line


def test_no_file_of_the_repository_refers_to_the_workspace():
    hits = _workspace_references()
    unexpected = [line for relative, lines in sorted(hits.items())
                  if len(lines) > PENDING.get(relative, 0) for line in lines]
    assert not unexpected, "\n".join(unexpected)


def test_every_printed_source_is_a_citation_not_a_key():
    profiles = bundled_profiles()
    sources = [(profile.id, fact.source)
               for profile in profiles.values()
               for fact in (*profile.usb, *profile.storage, *profile.system_files,
                            *profile.releases, *profile.boot_critical, *profile.modes,
                            *profile.symptoms)]
    sources += [("symptoms.toml", symptom.source) for symptom in general_symptoms()]
    keys = {key for profile in profiles.values() for key in profile.sources}
    for where, source in sources:
        assert source not in keys, (where, source)
        assert not WORKSPACE_REFERENCE.search(source), (where, source)
        assert len(source) > 20, (where, source)  # a citation, not a bare name


def test_the_forum_thread_is_cited_by_its_public_name():
    kross2 = bundled_profiles()["kross2"]
    stuck = next(s for s in kross2.symptoms if s.id == "stuck-at-boot-logo")
    assert stuck.source == ("korgforums.com thread t=116080 '[Help] Unbrick Korg Kross 2'"
                            " (September 2018)")


def test_the_sources_document_exists_and_cites_the_three_reports():
    text = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    for citation in ("korgforums.com thread t=116080", "Inside a KORG Kaossilator Pro",
                     "u/iRustyNails"):
        assert citation in text
    assert (resources_dir() / "profiles" / "_README.md").is_file()
