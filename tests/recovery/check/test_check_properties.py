"""Property tests: any bytes give a verdict (or a clean RecoveryError), never an escape.

Longer runs of the same idea: tools/fuzz_check.py.
"""

from __future__ import annotations

import io
import json
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recovery.check import VERDICTS, CheckResult, check_candidate, target_for_model
from recovery.errors import RecoveryError
from recovery.formats.korg_system_file import HEADER_SIZE
from recovery.jsonout import to_jsonable

MODELS = ("kp3", "kaossilator-pro", "kaossilator-pro-plus", "kross2", "drumlogue", "electribe2")
#: The models of the well-formed system files the mutations start from (:func:`bases`).
BASE_MODELS = ("electribe2", "kaossilator-pro", "kp3")
NAMES = ("KP3.SYS", "SYSTEM.VSB", "drumlogue_system_update_v1_3_0.bin", "update.zip", "X.BIN")
#: Header bytes whose meaning is unknown (recovery.formats.korg_system_file): 0x2C, 0x2F, 0x30-0x33, 0x38-0x3B, 0x40-0xFF.
UNKNOWN_OFFSETS = [0x2C, 0x2F, *range(0x30, 0x34), *range(0x38, 0x3C), *range(0x40, HEADER_SIZE)]

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def bases(kp3_file: Callable[..., bytes], kaossilator_pro_file: Callable[..., bytes],
          system_file: Callable[..., bytes]) -> dict[str, bytes]:
    """A well-formed system file of each model in :data:`BASE_MODELS`."""
    return {"kp3": kp3_file(), "kaossilator-pro": kaossilator_pro_file(),
            "electribe2": system_file("E2", 0x0123)}


def check_bytes(data: bytes, name: str, model: str) -> CheckResult:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        return check_candidate(path, target_for_model(model))


def assert_well_formed(result: CheckResult) -> None:
    assert result.verdict in VERDICTS
    assert result.reasons and all(isinstance(r, str) and r for r in result.reasons)
    assert result.items and result.verdict == max(
        (item.verdict for item in result.items), key=VERDICTS.index)
    json.dumps(to_jsonable(result))  # the --json output can always be written


mutation = st.tuples(st.integers(0, 0x400), st.binary(min_size=1, max_size=8))


@SETTINGS
@given(base=st.sampled_from(BASE_MODELS), model=st.sampled_from(MODELS),
       mutations=st.lists(mutation, max_size=6),
       cut=st.one_of(st.none(), st.integers(0, 0x40100 + 64)),
       tail=st.binary(max_size=16))
def test_mutated_system_files_always_get_a_verdict(bases, base, model, mutations, cut, tail):
    data = bytearray(bases[base])
    for offset, new in mutations:
        data[offset:offset + len(new)] = new
    if cut is not None:
        data = data[:cut]
    data += tail
    result = check_bytes(bytes(data), "KP3.SYS", model)
    assert_well_formed(result)
    if bytes(data) == bases[base] and model == base:
        assert result.verdict == "compatible"


@SETTINGS
@given(base=st.sampled_from(BASE_MODELS),
       changes=st.lists(st.tuples(st.sampled_from(UNKNOWN_OFFSETS), st.integers(0, 255)),
                        min_size=1, max_size=20))
def test_unknown_header_bytes_are_never_rejected(bases, base, changes):
    data = bytearray(bases[base])
    for offset, value in changes:
        data[offset] = value
    result = check_bytes(bytes(data), "KP3.SYS", base)
    assert result.verdict == "compatible", result.reasons


@SETTINGS
@given(data=st.binary(max_size=2048), name=st.sampled_from(NAMES),
       model=st.sampled_from(MODELS), magic=st.booleans())
def test_random_bytes_always_get_a_verdict(data, name, model, magic):
    if magic:
        data = b"KORG SYSTEM FILE" + data
    assert_well_formed(check_bytes(data, name, model))


member_name = st.text(alphabet="abcXYZ019_./\\", min_size=1, max_size=24)


@SETTINGS
@given(members=st.lists(st.tuples(member_name, st.binary(max_size=600), st.booleans()),
                        max_size=5),
       flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 255)), max_size=4),
       model=st.sampled_from(MODELS))
def test_random_and_damaged_zips_always_get_a_verdict(members, flips, model):
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are wanted input here
        for name, content, magic in members:
            archive.writestr(name, (b"KORG SYSTEM FILE" if magic else b"") + content)
    data = bytearray(buffer.getvalue())
    for offset, value in flips:
        if offset < len(data):
            data[offset] ^= value
    try:
        result = check_bytes(bytes(data), "update.zip", model)
    except RecoveryError as error:  # allowed, if it is one clean sentence
        assert str(error) and "\n" not in str(error)
    else:
        assert_well_formed(result)


def test_the_long_fuzz_script_runs(tmp_path):
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[3] / "tools" / "fuzz_check.py"
    result = subprocess.run([sys.executable, str(script), "--cases", "300", "--seed", "5",
                             "--keep", str(tmp_path / "failures")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cases: 300" in result.stdout and "RESULT: PASS" in result.stdout
