"""Admin page of reports: Flag activities from other servers' moderators, with the reporter, the reason and the
reported comment (moderated from the comments queue); dismissing one removes it from the list."""

from __future__ import annotations

from aiohttp import web

from fedblog.services.reports import dismiss_report, recent_reports
from fedblog.web.admin_base import admin_form, admin_session, render_admin
from fedblog.web.keys import get_context

REPORTS_PATH = "/admin/reports"


async def reports_page(request: web.Request) -> web.Response:
    await admin_session(request)
    views = await recent_reports(get_context(request))
    dismissed = request.query.get("done", "") == "dismissed"
    return render_admin(request, "admin/reports.html", section="reports", reports=views, dismissed=dismissed)


async def report_dismiss(request: web.Request) -> web.Response:
    await admin_form(request)
    await dismiss_report(get_context(request), int(request.match_info["id"]))
    raise web.HTTPSeeOther(f"{REPORTS_PATH}?done=dismissed")


def setup(app: web.Application) -> None:
    app.router.add_get(REPORTS_PATH, reports_page)
    app.router.add_post(REPORTS_PATH + r"/{id:\d{1,18}}/dismiss", report_dismiss)
