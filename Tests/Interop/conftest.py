"""Shared fixtures for the interop tests: where the built programs are."""
import os
import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _bin_dir() -> pathlib.Path:
    d = os.environ.get("COURIER_BIN_DIR")
    if d:
        return pathlib.Path(d)
    return ROOT / ".build" / "debug"


@pytest.fixture(scope="session")
def bin_dir() -> pathlib.Path:
    d = _bin_dir()
    if not (d / "courier").exists():
        pytest.fail(f"no built courier in {d}: run swift build first")
    return d


@pytest.fixture(scope="session")
def shared_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("COURIER_SHARED", ROOT.parent / "shared"))


@pytest.fixture()
def oracle():
    """Debian's Courier tools (package maildrop), for side-by-side checks."""
    if not shutil.which("reformail") or not os.path.exists("/usr/bin/reformime"):
        pytest.fail("Debian's maildrop package is not installed (Scripts/test installs it)")
    return pathlib.Path("/usr/bin")
