"""Benchmarks import project names inside functions too; a rename must not leave one broken until it is next run."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
PROJECT = ("crawler", "matching", "pipelines", "spiders")


def project_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) for every `from <project module> import name` anywhere in the file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in PROJECT:
                out.extend((node.lineno, node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            out.extend((node.lineno, a.name, "") for a in node.names if a.name.split(".")[0] in PROJECT)
    return out


def unresolved(path: Path) -> list[str]:
    missing = []
    for line, module, name in project_imports(path):
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{path.name}:{line}: {module} ({exc})")
            continue
        if name and not hasattr(mod, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{path.name}:{line}: {module}.{name}")
    return missing


@pytest.mark.parametrize("path", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_every_project_name_a_benchmark_imports_exists(path: Path) -> None:
    assert unresolved(path) == []


def test_a_renamed_name_is_reported(tmp_path: Path) -> None:
    bench = tmp_path / "broken.py"
    bench.write_text("def serve():\n    from crawler.offline.server import CorpusServer, _NoSuchHandler\n")
    assert unresolved(bench) == ["broken.py:2: crawler.offline.server._NoSuchHandler"]
