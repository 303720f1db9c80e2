"""Mistakes a user makes with the CLI get one clear line, and the state stays usable."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import pytest

from paperdigest.cli import main

REPO = Path(__file__).resolve().parents[3]
HF_FILE = REPO / "tests" / "fixtures" / "hf-2024-09-24.json"


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines, "nothing on stderr"
    return lines[-1]


def test_a_damaged_state_file_names_itself_and_the_way_out(tmp_path, capsys) -> None:
    (tmp_path / "state.json").write_text("garbage {{{", encoding="utf-8")

    code = main(["status", "--state", str(tmp_path), "--root", str(REPO)])

    line = _error_line(capsys)
    assert code == 1
    assert line.startswith("error: ") and "state.json" in line and "--fresh" in line


def test_an_out_path_that_is_a_file_is_refused_before_the_run(tmp_path, capsys) -> None:
    out = tmp_path / "afile"
    out.write_text("", encoding="utf-8")

    code = main(["run", "--input", str(HF_FILE), "--out", str(out), "--state", str(tmp_path / "s")])

    assert code == 1
    assert _error_line(capsys) == f"error: --out {out} exists and is not a folder"
    assert not (tmp_path / "s" / "state.json").exists()


@pytest.mark.parametrize("option", ["--out", "--state"])
def test_a_folder_that_cannot_be_made_is_refused_before_the_run(tmp_path, capsys, option) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("", encoding="utf-8")
    folders = {"--out": str(tmp_path / "site"), "--state": str(tmp_path / "s")}
    folders[option] = str(blocker / "sub")

    argv = ["run", "--input", str(HF_FILE), "--root", str(REPO)]
    code = main([*argv, "--out", folders["--out"], "--state", folders["--state"]])

    assert code == 1
    assert (
        _error_line(capsys)
        == f"error: {option} {blocker / 'sub'}: cannot create the folder: Not a directory"
    )
    assert not (tmp_path / "s" / "state.json").exists()


def test_a_second_command_on_the_same_state_is_refused(tmp_path, capsys) -> None:
    # Given another command holding a saved stack's folder
    (tmp_path / "state.json").write_text("{}", encoding="utf-8")
    with (tmp_path / ".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)

        code = main(["status", "--state", str(tmp_path), "--root", str(REPO)])

    assert code == 1
    assert _error_line(capsys) == f"error: another paperdigest command is using {tmp_path}"


def test_a_bad_input_is_named_by_the_path_the_user_gave(tmp_path, capsys) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")

    code = main(["run", "--input", str(empty), "--state", str(tmp_path / "s"), "--root", str(REPO)])

    assert code == 1
    assert _error_line(capsys) == f"error: no source could be read: {empty}: empty body"


def test_inputs_of_different_days_are_named_with_their_days(tmp_path, capsys) -> None:
    rss = next((REPO / "tests" / "fixtures" / "sources" / "rss").rglob("stat_rss2_2024-03-26*"))
    argv = ["run", "--input", str(HF_FILE), "--input", str(rss), "--max-papers", "2"]
    argv += ["--state", str(tmp_path / "s"), "--out", str(tmp_path / "site"), "--root", str(REPO)]

    code = main(argv)

    err = capsys.readouterr().err
    assert code == 0
    warning = next(line for line in err.splitlines() if "different days" in line)
    assert f"{HF_FILE}: 2024-09-24" in warning and f"{rss}: 2024-03-26" in warning
    assert "the digest is dated 2024-09-24" in warning


def test_an_invalid_setting_is_named_before_any_paper_is_queued(
    tmp_path, capsys, monkeypatch
) -> None:
    # Given an LLM timeout that is not a number
    monkeypatch.setenv("LLM_TIMEOUT_S", "abc")
    state = tmp_path / "s"

    code = main(["run", "--input", str(HF_FILE), "--state", str(state), "--root", str(REPO)])

    # Then the run stops with one line naming the variable, and no run was recorded
    assert code == 1
    line = _error_line(capsys)
    assert line.startswith("error: invalid setting: LLM_TIMEOUT_S='abc': ")
    assert "RUN#" not in (state / "state.json").read_text(encoding="utf-8")


def test_a_site_that_cannot_be_written_is_one_error_line(tmp_path, capsys) -> None:
    # Given an --out folder that holds a file where the digests folder goes
    out = tmp_path / "site"
    out.mkdir()
    (out / "digests").write_text("", encoding="utf-8")
    argv = ["run", "--input", str(HF_FILE), "--max-papers", "2", "--out", str(out)]

    code = main([*argv, "--state", str(tmp_path / "s"), "--root", str(REPO)])

    # Then the run ends with one line naming the path and no digest path is printed
    captured = capsys.readouterr()
    assert code == 1
    line = captured.err.strip().splitlines()[-1]
    assert line.startswith("error: the digest of 2024-09-24 is published in the local stack")
    assert str(out / "digests") in line
    assert captured.out == ""


@pytest.mark.parametrize("command", ["status", "redrive"])
def test_a_state_folder_without_a_stack_is_named_and_left_alone(tmp_path, capsys, command) -> None:
    typo = tmp_path / "stat"

    code = main([command, "--state", str(typo), "--root", str(REPO)])

    assert code == 1
    assert _error_line(capsys) == (
        f"error: --state {typo} holds no local stack (state.json is missing); "
        "`paperdigest run` makes one"
    )
    assert not typo.exists()


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--max-papers", "0", "not a count of at least 1: 0"),
        ("--max-papers", "many", "not a count of at least 1: many"),
        ("--date", "2099-01-01", "a date in the future: 2099-01-01"),
        ("--date", "2024-13-01", "not a date (YYYY-MM-DD): 2024-13-01"),
    ],
)
def test_a_bad_option_value_is_a_usage_error(tmp_path, capsys, option, value, says) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["run", "--input", str(HF_FILE), option, value, "--state", str(tmp_path / "s")])

    assert stopped.value.code == 2
    assert _error_line(capsys).endswith(f"argument {option}: {says}")
    assert not (tmp_path / "s").exists()


def test_a_skipped_entry_is_named_by_the_path_the_user_gave(tmp_path, capsys) -> None:
    # Given the real day file with one paper whose link names no arXiv id
    document = json.loads(HF_FILE.read_text(encoding="utf-8"))
    document["papers"][0]["url"] = document["papers"][0]["pdf_url"] = "https://example.org/zzz"
    given = tmp_path / "day.json"
    given.write_text(json.dumps(document), encoding="utf-8")
    argv = ["run", "--input", str(given), "--max-papers", "2", "--out", str(tmp_path / "site")]

    code = main([*argv, "--state", str(tmp_path / "s"), "--root", str(REPO)])

    assert code == 0
    (warning,) = [x for x in capsys.readouterr().err.splitlines() if "entry skipped" in x]
    assert warning.startswith(f"warning: entry skipped: {given}: entry 1: ")
