"""Read ``template.yaml`` into what the local stack needs to mirror it.

Only the parts the local stack uses are resolved (``Ref``, ``Fn::GetAtt``,
``Fn::Sub``, ``Fn::If`` with simple conditions); anything else is an error, so
the template cannot grow a construct that local runs silently ignore.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from paperdigest.errors import ConfigError

NO_VALUE = object()


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that turns CloudFormation short tags into their long form."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template; raise ``ConfigError`` when it cannot be read."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read template {path}: {exc}") from exc
    if not isinstance(data, dict) or "Resources" not in data:
        raise ConfigError(f"{path} is not a CloudFormation template")
    return data


@dataclass(slots=True)
class SqsSource:
    """An SQS event source mapping of a function."""

    queue: str
    batch_size: int
    max_concurrency: int
    report_failures: bool


@dataclass(slots=True)
class FunctionSpec:
    """What the local runner needs of one function."""

    name: str
    code_uri: str
    handler: str
    timeout: int
    environment: dict[str, Any] = field(default_factory=dict)
    schedule: str | None = None
    sqs: SqsSource | None = None
    rule_bus: str | None = None
    rule_pattern: dict[str, Any] | None = None


class Resolver:
    """Evaluates intrinsic functions against local physical names and parameter values."""

    def __init__(
        self,
        template: dict[str, Any],
        stack: str,
        names: dict[str, str],
        attributes: dict[tuple[str, str], str],
        parameters: dict[str, str],
    ) -> None:
        self._template = template
        self._stack = stack
        self._names = names
        self._attributes = attributes
        self._parameters = parameters

    def parameter(self, name: str) -> str:
        if name in self._parameters:
            return self._parameters[name]
        spec = self._template.get("Parameters", {}).get(name)
        if spec is None:
            raise ConfigError(f"template has no parameter {name}")
        return str(spec.get("Default", ""))

    def condition(self, name: str) -> bool:
        return bool(self.value(self._template["Conditions"][name]))

    def value(self, node: Any) -> Any:
        """Return ``node`` with every intrinsic function evaluated."""
        if isinstance(node, list):
            return [v for v in (self.value(n) for n in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            key, arg = next(iter(node.items()))
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                return self._attributes[(arg[0], arg[1])]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::If":
                return self.value(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Fn::Equals":
                return self.value(arg[0]) == self.value(arg[1])
            if key.startswith("Fn::"):
                raise ConfigError(f"the local stack cannot evaluate {key}")
        resolved = {k: self.value(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name == "AWS::StackName":
            return self._stack
        if name == "AWS::Region":
            return "us-east-1"
        if name in self._names:
            return self._names[name]
        return self.parameter(name)

    def _sub(self, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            ref = match.group(1)
            if "." in ref:
                logical, attribute = ref.split(".", 1)
                return self._attributes[(logical, attribute)]
            return str(self._ref(ref))

        return re.sub(r"\$\{([^}]+)\}", replace, text)


def functions(template: dict[str, Any], resolver: Resolver) -> dict[str, FunctionSpec]:
    """Describe every ``AWS::Serverless::Function`` with Globals applied."""
    globals_ = template.get("Globals", {}).get("Function", {})
    specs: dict[str, FunctionSpec] = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        env = dict(resolver.value(globals_.get("Environment", {}).get("Variables", {})))
        env.update(resolver.value(props.get("Environment", {}).get("Variables", {})))
        spec = FunctionSpec(
            name=name,
            code_uri=props["CodeUri"],
            handler=props.get("Handler", globals_.get("Handler", "app.handler")),
            timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
            environment={k: str(v) for k, v in env.items()},
        )
        for event in props.get("Events", {}).values():
            _apply_event(spec, event, resolver)
        specs[name] = spec
    return specs


def _apply_event(spec: FunctionSpec, event: dict[str, Any], resolver: Resolver) -> None:
    kind, props = event["Type"], event.get("Properties", {})
    if kind == "Schedule":
        spec.schedule = str(resolver.value(props["Schedule"]))
    elif kind == "SQS":
        scaling = props.get("ScalingConfig", {})
        spec.sqs = SqsSource(
            queue=_logical(props["Queue"]),
            batch_size=int(props.get("BatchSize", 10)),
            max_concurrency=int(scaling.get("MaximumConcurrency", 1000)),
            report_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
        )
    elif kind == "EventBridgeRule":
        spec.rule_bus = str(resolver.value(props.get("EventBusName", "default")))
        spec.rule_pattern = props["Pattern"]
    else:
        raise ConfigError(f"the local stack cannot drive {kind} events")


def _logical(node: Any) -> str:
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        return str(node["Fn::GetAtt"][0])
    if isinstance(node, dict) and "Ref" in node:
        return str(node["Ref"])
    raise ConfigError(f"cannot tell which resource {node!r} names")


def pattern_json(pattern: dict[str, Any]) -> str:
    """The event pattern as EventBridge takes it."""
    return json.dumps(pattern, sort_keys=True)
