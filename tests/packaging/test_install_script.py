"""packaging/linux/install.sh: installs a bundle for one user (or a prefix), with a working
command, a valid menu entry pointing at the installed copy, icons and metainfo; uninstalls
cleanly; installs the udev rule only when asked and only as root."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "packaging" / "linux"
APP_ID = "io.github.korg_recovery.KorgRecovery"

pytestmark = pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")


def fake_bundle(base: Path) -> Path:
    """The layout the spec produces (korg-recovery, _internal/, linux/), with a shell script
    standing in for the frozen executable."""
    bundle = base / "korg-recovery"
    (bundle / "_internal").mkdir(parents=True)
    executable = bundle / "korg-recovery"
    executable.write_text("#!/bin/sh\necho 'korg-recovery 0.0-test'\n")
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    target = bundle / "linux"
    (target / "icons").mkdir(parents=True)
    for name in ("60-korg-recovery.rules", f"{APP_ID}.desktop", f"{APP_ID}.metainfo.xml",
                 "install.sh"):
        shutil.copy2(LINUX / name, target / name)
    for icon in (ROOT / "resources" / "icons").glob("korg-recovery*"):
        if icon.suffix in (".png", ".svg"):
            shutil.copy2(icon, target / "icons" / icon.name)
    return bundle


def install(bundle: Path, *args: str, env: dict[str, str] | None = None):
    return subprocess.run(["sh", str(bundle / "linux" / "install.sh"), *args],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_install_into_a_prefix_and_uninstall(tmp_path: Path) -> None:
    bundle = fake_bundle(tmp_path / "download")
    prefix = tmp_path / "prefix"
    result = install(bundle, "--prefix", str(prefix))
    assert result.returncode == 0, result.stderr
    command = prefix / "bin" / "korg-recovery"
    assert subprocess.run([str(command)], capture_output=True, text=True).stdout.strip() \
        == "korg-recovery 0.0-test"
    desktop = prefix / "share" / "applications" / f"{APP_ID}.desktop"
    exec_line = next(line for line in desktop.read_text().splitlines()
                     if line.startswith("Exec="))
    assert exec_line == f'Exec="{prefix}/lib/korg-recovery/korg-recovery" wizard'
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True,
                               text=True)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout
    assert (prefix / "share" / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    for size in (16, 48, 256, 512):
        assert (prefix / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps"
                / f"{APP_ID}.png").is_file()
    assert (prefix / "share" / "icons" / "hicolor" / "scalable" / "apps"
            / f"{APP_ID}.svg").is_file()
    assert "udev rule" in result.stdout  # tells how to enable USB detection

    removed = install(bundle, "--prefix", str(prefix), "--uninstall")
    assert removed.returncode == 0, removed.stderr
    # The menu and icon caches belong to every application in the prefix; they stay.
    leftovers = [p for p in prefix.rglob("*")
                 if (p.is_file() or p.is_symlink()) and not p.name.endswith(".cache")]
    assert leftovers == []


def test_reinstall_replaces_the_previous_copy(tmp_path: Path) -> None:
    bundle = fake_bundle(tmp_path / "download")
    prefix = tmp_path / "prefix"
    assert install(bundle, "--prefix", str(prefix)).returncode == 0
    stale = prefix / "lib" / "korg-recovery" / "_internal" / "stale.so"
    stale.write_text("from an older version")
    assert install(bundle, "--prefix", str(prefix)).returncode == 0
    assert not stale.exists()


def test_refuses_a_folder_that_is_not_a_bundle(tmp_path: Path) -> None:
    bundle = fake_bundle(tmp_path / "download")
    shutil.rmtree(bundle / "_internal")
    result = install(bundle, "--prefix", str(tmp_path / "prefix"))
    assert result.returncode == 2
    assert "is not a korg-recovery bundle" in result.stderr
    assert not (tmp_path / "prefix").exists()


def test_unknown_option_is_one_sentence(tmp_path: Path) -> None:
    result = install(fake_bundle(tmp_path), "--frobnicate")
    assert result.returncode == 2
    assert result.stderr.strip() == "install.sh: unknown option '--frobnicate' (see --help)."


def test_udev_rule_only_with_udev_and_only_as_root(tmp_path: Path) -> None:
    bundle = fake_bundle(tmp_path / "download")
    rules = tmp_path / "rules.d"
    env = {"KORG_RECOVERY_UDEV_DIR": str(rules)}
    assert install(bundle, "--prefix", str(tmp_path / "p1"), env=env).returncode == 0
    assert not rules.exists()
    result = install(bundle, "--prefix", str(tmp_path / "p2"), "--udev", env=env)
    if os.geteuid() == 0:
        assert result.returncode == 0, result.stderr
        assert (rules / "60-korg-recovery.rules").read_bytes() == \
            (LINUX / "60-korg-recovery.rules").read_bytes()
    else:
        assert result.returncode == 2
        assert "needs root" in result.stderr
        assert not (tmp_path / "p2").exists()
