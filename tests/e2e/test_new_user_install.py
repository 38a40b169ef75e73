"""As a new user would: a fresh virtualenv, `pip install` of this checkout, a ten-line test with the `gosim` fixture."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]

TEN_LINES = textwrap.dedent('''
    import simulator

    def test_my_bank_sees_the_citizens_fines(gosim):
        assert "site-packages" in simulator.__file__  # the installed package, not the checkout
        tokens = gosim.login("+79160000001")
        r = gosim.client.get("/api/v1/fines", headers=gosim.auth(tokens["access_token"]))
        assert r.status_code == 200
        assert [f["amount_due"] for f in r.json()["items"]] == [25000, 50000]
        assert gosim.sms("+79160000001")[0]["code"].isdigit()
''')


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_pip_install_then_a_ten_line_test_with_the_gosim_fixture_passes(tmp_path):
    # Nothing of this checkout or this run may leak in: no PYTHONPATH, no GOSIM_* settings, a directory outside the repo.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GOSIM_", "PYTHON", "PYTEST", "VIRTUAL_ENV"))}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=60)
    python = str(venv / "bin" / "python")
    install = run([python, "-m", "pip", "install", "--quiet", str(ROOT), "pytest"], tmp_path, env, 180)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    project = tmp_path / "my-bank"
    project.mkdir()
    (project / "test_bank.py").write_text(TEN_LINES, encoding="utf-8")
    result = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_bank.py"], project, env, 120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
