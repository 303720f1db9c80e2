"""The SAM build as Lambda sees it: each function's code, its layers, its environment.

An image is what one function's sandbox holds: its code folder as ``task`` and its
layers extracted into one ``opt/python`` in the template's order, a later layer
overwriting an earlier one as Lambda does under ``/opt``. ``run`` starts python3.12
on an image with nothing else on ``sys.path`` (no site-packages, no user site), the
environment the template gives the function plus what the runtime sets (fake
credentials), and the image mounted read-only where the machine allows a private
mount namespace.

Needs PyYAML and packaging; both are in the dev venv and in the tools venv.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
BUILD_DIR = REPO / ".aws-sam" / "build"
PYTHON312_CANDIDATES = ("/root/.pyenv/versions/3.12.1/bin/python3.12", "python3.12")
UNZIPPED_LIMIT = 250 * 1024 * 1024
REGION = "us-east-1"

# What the python3.12 runtime sets besides the function's own variables (fake values).
RUNTIME_ENV = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}

# Mounts the image read-only in a private mount namespace, then runs the command.
_READ_ONLY = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"'


class BuildMissing(RuntimeError):
    """There is no SAM build output, or no python3.12 to run it with."""


@functools.cache
def python312() -> str:
    """Path of a python3.12 interpreter; raise ``BuildMissing`` when there is none."""
    override = os.environ.get("PYTHON312")
    for candidate in ([override] if override else []) + list(PYTHON312_CANDIDATES):
        found = shutil.which(candidate)
        if found:
            return found
    raise BuildMissing(
        "no python3.12: install it or set PYTHON312 (Lambda's runtime is python3.12)"
    )


@dataclass(frozen=True, slots=True)
class BuiltFunction:
    """One function of the built template."""

    name: str
    handler: str
    layers: tuple[str, ...]
    environment: dict[str, str]
    memory_mb: int

    def folders(self, build_dir: Path = BUILD_DIR) -> list[Path]:
        """The code folder, then each layer's ``python`` folder, in extraction order."""
        return [build_dir / self.name, *(build_dir / layer / "python" for layer in self.layers)]


def read_template(build_dir: Path = BUILD_DIR) -> dict[str, Any]:
    """The built template (``sam build`` writes it with long-form intrinsics)."""
    path = build_dir / "template.yaml"
    if not path.is_file():
        raise BuildMissing(f"no SAM build at {build_dir}; run `make build`")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _refs(items: Sequence[Any]) -> tuple[str, ...]:
    return tuple(str(item["Ref"]) for item in items if isinstance(item, dict) and "Ref" in item)


def global_layers(template: dict[str, Any]) -> tuple[str, ...]:
    """Layers every function gets from ``Globals``."""
    return _refs(template.get("Globals", {}).get("Function", {}).get("Layers", []))


def built_functions(build_dir: Path = BUILD_DIR) -> dict[str, BuiltFunction]:
    """Every function of the built template, with Globals applied.

    Environment values are resolved with fake physical names, the way the local
    stack resolves them, so each function sees exactly the variables it is given.
    """
    from paperdigest.local.template import Resolver, functions

    template = read_template(build_dir)
    names = {logical: f"fake-{logical.lower()}" for logical in template["Resources"]}
    resolver = Resolver(template, "fake", names, _FakeAttributes(), {})
    specs = functions(template, resolver)
    globals_ = template.get("Globals", {}).get("Function", {})
    built = {}
    for name, spec in specs.items():
        props = template["Resources"][name]["Properties"]
        layers = global_layers(template) + _refs(props.get("Layers", []))
        memory = int(props.get("MemorySize", globals_.get("MemorySize", 128)))
        built[name] = BuiltFunction(name, spec.handler, layers, spec.environment, memory)
    return built


class _FakeAttributes(dict[tuple[str, str], str]):
    def __missing__(self, key: tuple[str, str]) -> str:
        return f"fake-{key[0].lower()}-{key[1].lower()}"


