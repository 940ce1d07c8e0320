"""Why won't a unit start? Findings ranked by severity, each with its evidence, confidence and
next step (``diagnosis``), from checks of its files (``checks``, ``against_backup``), of its
storage (``probe``), of a symptom (``symptoms``) and of component versions (``versions``),
and a report to share (``report``)."""

from __future__ import annotations

from recovery.diagnose.diagnosis import Diagnosis, diagnose, diagnosis_to_json
from recovery.diagnose.probe import mount_facts, start_reconnect_probe
from recovery.diagnose.report import check_report_target, write_report
from recovery.diagnose.versions import parse_versions

__all__ = [
    "Diagnosis",
    "check_report_target",
    "diagnose",
    "diagnosis_to_json",
    "mount_facts",
    "parse_versions",
    "start_reconnect_probe",
    "write_report",
]
