"""The real bot process against the fake Bot API, and simulated officers that talk to it.

Shared by the crash-safety and soak runs (bench/crash_safety.py, bench/soak.py) and their short
versions in the suite. `BotProcess` starts `python -m bot run` pointed at a `FakeBotApi` in this
process, kills it (SIGKILL) or stops it (SIGTERM). `Officer` behaves like a person in Telegram:
it answers the newest question in its chat, presses the buttons under it, checks the summary
before confirming, and when no answer comes (the bot was down) it sends its last answer again or
follows the question the bot asks again after a restart.

Every officer has one project of its own. Projects run two fiscal years (Oct 2026 to Sep 2028)
and the bot's clock is fixed in September 2028, so each officer has 24 months to report, oldest
first; the figures it types grow with the month, so any order passes the bot's checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path

from domain.models import ChatIdentity, ProjectData, Role
from domain.payloads import RunCommand, StepAnswer, decode
from domain.thaidate import format_thai_month
from handlers import texts
from tests.backends import Database
from tests.fake_telegram import FakeBotApi, Sent

TOKEN = "555000:CRASH-SAFETY-TOKEN_never-logged"
WEBHOOK_SECRET = "crash-safety-webhook-secret_1"  # what Telegram sends with every webhook
FIXED_NOW = "2028-09-20T10:00:00+07:00"  # report 12 of fiscal year 2571
FIRST_YEAR = 2570
FIRST_USER = 30_000
BUDGET = Decimal("1000000")
NOTE = "ดำเนินงานตามแผนงานที่วางไว้"
NOTES = ("ปรับปรุงบันทึกผลการดำเนินงาน", "ปรับปรุงบันทึกผลการดำเนินงานอีกครั้ง")
CORRECTION_REASON = "ปรับข้อความบันทึกให้ถูกต้อง"


# ----------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class Account:
    """A simulated officer: Telegram user id, their project, and their number."""

    index: int
    user_id: int
    code: str


async def prepare_world(
    database: Path | Database,
    officers: int,
    *,
    first_user: int = FIRST_USER,
    prefix: str = "CS",
    start: date = date(2026, 10, 1),
    end: date = date(2028, 9, 30),
) -> list[Account]:
    """One project per officer (running from `start` to `end`), linked to their Telegram
    account (`first_user` on), in a fresh database (a SQLite file, or a Database: SQLite or
    PostgreSQL)."""
    repo = await (Database(database) if isinstance(database, Path) else database).open()
    accounts: list[Account] = []
    try:
        for n in range(officers):
            code = f"{prefix}-{n:05d}"
            await repo.upsert_project(
                ProjectData(
                    code=code,
                    name=f"โครงการทดสอบ {n}",
                    fiscal_year=FIRST_YEAR,
                    start_date=start,
                    end_date=end,
                    budget_received=BUDGET,
                    agency="สำนักงานเขตทดสอบ",
                )
            )
            person = await repo.add_person(f"เจ้าหน้าที่ {n}", roles=frozenset({Role.OFFICER}))
            await repo.link_officer(person.id, code)
            user_id = first_user + n
            await repo.link_identity(ChatIdentity("telegram", str(user_id), person.id))
            accounts.append(Account(n, user_id, code))
    finally:
        await repo.close()
    return accounts


def intended(account: Account, fiscal_year: int, report_no: int) -> tuple[Decimal, Decimal]:
    """The progress (%) and disbursement (baht) an officer reports for a month."""
    month = (fiscal_year - FIRST_YEAR) * 12 + report_no  # 1..24
    progress = Decimal(month * 4 + account.index % 3)
    disbursed = Decimal(month * 20_000 + account.index * 10)
    return progress, disbursed


def fiscal_year_of(report_no: int, buddhist_year: int) -> int:
    """The fiscal year of a month shown as "ต.ค. 2569": Oct-Dec belong to the next one."""
    return buddhist_year + 1 if report_no <= 3 else buddhist_year


def write_config(
    folder: Path,
    database: Path | Database,
    fake: FakeBotApi,
    *,
    level: str = "INFO",
    webhook_port: int | None = None,
) -> Path:
    """A config for `python -m bot run` against the fake, without reminders or rate limits;
    with `webhook_port`, in webhook mode on that port (path /telegram), else long polling."""
    config = folder / "bot.toml"
    data = Database(database) if isinstance(database, Path) else database
    webhook = (
        'mode = "webhook"\nwebhook_public_url = "https://bots.example.go.th/telegram"\n'
        f"webhook_port = {webhook_port}\n"
        if webhook_port is not None
        else ""
    )
    config.write_text(
        data.config() + f'[bot]\nfixed_now = "{FIXED_NOW}"\n'
        f'[logging]\nlevel = "{level}"\n'
        "[reminders]\nenabled = false\n"
        f'[telegram]\napi_base_url = "{fake.base_url}"\n'
        f'api_file_url = "{fake.base_file_url}"\npoll_timeout = 5\n'
        "messages_per_second = 10000.0\nmessages_per_chat_per_second = 10000.0\n" + webhook,
        encoding="utf-8",
    )
    return config


# ----------------------------------------------------------------------------- the process


@dataclass
class BotProcess:
    """`python -m bot run` in its own process, its output appended to bot.log."""

    fake: FakeBotApi
    folder: Path
    config: Path
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    token: str = TOKEN  # the bot token the fake expects, given through the environment
    webhook_port: int | None = None  # webhook mode: ready once /healthz answers on this port

    @property
    def log_path(self) -> Path:
        """Where the bot's standard output and error go."""
        return self.folder / "bot.log"

    @property
    def pid(self) -> int:
        """The running bot's process id."""
        assert self.process is not None
        return self.process.pid

    async def start(self, timeout: float = 60) -> None:  # noqa: ASYNC109
        """Start the bot and wait until it polls for updates."""
        seen = len(self.fake.requests)
        env = {
            **os.environ,
            "PYTHAINLP_READ_ONLY": "1",
            "PROGRESS_BOT_TELEGRAM_TOKEN": self.token,
            "PROGRESS_BOT_TELEGRAM_SECRET": WEBHOOK_SECRET,
        }
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "--config", str(self.config), "run",
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                cwd=self.folder,
            )  # fmt: skip
        self.starts += 1
        waiting = asyncio.ensure_future(
            self._healthy(timeout)
            if self.webhook_port is not None
            else self.fake.wait_for_request("getUpdates", timeout=timeout, after=seen)
        )
        exited = asyncio.ensure_future(self.process.wait())
        await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            waiting.cancel()
            raise RuntimeError(
                f"the bot exited with {self.process.returncode}; see {self.log_path}"
            )
        exited.cancel()
        waiting.result()

    async def _healthy(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until the webhook's server answers its health check."""
        import aiohttp

        url = f"http://127.0.0.1:{self.webhook_port}/healthz"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession() as session:
            while loop.time() < deadline:
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(url) as answer:
                        if answer.status == 200:
                            return
                await asyncio.sleep(0.05)
        raise TimeoutError(f"the bot's webhook on port {self.webhook_port} never answered")

    def kill_now(self) -> None:
        """SIGKILL at once, from synchronous code (a hook of the fake): the bot cannot get one
        more instruction done, not even read the answer to the call it is making."""
        os.kill(self.pid, signal.SIGKILL)

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        assert self.process is not None
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        await self.process.wait()

    async def terminate(self, timeout: float = 30) -> int:  # noqa: ASYNC109
        """SIGTERM, a clean stop; returns the exit code."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def ensure_stopped(self) -> None:
        """Kill the process if it still runs (clean-up after a failure)."""
        if self.process is not None and self.process.returncode is None:
            await self.kill()


# ----------------------------------------------------------------------------- the chats


@dataclass
class Inbox:
    """What the bot sent to one chat (sent, or a pressed message edited into the next
    question), with a wake-up for new messages."""

    messages: list[Sent] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_beyond(self, count: int, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until there are more than `count` messages; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.messages) <= count:
            self.arrived.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                async with asyncio.timeout(remaining):
                    await self.arrived.wait()
            except TimeoutError:
                return len(self.messages) > count
        return True


class Inboxes:
    """Routes every message the fake records to the inbox of its chat.

    `trap`, when set, is called (once) the moment the bot takes the buttons off a summary
    for the first time: that is after it handled the press of "ยืนยันส่ง", so after the report
    was committed, and before the confirmation is sent.
    """

    def __init__(self, fake: FakeBotApi) -> None:
        self.chats: dict[int, Inbox] = {}
        self.sends = 0
        self.trap: Callable[[], None] | None = None
        self._summaries: set[tuple[int, int]] = set()
        self._edited: set[tuple[int, int]] = set()
        fake.on_send = self._on_send

    def of(self, chat_id: int) -> Inbox:
        """The inbox of a chat."""
        return self.chats.setdefault(chat_id, Inbox())

    def _on_send(self, sent: Sent) -> None:
        self.sends += 1
        if sent.chat_id is None or sent.message_id is None:
            return
        where = (sent.chat_id, sent.message_id)
        if sent.method == "editMessageReplyMarkup" and where in self._summaries:
            if where not in self._edited and self.trap is not None:
                trap, self.trap = self.trap, None
                trap()
            self._edited.add(where)
        if sent.method not in {"sendMessage", "editMessageText"}:
            return
        if shown(sent.text).startswith(texts.CONFIRM_HEAD):
            self._summaries.add(where)
        inbox = self.of(sent.chat_id)
        inbox.messages.append(sent)
        inbox.arrived.set()


class Kind(Enum):
    """What a message from the bot is, as an officer reading it understands it."""

    SAVED = "saved"
    CORRECTED = "corrected"
    NO_CHANGE = "no_change"
    NOTHING_DUE = "nothing_due"
    DISCARD = "discard"
    MONTH = "month"
    CORRECTION_REASON = "correction_reason"
    PROGRESS = "progress"
    DISBURSED = "disbursed"
    NOTE = "note"
    NOTE_CHECK = "note_check"
    ON_PLAN = "on_plan"
    ON_TARGET = "on_target"
    CONFIRM = "confirm"
    STATUS = "status"
    HISTORY = "history"
    HELP = "help"
    IDLE = "idle"
    UNKNOWN = "unknown"


SAVED_PREFIX = texts.SAVED.split("{", 1)[0]
CORRECTED_PREFIX = texts.CORRECTED.split("{", 1)[0]
STATUS_PREFIX = "โครงการของคุณ (ข้อมูล ณ"
_MONTH = r"(\d{1,2}) \((\S+) (\d{4})\)"
SAVED_RE = re.compile(re.escape(SAVED_PREFIX) + _MONTH + r" ของโครงการ (\S+) ")
# The confirmation given late: the press came again after the bot died before answering it.
LATE_PREFIX = texts.ALREADY_DONE.split("{", 1)[0]
LATE_RE = re.compile(re.escape(LATE_PREFIX) + _MONTH + r" ของโครงการ (\S+) ")
HEADING_RE = re.compile(r"^รายงานครั้งที่ " + _MONTH + r" โครงการ (\S+)$", re.MULTILINE)
_STEP_KINDS = {
    kind.value: kind
    for kind in (
        Kind.MONTH,
        Kind.PROGRESS,
        Kind.DISBURSED,
        Kind.NOTE,
        Kind.NOTE_CHECK,
        Kind.ON_PLAN,
        Kind.ON_TARGET,
        Kind.CONFIRM,
    )
}
_TEXT_KINDS = (
    ("กี่เปอร์เซ็นต์", Kind.PROGRESS),
    ("เบิกจ่ายสะสมถึงเดือนนี้กี่บาท", Kind.DISBURSED),
    ("สรุปผลการดำเนินงานเดือนนี้", Kind.NOTE),
    ("กรุณาระบุเหตุผลของการแก้ไข", Kind.CORRECTION_REASON),
)


def answers(payload: str, kind: Kind) -> bool:
    """Whether a button answers the step of `kind`."""
    decoded = decode(payload)
    return isinstance(decoded, StepAnswer) and decoded.step == kind.value


def shown(text: str | None) -> str:
    """A message's text without the answer a pressed question shows on top when the bot
    turned it into the next question ("✓ เป็นไปตามแผน\n\n...")."""
    text = text or ""
    return text.split("\n\n", 1)[1] if text.startswith("✓ ") and "\n\n" in text else text


def payloads(sent: Sent) -> list[str]:
    """Callback data of the message's inline buttons."""
    return [data for _, data in FakeBotApi.buttons(sent)]


def classify(sent: Sent) -> Kind:
    """Read one message of the bot the way an officer would."""
    text = shown(sent.text)
    if text.startswith((SAVED_PREFIX, LATE_PREFIX)):
        return Kind.SAVED
    if text.startswith(CORRECTED_PREFIX):
        return Kind.CORRECTED
    if text.startswith((texts.CORRECTION_NO_CHANGE, texts.NOTHING_TO_CORRECT)):
        return Kind.NO_CHANGE
    if text.startswith(texts.NOTHING_DUE.split("\n", 1)[0]):
        return Kind.NOTHING_DUE
    data = [decode(payload) for payload in payloads(sent)]
    if RunCommand("resume") in data:
        return Kind.DISCARD
    for payload in data:
        if isinstance(payload, StepAnswer) and payload.step in _STEP_KINDS:
            return _STEP_KINDS[payload.step]
    for words, kind in _TEXT_KINDS:
        if words in text:
            return kind
    if text.startswith(STATUS_PREFIX):
        return Kind.STATUS
    if text.startswith(texts.HELP.split("\n", 1)[0]):
        return Kind.HELP
    if "ปีงบประมาณ พ.ศ." in text or texts.NO_REPORTS_YET in text:
        return Kind.HISTORY
    if RunCommand("report") in data:
        return Kind.IDLE
    return Kind.UNKNOWN


@dataclass(frozen=True)
class Summary:
    """The figures of a confirmation summary, as shown to the officer."""

    report_no: int
    progress: Decimal
    disbursed: Decimal
    note: str


def parse_summary(text: str) -> Summary | None:
    """Read the summary shown before "ยืนยันส่ง" (None if it is not one)."""
    if not text.startswith(texts.CONFIRM_HEAD):
        return None
    head = re.search(r"^รายงานครั้งที่(\d+) :: [^:]*?(?: : (.*))?$", text, re.MULTILINE)
    progress = re.search(r"ความก้าวหน้าของงานฯ = ([\d.,]+) %", text)
    disbursed = re.search(r"งบประมาณที่เบิกใช้ \(ครั้งที่ \d+\) = ([\d.,]+) บาท", text)
    if head is None or progress is None or disbursed is None:
        return None
    try:
        return Summary(
            int(head.group(1)),
            Decimal(progress.group(1).replace(",", "")),
            Decimal(disbursed.group(1).replace(",", "")),
            (head.group(2) or "").strip(),
        )
    except InvalidOperation:
        return None


def saved_month(text: str) -> tuple[str, int, int] | None:
    """(project code, fiscal year, report no) of a "บันทึกรายงานครั้งที่ ..." message, or of
    the same confirmation given late ("ได้รับข้อความนี้แล้ว รายงานครั้งที่ ...")."""
    match = SAVED_RE.match(text) or LATE_RE.match(text)
    if match is None:
        return None
    report_no = int(match.group(1))
    return match.group(4), fiscal_year_of(report_no, int(match.group(3))), report_no


def still_due(status: str, fiscal_year: int, report_no: int) -> bool:
    """Whether an officer's status text still lists the month as to be sent."""
    name = format_thai_month(fiscal_year, report_no)
    return any(name in line for line in status.splitlines() if "ค้างส่ง:" in line or "ต้องส่ง:" in line)


# ----------------------------------------------------------------------------- the officer


class Goal(Enum):
    """What an officer sets out to do."""

    REPORT = "/report"
    CORRECT = "/correct"
    STATUS = "/status"
    HISTORY = "/history"


class Outcome(Enum):
    """How a goal ended."""

    CONFIRMED = "confirmed"  # the bot said "บันทึกรายงานครั้งที่ ..." (or "บันทึกการแก้ไข...")
    STORED_UNCONFIRMED = "stored_unconfirmed"  # no confirmation, but /status shows it sent
    NOTHING_DUE = "nothing_due"
    DONE = "done"  # status or history shown, or a correction that changed nothing
    STUCK = "stuck"


@dataclass
class Press:
    """An officer's press of "ยืนยันส่ง" on a summary it checked."""

    fiscal_year: int
    report_no: int
    summary: Summary
    kills_before: int


@dataclass
class Stats:
    """What one officer did and saw."""

    goals: int = 0
    messages_sent: int = 0
    resends: int = 0
    confused: int = 0
    rejected_summaries: int = 0
    restarts: int = 0
    interrupted: int = 0  # goals during which the bot was killed
    resumed: int = 0  # ...and that were then finished
    stored_unconfirmed: int = 0


@dataclass
class Action:
    """A message the officer sends: typed text, or a press of `data` under `message_id`."""

    text: str = ""
    data: str = ""
    message_id: int = 0


class Officer:
    """One simulated person in Telegram, reacting to the newest message of the bot."""

    def __init__(
        self,
        fake: FakeBotApi,
        inboxes: Inboxes,
        account: Account,
        *,
        kills: Callable[[], int] = lambda: 0,
        patience: float = 3.0,
        settle: float = 0.4,
        give_up: float = 120.0,
    ) -> None:
        self.fake = fake
        self.account = account
        self.inbox = inboxes.of(account.user_id)
        self.kills = kills
        self.patience = patience
        self.settle = settle
        self.give_up = give_up
        self.stats = Stats()
        self.presses: list[Press] = []
        self.read = 0  # messages of the inbox already looked at
        self.last: Action | None = None
        self.corrections = 0
        self.transcript: list[str] = []
        """Both sides of the chat, for reading after a failed run."""

    # -- sending

    def _do(self, action: Action) -> None:
        self.last = action
        self.stats.messages_sent += 1
        self.transcript.append(f"> {action.data or action.text}")
        if action.data:
            self.fake.push_callback(self.account.user_id, action.data, message_id=action.message_id)
        else:
            self.fake.push_text(self.account.user_id, action.text)

    def say(self, text: str) -> None:
        """Type a message."""
        self._do(Action(text=text))

    def press(self, sent: Sent, data: str) -> None:
        """Press the button with this callback data under `sent`."""
        assert sent.message_id is not None
        self._do(Action(data=data, message_id=sent.message_id))

    # -- reading

    async def _new_messages(self, timeout: float) -> list[Sent]:  # noqa: ASYNC109
        """Messages not looked at yet, waiting up to `timeout` for the first one."""
        if not await self.inbox.wait_beyond(self.read, timeout):
            return []
        new = self.inbox.messages[self.read :]
        self.read = len(self.inbox.messages)
        for sent in new:
            shown = (sent.text or "").replace("\n", " / ")
            self.transcript.append(f"< {shown} {payloads(sent)}")
        return new

    def _latest_summary(self) -> Summary | None:
        for sent in reversed(self.inbox.messages[: self.read]):
            summary = parse_summary(shown(sent.text))
            if summary is not None:
                return summary
        return None

    # -- one goal

    async def achieve(self, goal: Goal) -> Outcome:
        """Carry out one goal from the idle state to its end, whatever the bot goes through."""
        self.stats.goals += 1
        kills_at_start = self.kills()
        outcome = await self._achieve(goal)
        if self.kills() > kills_at_start:
            self.stats.interrupted += 1
            if outcome is not Outcome.STUCK:
                self.stats.resumed += 1
        return outcome

    async def _achieve(self, goal: Goal) -> Outcome:
        month: tuple[int, int] | None = None  # (fiscal year, report no) being reported
        pressed: Press | None = None
        asked_status = False
        resent = False
        silent_since = asyncio.get_running_loop().time()
        confusion = 0
        restarts_before = self.stats.restarts
        self.read = len(self.inbox.messages)  # earlier messages belong to earlier goals
        self.say(goal.value)
        while True:
            new = await self._new_messages(self.patience)
            loop = asyncio.get_running_loop()
            if not new:
                if loop.time() - silent_since > self.give_up:
                    return Outcome.STUCK
                if not resent and self.last is not None:
                    # No answer: the bot may have died with the message. Send it again (once).
                    resent = True
                    self.stats.resends += 1
                    self._do(self.last)
                continue
            silent_since = loop.time()
            resent = False
            # Read on until the chat is quiet: answering each message as it comes would answer
            # the re-asked question and the reply to the last answer both, one step out of line.
            while more := await self._new_messages(self.settle):
                new += more
            for sent in new:
                kind = classify(sent)
                if kind is Kind.SAVED and pressed is not None:
                    code_month = saved_month(sent.text or "")
                    if code_month == (self.account.code, pressed.fiscal_year, pressed.report_no):
                        return Outcome.CONFIRMED
                if kind in {Kind.PROGRESS, Kind.CONFIRM}:
                    heading = HEADING_RE.search(sent.text or "")
                    if heading is not None:
                        report_no = int(heading.group(1))
                        month = (fiscal_year_of(report_no, int(heading.group(3))), report_no)
            latest = new[-1]
            kind = classify(latest)
            if kind is Kind.HELP:
                kind = Kind.IDLE
            elif kind is Kind.UNKNOWN:
                confusion += 1
                self.stats.confused += 1
                if confusion > 10:
                    return Outcome.STUCK
                self.say("/help")  # shows the help and asks the open question again
                continue

            if kind is Kind.NOTHING_DUE:
                return Outcome.NOTHING_DUE if goal is Goal.REPORT else Outcome.DONE
            if kind is Kind.CORRECTED and goal is Goal.CORRECT:
                return Outcome.CONFIRMED
            if kind is Kind.NO_CHANGE and goal is Goal.CORRECT:
                return Outcome.DONE
            if kind is Kind.STATUS and goal is Goal.STATUS:
                return Outcome.DONE
            if kind is Kind.HISTORY and goal is Goal.HISTORY:
                return Outcome.DONE
            if kind is Kind.STATUS and pressed is not None:
                if not still_due(latest.text or "", pressed.fiscal_year, pressed.report_no):
                    # Stored, though the confirmation never arrived: the bot died before it.
                    self.stats.stored_unconfirmed += 1
                    return Outcome.STORED_UNCONFIRMED
                pressed, asked_status = None, False
            if kind in {Kind.IDLE, Kind.STATUS, Kind.SAVED, Kind.CORRECTED, Kind.NO_CHANGE}:
                if pressed is not None and not asked_status:
                    asked_status = True  # "did my report go through?"
                    self.say("/status")
                else:
                    self.stats.restarts += 1
                    if self.stats.restarts > restarts_before + 20:
                        return Outcome.STUCK
                    pressed = None
                    self.say(goal.value)
                continue
            self._answer(goal, kind, latest, month)
            if kind is Kind.CONFIRM and self.last is not None and self.last.data:
                summary = self._latest_summary()
                assert summary is not None and month is not None
                pressed = Press(month[0], month[1], summary, self.kills())
                self.presses.append(pressed)

    def _answer(self, goal: Goal, kind: Kind, latest: Sent, month: tuple[int, int] | None) -> None:
        """Answer the question in `latest`."""
        data = payloads(latest)
        reporting = goal is Goal.REPORT
        if kind is Kind.DISCARD:
            self.press(latest, RunCommand("resume").encode())
        elif kind is Kind.MONTH:
            self.press(latest, next(d for d in data if answers(d, Kind.MONTH)))
        elif kind is Kind.CORRECTION_REASON:
            self.say(CORRECTION_REASON)
        elif kind in {Kind.PROGRESS, Kind.DISBURSED} and not reporting:
            keep = StepAnswer(kind.value, "keep").encode()
            if keep in data:
                self.press(latest, keep)
            else:
                self.say("/help")
        elif kind in {Kind.PROGRESS, Kind.DISBURSED}:
            if month is None:
                self.say("/cancel")  # lost track of the month: start again
                return
            progress, disbursed = intended(self.account, *month)
            self.say(str(progress) if kind is Kind.PROGRESS else f"{disbursed:,}")
        elif kind is Kind.NOTE:
            self.say(NOTE if reporting else NOTES[self.corrections % 2])
        elif kind is Kind.NOTE_CHECK:
            self.press(latest, StepAnswer("note_check", "note").encode())  # write the note again
        elif kind in {Kind.ON_PLAN, Kind.ON_TARGET}:
            self.press(latest, StepAnswer(kind.value, "yes").encode())
        elif kind is Kind.CONFIRM:
            if self._summary_is_right(goal, month):
                if not reporting:
                    self.corrections += 1
                self.press(latest, StepAnswer("confirm", "yes").encode())
            else:
                self.stats.rejected_summaries += 1
                self.say("/cancel")
        else:  # a question this officer never means to be asked (a reason, another step)
            self.say("/cancel")

    def _summary_is_right(self, goal: Goal, month: tuple[int, int] | None) -> bool:
        summary = self._latest_summary()
        if summary is None or month is None or summary.report_no != month[1]:
            return False
        if goal is Goal.CORRECT:
            return summary.note == NOTES[self.corrections % 2]
        progress, disbursed = intended(self.account, *month)
        return (summary.progress, summary.disbursed, summary.note) == (progress, disbursed, NOTE)
