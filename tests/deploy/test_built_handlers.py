"""The SAM build imported the way Lambda imports it: python3.12, the build and nothing else.

Each function runs in a fresh python3.12 with only its code folder and its layers on
``sys.path`` (no site-packages, no user site), only the environment the template
gives it plus the runtime's variables, and the image mounted read-only where the
machine allows. A requirement missing from a layer fails here, not in AWS.
"""

from __future__ import annotations

import json

import lambdasim
import pytest

FUNCTIONS = ("IngestFunction", "SummarizeFunction", "PublishFunction")

# What each function imports on first use besides its handler: modules or packages
# (walked whole), and every module their source imports, in functions included.
FIRST_USE = {
    "IngestFunction": ("paperdigest.pipeline.ingest", "paperdigest.sources"),
    "SummarizeFunction": (
        "paperdigest.pipeline.summarize",
        "paperdigest.engines",
        "paperdigest.summarize",
    ),
    "PublishFunction": ("paperdigest.pipeline.publish", "paperdigest.render"),
}

# Distributions a function may ship in two places. None: the Lambda runtime's own
# boto3/botocore are shadowed by CoreLayer's on purpose, but the runtime is no part
# of the build, so that is not a second copy here.
SHIPPED_TWICE_ON_PURPOSE: frozenset[str] = frozenset()

# Runs inside the image with the standard library only. Prints what failed to import.
PROBE = r"""
import ast, importlib, importlib.util, json, pkgutil, sys

handler_module, _, handler_name = sys.argv[1].rpartition(".")
failures = {}


def load(name):
    try:
        return importlib.import_module(name)
    except Exception as exc:
        failures[name] = f"{type(exc).__name__}: {exc}"
        return None


def imports_in(module):
    # Every module the source names in an import, lazy ones included, but not the
    # ones under `if TYPE_CHECKING:`.
    path = getattr(module, "__file__", "") or ""
    if not path.endswith(".py"):
        return
    package = module.__package__ or ""
    todo = [ast.parse(open(path, encoding="utf-8").read())]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from ((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = importlib.util.resolve_name("." * node.level + base, package)
            yield from ((base, alias.name) for alias in node.names)
        todo.extend(ast.iter_child_nodes(node))


handler = getattr(load(handler_module), handler_name, None)
if not callable(handler):
    failures.setdefault(handler_module, f"no callable {handler_name}")

modules = []
for name in sys.argv[2:]:
    module = load(name)
    if module is None:
        continue
    modules.append(module)
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), name + "."):
        modules.append(load(info.name))
for module in filter(None, modules):
    for base, attribute in imports_in(module):
        parent = load(base)
        if parent is not None and attribute and not hasattr(parent, attribute):
            load(f"{base}.{attribute}")

print(json.dumps({"failures": failures, "modules": len(sys.modules)}))
"""


@pytest.mark.parametrize("name", FUNCTIONS)
def test_handler_and_first_use_import_from_the_build_alone(
    name: str, images: dict[str, lambdasim.Image]
) -> None:
    # Given the function's image as Lambda would extract it
    image = images[name]
    before = list(lambdasim.snapshot(image.root))

    # When python3.12 imports the handler, then what the first invocation loads
    result = lambdasim.run(image, ["-c", PROBE, image.function.handler, *FIRST_USE[name]])

    # Then everything imports, from the image alone, and nothing was written into it
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["failures"] == {}
    assert list(lambdasim.snapshot(image.root)) == before


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_with_its_layers_fits_lambdas_unzipped_limit(
    name: str, built: dict[str, lambdasim.BuiltFunction]
) -> None:
    size = sum(lambdasim.tree_size(folder) for folder in built[name].folders())

    assert size < lambdasim.UNZIPPED_LIMIT, f"{name}: {size / 2**20:.1f} MB unzipped"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_no_distribution_is_shipped_twice(
    name: str, built: dict[str, lambdasim.BuiltFunction]
) -> None:
    seen: dict[str, str] = {}
    twice = []
    for folder in built[name].folders():
        for dist in lambdasim.distributions(folder).values():
            if dist.name in seen and dist.name not in SHIPPED_TWICE_ON_PURPOSE:
                twice.append(f"{dist.name}: {seen[dist.name]} and {folder.parent.name}")
            seen[dist.name] = folder.parent.name if folder.name == "python" else folder.name

    assert twice == []


@pytest.mark.parametrize("name", FUNCTIONS)
def test_build_ships_bytecode_that_needs_no_file_times(
    name: str, built: dict[str, lambdasim.BuiltFunction]
) -> None:
    # Lambda's code folders are read-only: bytecode not shipped is compiled again on
    # every cold start. Unchecked-hash .pyc stay valid whatever times the zip keeps.
    code, *layers = built[name].folders()
    sources = [code / "app.py", *(layer / "paperdigest" / "stages.py" for layer in layers[:1])]

    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        assert pyc.is_file(), f"{pyc} missing: run `make build`, not bare `sam build`"
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b01, f"{pyc}: flags {flags:#04b}, want unchecked-hash"


XRAY_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules if m.startswith("aws_xray")})))
"""


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_xray_sdk_is_imported_only_with_tracing_on(
    name: str, images: dict[str, lambdasim.Image]
) -> None:
    image = images[name]
    module = image.function.handler.rpartition(".")[0]
    # As the template deploys it by default: tracing off
    off = lambdasim.run(image, ["-c", XRAY_PROBE, module])
    # As EnableTracing=true deploys it
    on = lambdasim.run(image, ["-c", XRAY_PROBE, module], {"POWERTOOLS_TRACE_DISABLED": "false"})

    assert off.returncode == 0 and on.returncode == 0, off.stderr[-2000:] + on.stderr[-2000:]
    assert image.environment()["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert json.loads(off.stdout.splitlines()[-1]) == []
    assert json.loads(on.stdout.splitlines()[-1]) == ["aws_xray_sdk"]
