"""The agent desktop in a real browser: a caller asks for a person, an agent takes the call.

Headless Chromium from Debian, driven by Playwright, against the whole running bot
(engine, Rasa, action server, PostgreSQL). Screenshots of each step are saved under
test-artifacts/desktop/.
"""

from __future__ import annotations

import re
import shutil

import httpx
import pytest
from sqlalchemy import select

from tests.bot_stack import Caller
from voicebot.credentials import service_headers
from voicebot.desk.agents import AgentService
from voicebot.settings import PROJECT_ROOT
from voicebot.store.models import Ticket
from voicebot.store.session import make_engine, session_factory

pytestmark = pytest.mark.integration

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "desktop"
PASSWORD = "a long agent password"


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's chromium is not installed (make test installs it)")
    return path


def test_agent_signs_in_takes_the_handed_off_call_and_wraps_it_up(stack, chromium) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings = stack.settings
    engine = make_engine(settings.sqlalchemy_url)
    sessions = session_factory(engine)
    AgentService(sessions).create_agent("pat", PASSWORD, "Pat Jones", "agent", ["after_sales"])
    AgentService(sessions).create_agent("max", PASSWORD, "Max Supervisor", "supervisor")

    # The scripted caller: a refund outside the return window, put through to a colleague.
    caller = Caller(settings)
    turn = caller.say("i want my money back for order 107081")
    assert "outside our return window" in turn["bot_text"]
    handoff = turn["handoff"]
    assert handoff["reason"] == "outside_return_window" and handoff["queue"] == "after_sales"
    handoff_id = handoff["handoff_id"]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{settings.engine_url}/desk")
            expect(page).to_have_url(f"{settings.engine_url}/desk/login")  # not signed in yet
            page.fill("#username", "pat")
            page.fill("#password", "wrong password here")
            page.click("#sign-in-button")
            expect(page.locator("#sign-in-error")).to_have_text("Wrong username or password.")
            page.fill("#password", PASSWORD)
            page.screenshot(path=SCREENSHOTS / "01-sign-in.png")
            page.click("#sign-in-button")

            call = page.locator(f'#waiting li[data-handoff-id="{handoff_id}"]')
            expect(call).to_contain_text("after_sales")
            expect(call).to_contain_text("order 107081")
            expect(call).to_contain_text("wants a refund outside the return window")
            expect(page.locator("#stream-status")).to_have_text("live")
            page.screenshot(path=SCREENSHOTS / "02-queue.png")

            call.click()
            expect(page.locator("#summary-text")).to_contain_text("107081")
            expect(page.locator("#summary-facts")).to_contain_text("Decide on a return exception for order 107081")
            page.screenshot(path=SCREENSHOTS / "03-summary.png")

            page.click("#accept")
            expect(page.locator("#context-card")).to_be_visible()
            expect(page.locator('#orders [data-order-number="107081"]')).to_contain_text("delivered")
            expect(page.locator("#transcript")).to_contain_text("i want my money back for order 107081")
            expect(page.locator(f'#waiting li[data-handoff-id="{handoff_id}"]')).to_have_count(0)  # taken off the queue
            page.screenshot(path=SCREENSHOTS / "04-context.png", full_page=True)

            notes = page.locator("#wrap-up-notes")
            expect(notes).not_to_have_value("")  # pre-filled with a draft from the summary
            draft = notes.input_value()
            assert "107081" in draft and draft.startswith("Caller: ")
            notes.fill(draft + "Approved a one-off late return; label emailed.")
            page.select_option("#disposition", "refund_issued")
            page.click("#save-wrap-up")
            expect(page.locator("#wrap-up-result")).to_contain_text("Saved as ticket #")
            page.screenshot(path=SCREENSHOTS / "05-wrapped-up.png", full_page=True)
            ticket_id = int(page.locator("#wrap-up-result").inner_text().split("#")[1].split(" ")[0])
            expect(page.locator("#tab-supervisor")).to_be_hidden()  # agents get no supervisor view

            # A supervisor sees the queues and today's calls with their outcomes.
            supervisor = browser.new_page(viewport={"width": 1280, "height": 900})
            supervisor.goto(f"{settings.engine_url}/desk/login")
            supervisor.fill("#username", "max")
            supervisor.fill("#password", PASSWORD)
            supervisor.click("#sign-in-button")
            supervisor.click("#tab-supervisor")
            expect(supervisor.locator("#today")).to_contain_text("Bot-resolved")
            row = supervisor.locator("#calls-table tbody tr", has_text="after_sales")
            expect(row.first).to_contain_text("handed_off")  # the wrap-up closed the conversation
            expect(supervisor.locator("#today")).to_contain_text(re.compile(r"handed off [1-9]"))
            supervisor.screenshot(path=SCREENSHOTS / "06-supervisor.png", full_page=True)
        finally:
            browser.close()

    with sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.id == ticket_id)).one()
        assert ticket.call_id == caller.call_id and ticket.body["disposition"] == "refund_issued"
        assert ticket.body["notes"].endswith("Approved a one-off late return; label emailed.") and ticket.body["agent"] == "pat"
    handoff_now = httpx.get(f"{settings.engine_url}/api/v1/calls/{caller.call_id}/handoff", headers=service_headers(settings))
    assert handoff_now.json()["status"] == "closed"
    for step in ("01-sign-in", "02-queue", "03-summary", "04-context", "05-wrapped-up", "06-supervisor"):
        assert (SCREENSHOTS / f"{step}.png").stat().st_size > 10_000
    engine.dispose()
