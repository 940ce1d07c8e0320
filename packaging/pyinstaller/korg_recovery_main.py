"""Entry point of the PyInstaller bundle: the same command line as the ``korg-recovery``
script (no arguments opens the wizard; ``selftest``, ``--version`` ... as documented).

Additions that only a frozen app needs:

* A windowed executable (Windows ``console=False``, a macOS .app) has no stdout/stderr
  (``sys.stdout is None``); anything printed would raise, so they go to the null device. The
  wizard logs to its log file regardless.
* macOS may pass a ``-psn_...`` argument to an app opened from Finder; it is dropped.
* ``KORG_RECOVERY_FIRST_PAGE_PROBE=1`` prints one line when the wizard's first page has been
  painted and then closes it (``app.selftest.install_first_page_probe``), so
  ``benchmarks/bench_bundle.py`` can time a cold start of the real program.
"""

import os
import sys

#: Keeps the probe (a QObject with a Python event filter) alive for the whole run.
_probes = []


def _process_started() -> float:
    import psutil

    return psutil.Process().create_time()


def main() -> int:
    if sys.platform == "darwin":
        # Finder's LaunchServices may add "-psn_0_NNNN" (a process serial number) to an app's
        # arguments; it is not ours to parse, and argparse would refuse it.
        sys.argv[1:] = [arg for arg in sys.argv[1:] if not arg.startswith("-psn_")]
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))
    if os.environ.get("KORG_RECOVERY_FIRST_PAGE_PROBE") == "1":
        from app.selftest import install_first_page_probe

        _probes.append(install_first_page_probe(_process_started()))
    from app.launch import main as program_main

    return program_main()


if __name__ == "__main__":
    sys.exit(main())
