"""The `progress-bot` command line: every job of the product as a sub-command.

The chat libraries (python-telegram-bot, line-bot-sdk), the renderers (matplotlib, fpdf2),
openpyxl and even asyncio take from tens of milliseconds to seconds to import, so each command
imports what it needs where it runs: `--help` and a mistyped command answer at once (in about
as long as Python takes to start), and no command waits for a library it does not use.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from bot.app import Services
    from bot.config import Config
    from reports.project_import import Counted, Counts, RowImport, Tally
    from storage.backup import BackupResult

log = logging.getLogger("progress_bot")

Job = Callable[["Services", argparse.Namespace], Awaitable[int]]
_O = TypeVar("_O", bound="Counted")

PROGRESS_EVERY = 1000  # rows between two progress lines of an import


def be_year(text: str) -> int:
    """A year as the CLI takes it: Buddhist Era (2569), Thai digits welcome; a Gregorian year
    is refused with the BE year it means."""
    from domain.fiscal import BE_OFFSET
    from domain.numbers import arabic_digits

    digits = arabic_digits(text.strip())
    if not digits.isdigit():
        raise argparse.ArgumentTypeError(f"ปีต้องเป็นตัวเลข พ.ศ. เช่น 2569 ไม่ใช่ {text!r}")
    year = int(digits)
    if 1900 < year < 2300:
        raise argparse.ArgumentTypeError(f"ปี {year} เป็นปี ค.ศ. กรุณาใช้ปี พ.ศ. เช่น {year + BE_OFFSET}")
    if not 2400 < year < 2700:
        raise argparse.ArgumentTypeError(f"ปี พ.ศ. {year} อยู่นอกช่วงที่รับได้ (2401-2699)")
    return year


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="progress-bot",
        description="Collects monthly project progress reports through chat. "
        "Years are Buddhist Era (พ.ศ., e.g. 2569); fiscal year 2570 runs from October 2569.",
        epilog="Exit status: 0 done; 1 something asked for was refused or matched nothing "
        "(e.g. a rejected import row, an export with no rows); 2 the command or configuration "
        "is wrong.",
    )
    config_help = "TOML config file (see config.example.toml)"
    parser.add_argument("--config", type=Path, help=config_help)
    # Sub-commands accept --config too; SUPPRESS keeps their default from hiding the top-level one.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=config_help)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("demo-data", parents=[common], help="load the seed project and demo people")

    console = sub.add_parser("console", parents=[common], help="chat with the bot in the terminal")
    console.add_argument("--user", help="chat identity to speak as (default: the demo officer)")

    projects = sub.add_parser("projects", parents=[common], help="manage projects")
    projects_sub = projects.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = projects_sub.add_parser(
        "import",
        parents=[common],
        help="import projects from CSV/XLSX (exit 1 if any row is rejected)",
    )
    imp.add_argument("file", type=Path, help="the CSV (UTF-8) or XLSX file of projects")
    listing = projects_sub.add_parser("list", parents=[common], help="list projects")
    listing.add_argument("--fiscal-year", type=be_year, help="fiscal year, พ.ศ. (e.g. 2570)")
    listing.add_argument("--agency", help="text found anywhere in the agency path")

    reports = sub.add_parser("reports", parents=[common], help="monthly reports")
    reports_sub = reports.add_subparsers(dest="action", required=True, metavar="ACTION")
    past = reports_sub.add_parser(
        "import",
        parents=[common],
        help="load past monthly reports from CSV/XLSX (exit 1 if any row is rejected)",
    )
    past.add_argument("file", type=Path, help="the CSV (UTF-8) or XLSX file of monthly reports")

    people = sub.add_parser("people", parents=[common], help="manage officers and coordinators")
    people_sub = people.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = people_sub.add_parser(
        "add", parents=[common], help="register a person (or add links to an existing one)"
    )
    add.add_argument("--name", required=True, help="full name with title, e.g. นายสมชาย ใจดี")
    add.add_argument("--phone", default="", help="phone number (shown on the form)")
    add.add_argument("--position", default="", help="position, e.g. นักวิชาการศึกษาชำนาญการ")
    add.add_argument("--officer-of", action="append", default=[], metavar="CODE",
                     help="project code the person reports for (repeatable)")  # fmt: skip
    add.add_argument("--coordinator-of-agency", action="append", default=[], metavar="AGENCY",
                     help="agency path prefix the person coordinates (repeatable)")  # fmt: skip
    add.add_argument("--coordinator-of-project", action="append", default=[], metavar="CODE",
                     help="project code the person coordinates (repeatable)")  # fmt: skip
    add.add_argument("--admin", action="store_true", help="may see and report on every project")
    add.add_argument("--identity", action="append", default=[], metavar="CHANNEL:ID",
                     help="chat account, e.g. console:somchai (repeatable)")  # fmt: skip
    people_sub.add_parser(
        "list", parents=[common], help="list people with their roles, projects and chat accounts"
    )

    sub.add_parser("run", parents=[common], help="run the configured chat channels")

    reminders = sub.add_parser("reminders", parents=[common], help="reminders")
    reminders_sub = reminders.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = reminders_sub.add_parser(
        "preview",
        parents=[common],
        help="who would be reminded of what at an instant (sends nothing)",
    )
    show.add_argument(
        "--at",
        help='local time, e.g. "25/11/2569 09:00" (พ.ศ.) or "2026-11-25 09:00" (default: now)',
    )

    line = sub.add_parser("line", parents=[common], help="the LINE Official Account")
    line_sub = line.add_subparsers(dest="action", required=True, metavar="ACTION")
    line_sub.add_parser(
        "rich-menu",
        parents=[common],
        help="make or update the rich menus (officers, coordinators) and link every account "
        "to its role's menu; safe to run again",
    )

    invite = sub.add_parser(
        "invite", parents=[common], help="issue a single-use code that links a chat account"
    )
    invite.add_argument("--name", required=True, help="the registered person's exact name")
    invite.add_argument("--days", type=int, default=7, help="days until the code expires")

    backup = sub.add_parser(
        "backup", parents=[common], help="copy the database safely, even while the bot runs"
    )
    backup.add_argument("--out", type=Path, required=True, help="the backup file to write")
    restore = sub.add_parser(
        "restore", parents=[common], help="put a checked backup in place (stop the bot first)"
    )
    restore.add_argument(
        "--from", dest="source", type=Path, required=True, metavar="FILE",
        help="the backup file to restore (made by `backup`)",
    )  # fmt: skip

    database = sub.add_parser("database", parents=[common], help="the database as a whole")
    database_sub = database.add_subparsers(dest="action", required=True)
    copy = database_sub.add_parser(
        "copy", parents=[common],
        help="copy everything into another, empty database (SQLite to PostgreSQL or back), "
        "checked table by table; stop the bot first",
    )  # fmt: skip
    copy.add_argument(
        "--to", dest="target", required=True, metavar="ADDRESS",
        help="postgresql://user@host:port/db, or the path of a new SQLite file",
    )  # fmt: skip
    grants = database_sub.add_parser(
        "grants", parents=[common],
        help="print the SQL that lets a PostgreSQL role run the bot without rewriting history "
        "(no UPDATE or DELETE of report revisions); run it as the database's owner",
    )  # fmt: skip
    grants.add_argument("--role", required=True, help="the role the bot connects as")

    export = sub.add_parser("export", parents=[common], help="export monthly reports")
    export.add_argument(
        "--format",
        choices=["csv", "xlsx", "pdf", "docx"],
        default="csv",
        help="csv or xlsx: one row per project and month; pdf: the forms; docx: one project's "
        "form (--project) as a Word file to edit before signing (default: csv)",
    )
    export.add_argument("--fiscal-year", type=be_year, help="fiscal year, พ.ศ. (e.g. 2570)")
    export.add_argument("--project", metavar="CODE", help="one project, by its code")
    export.add_argument("--agency", help="projects whose agency path starts with this")
    export.add_argument("--out", required=True, help="output file, or - for standard output")
    return parser


async def _demo_data(services: Services, _: argparse.Namespace) -> int:
    from reports.demo_data import load_demo_data

    summary = await load_demo_data(
        services.repo, services.clock().date(), zone=services.config.timezone
    )
    print(summary.describe())
    return 0


async def _console(services: Services, args: argparse.Namespace) -> int:
    from bot.console import run_console

    await run_console(services.conversation, args.user or services.config.console_user)
    return 0


def _stopped(tally: Tally) -> str:
    if tally.last_row == 0:
        return "หยุดการนำเข้าก่อนถึงแถวแรก ยังไม่ได้นำเข้าแถวใด (interrupted before the first row)"
    row = tally.last_row
    return (
        f"หยุดการนำเข้าหลังแถว {row} (interrupted after row {row}): แถวถึงแถว {row} ทำเสร็จแล้ว "
        "แถวหลังจากนั้นยังไม่ได้นำเข้า นำเข้าไฟล์เดิมอีกครั้งเพื่อทำต่อ "
        "แถวที่นำเข้าแล้วจะแสดงว่าไม่เปลี่ยนแปลง (run the same import again to go on)"
    )


async def _import(
    opening: AbstractAsyncContextManager[RowImport[_O]],
    row_lines: Callable[[_O], list[str]],
    totals: Callable[[Counts], str],
) -> Tally:
    """Run an import, printing each row's lines as soon as the row is done, a progress line on
    standard error every PROGRESS_EVERY rows, and the totals at the end; on Ctrl-C, the totals
    so far and the row it stopped after."""
    import asyncio

    from reports.project_import import format_warning
    from reports.table_file import cut_message

    async with opening as run:
        for warning in run.warnings:
            print(format_warning(warning), flush=True)

        def show(outcome: _O) -> None:
            print("\n".join(row_lines(outcome)), flush=True)
            tally = run.tally
            if tally.rows % PROGRESS_EVERY == 0:
                progress = f"กำลังนำเข้า ถึงแถว {tally.last_row} (progress): {totals(tally)}"
                print(progress, file=sys.stderr, flush=True)

        try:
            tally = await run.run(show)
        except asyncio.CancelledError:
            print(totals(run.tally))
            print(_stopped(run.tally), flush=True)
            raise
    if tally.cut is not None:
        print(format_warning(cut_message(tally.cut)))
    print(totals(tally), flush=True)
    return tally


async def _projects(services: Services, args: argparse.Namespace) -> int:
    from reports import project_import

    if args.action == "import":
        done = await _import(
            project_import.open_project_import(services.repo, args.file),
            project_import.format_row,
            project_import.format_totals,
        )
        return 1 if done.rejected or done.cut is not None else 0
    # The agency as people remember it: found anywhere in the path, not only at its start.
    wanted = " ".join((args.agency or "").split())
    found = [
        p
        for p in await services.repo.list_projects(fiscal_year=args.fiscal_year)
        if wanted in " ".join(p.agency.split())
    ]
    for project in found:
        print(f"{project.code}\t{project.fiscal_year}\t{project.name}\t{project.agency}")
    if not found and (args.agency or args.fiscal_year):
        print("ไม่พบโครงการที่ตรงกับที่ระบุ", file=sys.stderr)
        return 1
    return 0


async def _reports(services: Services, args: argparse.Namespace) -> int:
    from reports import reports_import

    done = await _import(
        reports_import.open_report_import(services.repo, args.file, zone=services.config.timezone),
        reports_import.format_row,
        reports_import.format_totals,
    )
    return 1 if done.rejected or done.cut is not None else 0


async def _people(services: Services, args: argparse.Namespace) -> int:
    from domain.models import ChatIdentity, CoordinatorScope, Role

    repo = services.repo
    if args.action == "list":
        accounts: dict[int, list[str]] = {}
        for identity in await repo.all_identities():
            accounts.setdefault(identity.person_id, []).append(
                f"{identity.channel}:{identity.external_id}"
            )
        projects: dict[int, list[str]] = {}
        for code, person_id in await repo.officer_links():
            projects.setdefault(person_id, []).append(code)
        role_names = {Role.OFFICER: "เจ้าหน้าที่", Role.COORDINATOR: "ผู้ประสานงาน", Role.ADMIN: "ผู้ดูแล"}
        print("ชื่อ\tบทบาท\tโครงการที่รับผิดชอบ\tขอบเขตผู้ประสานงาน\tบัญชีแชต")
        for person in await repo.all_people():
            held = ", ".join(role_names[r] for r in Role if r in person.roles) or "-"
            scopes = await repo.coordinator_scopes(person.id)
            scope = ", ".join(s.agency or s.project_code or "" for s in scopes) or "-"
            codes = ", ".join(sorted(projects.get(person.id, []))) or "-"
            linked = ", ".join(sorted(accounts.get(person.id, []))) or "ยังไม่เชื่อมบัญชี"
            print(f"{person.name}\t{held}\t{codes}\t{scope}\t{linked}")
        return 0
    identities = []
    for raw in args.identity:
        channel, _, external = raw.partition(":")
        if not channel or not external:
            print(f"--identity ต้องเป็น ช่องทาง:รหัส เช่น console:somchai ไม่ใช่ {raw!r}", file=sys.stderr)
            return 2
        identities.append((channel, external))
    roles = {Role.ADMIN} if args.admin else set()
    person = await repo.add_person(
        args.name, phone=args.phone, position=args.position, roles=frozenset(roles)
    )
    for code in args.officer_of:
        added = await repo.link_officer(person.id, code)
        print(f"{'เชื่อมแล้ว' if added else 'เชื่อมไว้ก่อนแล้ว'}: ผู้รับผิดชอบโครงการ {code}")
    for agency in args.coordinator_of_agency:
        added = await repo.add_coordinator_scope(CoordinatorScope(person.id, agency=agency))
        print(f"{'เพิ่มแล้ว' if added else 'มีอยู่แล้ว'}: ผู้ประสานงานของหน่วยงาน {agency}")
    for code in args.coordinator_of_project:
        added = await repo.add_coordinator_scope(CoordinatorScope(person.id, project_code=code))
        print(f"{'เพิ่มแล้ว' if added else 'มีอยู่แล้ว'}: ผู้ประสานงานของโครงการ {code}")
    for channel, external in identities:
        await repo.link_identity(ChatIdentity(channel, external, person.id))
        print(f"บัญชีแชต {channel}:{external} -> {person.name}")
    print(f"บุคคลหมายเลข {person.id}: {person.name}")
    return 0


def _progress_bar(label: str) -> Callable[[int, int], None]:
    """A one-line progress bar on standard error (only when it is a terminal)."""

    def show(done: int, total: int) -> None:
        if not sys.stderr.isatty() or total == 0:
            return
        filled = 30 * done // total
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


async def _export(services: Services, args: argparse.Namespace) -> int:
    import asyncio

    from reports.csv_export import export_csv

    filters = {"fiscal_year": args.fiscal_year, "project_code": args.project, "agency": args.agency}
    if args.out == "-" and args.format != "csv":
        print(
            f"--out - (ออกทางหน้าจอ) ใช้ได้กับ csv เท่านั้น กรุณาระบุชื่อไฟล์สำหรับ {args.format}",
            file=sys.stderr,
        )
        return 2
    target = Path(args.out)
    if args.out != "-" and not target.parent.is_dir():
        print(
            f"ไม่พบโฟลเดอร์ {target.parent} กรุณาสร้างโฟลเดอร์ก่อน หรือระบุ --out ในโฟลเดอร์ที่มีอยู่",
            file=sys.stderr,
        )
        return 1
    if args.format == "docx":
        from reports.pdf_export import form_docx

        project = await services.repo.get_project(args.project) if args.project else None
        if project is None:
            print(
                "docx คือแบบรายงานของโครงการเดียว กรุณาระบุ --project รหัสโครงการที่มีอยู่",
                file=sys.stderr,
            )
            return 1
        today = services.clock().astimezone(services.config.timezone).date()
        data = await form_docx(services.repo, project, args.fiscal_year, today)
        await asyncio.to_thread(target.write_bytes, data)
        print(f"ส่งออกแบบรายงานของ {project.code} ไปที่ {target} แล้ว", file=sys.stderr)
        return 0
    if args.format == "pdf":
        from reports.pdf_export import export_pdf

        today = services.clock().astimezone(services.config.timezone).date()
        pdf, count = await export_pdf(
            services.repo, **filters, progress=_progress_bar("PDF"), as_of=today
        )
        if count == 0:
            print(NOTHING_MATCHED, file=sys.stderr)
            return 1
        await asyncio.to_thread(target.write_bytes, pdf)
        print(f"ส่งออกแบบรายงาน {count} โครงการไปที่ {target} แล้ว", file=sys.stderr)
        return 0
    if args.format == "xlsx":
        from reports.xlsx_export import export_xlsx

        # Written to a ".part" file beside the target and renamed when complete.
        count = await export_xlsx(
            services.repo,
            target,
            zone=services.config.timezone,
            **filters,
            progress=_progress_bar("XLSX"),
        )
        if count == 0:
            # A file of headers only would look like an answer.
            await asyncio.to_thread(target.unlink, missing_ok=True)
            print(NOTHING_MATCHED, file=sys.stderr)
            return 1
        print(f"ส่งออก {count} แถว (โครงการ-เดือน) ไปที่ {target} แล้ว", file=sys.stderr)
        return 0
    if args.out == "-":
        sys.stdout.write("\ufeff")  # the BOM lets Excel read the Thai text as UTF-8
        count = await export_csv(services.repo, sys.stdout, **filters)
    else:
        # Streamed to a ".part" file beside the target, renamed when complete: a failed export
        # leaves no half-written file, and the rows are never all in memory.
        partial = target.with_name(target.name + ".part")
        try:
            with partial.open("w", encoding="utf-8-sig", newline="") as text:
                count = await export_csv(services.repo, text, **filters)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        if count == 0:
            await asyncio.to_thread(target.unlink, missing_ok=True)
    if count == 0:
        print(NOTHING_MATCHED, file=sys.stderr)
        return 1
    print(
        f"ส่งออก {count} แถว" + ("" if args.out == "-" else f" ไปที่ {target}") + " แล้ว",
        file=sys.stderr,
    )
    return 0


NOTHING_MATCHED = (
    "ไม่มีรายงานตรงกับที่ระบุ (ปีงบประมาณ โครงการ หรือหน่วยงาน) จึงไม่ได้ส่งออก "
    "ดูรายชื่อโครงการด้วย progress-bot projects list"
)


def _describe(result: BackupResult) -> str:
    rows = result.rows
    return (
        f"โครงสร้างรุ่น {result.schema_version}, โครงการ {rows.get('projects', 0)}, "
        f"รายงานประจำเดือน {rows.get('monthly_reports', 0)}, "
        f"ฉบับแก้ไข {rows.get('report_revisions', 0)}, {result.size:,} ไบต์; ตรวจสอบแล้วไม่เสียหาย"
    )


def _backup(config: Config, args: argparse.Namespace) -> int:
    from storage.backup import backup_database

    result = backup_database(config.database, args.out)
    print(f"สำรอง {config.database} ไว้ที่ {result.path} แล้ว: {_describe(result)}")
    return 0


def _restore(config: Config, args: argparse.Namespace) -> int:
    from storage.backup import restore_database

    existed = config.database.exists()
    result = restore_database(args.source, config.database)
    print(f"กู้คืน {config.database} จาก {args.source} แล้ว: {_describe(result)}")
    if existed:
        print(f"ฐานข้อมูลเดิมเก็บไว้ที่ {config.database}.before-restore")
    return 0


def _grants(role: str) -> int:
    from storage.pg_schema import app_role_grants

    print(f"-- ให้บทบาท {role} ใช้งานบอทได้ แต่แก้ไขหรือลบประวัติรายงานไม่ได้ (รันด้วยบทบาทเจ้าของฐานข้อมูล)")
    print(app_role_grants(role).strip())
    return 0


async def _database(services: Services, args: argparse.Namespace) -> int:
    from storage.copy import copy_database
    from storage.postgres import PostgresStorage, redacted
    from storage.sqlite import SqliteStorage

    source = services.repo
    if not isinstance(source, SqliteStorage | PostgresStorage):
        print("ผิดพลาด: คัดลอกได้เฉพาะฐานข้อมูล SQLite หรือ PostgreSQL", file=sys.stderr)
        return 1
    target_text = str(args.target)
    target: SqliteStorage | PostgresStorage
    if target_text.startswith(("postgresql://", "postgres://")):
        target, shown = await PostgresStorage.open(target_text), redacted(target_text)
    else:  # a SQLite file (one that holds rows already is refused by the copy)
        target, shown = await SqliteStorage.open(Path(target_text)), target_text
    try:
        copied = await copy_database(
            source, target, lambda table, rows: print(f"  {table}: {rows:,} แถว", flush=True)
        )
    finally:
        await target.close()
    print(f"คัดลอกไปยัง {shown} แล้ว {copied.total:,} แถว ตรวจแล้วตรงกันทุกตาราง")
    return 0


async def _run(services: Services, _: argparse.Namespace) -> int:
    import asyncio

    stop = asyncio.Event()
    from bot.runner import run_channels, stop_on_signals

    stop_on_signals(stop)
    return await run_channels(services, stop)


async def _invite(services: Services, args: argparse.Namespace) -> int:
    from domain.thaidate import format_thai_date
    from handlers.linking import issue_invite, shown_code

    if not 1 <= args.days <= 90:
        print("--days ต้องอยู่ระหว่าง 1 ถึง 90 วัน", file=sys.stderr)
        return 2
    person = await services.repo.find_person(args.name)
    if person is None:
        print(
            f"ไม่พบบุคคลชื่อ {args.name!r} ลงทะเบียนก่อนด้วย progress-bot people add",
            file=sys.stderr,
        )
        return 1
    now = services.clock()
    code, expires = await issue_invite(services.repo, person, now, timedelta(days=args.days))
    print(f"รหัสเชื่อมบัญชีของ {person.name}: {shown_code(code)}")
    print(f"ใช้ได้ครั้งเดียว ถึง {format_thai_date(expires.date())} {expires:%H:%M} น.")
    telegram = services.config.telegram
    if telegram is not None and telegram.bot_username:
        print(f"Telegram: https://t.me/{telegram.bot_username}?start={code}")
    line = services.config.line
    if line is not None and line.basic_id:
        from bot.line_channel import invite_link

        print(f"LINE: {invite_link(line.basic_id, code)}")
    has_link = bool(telegram and telegram.bot_username) or bool(line and line.basic_id)
    print(("หรือพิมพ์" if has_link else "พิมพ์") + "รหัสนี้ในแชทกับบอท")
    return 0


async def _reminders(services: Services, args: argparse.Namespace) -> int:
    from bot.preview import parse_instant, preview
    from scheduler.calendar import ReportingCalendar

    calendar = ReportingCalendar(services.config.reminders.calendar)
    try:
        at = parse_instant(args.at, calendar) if args.at else services.clock()
    except ValueError as error:
        why = str(error) if str(error).startswith("ปี") else f"อ่าน {args.at!r} ไม่ได้"
        print(
            f"--at: {why} (ใช้ วัน/เดือน/ปี พ.ศ. และเวลา เช่น 25/11/2569 09:00 หรือ 2026-11-25 09:00)",
            file=sys.stderr,
        )
        return 2
    print(await preview(services.repo, calendar, at))
    return 0


async def _line(services: Services, _: argparse.Namespace) -> int:
    from bot.line_channel import LineApi
    from bot.line_menus import MenuKeeper
    from scheduler.delivery import DeliveryFailed

    config = services.config.line
    if config is None:
        print(
            "ยังไม่ได้ตั้งค่า LINE: เพิ่มตาราง [line] ใน config (ดู config.example.toml)",
            file=sys.stderr,
        )
        return 2
    api = LineApi(config)
    try:
        keeper = MenuKeeper(api, services.repo, dashboard=services.config.web is not None)
        for line in await keeper.ensure():
            print(line)
        linked = await keeper.sync()
        print(f"เชื่อมบัญชี LINE กับเมนูตามบทบาทใหม่ {linked} บัญชี")
    except DeliveryFailed as error:
        print(f"ทำเมนูไม่สำเร็จ: LINE ตอบว่า {error}", file=sys.stderr)
        return 1
    finally:
        await api.close()
    return 0


JOBS: dict[str, Job] = {
    "demo-data": _demo_data,
    "console": _console,
    "projects": _projects,
    "people": _people,
    "reports": _reports,
    "export": _export,
    "run": _run,
    "invite": _invite,
    "reminders": _reminders,
    "line": _line,
    "database": _database,
}


PG_BACKUP = (
    "ฐานข้อมูลเป็น PostgreSQL (database.url): สำรองและกู้คืนด้วย pg_dump และ pg_restore "
    "ของ PostgreSQL (ดู README หัวข้อ PostgreSQL) คำสั่งนี้ใช้กับไฟล์ SQLite เท่านั้น"
)
FILE_JOBS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "backup": _backup,
    "restore": _restore,
}


async def _open_and_run(config: Config, args: argparse.Namespace) -> int:
    from bot.app import open_services

    async with open_services(config) as services:
        return await JOBS[args.command](services, args)


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so that flushing it at exit raises nothing."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    """Entry point of the `progress-bot` command."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        # No garbage collection while the bot starts: its imports make some hundred thousand
        # objects and nothing to collect, and the collector's passes over them cost about a
        # tenth of the start. It is on again once the channels answer (bot.runner), or at exit.
        gc.disable()
    try:
        return _main(args, environ)
    finally:
        gc.enable()


