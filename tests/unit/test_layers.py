"""The layers are where their names say: SQL only in db/, no module a newcomer cannot hold in
their head, no process-wide side effect in the domain."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "omniorder"
MODULES = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)
#: SQLAlchemy's statement builders: whoever imports them writes SQL.
SQL_BUILDERS = {"select", "insert", "update", "delete", "text", "func", "tuple_", "bindparam"}


def rel(path: Path) -> str:
    return str(path.relative_to(SRC.parent))


def outside(folder: str) -> list[Path]:
    return [p for p in MODULES if p.relative_to(SRC).parts[0] != folder]


@pytest.mark.parametrize("path", outside("db"), ids=rel)
def test_no_sql_outside_the_repositories(path: Path) -> None:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = {a.name for a in node.names}
            if node.module == "omniorder.db" and "tables" in names:
                found.append(f"line {node.lineno}: imports the tables")
            if node.module.startswith("omniorder.db.tables"):
                found.append(f"line {node.lineno}: imports the tables")
            if node.module.split(".")[0] == "sqlalchemy" and names & SQL_BUILDERS:
                found.append(f"line {node.lineno}: imports {sorted(names & SQL_BUILDERS)}")
        if isinstance(node, ast.Attribute) and node.attr == "conn":
            found.append(f"line {node.lineno}: uses a connection")
    assert found == []


@pytest.mark.parametrize("path", MODULES, ids=rel)
def test_every_module_stays_under_450_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 450


@pytest.mark.parametrize("path", [p for p in MODULES if "domain" in p.parts], ids=rel)
def test_the_domain_does_no_io_and_redirects_nothing(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        if isinstance(node, ast.Attribute) and node.attr in {"dup", "dup2"}:
            pytest.fail(f"{rel(path)} line {node.lineno}: redirects a file descriptor")
    assert imported.isdisjoint({"sqlalchemy", "fastapi", "starlette", "httpx", "psycopg"})
