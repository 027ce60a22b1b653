"""The command line made consistent: Buddhist-Era years everywhere (a Gregorian one gets a
hint), exit status 1 whenever something asked for was refused or matched nothing, plain Thai
messages for missing folders, quiet on a closed pipe, warnings for officers nobody will remind,
agency text found anywhere, people with roles and accounts, and every option described."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import NOTHING_MATCHED, _parser, main

FIXED_NOW = "2026-11-23T10:00:00+07:00"
DEMO_CODE = "50140000-3629"


@pytest.fixture
def demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    env = {
        "PROGRESS_BOT_DATABASE": str(tmp_path / "bot.sqlite3"),
        "PROGRESS_BOT_FIXED_NOW": FIXED_NOW,
    }
    assert main(["demo-data"], env) == 0
    capsys.readouterr()
    return env


def test_years_are_buddhist_era_and_a_gregorian_one_gets_its_thai_year(
    demo: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "x.csv")
    with pytest.raises(SystemExit) as stopped:
        main(["export", "--fiscal-year", "2026", "--out", out], demo)
    assert stopped.value.code == 2
    assert "ปี 2026 เป็นปี ค.ศ. กรุณาใช้ปี พ.ศ. เช่น 2569" in capsys.readouterr().err
    assert main(["export", "--fiscal-year", "๒๕๖๔", "--out", out], demo) == 0, "Thai digits"
    capsys.readouterr()
    assert main(["reminders", "preview", "--at", "29/12/2569 09:00"], demo) == 0
    assert "29 ธ.ค. 2569" in capsys.readouterr().out
    assert main(["reminders", "preview", "--at", "29/12/2026 09:00"], demo) == 2
    assert "ไม่ใช่ปี พ.ศ." in capsys.readouterr().err


@pytest.mark.parametrize("form", ["csv", "xlsx", "pdf"])
def test_an_export_that_matches_nothing_exits_1_and_writes_nothing(
    demo: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    out = tmp_path / f"none.{form}"
    assert main(["export", "--format", form, "--project", "9999", "--out", str(out)], demo) == 1
    assert NOTHING_MATCHED in capsys.readouterr().err
    assert not out.exists()


def test_a_missing_folder_is_said_plainly(
    demo: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "no-such-folder" / "x.xlsx"
    assert main(["export", "--format", "xlsx", "--out", str(out)], demo) == 1
    err = capsys.readouterr().err
    assert "ไม่พบโฟลเดอร์" in err and "Errno" not in err


def test_a_closed_pipe_ends_the_export_quietly(demo: dict[str, str], tmp_path: Path) -> None:
    env = {**os.environ, **demo, "PYTHAINLP_READ_ONLY": "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "bot", "export", "--out", "-"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader is gone before the first row (like `| head -0`)
    err = child.stderr.read().decode()
    assert child.wait(timeout=60) == 0
    assert "Broken pipe" not in err and "Errno" not in err and "Traceback" not in err


def test_an_import_with_a_rejected_row_exits_1_and_warns_of_unreminded_officers(
    demo: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    projects = tmp_path / "projects.csv"
    projects.write_text(
        "รหัสโครงการ,ชื่อโครงการ/กิจกรรม,ปีงบประมาณ พ.ศ.,ชื่อผู้รับผิดชอบ\n"
        "ก-1,โครงการหนึ่ง,2570,นายไม่มี ในระบบ\n"
        ",ไม่มีรหัส,2570,\n",
        encoding="utf-8",
    )
    assert main(["projects", "import", str(projects)], demo) == 1
    out = capsys.readouterr().out
    assert "ผู้รับผิดชอบ 'นายไม่มี ในระบบ' ยังไม่ได้ลงทะเบียนในระบบ" in out
    assert "--officer-of ก-1" in out, "with the command that fixes it"


def test_agency_text_is_found_anywhere_and_people_show_roles_and_accounts(
    demo: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["projects", "list", "--agency", "ฝ่ายการศึกษา"], demo) == 0
    assert DEMO_CODE in capsys.readouterr().out
    assert main(["projects", "list", "--agency", "ไม่มีหน่วยงานนี้"], demo) == 1
    capsys.readouterr()
    assert main(["people", "list"], demo) == 0
    listing = capsys.readouterr().out
    assert "ผู้ประสานงาน" in listing and "console:" in listing and "เจ้าหน้าที่" in listing


def test_an_invite_without_links_reads_as_one_sentence(
    demo: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["people", "list"], demo) == 0
    name = capsys.readouterr().out.splitlines()[1].split("\t")[0]
    assert main(["invite", "--name", name], demo) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "พิมพ์รหัสนี้ในแชทกับบอท"
    assert not any(line.startswith("หรือ") for line in lines)


def test_every_option_and_argument_is_described() -> None:
    def walk(parser: argparse.ArgumentParser, path: str) -> list[str]:
        found = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found += walk(sub, f"{path} {name}")
            elif (
                not isinstance(action, argparse._HelpAction)
                and action.dest != "config"
                and not action.help
            ):
                found.append(f"{path}: {action.option_strings or action.dest}")
        return found

    assert walk(_parser(), "progress-bot") == []
    assert "พ.ศ." in _parser().format_help()


def test_people_add_speaks_thai(demo: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    args = ["people", "add", "--name", "นางทดสอบ ระบบ", "--officer-of", DEMO_CODE]
    assert main([*args, "--identity", "console:todsob"], demo) == 0
    out = capsys.readouterr().out
    assert f"เชื่อมแล้ว: ผู้รับผิดชอบโครงการ {DEMO_CODE}" in out
    assert "บัญชีแชต console:todsob -> นางทดสอบ ระบบ" in out
    assert main([*args, "--identity", "console"], demo) == 2
    assert "--identity ต้องเป็น ช่องทาง:รหัส" in capsys.readouterr().err
