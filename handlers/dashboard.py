"""`แดชบอร์ด` (/dashboard): a link that signs the person in to the web dashboard, once."""

from __future__ import annotations

from domain.messages import Outbound
from handlers.context import Context
from handlers.flow import Result, Say

DASHBOARD_OFF = "ขออภัย ระบบนี้ยังไม่ได้เปิดแดชบอร์ด กรุณาติดต่อผู้ดูแลระบบ"
DASHBOARD_LINK = "ลิงก์เข้าแดชบอร์ดของคุณ (ใช้ได้ครั้งเดียว ภายใน 10 นาที อย่าส่งต่อให้ผู้อื่น)\n{url}"


async def dashboard(ctx: Context) -> Result:
    """Send the person a sign-in link, or say the dashboard is not served here."""
    if ctx.dashboard is None:
        return Say((Outbound(DASHBOARD_OFF),))
    url = await ctx.dashboard.link_for(ctx.person)
    return Say((Outbound(DASHBOARD_LINK.format(url=url)),))
