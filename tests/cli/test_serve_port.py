"""`omniorder serve` on a port another program holds: one line saying so, a non-zero exit code,
no traceback, and no server started."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omniorder.cli import app

runner = CliRunner()
IN_USE = re.compile(
    r"omniorder: cannot listen on 127\.0\.0\.1:(\d+): the port is in use "
    r"\(choose another: make demo PORT=(\d+), or omniorder serve --port (\d+)\)"
)


@pytest.fixture
def migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/serve.db"
    monkeypatch.setenv("OMNIORDER_DATABASE_URL", url)
    monkeypatch.delenv("OMNIORDER_ADMIN_KEY", raising=False)
    monkeypatch.delenv("OMNIORDER_HOST", raising=False)
    monkeypatch.delenv("OMNIORDER_PORT", raising=False)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return url


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port with another program's socket listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def _check_line(stderr: str, port: int) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    match = IN_USE.fullmatch(lines[0])
    assert match is not None, lines[0]
    busy, suggested, suggested_too = (int(g) for g in match.groups())
    assert busy == port
    assert suggested == suggested_too != port


@pytest.mark.timeout(60)
@pytest.mark.parametrize("workers", [1, 2])
def test_serve_on_a_taken_port_says_so_in_one_line(
    migrated: str, taken_port: int, workers: int
) -> None:
    result = runner.invoke(app, ["serve", "--port", str(taken_port), "--workers", str(workers)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not an exception escaping as a traceback
    _check_line(result.stderr, taken_port)
    assert "serving on" not in result.stdout


@pytest.mark.timeout(60)
def test_omniorder_port_from_the_environment_is_the_port_refused(
    migrated: str, taken_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNIORDER_PORT", str(taken_port))
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1, result.output
    _check_line(result.stderr, taken_port)


@pytest.mark.timeout(60)
def test_the_command_exits_with_only_that_line_on_stderr(migrated: str, taken_port: int) -> None:
    env = {**os.environ, "OMNIORDER_DATABASE_URL": migrated}
    done = subprocess.run(
        [sys.executable, "-m", "omniorder.cli", "serve", "--port", str(taken_port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    _check_line(done.stderr, taken_port)
