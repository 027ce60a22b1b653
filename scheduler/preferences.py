"""Which channel a person linked on several prefers: the one they last wrote to the bot from.

Reminders go there (scheduler.planner), so an officer who moved from Telegram to LINE, or back,
gets each reminder once, where they now are.
"""

from __future__ import annotations

from storage.repository import Repository


class ChannelUse:
    """Records the channel each person last used; shared by every channel of the process."""

    def __init__(self, repo: Repository) -> None:
        self._repo = repo
        self._last: dict[int, str] = {}  # what this process recorded, to skip needless writes

    async def used(self, channel: str, external_id: str) -> None:
        """The account wrote to the bot: its channel becomes its person's preferred one."""
        person = await self._repo.find_person_by_identity(channel, external_id)
        if person is None or self._last.get(person.id) == channel:
            return
        await self._repo.set_preferred_channel(person.id, channel)
        self._last[person.id] = channel
