"""The SAM template: linted with the SAM transform, and mirrored by the local stack."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from paperdigest.local.template import Resolver, functions, load_template

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"


def _cfn_lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    assert exe, "cfn-lint is a dev dependency"
    return subprocess.run([exe, *map(str, paths)], capture_output=True, text=True, check=False)


def test_template_passes_cfn_lint() -> None:
    result = _cfn_lint(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr


SEEDED_ERRORS = {
    "batch-failures": ("ReportBatchItemFailures", "ReportBatchItemFailure"),
    "runtime": ("Runtime: python3.12", "Runtime: python3.99"),
    "getatt": ("!GetAtt PapersDLQ.Arn", "!GetAtt PapersDLQ.Nope"),
}


def test_cfn_lint_catches_seeded_errors(tmp_path: Path) -> None:
    # Given copies of the template, each with one seeded error
    text = TEMPLATE.read_text(encoding="utf-8")
    paths = []
    for name, (original, broken) in SEEDED_ERRORS.items():
        assert original in text
        path = tmp_path / f"{name}.yaml"
        path.write_text(text.replace(original, broken, 1), encoding="utf-8")
        paths.append(path)

    # When the pinned cfn-lint (which runs the SAM transform) reads them
    result = _cfn_lint(*paths)

    # Then it reports every one of them
    assert result.returncode != 0
    for path in paths:
        assert str(path) in result.stdout, path.name


def _resolved_functions() -> dict[str, object]:
    template = load_template(TEMPLATE)
    names = {
        "DigestTable": "table",
        "SiteBucket": "bucket",
        "PapersQueue": "queue-url",
        "DigestBus": "bus",
    }
    attributes = {("PapersQueue", "Arn"): "arn", ("PapersDLQ", "Arn"): "dlq-arn"}
    return functions(template, Resolver(template, "stack", names, attributes, {}))  # type: ignore[return-value]


def test_summarize_delivery_settings_hold() -> None:
    # The queue's visibility timeout is at least six times the consumer's timeout,
    # the DLQ takes a message after at least five receives, batches report failures.
    template = load_template(TEMPLATE)
    queue = template["Resources"]["PapersQueue"]["Properties"]
    specs = _resolved_functions()
    summarize = specs["SummarizeFunction"]
    assert queue["VisibilityTimeout"] >= 6 * summarize.timeout  # type: ignore[attr-defined]
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 5
    assert summarize.sqs.report_failures  # type: ignore[attr-defined]
    assert summarize.sqs.max_concurrency >= 2  # type: ignore[attr-defined]
    env = summarize.environment  # type: ignore[attr-defined]
    assert int(env["MAX_RECEIVE_COUNT"]) == queue["RedrivePolicy"]["maxReceiveCount"]
    assert int(env["LEASE_SECONDS"]) >= summarize.timeout  # type: ignore[attr-defined]


def test_each_function_has_its_trigger_and_settings() -> None:
    specs = _resolved_functions()
    assert specs["IngestFunction"].schedule.startswith("cron(")  # type: ignore[attr-defined]
    assert specs["PublishFunction"].schedule == "rate(15 minutes)"  # type: ignore[attr-defined]
    assert specs["SummarizeFunction"].sqs.queue == "PapersQueue"  # type: ignore[attr-defined]
    pattern = specs["PublishFunction"].rule_pattern  # type: ignore[attr-defined]
    assert pattern == {"source": ["paperdigest"], "detail-type": ["DigestReady"]}
    for spec in specs.values():
        env = spec.environment  # type: ignore[attr-defined]
        assert env["TABLE_NAME"] == "table" and env["BUCKET_NAME"] == "bucket"
        assert (REPO / spec.code_uri / "app.py").is_file()  # type: ignore[attr-defined]
    # The API key never sits in the template's environment.
    assert "OPENAI_API_KEY" not in specs["SummarizeFunction"].environment  # type: ignore[attr-defined]


# Each function's policies, by SAM policy template name and the resource it is scoped to.
# Anything else (a new statement, a managed policy, a wildcard) fails the test below.
POLICY_ALLOWLIST = {
    "IngestFunction": {
        ("DynamoDBCrudPolicy", "DigestTable"),
        ("SQSSendMessagePolicy", "PapersQueue"),
    },
    "SummarizeFunction": {
        ("DynamoDBCrudPolicy", "DigestTable"),
        ("SQSSendMessagePolicy", "PapersQueue"),
        ("EventBridgePutEventsPolicy", "DigestBus"),
        ("SSMParameterReadPolicy", "OpenAIApiKeyParameter"),
    },
    "PublishFunction": {
        ("DynamoDBCrudPolicy", "DigestTable"),
        ("S3CrudPolicy", "SiteBucket"),
    },
}


def _scope(value: object) -> str:
    """The logical resource or parameter a policy template's argument names."""
    if isinstance(value, dict):
        for key in ("Ref", "Fn::GetAtt"):
            if key in value:
                target = value[key]
                return str(target[0] if isinstance(target, list) else target).split(".")[0]
    raise AssertionError(f"policy scoped to {value!r}, not to one resource")


