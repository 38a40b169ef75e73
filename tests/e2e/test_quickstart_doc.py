"""docs/quickstart.md works as written: its `sh` blocks, run in order by bash against the real server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from simulator.testing import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "docs" / "quickstart.md"


def sh_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.S | re.M)


def test_the_quickstart_runs_from_top_to_bottom(gosim_server, tmp_path):
    missing = [tool for tool in ("bash", "curl", "jq", "openssl") if shutil.which(tool) is None]
    assert not missing, f"the quickstart needs {missing}"
    blocks = sh_blocks(QUICKSTART.read_text(encoding="utf-8"))
    assert len(blocks) >= 10
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "GOSIM": gosim_server.url, "HOOK_PORT": str(free_port())}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(blocks)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    out = result.stdout
    assert result.returncode == 0, f"{out[-3000:]}\n--- stderr ---\n{result.stderr[-3000:]}"
    assert "idempotent-replayed: true" in out.lower()
    assert '"status":"paid","amount_due":0' in out
    assert '{"status":"cancelled"' in out and '"code":"PAYMENT_STATE_CONFLICT"' in out
    for event in ("payment.created", "payment.succeeded", "payment.cancelled"):
        assert re.search(rf"^{re.escape(event)} evt_[0-9a-f]{{32}}: signature ok$", out, re.M), out
    assert "BAD SIGNATURE" not in out
    assert re.search(r"^503$", out, re.M)  # the portal-outage preset
