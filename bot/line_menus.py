"""LINE rich menus: the panel of buttons under the chat, one per role, made and kept by the bot.

Officers see the officers' menu (the account's default); coordinators and admins are linked one
by one to the coordinators' menu. `progress-bot line rich-menu` (and `run`, at start) makes the
menus when they are missing or their buttons changed, and is idempotent: a menu is known by its
name, which carries a digest of what it was made from, so running it again makes nothing and
the old menus of earlier versions are deleted. While the bot runs, `MenuKeeper.sync` links each
LINE account to its role's menu (every few minutes, for role changes made by imports or the CLI),
and `MenuKeeper.after_event` does it for an account the first time it writes (so a person who
has just linked their account gets their menu at once).

Each tap is a postback of a command button (domain.payloads.RunCommand) with the label as the
text shown in the chat, exactly what typing the command does.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.line_channel import LineApi
from domain.models import Person, Role
from domain.payloads import RunCommand
from reports.menu_picture import HEIGHT, WIDTH, Cell, draw_menu, grid
from storage.contracts import Accounts, Registry

log = logging.getLogger(__name__)

OFFICER, COORDINATOR = "officer", "coordinator"
NAME_PREFIX = "progress-bot "  # every menu the bot made, and no other, has a name starting so
CHAT_BAR = "เมนูรายงาน"  # the text of the bar that opens the menu (at most 14 characters)
BULK = 500  # accounts per link or unlink request
DESIGN = 1  # raise when the picture's drawing changes, so that the menus are made again

# (label, command) of each tile, in reading order: three across, two down. Where the web
# dashboard is served, coordinators get it in place of their own projects' status (`tiles`).
MENUS: dict[str, tuple[tuple[str, str], ...]] = {
    OFFICER: (
        ("ส่งรายงาน", "report"),
        ("สถานะ", "status"),
        ("แบบรายงาน", "form"),
        ("ประวัติ", "history"),
        ("ช่องทางแจ้งเตือน", "channel"),
        ("ช่วยเหลือ", "help"),
    ),
    COORDINATOR: (
        ("สรุป", "summary"),
        ("ส่งออก", "export"),
        ("สถานะ", "status"),
        ("ส่งรายงาน", "report"),
        ("แบบรายงาน", "form"),
        ("ช่วยเหลือ", "help"),
    ),
}


DASHBOARD_TILE = ("แดชบอร์ด", "dashboard")


def tiles(role: str, *, dashboard: bool = False) -> tuple[tuple[str, str], ...]:
    """The (label, command) tiles of a role's menu; `dashboard`: the web dashboard is served."""
    if not dashboard or role != COORDINATOR:
        return MENUS[role]
    return tuple(
        DASHBOARD_TILE if command == "status" else (label, command)
        for label, command in MENUS[role]
    )


class MenuStore(Accounts, Registry, Protocol):
    """What keeping the menus reads and writes: people, their LINE accounts, the menus."""


def role_of(person: Person) -> str:
    """Whose menu a person sees: coordinators' for coordinators and admins."""
    return COORDINATOR if person.roles & {Role.COORDINATOR, Role.ADMIN} else OFFICER


@dataclass(frozen=True, slots=True)
class MenuDesign:
    """A role's menu as LINE takes it: the request's JSON (with its name) and its picture."""

    role: str
    body: dict[str, Any]
    tiles: tuple[tuple[str, str], ...]  # (label, command)

    @property
    def name(self) -> str:
        return str(self.body["name"])

    def picture(self) -> bytes:
        """The PNG (drawn when a menu is made, not on every check)."""
        return draw_menu(_grid(self.tiles))


def design(role: str, *, dashboard: bool = False) -> MenuDesign:
    """The menu of a role, named by a digest of its buttons, layout and drawing version."""
    chosen = tiles(role, dashboard=dashboard)
    cells = _grid(chosen)
    areas = [
        {
            "bounds": {"x": c.x, "y": c.y, "width": c.width, "height": c.height},
            "action": {
                "type": "postback",
                "label": c.label[:20],
                "data": RunCommand(command).encode(),
                "displayText": c.label,
            },
        }
        for c, (_, command) in zip(cells, chosen, strict=True)
    ]
    body: dict[str, Any] = {
        "size": {"width": WIDTH, "height": HEIGHT},
        "selected": False,
        "chatBarText": CHAT_BAR,
        "areas": areas,
    }
    digest = hashlib.sha256(json.dumps([DESIGN, body], sort_keys=True).encode()).hexdigest()
    body["name"] = f"{NAME_PREFIX}{role} {digest[:12]}"
    return MenuDesign(role, body, chosen)


def _grid(chosen: Sequence[tuple[str, str]]) -> list[Cell]:
    """The tiles laid out, each with its label and the command it stands for."""
    return grid([(label, f"/{command}") for label, command in chosen])


