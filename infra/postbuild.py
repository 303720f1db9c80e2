"""Finish a ``sam build``: ship each distribution once, and ship it compiled.

1. Every function gets the ``Globals`` layers (CoreLayer) first. ``sam build``
   resolves each layer's requirements on its own, so a later layer ships its own
   copy of what CoreLayer already has (pydantic under openai, python-dateutil under
   matplotlib), sometimes at another version, and Lambda would extract one copy over
   the other in ``/opt/python``. The later copy is removed when CoreLayer's version
   satisfies every remaining requirement in that layer; otherwise the build fails
   and names the conflict, to be fixed in the requirements files.
2. ``sam build`` ships no bytecode, and Lambda's ``/var/task`` and ``/opt`` are
   read-only, so every cold start would compile every module it imports. The build
   is compiled with python3.12 in ``unchecked-hash`` mode: the ``.pyc`` files do not
   depend on file times, which the zip and the extraction do not keep exactly.

Usage: ``postbuild.py --python PYTHON312 [BUILD_DIR]``; run with the tools venv.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from lambdasim import (
    BUILD_DIR,
    Distribution,
    distributions,
    global_layers,
    read_template,
    tree_size,
)
from packaging.requirements import Requirement
from packaging.version import Version

MARKER_ENV = {"python_version": "3.12", "python_full_version": "3.12.0", "extra": ""}


class ConflictError(RuntimeError):
    """A layer needs a version of a distribution that CoreLayer does not ship."""


def shipped_folders(build_dir: Path, template: dict[str, object]) -> list[Path]:
    """Every function's code folder and every layer's ``python`` folder of the build."""
    resources = template["Resources"]
    assert isinstance(resources, dict)
    folders = []
    for logical, resource in resources.items():
        kind = resource["Type"]
        if kind == "AWS::Serverless::Function":
            folders.append(build_dir / logical)
        elif kind == "AWS::Serverless::LayerVersion":
            folders.append(build_dir / logical / "python")
    return [f for f in folders if f.is_dir()]


def unmet(kept: Distribution, others: dict[str, Distribution]) -> list[str]:
    """Requirements on ``kept.name`` in ``others`` that ``kept``'s version does not meet."""
    problems = []
    for other in others.values():
        for line in other.metadata().get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if requirement.name.lower().replace("_", "-") != kept.name:
                continue
            if requirement.marker and not requirement.marker.evaluate(MARKER_ENV):
                continue
            if not requirement.specifier.contains(Version(kept.version), prereleases=True):
                problems.append(f"{other.name} needs {requirement}, CoreLayer has {kept.version}")
    return problems


def remove(dist: Distribution, keep: set[Path]) -> None:
    """Delete the files a distribution installed (but none that ``keep`` names)."""
    root = dist.path.parent
    for path in dist.files():
        if path.resolve() not in keep and path.is_file():
            path.unlink()
    shutil.rmtree(dist.path, ignore_errors=True)
    for folder in sorted({p.parent for p in dist.files()}, key=lambda p: -len(p.parts)):
        while folder != root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def prune(folder: Path, core: dict[str, Distribution]) -> list[str]:
    """Remove from ``folder`` what CoreLayer ships; return ``name old -> kept`` lines."""
    present = distributions(folder)
    twice = {name: dist for name, dist in present.items() if name in core}
    remaining = {name: dist for name, dist in present.items() if name not in twice}
    problems = [p for name in twice for p in unmet(core[name], remaining)]
    if problems:
        raise ConflictError(f"{folder}: " + "; ".join(problems))

    keep = {p.resolve() for dist in remaining.values() for p in dist.files()}
    for dist in twice.values():
        remove(dist, keep)
    return [f"{name} {twice[name].version} -> {core[name].version}" for name in sorted(twice)]


def compile_tree(python: str, folders: list[Path]) -> None:
    """Compile every module under ``folders`` with ``python``, replacing older bytecode."""
    for folder in folders:
        for cache in folder.rglob("__pycache__"):
            shutil.rmtree(cache)
    # Some distributions ship files that are not valid Python 3.12 (templates, tests
    # of other interpreters); those are never imported, so their errors are ignored.
    subprocess.run(
        [
            *(python, "-W", "ignore", "-m", "compileall", "-q", "-q", "-j", "0"),
            *("--invalidation-mode", "unchecked-hash", *map(str, folders)),
        ],
        check=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, help="the python3.12 to compile with")
    parser.add_argument("--no-compile", action="store_true", help="skip the bytecode")
    parser.add_argument("build_dir", nargs="?", type=Path, default=BUILD_DIR)
    args = parser.parse_args(argv)

    template = read_template(args.build_dir)
    core: dict[str, Distribution] = {}
    for layer in global_layers(template):
        core.update(distributions(args.build_dir / layer / "python"))
    shipped = shipped_folders(args.build_dir, template)
    global_folders = {args.build_dir / layer / "python" for layer in global_layers(template)}
    try:
        for folder in shipped:
            if folder in global_folders:
                continue
            for line in prune(folder, core):
                print(f"postbuild: {folder.relative_to(args.build_dir)}: dropped {line}")
    except ConflictError as exc:
        print(f"postbuild: error: {exc}", file=sys.stderr)
        return 1

    if not args.no_compile:
        compile_tree(args.python, shipped)
    for folder in shipped:
        size = tree_size(folder) / 2**20
        print(f"postbuild: {folder.relative_to(args.build_dir)}: {size:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
