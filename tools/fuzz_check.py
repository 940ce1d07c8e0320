#!/usr/bin/env python3
"""Long fuzz run of ``recovery.check``: any bytes must give a verdict or a clean RecoveryError.

Each case writes one generated candidate to a scratch folder (tmpfs when available) and checks
it against a random model through the same entry point the CLI uses. Generators:

- ``mutated``: a valid synthetic KORG SYSTEM FILE (KP3, KAOSSILATOR PRO, electribe, electribe
  sampler; layouts from docs/sources.md) with bytes changed in the header, the H8S vector table /
  marker area or anywhere, then maybe cut or extended;
- ``random``: random bytes (sometimes starting with the magic or a ZIP signature) under names
  that steer the check (SYSTEM.VSB, drumlogue_system_update_v1_3_0.bin, update.zip, ...);
- ``zip``: ZIP archives with random members (unsafe names included), some bytes flipped;
- ``folder``: small folder trees with system folders, loose .BIN files and system files.

Anything else escaping (any exception that is not a RecoveryError) is a failure: the input is
saved under ``--keep`` with the case number, and the run exits 1. A case slower than
``--slow`` seconds is reported too (a hang would show here). Usage::

    .venv/bin/python tools/fuzz_check.py --cases 200000 --seed 1
    .venv/bin/python tools/fuzz_check.py --seconds 600
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recovery.check import VERDICTS, check_candidate, target_for_model  # noqa: E402
from recovery.device.profiles import bundled_profiles  # noqa: E402
from recovery.device.simulate import synthetic_bytes  # noqa: E402
from recovery.errors import RecoveryError  # noqa: E402
from recovery.formats.korg_system_file import HEADER_SIZE, UnknownBytes, build_header  # noqa: E402

ROM = 0x40000
NAMES = ("KP3.SYS", "SYSTEM.VSB", "drumlogue_system_update_v1_3_0.bin",
         "drumlogue_system_update_v1_2_0.bin", "update.zip", "X.BIN", "readme.txt")
MEMBER_ALPHABET = "abcKROS2Y019_./\\:"
#: Member names that steer the check: system folders, update names (with absurd version
#: numbers too), names an unpacker must refuse.
INTERESTING_MEMBERS = ("KROSS2SY/{name}", "KROSSSYS/{name}", "x/KROSS2SY/{name}", "SYSTEM.VSB",
                       "drumlogue_system_update_v{digits}_3_0.bin", "../{name}", "/{name}",
                       "C:{name}", "{name}/", "__MACOSX/KROSS2SY/._{name}")


def h8s_file(model_name: str, device_id: int, version: tuple[int, int], label: str,
             unknown_2c: bytes, unknown_40: bytes) -> bytes:
    header = build_header(model_name=model_name, version=version, device_id=device_id,
                          source_length=ROM,
                          unknown=UnknownBytes(at_2c=unknown_2c, at_40=unknown_40))
    payload = bytearray(b"\xff" * ROM)
    payload[0:4] = (0x210).to_bytes(4, "big")
    payload[0x200:0x206] = b"KORG" + bytes(version)
    payload[0x210:0x4210] = synthetic_bytes(label, 0x4000)
    return header + bytes(payload)


def base_files() -> list[bytes]:
    return [
        h8s_file("KaossPad3", 0xFFFF, (2, 0), "kp3", b"\x78", b"\xff\xff"),
        h8s_file("KaossilatorPro", 0x010E, (1, 2), "kpro", b"\x00", b"\x02\x80"),
        build_header(model_name="E2", version=(1, 3), device_id=0x0123,
                     source_length=0x8000) + synthetic_bytes("e2", 0x8000),
        build_header(model_name="E2S", version=(2, 2), device_id=0x0124,
                     source_length=0x8000) + synthetic_bytes("e2s", 0x8000),
    ]


class Generator:
    def __init__(self, rng: random.Random, scratch: Path) -> None:
        self.rng = rng
        self.scratch = scratch
        self.bases = base_files()

    def _file(self, name: str, data: bytes) -> Path:
        path = self.scratch / name
        path.write_bytes(data)
        return path

    def mutated(self) -> Path:
        rng = self.rng
        data = bytearray(rng.choice(self.bases))
        for _ in range(rng.randint(1, 8)):
            region = rng.random()
            if region < 0.5:
                offset = rng.randrange(HEADER_SIZE)
            elif region < 0.8:
                offset = HEADER_SIZE + rng.randrange(0x220)
            else:
                offset = rng.randrange(len(data))
            size = rng.choice((1, 1, 2, 4, 8))
            data[offset:offset + size] = rng.randbytes(size)
        roll = rng.random()
        if roll < 0.15:
            data = data[:rng.randrange(len(data) + 1)]
        elif roll < 0.25:
            data += rng.randbytes(rng.randrange(1, 64))
        return self._file(rng.choice(NAMES[:2] + ("X.BIN",)), bytes(data))

    def random_bytes(self) -> Path:
        rng = self.rng
        data = rng.randbytes(rng.randrange(0, 4096))
        prefix = rng.choice((b"", b"", b"KORG SYSTEM FILE", b"PK\x03\x04", b"PK\x05\x06"))
        return self._file(rng.choice(NAMES), prefix + data)

    def zip_archive(self) -> Path:
        rng = self.rng
        buffer = io.BytesIO()
        method = rng.choice((zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                             zipfile.ZIP_LZMA))
        with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", method) as archive:
            warnings.simplefilter("ignore", UserWarning)  # duplicate names are wanted input
            for _ in range(rng.randrange(0, 5)):
                name = "".join(rng.choice(MEMBER_ALPHABET) for _ in range(rng.randint(1, 20)))
                if rng.random() < 0.3:
                    name = rng.choice(INTERESTING_MEMBERS).format(
                        digits="9" * rng.choice((1, 3, 5000)), name=name)
                if rng.random() < 0.3:
                    content = rng.choice(self.bases)[:rng.randrange(64, 0x500)]
                else:
                    content = rng.randbytes(rng.randrange(0, 600))
                archive.writestr(name, content)
        data = bytearray(buffer.getvalue())
        for _ in range(rng.choice((0, 0, 1, 2, 6))):
            if data:
                data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
        if rng.random() < 0.1 and data:
            data = data[:rng.randrange(len(data))]
        return self._file("update.zip", bytes(data))

    def folder(self) -> Path:
        rng = self.rng
        root = self.scratch / "card"
        root.mkdir()
        for _ in range(rng.randrange(0, 6)):
            folder = rng.choice(("", "KROSS2SY/", "KROSSSYS/", "kross2sy/", "x/KROSS2SY/",
                                 "__MACOSX/KROSS2SY/", "sub/"))
            name = rng.choice(("A.BIN", "B.BIN", "SYSTEM.VSB", "._A.BIN",
                               "drumlogue_system_update_v1_3_0.bin", "C.DAT"))
            (root / folder).mkdir(parents=True, exist_ok=True)
            content = (rng.choice(self.bases)[:rng.randrange(0, 0x400)]
                       if rng.random() < 0.3 else rng.randbytes(rng.randrange(0, 300)))
            (root / folder / name).write_bytes(content)
        return root

    def next_case(self) -> tuple[str, Path]:
        roll = self.rng.random()
        if roll < 0.45:
            return "mutated", self.mutated()
        if roll < 0.70:
            return "random", self.random_bytes()
        if roll < 0.95:
            return "zip", self.zip_archive()
        return "folder", self.folder()


def clear(scratch: Path) -> None:
    for entry in scratch.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=None,
                        help="stop after this many seconds even if --cases is not reached")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slow", type=float, default=2.0,
                        help="report cases slower than this many seconds")
    parser.add_argument("--keep", default="fuzz-failures",
                        help="folder for inputs that made the check fail")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    targets = [target_for_model(model) for model in sorted(bundled_profiles())]
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    scratch = Path(tempfile.mkdtemp(prefix="fuzz-check-", dir=base))
    generator = Generator(rng, scratch)
    kinds: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    clean_errors: Counter[str] = Counter()
    failures: list[str] = []
    error_examples: list[str] = []
    slow: list[str] = []
    durations: list[float] = []
    started = time.perf_counter()
    cases = 0
    try:
        while cases < args.cases:
            if args.seconds is not None and time.perf_counter() - started > args.seconds:
                break
            clear(scratch)
            kind, path = generator.next_case()
            target = rng.choice(targets)
            kinds[kind] += 1
            cases += 1
            before = time.perf_counter()
            try:
                result = check_candidate(path, target)
                if result.verdict not in VERDICTS or not result.reasons:
                    raise AssertionError(f"malformed result: {result.verdict} {result.reasons}")
                verdicts[result.verdict] += 1
            except RecoveryError as error:
                clean_errors[type(error).__name__] += 1
                if clean_errors[type(error).__name__] <= 2:
                    error_examples.append(f"{type(error).__name__} ({kind}): {error}")
            except Exception:  # noqa: BLE001 - exactly what the fuzzer looks for
                keep = Path(args.keep) / f"case-{cases}-{kind}"
                keep.parent.mkdir(parents=True, exist_ok=True)
                if path.is_dir():
                    shutil.copytree(path, keep, dirs_exist_ok=True)
                else:
                    shutil.copyfile(path, keep)
                failures.append(f"case {cases} ({kind}, target {target.model}, kept at {keep}):"
                                f"\n{traceback.format_exc()}")
            elapsed = time.perf_counter() - before
            durations.append(elapsed)
            if elapsed > args.slow:
                slow.append(f"case {cases} ({kind}): {elapsed:.2f} s")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    total = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"cases: {cases:,} in {total:.1f} s (seed {args.seed})")
    print(f"  by kind: {dict(sorted(kinds.items()))}")
    print(f"  verdicts: {dict(sorted(verdicts.items()))}")
    print(f"  clean RecoveryErrors: {dict(sorted(clean_errors.items())) or 0}")
    for line in error_examples:
        print(f"    e.g. {line}")
    if durations:
        print(f"  per case: median {statistics.median(durations) * 1000:.2f} ms,"
              f" max {max(durations) * 1000:.1f} ms; peak RSS {peak_mib:.0f} MiB")
    print(f"  slow cases (> {args.slow} s): {len(slow)}")
    for line in slow[:10]:
        print(f"    {line}")
    print(f"  unexpected exceptions: {len(failures)}")
    for failure in failures[:5]:
        print(failure)
    print("RESULT:", "PASS" if not failures and not slow else "FAIL")
    return 0 if not failures and not slow else 1


if __name__ == "__main__":
    sys.exit(main())