class MenuKeeper:
    """Makes the menus, and links each LINE account to the menu of its person's role."""

    def __init__(self, api: LineApi, store: MenuStore, *, dashboard: bool = False) -> None:
        self._api = api
        self._store = store
        self._dashboard = dashboard  # coordinators get a tile for the web dashboard
        self._links: dict[str, str] | None = None  # account -> menu, as stored (None: unread)
        self._seen: set[str] = set()  # accounts checked since the last sync

    async def ensure(self) -> list[str]:
        """Make each role's menu if it is missing or out of date, make the officers' menu the
        default, and delete menus of earlier versions; what was done, in Thai."""
        existing = await self._api.rich_menu_names()
        stored = await self._store.rich_menus()
        done: list[str] = []
        current: dict[str, str] = {}
        for role in MENUS:
            wanted = design(role, dashboard=self._dashboard)
            kept = stored.get(role)
            if kept is not None and kept[1] == wanted.name and kept[0] in existing:
                current[role] = kept[0]
                done.append(f"เมนู{_THAI[role]}: เป็นปัจจุบันอยู่แล้ว ({kept[0]})")
                continue
            picture = await asyncio.to_thread(wanted.picture)  # a quarter of a second of drawing
            menu = await self._api.create_rich_menu(wanted.body)
            await self._api.upload_rich_menu_image(menu, picture)
            await self._store.set_rich_menu(role, menu, wanted.name)
            current[role] = menu
            done.append(f"เมนู{_THAI[role]}: สร้างใหม่ ({menu})")
        await self._api.set_default_rich_menu(current[OFFICER])
        for menu, name in existing.items():
            if name.startswith(NAME_PREFIX) and menu not in current.values():
                await self._api.delete_rich_menu(menu)
                done.append(f"ลบเมนูรุ่นเก่า ({menu})")
        self._links = None  # accounts linked to a deleted menu are linked again by sync
        return done

    async def sync(self) -> int:
        """Link every LINE account to its role's menu where it is not yet; how many changed."""
        menus = await self._store.rich_menus()
        if COORDINATOR not in menus:
            log.info("line: no rich menus yet; run `progress-bot line rich-menu`")
            return 0
        coordinator_menu = menus[COORDINATOR][0]
        people = {p.id: p for p in await self._store.all_people()}
        blocked = await self._store.blocked_accounts()
        wanted: dict[str, str | None] = {}
        for identity in await self._store.all_identities():
            person = people.get(identity.person_id)
            if identity.channel != "line" or person is None:
                continue
            if ("line", identity.external_id) in blocked:
                continue
            role = role_of(person)
            wanted[identity.external_id] = coordinator_menu if role == COORDINATOR else None
        self._links = linked = await self._store.menu_links()
        changes = {
            user: menu for user, menu in wanted.items() if linked.get(user) != menu
        }  # fmt: skip
        changes.update({user: None for user in linked.keys() - wanted.keys()})
        await self._apply(changes)
        self._seen.clear()
        return len(changes)

    async def after_event(self, user: str) -> None:
        """Once per sync period, on an account's first event: link it to its role's menu if it
        is not (its person was just linked, or their role changed). Never raises."""
        if user in self._seen:
            return
        try:
            menus = await self._store.rich_menus()
            if COORDINATOR not in menus:
                return
            if self._links is None:
                self._links = await self._store.menu_links()
            person = await self._store.find_person_by_identity("line", user)
            if person is None:
                return  # not linked yet: checked again on the next event
            self._seen.add(user)
            menu = menus[COORDINATOR][0] if role_of(person) == COORDINATOR else None
            if self._links.get(user) != menu:
                await self._apply({user: menu})
        except Exception as error:  # the answer went out; a menu can be linked later
            log.warning("line: could not link a rich menu (%s: %s)", type(error).__name__, error)

    async def _apply(self, changes: dict[str, str | None]) -> None:
        """Link and unlink at LINE (in requests of up to 500), and remember what was done, in
        storage and in the links known here, request by request."""
        by_menu: dict[str | None, list[str]] = {}
        for user, menu in sorted(changes.items()):
            by_menu.setdefault(menu, []).append(user)
        for menu, users in by_menu.items():
            for batch in _chunks(users, BULK):
                if menu is None:
                    await self._api.unlink_rich_menu(batch)
                else:
                    await self._api.link_rich_menu(batch, menu)
                await self._store.set_menu_links({user: menu for user in batch})
                # Not read yet: nothing to keep up to date (it is read whole when needed).
                links = self._links if self._links is not None else {}
                for user in batch:
                    if menu is None:
                        links.pop(user, None)
                    else:
                        links[user] = menu
        if changes:
            log.info("line: rich menus linked or unlinked for %d accounts", len(changes))


_THAI = {OFFICER: "เจ้าหน้าที่", COORDINATOR: "ผู้ประสานงาน"}


def _chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
