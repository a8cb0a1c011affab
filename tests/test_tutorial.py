"""docs/tutorial.md cannot go stale: every file and `file:function` it names still exists."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = (ROOT / "docs" / "tutorial.md").read_text()
# `chat/handlers.py:ChatSocket.on_message`, `static/socket.js:send`, `chat/lua/append.lua`
NAMED = re.compile(r"`((?:chat|static)/[\w/]+\.(?:py|js|lua)|run\.py)(?::([\w.]+))?`")


def python_names(path: Path) -> set[str]:
    """Return every function and class of a module, methods as Class.method."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
            names.update(f"{node.name}.{item.name}" for item in node.body
                         if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return names


def javascript_names(path: Path) -> set[str]:
    """Return every function a page module declares."""
    return set(re.findall(r"^(?:export\s+)?(?:async\s+)?function\s+(\w+)", path.read_text(), re.M))


REFERENCES = sorted(set(NAMED.findall(TUTORIAL)))


def test_the_tutorial_names_the_whole_journey():
    """The tutorial names files and functions (so the check below has something to check)."""
    assert len([name for _, name in REFERENCES if name]) >= 25


@pytest.mark.parametrize(
    "path, name", REFERENCES, ids=[":".join(reference).rstrip(":") for reference in REFERENCES]
)
def test_every_file_and_function_the_tutorial_names_exists(path, name):
    """A renamed or removed function makes this fail: mend the tutorial with the code."""
    file = ROOT / path
    assert file.is_file(), f"docs/tutorial.md names {path}, which does not exist"
    if name:
        names = python_names(file) if path.endswith(".py") else javascript_names(file)
        assert name in names, f"docs/tutorial.md names {path}:{name}, which does not exist"
