"""The layers' requirements pin the same versions as pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"unpinned requirement {line!r}"
            pins[re.sub(r"\[.*\]", "", name).lower()] = version
    return pins


def test_layer_requirements_match_the_project_pins() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pinned = _pins(project["project"]["dependencies"])
    seen: set[str] = set()
    for requirements in sorted((REPO / "layers").glob("*/requirements.txt")):
        layer = _pins(requirements.read_text(encoding="utf-8").splitlines())
        for name, version in layer.items():
            assert pinned.get(name) == version, f"{requirements}: {name}=={version}"
            assert name not in seen, f"{name} is shipped by two layers"
            seen.add(name)
    # Every runtime dependency that a function needs ships in a layer; the rest is local tooling.
    local_only = {"tqdm", "pyyaml"}
    assert set(pinned) - seen == local_only
