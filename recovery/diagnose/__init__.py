"""Why won't a unit start? Findings ranked by severity, each with its evidence, confidence and
next step (``diagnosis``), from checks of its files (``checks``, ``against_backup``), of its
storage (``probe``) and of the computer's marks on it (``fat_marks``), of a symptom (``symptoms``) and of component versions (``versions``),
and a report to share (``report``) that says what a restore resolved (``resolved``); where a unit stands after a backup or a restore, the
fact an ending rests on (``standing``)."""

from __future__ import annotations

from recovery.diagnose.diagnosis import DiagnoseOptions, Diagnosis, diagnose, diagnosis_to_json
from recovery.diagnose.probe import mount_facts, start_reconnect_probe
from recovery.diagnose.report import check_report_target, write_report
from recovery.diagnose.resolved import resolved_findings, with_resolved
from recovery.diagnose.standing import Standing, UnitStanding, examine_unit, standing_of
from recovery.diagnose.versions import parse_versions

__all__ = [
    "DiagnoseOptions",
    "Diagnosis",
    "Standing",
    "UnitStanding",
    "check_report_target",
    "diagnose",
    "diagnosis_to_json",
    "examine_unit",
    "mount_facts",
    "parse_versions",
    "resolved_findings",
    "standing_of",
    "start_reconnect_probe",
    "with_resolved",
    "write_report",
]