# --- what a folder ships -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Distribution:
    """An installed distribution: its ``*.dist-info`` folder in a layer or code folder."""

    name: str
    version: str
    path: Path

    def metadata(self) -> Any:
        text = (self.path / "METADATA").read_text(encoding="utf-8", errors="replace")
        return HeaderParser().parsestr(text)

    def files(self) -> list[Path]:
        """Files the distribution installed, from its RECORD."""
        record = self.path / "RECORD"
        if not record.is_file():
            return []
        root = self.path.parent
        return [
            root / line.split(",", 1)[0]
            for line in record.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]


def distributions(folder: Path) -> dict[str, Distribution]:
    """Distributions installed in ``folder``, by canonical name."""
    found = {}
    for info in sorted(folder.glob("*.dist-info")):
        headers = HeaderParser().parsestr(
            (info / "METADATA").read_text(encoding="utf-8", errors="replace")
        )
        name = canonicalize_name(headers["Name"])
        found[name] = Distribution(name, headers["Version"], info)
    return found


def tree_size(folder: Path) -> int:
    """Bytes of every file under ``folder`` (the unzipped size Lambda counts)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


# --- images ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Image:
    """A function's sandbox on disk: ``task`` and ``opt/python`` under ``root``."""

    root: Path
    task: Path
    opt: Path
    function: BuiltFunction

    def environment(self) -> dict[str, str]:
        return {
            **RUNTIME_ENV,
            **self.function.environment,
            "AWS_LAMBDA_FUNCTION_NAME": self.function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.function.memory_mb),
            "LAMBDA_TASK_ROOT": str(self.task),
            "PYTHONPATH": f"{self.task}:{self.opt}",
        }


def assemble(
    function: BuiltFunction, dest: Path, build_dir: Path = BUILD_DIR, bytecode: bool = True
) -> Image:
    """Copy a function and its layers into ``dest``; without ``bytecode``, drop ``.pyc``."""
    ignore = None if bytecode else shutil.ignore_patterns("__pycache__", "*.pyc")
    # NOTE: hard links are as good as copies when the image is mounted read-only, and
    # much faster (the publish image is about 200 MB).
    place = _link if read_only_mounts() else shutil.copy2
    task, opt = dest / "task", dest / "opt" / "python"
    code, *layers = function.folders(build_dir)
    shutil.copytree(code, task, ignore=ignore, symlinks=True, copy_function=place)
    opt.mkdir(parents=True)
    for layer in layers:
        shutil.copytree(
            layer, opt, ignore=ignore, symlinks=True, dirs_exist_ok=True, copy_function=place
        )
    return Image(dest, task, opt, function)


def _link(source: str, target: str) -> None:
    """Hard-link ``source`` at ``target``, replacing what an earlier layer put there."""
    if os.path.lexists(target):
        os.unlink(target)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@functools.cache
def read_only_mounts() -> bool:
    """Whether this machine lets ``run`` mount an image read-only (a mount namespace)."""
    if shutil.which("unshare") is None:
        return False
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe"
        subprocess.run(
            ["unshare", "-m", "sh", "-c", _READ_ONLY, "sh", folder, "touch", str(probe)],
            capture_output=True,
            check=False,
        )
        worked = subprocess.run(
            ["unshare", "-m", "sh", "-c", _READ_ONLY, "sh", folder, "true"],
            capture_output=True,
            check=False,
        )
        return worked.returncode == 0 and not probe.exists()


def command(image: Image, argv: Sequence[str]) -> list[str]:
    """``python3.12 -s -S argv`` on ``image``, read-only where possible."""
    python = [python312(), "-s", "-S", *argv]
    if read_only_mounts():
        return ["unshare", "-m", "sh", "-c", _READ_ONLY, "sh", str(image.root), *python]
    # NOTE: without a mount namespace only -B keeps Python from writing bytecode;
    # as root a chmod would not stop it. Tests compare the tree before and after.
    return [python[0], "-B", *python[1:]]


def run(
    image: Image, argv: Sequence[str], extra_env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run python3.12 with ``argv`` in ``image`` as the function's runtime would."""
    return subprocess.run(
        command(image, argv),
        env={**image.environment(), **(extra_env or {})},
        cwd=image.task,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def snapshot(folder: Path) -> Iterator[tuple[str, int]]:
    """(relative path, size) of every file under ``folder``, to tell whether it changed."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield str(path.relative_to(folder)), path.stat().st_size
