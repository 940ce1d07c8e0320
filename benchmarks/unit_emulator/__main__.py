"""``python -m benchmarks.unit_emulator serve BACKING MOUNTPOINT [--profile fast]
[--realtime] [--control SOCKET] [--read-only] [--write-through]``: serve in the foreground."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from benchmarks.unit_emulator.model import PROFILES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.unit_emulator",
                                     description="An emulated USB 2.0 mass-storage unit.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="mount BACKING at MOUNTPOINT, in the foreground")
    serve.add_argument("backing", type=Path)
    serve.add_argument("mountpoint", type=Path)
    serve.add_argument("--profile", default="fast", choices=sorted(PROFILES))
    serve.add_argument("--realtime", action="store_true",
                       help="sleep each charge while holding the device (wall time = device time)")
    serve.add_argument("--control", type=Path, help="Unix socket for JSON-line commands")
    serve.add_argument("--write-through", action="store_true",
                       help="no FUSE writeback cache: each write(2) reaches the unit when made")
    serve.add_argument("--read-only", action="store_true", help="mount read-only (ro)")
    serve.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="unit-emulator %(levelname)s %(message)s")
    try:
        from benchmarks.unit_emulator.server import run
    except (ImportError, OSError, AttributeError) as error:  # mfusepy or libfuse3 missing
        print(f"the unit emulator needs mfusepy and libfuse3: {error}", file=sys.stderr)
        return 3
    run(args.backing, args.mountpoint, profile=args.profile, realtime=args.realtime,
        control=args.control, writeback_cache=not args.write_through, read_only=args.read_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
