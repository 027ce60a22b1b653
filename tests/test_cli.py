"""The command line end to end, through real subprocesses: import, a piped conversation, export."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

FIXED_NOW = "2026-11-23T10:00:00+07:00"
PROJECTS_CSV = (
    "\ufeffรหัสโครงการ,ชื่อโครงการ/กิจกรรม,ปีงบประมาณ พ.ศ.,เริ่มต้นโครงการ,สิ้นสุดโครงการ,"
    "งบประมาณที่ได้รับ,หน่วยงานที่รับผิดชอบ\n"
    '50140000-9001,ติดตั้งกล้องวงจรปิดในชุมชน,2570,1/11/2569,30/09/2570,"2,500,000",'
    "สำนักงานเขตลาดกระบัง / ฝ่ายโยธา\n"
    ",ไม่มีรหัส,2570,,,,\n"
)
CONVERSATION = [
    "ส่งรายงาน",
    "๗๕ %",
    "1.5 ล้าน",
    "ติดตั้งกล้องครบ 40 จุด",
    "ใช่",
    "ไม่",
    "รอไฟฟ้าเชื่อมต่อ",
    "ยืนยัน",
]


def run(
    tmp_path: Path, *args: str, stdin: str = "", database: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` in tmp_path with a frozen clock and its own database (by
    default bot.sqlite3 in tmp_path)."""
    env = {
        **os.environ,
        "PYTHAINLP_READ_ONLY": "1",
        "PROGRESS_BOT_DATABASE": str(database or tmp_path / "bot.sqlite3"),
        "PROGRESS_BOT_FIXED_NOW": FIXED_NOW,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def registered(tmp_path: Path) -> Path:
    """A database with one imported project and its officer on the console channel."""
    (tmp_path / "projects.csv").write_text(PROJECTS_CSV, encoding="utf-8")
    imported = run(tmp_path, "projects", "import", "projects.csv")
    assert imported.returncode == 1, "a rejected row: exit 1, the rest is imported"
    assert "50140000-9001" in imported.stdout
    assert "ไม่มีรหัสโครงการ" in imported.stdout, "the rejected row says why"
    added = run(
        tmp_path, "people", "add", "--name", "นายวิชัย ช่างดี", "--phone", "0899999999",
        "--officer-of", "50140000-9001", "--identity", "console:wichai",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    return tmp_path


def test_import_converse_export(registered: Path) -> None:
    chat = run(registered, "console", "--user", "wichai", stdin="\n".join(CONVERSATION) + "\n")
    assert chat.returncode == 0, chat.stderr
    assert "งบประมาณที่เบิกใช้ (ครั้งที่ 2) = 1,500,000 บาท" in chat.stdout
    assert "บันทึกรายงานครั้งที่ 2 (พ.ย. 2569) ของโครงการ 50140000-9001 เรียบร้อยแล้ว" in chat.stdout

    exported = run(registered, "export", "--format", "csv", "--fiscal-year", "2570", "--out", "-")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("\ufeff"), "a BOM lets Excel read Thai"
    rows = list(csv.DictReader(io.StringIO(exported.stdout.removeprefix("\ufeff"))))
    assert len(rows) == 1
    row = rows[0]
    assert row["รหัสโครงการ"] == "50140000-9001"
    assert row["รายงานครั้งที่"] == "2"
    assert row["วันที่รายงาน"] == "23/11/2569"
    assert row["ความก้าวหน้า (%)"] == "75.00"
    assert row["งบประมาณที่เบิกใช้ (บาท)"] == "1500000.00"
    assert row["ผลการดำเนินงาน"] == "ติดตั้งกล้องครบ 40 จุด"
    assert row["เป็นไปตามแผน"] == "เป็นไปตามแผน"
    assert row["เป็นไปตามเป้าหมาย"] == "ไม่เป็นไปตามเป้าหมาย"
    assert row["เหตุผล (เป้าหมาย)"] == "รอไฟฟ้าเชื่อมต่อ"

    to_file = run(registered, "export", "--format", "csv", "--out", "reports.csv")
    assert to_file.returncode == 0, to_file.stderr
    assert (registered / "reports.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_a_new_process_resumes_the_conversation(registered: Path) -> None:
    first = run(registered, "console", "--user", "wichai", stdin="\n".join(CONVERSATION[:3]))
    assert first.returncode == 0, first.stderr
    assert "สรุปผลการดำเนินงาน" in first.stdout
    second = run(registered, "console", "--user", "wichai", stdin="\n".join(CONVERSATION[3:]))
    assert second.returncode == 0, second.stderr
    assert "บันทึกรายงานครั้งที่ 2" in second.stdout


def test_reimport_is_idempotent(registered: Path) -> None:
    again = run(registered, "projects", "import", "projects.csv")
    assert "50140000-9001" in again.stdout
    assert "unchanged" in again.stdout or "ไม่เปลี่ยนแปลง" in again.stdout


def test_demo_data_then_console_as_the_demo_officer(tmp_path: Path) -> None:
    demo = run(tmp_path, "demo-data")
    assert demo.returncode == 0, demo.stderr
    again = run(tmp_path, "demo-data")
    assert again.returncode == 0, again.stderr
    chat = run(tmp_path, "console", stdin="สถานะ\n")
    assert "50140000-3629" in chat.stdout
    assert "ล่าสุด ครั้งที่ 12 (ก.ย. 2564): 100.00 %" in chat.stdout


def test_demo_data_keeps_to_the_configured_time_zone(tmp_path: Path) -> None:
    (tmp_path / "tokyo.toml").write_text('[bot]\ntimezone = "Asia/Tokyo"\n', encoding="utf-8")
    demo = run(tmp_path, "--config", "tokyo.toml", "demo-data")
    assert demo.returncode == 0, demo.stderr
    exported = run(tmp_path, "export", "--project", "50140000-3629", "--out", "-")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader(io.StringIO(exported.stdout.removeprefix("\ufeff"))))[1:]
    assert len(rows) == 12
    assert all(row[16].endswith("T16:00:00+09:00") for row in rows), rows[0][16]


def test_unknown_user_and_bad_config_are_reported(tmp_path: Path) -> None:
    chat = run(tmp_path, "console", "--user", "nobody", stdin="ส่งรายงาน\n")
    assert chat.returncode == 0
    assert "ยังไม่พบบัญชีนี้" in chat.stdout
    (tmp_path / "bad.toml").write_text("[bot]\ntimezone = 'Mars/Olympus'\n", encoding="utf-8")
    bad = run(tmp_path, "--config", "bad.toml", "projects", "list")
    assert bad.returncode == 2
    assert bad.stderr.startswith("ตั้งค่าไม่ถูกต้อง: bot.timezone"), "in Thai, naming the key"
    after = run(tmp_path, "projects", "list", "--config", "bad.toml")
    assert after.returncode == 2, "--config is honoured after the sub-command too"
    missing = run(tmp_path, "projects", "import", "nope.csv")
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr and missing.stderr.startswith("ผิดพลาด: ")


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "progress-bot"
    assert script.exists(), "pip install -e . creates the progress-bot command"
    shown = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert shown.returncode == 0
    assert "demo-data" in shown.stdout


REPORTS_CSV = (
    "\ufeffรหัสโครงการ,ปีงบประมาณ,รายงานครั้งที่,วันที่รายงาน,ความก้าวหน้า (%),"
    "งบประมาณที่เบิกใช้ (บาท),ผลการดำเนินงาน,เป็นไปตามแผน,เหตุผล (แผน),เป็นไปตามเป้าหมาย,"
    "เหตุผล (เป้าหมาย)\n"
    '50140000-9001,2570,2,20/11/2569,๒๐,"200,000",สำรวจจุดติดตั้ง,ใช่,,ใช่,\n'
    "50140000-9001,2570,1,31/10/2569,10,250000,,ใช่,,ใช่,\n"
    "99999999-0000,2570,1,31/10/2569,5,0,,ใช่,,ใช่,\n"
)


def test_past_reports_import_then_export_as_pdf_and_xlsx(registered: Path) -> None:
    from openpyxl import load_workbook
    from pypdf import PdfReader

    (registered / "past.csv").write_text(REPORTS_CSV, encoding="utf-8")
    imported = run(registered, "reports", "import", "past.csv")
    assert imported.returncode == 1, "two rows rejected: exit 1, the good row is stored"
    lines = imported.stdout.splitlines()
    assert lines[0] == "แถว 2: 50140000-9001 ครั้งที่ 2/2570 - สร้างใหม่ (created)"
    assert "จึงไม่มีรายงานเดือน ต.ค. 2569" in lines[1], "the project starts in November"
    assert "สูงกว่ารายงานครั้งที่ 2" in lines[1], "cumulative money checked against later months"
    assert "ไม่พบโครงการรหัส 99999999-0000" in lines[2]
    assert lines[-1].endswith(
        "สร้างใหม่ (created) 1, ไม่เปลี่ยนแปลง (unchanged) 0, ไม่นำเข้า (rejected) 2"
    )
    again = run(registered, "reports", "import", "past.csv")
    assert again.stdout.splitlines()[0].endswith("ไม่เปลี่ยนแปลง (unchanged)"), "idempotent"

    pdf = run(
        registered, "export", "--format", "pdf", "--project", "50140000-9001", "--out", "f.pdf"
    )
    assert pdf.returncode == 0, pdf.stderr
    text = "".join(p.extract_text() for p in PdfReader(registered / "f.pdf").pages)
    assert "50140000-9001" in text and "200,000" in text

    xlsx = run(registered, "export", "--format", "xlsx", "--fiscal-year", "2570", "--out", "r.xlsx")
    assert xlsx.returncode == 0, xlsx.stderr
    sheet = load_workbook(registered / "r.xlsx", read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[4]) for r in rows] == [("50140000-9001", 2)]

    nothing = run(registered, "export", "--format", "pdf", "--agency", "ไม่มีเขตนี้", "--out", "n.pdf")
    assert nothing.returncode == 1 and not (registered / "n.pdf").exists()
    piped = run(registered, "export", "--format", "xlsx", "--out", "-")
    assert piped.returncode == 2 and "csv" in piped.stderr


def test_reports_import_and_xlsx_export_keep_to_the_configured_time_zone(registered: Path) -> None:
    from openpyxl import load_workbook

    (registered / "tokyo.toml").write_text('[bot]\ntimezone = "Asia/Tokyo"\n', encoding="utf-8")
    (registered / "past.csv").write_text(REPORTS_CSV, encoding="utf-8")
    imported = run(registered, "--config", "tokyo.toml", "reports", "import", "past.csv")
    assert imported.returncode == 1, "two rows rejected: exit 1, the good row is stored"

    def sent_at(*config: str) -> object:
        exported = run(registered, *config, "export", "--format", "xlsx", "--out", "r.xlsx")
        assert exported.returncode == 0, exported.stderr
        sheet = load_workbook(registered / "r.xlsx").worksheets[0]
        [row] = sheet.iter_rows(min_row=2, values_only=True)
        return row[16]

    # The imported report counts as sent at 16:00 on its date in Tokyo: 14:00 in Bangkok.
    assert sent_at("--config", "tokyo.toml") == datetime(2026, 11, 20, 16, 0)
    assert sent_at() == datetime(2026, 11, 20, 14, 0)


def test_invites_print_the_telegram_and_line_links(registered: Path) -> None:
    (registered / "bot.toml").write_text(
        '[telegram]\ntoken = "123:ABC"\nbot_username = "progress_demo_bot"\n'
        '[line]\nchannel_secret = "0123456789abcdef0123456789abcdef"\n'
        'channel_access_token = "line-token-for-tests"\nbasic_id = "@123abcde"\n',
        encoding="utf-8",
    )
    issued = run(registered, "--config", "bot.toml", "invite", "--name", "นายวิชัย ช่างดี")
    assert issued.returncode == 0, issued.stderr
    code = issued.stdout.split(": ", 1)[1].splitlines()[0].replace("-", "")
    assert f"Telegram: https://t.me/progress_demo_bot?start={code}" in issued.stdout
    assert f"LINE: https://line.me/R/oaMessage/%40123abcde/?{code}" in issued.stdout
    assert "line-token-for-tests" not in issued.stdout + issued.stderr