def _policies(node: object) -> list[object]:
    """Policies with ``Fn::If`` branches flattened (AWS::NoValue dropped)."""
    if isinstance(node, dict) and "Fn::If" in node:
        return [p for branch in node["Fn::If"][1:] for p in _policies(branch)]
    if isinstance(node, dict) and node.get("Ref") == "AWS::NoValue":
        return []
    return [node]


def test_each_function_has_least_privilege_policies() -> None:
    template = load_template(TEMPLATE)
    functions_ = {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert set(functions_) == set(POLICY_ALLOWLIST)
    for name, props in functions_.items():
        granted = set()
        for entry in (p for raw in props.get("Policies", []) for p in _policies(raw)):
            assert isinstance(entry, dict) and len(entry) == 1, f"{name}: {entry!r}"
            ((policy, arguments),) = entry.items()
            assert isinstance(arguments, dict) and len(arguments) == 1, f"{name}: {policy}"
            granted.add((policy, _scope(next(iter(arguments.values())))))
        assert granted == POLICY_ALLOWLIST[name], name
    assert "Role" not in str(functions_), "functions use their own generated roles"
    assert not list(_wildcard_allows(template)), "no statement may allow every action"


def _wildcard_allows(node: object) -> Iterator[object]:
    """Allow statements whose actions include ``*`` or ``service:*``."""
    if isinstance(node, dict):
        if node.get("Effect") == "Allow":
            actions = node.get("Action", [])
            for action in actions if isinstance(actions, list) else [actions]:
                if str(action) == "*" or str(action).endswith(":*"):
                    yield node
        for value in node.values():
            yield from _wildcard_allows(value)
    elif isinstance(node, list):
        for item in node:
            yield from _wildcard_allows(item)


def test_dead_letters_raise_an_alarm() -> None:
    resources = load_template(TEMPLATE)["Resources"]
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    dlq_alarms = [
        a
        for a in alarms
        if a["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and a["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["PapersDLQ", "QueueName"]}
    ]
    assert dlq_alarms and dlq_alarms[0]["Threshold"] == 0


def test_the_llm_client_gives_up_before_the_function_times_out() -> None:
    from paperdigest.settings import SummarizeSettings
    from paperdigest.summarize.llm import LLMSettings

    # The client's worst case: every attempt times out, with the longest backoff between.
    settings = SummarizeSettings(table_name="t", bucket_name="b")
    client = LLMSettings(api_key="unused")
    worst = settings.llm_timeout_s * settings.llm_max_retries + client.backoff_max_s * (
        settings.llm_max_retries - 1
    )
    summarize = _resolved_functions()["SummarizeFunction"]
    assert worst + client.reserve_ms / 1000 < summarize.timeout  # type: ignore[attr-defined]
    assert settings.lease_seconds >= summarize.timeout  # type: ignore[attr-defined]


def test_tracing_is_off_unless_the_stack_turns_it_on() -> None:
    template = load_template(TEMPLATE)
    names = {"DigestTable": "table", "SiteBucket": "bucket", "PapersQueue": "q", "DigestBus": "b"}
    attributes = {("PapersQueue", "Arn"): "arn", ("PapersDLQ", "Arn"): "dlq-arn"}
    for parameters, disabled in (({}, "true"), ({"EnableTracing": "true"}, "false")):
        resolver = Resolver(template, "stack", names, attributes, parameters)
        for spec in functions(template, resolver).values():
            assert spec.environment["POWERTOOLS_TRACE_DISABLED"] == disabled
        mode = resolver.value(template["Globals"]["Function"]["Tracing"])
        assert mode == ("PassThrough" if disabled == "true" else "Active")
