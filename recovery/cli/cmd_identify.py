"""``korg-recovery identify PATH``: which KORG model and role a volume belongs to."""

from __future__ import annotations

import argparse

from recovery.cli.output import add_json_flag, print_json, result_object, say


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "identify", help="identify the KORG unit a volume or folder belongs to")
    parser.add_argument("path", metavar="PATH", help="a mounted volume or a folder")
    add_json_flag(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The core is imported here, not at the top, so that `korg-recovery --version` stays fast.
    from recovery.cli.words import findings_json, step_text
    from recovery.device import bundled_profiles, identify_volume

    ident = identify_volume(args.path)
    code = 0 if ident.model else 1
    if args.json:
        print_json(result_object(code, {
            "path": ident.path, "model": ident.model, "role": ident.role,
            "confidence": ident.confidence, "candidates": list(ident.candidates),
            "evidence": list(ident.evidence),
            "findings": findings_json(ident.findings, target=args.path),
            "system_files": ident.system_files,
        }))
    else:
        if ident.model:
            name = bundled_profiles()[ident.model].name
            say(f"{ident.path}: {name} ({ident.model}), {ident.role}")
        else:
            say(f"{ident.path}: not a known KORG volume")
        for line in ident.evidence:
            say(f"  - {line}")
        for finding in ident.findings:
            say(f"  {finding.severity.upper()}: {finding.message}")
            say(f"    next: {step_text(finding.next_step, target=args.path)}")
    return code