def _main(args: argparse.Namespace, environ: dict[str, str] | None) -> int:
    # Imported once the arguments are read: `--help` and a mistyped command answer at once.
    import asyncio

    from bot.config import ConfigError, load_config
    from bot.logs import configure_logging
    from reports.errors import ImportFileError
    from storage.errors import DatabaseUnusable, StorageError

    try:
        config = load_config(args.config, os.environ if environ is None else environ)
    except ConfigError as error:
        print(f"ตั้งค่าไม่ถูกต้อง: {error}", file=sys.stderr)
        return 2
    # The console writes the dialogue to standard output; keep routine logs out of its way.
    level = "WARNING" if args.command == "console" else config.log_level
    configure_logging(level, config.secrets)
    try:
        if args.command == "database" and args.action == "grants":  # opens no database
            return _grants(args.role)
        if args.command in FILE_JOBS:  # on the database file itself, without opening services
            if config.database_url is not None:
                print(PG_BACKUP, file=sys.stderr)
                return 1
            return FILE_JOBS[args.command](config, args)
        return asyncio.run(_open_and_run(config, args))
    except DatabaseUnusable as error:  # found on opening it, like a configuration error
        print(f"ผิดพลาด: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`export --out - | head`): nothing more to say, and no error.
        _quiet_stdout()
        return 0
    except (ImportFileError, StorageError, OSError) as error:
        print(f"ผิดพลาด: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
