"""A published app's channel URL opened in Chromium: promotion and rollback change the page."""

from __future__ import annotations

import pytest
from test_pages import Page

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def heading(text: str) -> list[dict[str, str]]:
    return [
        {
            "path": "/app/App.tsx",
            "content": f"export default function App() {{ return <h1>{text}</h1>; }}\n",
        }
    ]


def test_channel_urls_serve_the_promoted_version_and_roll_back(stack, browser):
    client, _ = stack
    session = client.sessions.create(name="channels")
    sids = []
    for text in ("Version one", "Version two"):
        client.sessions.push_files(session.id, heading(text))
        ticket = client.sessions.render(session.id)
        assert client.sessions.wait_for_render(session.id, ticket.version).status == "ready"
        publication = client.apps.publish(
            session.id,
            name="channels",
            author="user@the-shift.dev",
            app_sid=sids[0][0] if sids else None,
        )
        sids.append((publication.sid, publication.app_version_sid))
    sid, first, second = sids[0][0], sids[0][1], sids[1][1]

    page = Page(browser)
    try:
        page.open(client.apps.channels(sid).preview.url)
        assert page.tab.locator("h1").inner_text() == "Version two"
        client.apps.promote(sid, second)
        client.apps.promote(sid, first)  # rollback
        page.open(client.apps.channels(sid).production.url)
        assert page.tab.locator("h1").inner_text() == "Version one"
        assert page.errors == []
    finally:
        page.context.close()
