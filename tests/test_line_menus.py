"""LINE rich menus made and kept by the bot, against the fake LINE API (which checks sizes,
areas and actions as LINE does), and an officer reporting by tapping one."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from bot.line_channel import LineApi
from bot.line_menus import COORDINATOR, MENUS, OFFICER, MenuKeeper, design
from domain.models import ChatIdentity, Role
from domain.payloads import RunCommand, decode
from handlers import texts
from reports.menu_picture import HEIGHT, WIDTH
from storage.sqlite import SqliteStorage
from tests.fake_line import FakeLine, Sent
from tests.line_support import OFFICER as OFFICER_LINE
from tests.line_support import SECRET, SINGLE, TOKEN, LineBot, line_config, link_line, running_line
from tests.support import BANGKOK, World, build_world

COORDINATOR_LINE = "U" + "c" * 32


@pytest.fixture
async def world() -> AsyncIterator[World]:
    repo = await SqliteStorage.open(":memory:")
    try:
        world = await build_world(repo)
        await link_line(world)
        await repo.link_identity(ChatIdentity("line", COORDINATOR_LINE, world.coordinator.id))
        yield world
    finally:
        await repo.close()


@pytest.fixture
async def line() -> AsyncIterator[FakeLine]:
    async with FakeLine(SECRET, TOKEN) as fake:
        yield fake


@pytest.fixture
async def keeper(world: World, line: FakeLine) -> AsyncIterator[MenuKeeper]:
    api = LineApi(line_config(line.base_url))
    try:
        yield MenuKeeper(api, world.repo)
    finally:
        await api.close()


def labels(menu: dict[str, object] | None) -> list[str]:
    assert isinstance(menu, dict)
    areas = menu["areas"]
    assert isinstance(areas, list)
    return [area["action"]["displayText"] for area in areas]


async def test_the_menus_are_made_with_their_pictures_once(
    keeper: MenuKeeper, line: FakeLine, world: World
) -> None:
    done = await keeper.ensure()
    assert len(line.menus) == 2 and len(line.menu_pictures) == 2
    officer_menu, _ = (await world.repo.rich_menus())[OFFICER]
    assert line.default_menu == officer_menu, "officers' menu is everyone's default"
    for role, (menu, name) in (await world.repo.rich_menus()).items():
        assert line.menus[menu]["name"] == name == design(role).name
        assert labels(line.menus[menu]) == [label for label, _ in MENUS[role]]
        picture = Image.open(io.BytesIO(line.menu_pictures[menu]))
        assert picture.size == (WIDTH, HEIGHT) and len(line.menu_pictures[menu]) < 1 << 20
        for area in line.menus[menu]["areas"]:
            command = decode(area["action"]["data"])
            assert isinstance(command, RunCommand) and command.name in {c for _, c in MENUS[role]}
    assert [d.split(":")[1].strip().split(" ")[0] for d in done] == ["สร้างใหม่", "สร้างใหม่"]
    # Again: nothing is made, nothing deleted.
    again = await keeper.ensure()
    assert all("เป็นปัจจุบันอยู่แล้ว" in d for d in again) and len(again) == 2
    assert line.calls("/v2/bot/richmenu") == 2
    assert len(line.menus) == 2


async def test_with_the_dashboard_served_coordinators_get_its_tile(
    line: FakeLine, world: World
) -> None:
    api = LineApi(line_config(line.base_url))
    try:
        await MenuKeeper(api, world.repo).ensure()
        done = await MenuKeeper(api, world.repo, dashboard=True).ensure()
    finally:
        await api.close()
    made = [d.split(":")[1].strip().split(" ")[0] for d in done[:2]]
    assert made == ["เป็นปัจจุบันอยู่แล้ว", "สร้างใหม่"] and done[2].startswith("ลบเมนูรุ่นเก่า")
    menus = await world.repo.rich_menus()
    coordinator = line.menus[menus[COORDINATOR][0]]
    assert "แดชบอร์ด" in labels(coordinator) and "สถานะ" not in labels(coordinator)
    commands = {decode(a["action"]["data"]) for a in coordinator["areas"]}
    assert RunCommand("dashboard") in commands
    assert labels(line.menus[menus[OFFICER][0]]) == [label for label, _ in MENUS[OFFICER]]
    assert len(line.menus) == 2, "the coordinators' menu without the tile was deleted"


async def test_a_changed_menu_is_made_again_and_the_old_one_deleted(
    keeper: MenuKeeper, line: FakeLine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await keeper.ensure()
    await keeper.sync()
    old_coordinator, _ = (await world.repo.rich_menus())[COORDINATOR]
    changed = (("สรุปผล", "summary"), *MENUS[COORDINATOR][1:])
    monkeypatch.setitem(MENUS, COORDINATOR, changed)
    done = await keeper.ensure()
    assert any("ลบเมนูรุ่นเก่า" in d for d in done)
    new_coordinator, _ = (await world.repo.rich_menus())[COORDINATOR]
    assert new_coordinator != old_coordinator and old_coordinator not in line.menus
    assert len(line.menus) == 2
    # The coordinator lost the deleted menu at LINE; the next sync links the new one.
    assert await keeper.sync() == 1
    assert line.user_menus == {COORDINATOR_LINE: new_coordinator}


async def test_each_account_sees_its_roles_menu_and_role_changes_follow(
    keeper: MenuKeeper, line: FakeLine, world: World
) -> None:
    assert await keeper.sync() == 0, "nothing to link before the menus exist"
    await keeper.ensure()
    assert await keeper.sync() == 1
    menus = await world.repo.rich_menus()
    assert line.user_menus == {COORDINATOR_LINE: menus[COORDINATOR][0]}
    assert labels(line.menu_of(OFFICER_LINE)) == [label for label, _ in MENUS[OFFICER]]
    assert labels(line.menu_of(COORDINATOR_LINE)) == [label for label, _ in MENUS[COORDINATOR]]
    assert await keeper.sync() == 0, "nothing changes twice"
    # The single-project officer becomes an admin: linked at the next sync, in bulk with others.
    await world.repo.add_person(world.single.name, roles=frozenset({Role.ADMIN}))
    assert await keeper.sync() == 1
    assert line.user_menus[SINGLE] == menus[COORDINATOR][0]
    # A LINE account unlinked from its person goes back to the default.
    await world.repo.set_blocked("line", COORDINATOR_LINE, True, world_now())
    assert await keeper.sync() == 1
    assert COORDINATOR_LINE not in line.user_menus


def world_now() -> datetime:
    return datetime(2026, 11, 23, 10, tzinfo=BANGKOK)


async def test_the_command_makes_and_links_the_menus_and_is_safe_to_run_again(
    line: FakeLine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "bot.sqlite3"
    config = tmp_path / "bot.toml"
    config.write_text(
        f'[database]\npath = "{database}"\n[line]\napi_host = "{line.base_url}"\n'
        f'api_data_host = "{line.base_url}"\n',
        encoding="utf-8",
    )
    env = {"PROGRESS_BOT_LINE_CHANNEL_SECRET": SECRET, "PROGRESS_BOT_LINE_ACCESS_TOKEN": TOKEN}
    assert await asyncio.to_thread(main, ["--config", str(config), "demo-data"], env) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["--config", str(config), "line", "rich-menu"], env) == 0
    first = capsys.readouterr().out
    assert first.count("สร้างใหม่") == 2 and len(line.menus) == 2
    assert await asyncio.to_thread(main, ["--config", str(config), "line", "rich-menu"], env) == 0
    second = capsys.readouterr().out
    assert second.count("เป็นปัจจุบันอยู่แล้ว") == 2 and len(line.menus) == 2
    # Without LINE configured it says so in Thai.
    bare = tmp_path / "bare.toml"
    bare.write_text(f'[database]\npath = "{database}"\n', encoding="utf-8")
    assert await asyncio.to_thread(main, ["--config", str(bare), "line", "rich-menu"], {}) == 2
    assert "ยังไม่ได้ตั้งค่า LINE" in capsys.readouterr().err


async def test_a_line_officer_reports_by_tapping_the_rich_menu(world: World) -> None:
    async with running_line(world.repo) as bot:
        api = bot.channel.api
        keeper = MenuKeeper(api, world.repo)
        bot.channel.menus = keeper
        await keeper.ensure()
        await tap(bot, SINGLE, "ส่งรายงาน", "กี่เปอร์เซ็นต์")
        await bot.say(SINGLE, "๖๐ ครับ", "เบิกจ่ายสะสม")
        # A coordinator's menu has the coordinators' commands; linked on their first event.
        await tap(bot, COORDINATOR_LINE, "ช่วยเหลือ", "ระบบรับรายงาน")
        coordinator_menu, _ = (await world.repo.rich_menus())[COORDINATOR]
        assert bot.fake.user_menus == {COORDINATOR_LINE: coordinator_menu}
        # (This bot makes no documents: the summary command says so.)
        await tap(bot, COORDINATOR_LINE, "สรุป", texts.DOCUMENTS_OFF)


async def tap(bot: LineBot, user: str, label: str, expect: str) -> Sent:
    after = len(bot.fake.sent)
    assert await bot.fake.deliver(bot.fake.tap(user, label)) == 200
    return await bot.fake.wait_for_text(user, expect, after=after)
