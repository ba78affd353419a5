"""The real bot end to end at the text level: engine + Rasa server + action server + PostgreSQL.

Every flow of the self-service issue, happy and unhappy, through the engine's dialogue
API; database effects are checked through the order API.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import httpx
import pytest

from knowledge.content import load_articles
from tests.bot_stack import Caller
from voicebot import prompts
from voicebot.credentials import service_headers

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(stack):
    return stack.settings


@pytest.fixture
def caller(settings):
    return Caller(settings)


def order(settings, number: str) -> dict:
    return httpx.get(f"{settings.engine_url}/api/v1/orders/{number}", headers=service_headers(settings)).json()


def spoken(iso: str) -> str:
    day = date.fromisoformat(iso[:10])
    return f"{day:%B} {day.day}"


def test_health_reports_every_component_ready(settings):
    response = httpx.get(f"{settings.engine_url}/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body["components"]) == {"database", "knowledge", "rasa", "action_server", "tts"}
    assert body["components"]["knowledge"]["articles"] >= 20
    assert all(c["ok"] for c in body["components"].values())
    assert "postgresql" in body["components"]["database"]["url"]
    assert body["engine"]["rss_mb"] > 100  # Whisper alone is bigger than that
    assert body["engine"]["active_calls"] == 0


def test_greeting_and_tracking_an_order(settings, caller):
    assert "How can I help" in caller.greeting["bot_text"]
    turn = caller.say("um where's my package")
    assert turn["intent"] == "track_order"
    assert "order number" in turn["bot_text"]
    turn = caller.say("it's one oh four two three three")
    expected = order(settings, "104233")
    assert "Order 104233" in turn["bot_text"]
    assert "on its way" in turn["bot_text"] and "UPS" in turn["bot_text"]
    assert spoken(expected["expected_delivery"]) in turn["bot_text"]
    # Phone length: the latest scan is offered, not read out.
    assert expected["last_event"]["description"].rstrip(".") not in turn["bot_text"]
    assert turn["bot_text"].endswith("Would you like the latest tracking update?")
    turn = caller.say("yes please")
    assert expected["last_event"]["description"].rstrip(".") in turn["bot_text"]
    turn = caller.say("no that's all thanks")
    assert turn["end_call"] is True


def test_delivery_date_for_an_order_and_the_general_policy(settings, caller):
    turn = caller.say("when will order 108425 arrive")
    assert spoken(order(settings, "108425")["expected_delivery"]) in turn["bot_text"]
    other = Caller(settings)
    turn = other.say("how long does shipping usually take")
    assert "three to five business days" in turn["bot_text"]


def test_unknown_order_number_gets_a_second_try(settings, caller):
    caller.say("i want to cancel my order")
    turn = caller.say("999999")
    assert "I can't find that order" in turn["bot_text"]
    turn = caller.say("sorry, it's 1 0 2 3 9 6")
    assert "hasn't shipped yet" in turn["bot_text"] and "cancel" in turn["bot_text"]
    turn = caller.say("no don't")
    assert "won't change anything" in turn["bot_text"]
    assert order(settings, "102396")["status"] == "packed"


def test_an_unknown_number_said_with_the_request_gets_a_second_try_too(settings, caller):
    turn = caller.say("when will order 999999 arrive")
    assert "I can't find that order, 999999" in turn["bot_text"] and not turn["handoff"]
    turn = caller.say("888888")
    assert turn["handoff"]["reason"] == "order_not_found"


def test_two_unknown_order_numbers_hand_off(settings, caller):
    caller.say("where is my order")
    caller.say("999999")
    turn = caller.say("888888")
    assert turn["handoff"]["reason"] == "order_not_found"
    assert "colleague" in turn["bot_text"]


def test_cancelling_a_paid_order_after_confirmation(settings, caller):
    turn = caller.say("please cancel order 101874")
    assert "Do you want me to cancel it" in turn["bot_text"]
    turn = caller.say("yes please")
    assert "is cancelled" in turn["bot_text"] and "dollars" in turn["bot_text"]
    cancelled = order(settings, "101874")
    assert cancelled["status"] == "cancelled"
    assert cancelled["refunds"][-1]["status"] == "processing"


def a_pending_order_no_test_names(settings) -> str:
    """One of the seed's generated pending orders: the fixed ones belong to other tests."""
    from sqlalchemy import create_engine, text

    named = set(re.findall(r"\b1[01]\d{4}\b", Path(__file__).read_text()))
    with create_engine(settings.sqlalchemy_url).connect() as db:
        numbers = db.execute(text("SELECT order_number FROM orders WHERE status = 'pending' ORDER BY order_number")).scalars()
        return next(n for n in numbers if n not in named)


def test_a_yes_that_names_the_order_again_confirms(settings, caller):
    number = a_pending_order_no_test_names(settings)
    caller.say(f"please cancel order {number}")
    turn = caller.say(f"Yep, {' '.join(number)}, that's the one.")
    assert "is cancelled" in turn["bot_text"]
    assert order(settings, number)["status"] == "cancelled"


def test_no_worries_is_no_no_and_thanks_thats_all_ends_the_call(settings, caller):
    number = a_pending_order_no_test_names(settings)
    caller.say(f"I need to cancel an order, {' '.join(number)}")
    turn = caller.say("Okay no worries. Back to the cancel, yes, please cancel it.")
    assert "is cancelled" in turn["bot_text"] and order(settings, number)["status"] == "cancelled"
    turn = caller.say("Awesome. Thanks, that's all.")  # NLU hears a yes: a yes that closes the call
    assert turn["end_call"] is True and not turn["handoff"], turn


def test_a_caller_who_asks_for_time_to_think_keeps_the_question_and_then_says_yes(settings, caller):
    number = a_pending_order_no_test_names(settings)
    caller.say(f"Hi, I think I wanna cancel my order, {' '.join(number)}.")
    turn = caller.say("Um, no wait. Hold on. Let me think.")
    assert "take your time" in turn["bot_text"] and order(settings, number)["status"] == "pending"
    turn = caller.say("Okay, no, yeah. Yes, cancel it, I don't need it anymore.")  # the task proposed is a yes
    assert "is cancelled" in turn["bot_text"] and order(settings, number)["status"] == "cancelled"


def test_putting_off_the_proposed_refund_is_a_no_not_a_goodbye(settings, caller):
    refunds = order(settings, "106347")["refunds"]
    caller.say("Hello, I'd like to return order one zero six three four seven.")
    turn = caller.say("Okay, so there's still time. Let's not do it today, I'll think about it.")
    assert not turn["end_call"] and "anything else" in turn["bot_text"]
    assert order(settings, "106347")["refunds"] == refunds


def test_hold_on_while_a_question_is_open_keeps_it_open(settings, caller):
    number = a_pending_order_no_test_names(settings)
    caller.say(f"Hi, I need to cancel my order, it's {' '.join(number)}.")
    turn = caller.say("Uh, hold on, someone's at the door-")  # NLU is sure it asks for a person
    assert "take your time" in turn["bot_text"] and not turn["handoff"]
    assert "is cancelled" in caller.say("Sorry, I'm back. Yes, cancel it.")["bot_text"]


def test_a_mild_grumble_that_ends_in_thanks_is_no_complaint(caller):
    caller.say("When is order 108425 supposed to show up?")
    turn = caller.say("Hmm, weather. Okay, well, that's annoying, but not your fault I guess. Thanks.")
    assert not turn["handoff"] and "anything else" in turn["bot_text"]


def test_a_caller_who_will_call_back_is_let_go_not_handed_off(caller):
    caller.say("I need to change the address on order 100512")
    caller.say("The ZIP is four three two one five.")
    turn = caller.say("Oh shoot, someone's at the door, I'll call back.")
    assert turn["end_call"] is True and not turn["handoff"] and "call us back" in turn["bot_text"]


def test_an_order_named_with_a_request_nlu_cannot_place_is_kept(caller):
    turn = caller.say("Hi, so I've got two orders going to the wrong place, um, can we start with one oh two three nine six?")
    assert "102396" in turn["bot_text"] and not turn["handoff"], turn
    turn = caller.say("change the address please")
    assert "last four digits" in turn["bot_text"], turn  # the order in hand: straight to the security check


def test_a_policy_question_about_the_order_in_hand_offers_the_task_on_it(settings, caller):
    caller.say("where is order 100512")
    turn = caller.say("is there a fee if i cancel")
    assert "no fee" in turn["bot_text"] and "Do you want me to cancel it" in turn["bot_text"]
    caller.say("no thanks")
    assert order(settings, "100512")["status"] == "pending"


def test_a_person_offered_and_not_taken_lapses_when_the_caller_goes_on(caller):
    caller.say("do you sell gift vouchers i could give my sister for her birthday")
    caller.say("where is my order")
    caller.say("106347")
    turn = caller.say("where is order 106347")  # the same answer again is no reason to hand off
    assert "delivered" in turn["bot_text"] and not turn["handoff"]


def test_cancelling_a_shipped_order_is_refused_with_a_return_offer(settings, caller):
    caller.say("cancel my order")
    turn = caller.say("103158")
    assert "already shipped with FedEx" in turn["bot_text"] and "return" in turn["bot_text"]
    assert order(settings, "103158")["status"] == "shipped"


def test_changing_the_address_after_the_identity_check(settings, caller):
    caller.say("I need to change the delivery address on my order")
    turn = caller.say("100512")
    assert "last four digits" in turn["bot_text"]
    turn = caller.say("the last four are zero one one two")
    assert "new delivery address" in turn["bot_text"]
    turn = caller.say("42 elm street springfield illinois 62704")
    assert "42 elm street springfield illinois 62704" in turn["bot_text"] and "Is that right" in turn["bot_text"]
    turn = caller.say("yes")
    assert "Done" in turn["bot_text"]
    assert order(settings, "100512")["shipping_address"]["postcode"] == "62704"


def test_a_street_corrected_on_read_back_keeps_the_town_and_zip(settings, caller):
    caller.say("I need to change the delivery address on order 100512")
    caller.say("the last four are zero one one two")
    turn = caller.say("1830 Elm Street, Seattle, Washington, 98122")
    assert "Is that right" in turn["bot_text"]
    # NLU may call this anything (ask_policy in one call): the street corrects the address.
    turn = caller.say("Hmm, no, sorry, I said that wrong. It's eighteen thirty Pine Street, not Elm. Pine.")
    assert "1830 Pine Street, Seattle, Washington, 98122" in turn["bot_text"]
    caller.say("yes")
    address = order(settings, "100512")["shipping_address"]
    assert address["postcode"] == "98122" and "Pine" in json.dumps(address)


def test_a_caller_who_asks_the_bot_to_wait_keeps_their_task(caller):
    caller.say("I want to change the address on order 100512")
    turn = caller.say("Uh, the phone number, hang on, someone's at the door...")
    assert "take your time" in turn["bot_text"] and not turn["handoff"]
    assert "last four digits" in turn["bot_text"]  # the form asks again
    assert "new delivery address" in caller.say("okay sorry, it's zero one one two")["bot_text"]


def test_an_address_said_while_it_is_asked_for_is_taken_whatever_nlu_calls_it(settings, caller):
    caller.say("I want to change the address on order 102396")
    assert "new delivery address" in caller.say("the zip code is nine eight one oh three")["bot_text"]
    turn = caller.say("Hang on one sec, let me grab the address, it's on a text...")
    assert "take your time" in turn["bot_text"] and "Sorry" not in turn["bot_text"]
    # NLU took this for a policy question in one call; the zip code said twice, the second wins.
    turn = caller.say("Okay, got it. Eighty-eight Peachtree Place, Atlanta, three oh three one nine... no wait, three oh three one eight.")
    assert "88 Peachtree Place, Atlanta, 30318" in turn["bot_text"] and "Is that right" in turn["bot_text"]
    turn = caller.say("Yeah, three oh three one eight. That's right, go ahead.")  # the same zip again is a yes
    assert "Done" in turn["bot_text"]
    assert order(settings, "102396")["shipping_address"]["postcode"] == "30318"


def test_phone_digits_given_with_the_request_answer_the_security_question(settings, caller):
    # (the zip code on file changes in other tests; the phone number does not)
    turn = caller.say("Hi, I need to update the shipping address on order one oh two three nine six, and my phone ends in oh one seven eight, if you need that.")
    assert "new delivery address" in turn["bot_text"] and "last four digits" not in turn["bot_text"]
    turn = caller.say("Sure, the new one is eighteen oh five Northeast Ravenna Boulevard, Seattle, nine eight one one five.")
    assert "Is that right" in turn["bot_text"]
    caller.say("Yep, that's it.")
    assert order(settings, "102396")["shipping_address"]["postcode"] == "98115"


def test_failed_identity_check_hands_off_and_changes_nothing(settings, caller):
    before = order(settings, "102396")["shipping_address"]
    caller.say("can you send my order to a different address")
    caller.say("102396")
    turn = caller.say("1234")
    assert "doesn't match" in turn["bot_text"]
    turn = caller.say("9999")
    assert turn["handoff"]["reason"] == "identity_check_failed"
    assert order(settings, "102396")["shipping_address"] == before


def test_refund_request_inside_the_return_window_opens_a_ticket(settings, caller):
    turn = caller.say("i'd like a refund for order 106347")
    assert "refund request" in turn["bot_text"]
    turn = caller.say("yes go ahead")
    assert "I've opened refund request" in turn["bot_text"]
    assert order(settings, "106347")["refunds"][-1]["status"] == "requested"


def test_refund_outside_the_window_and_refund_status(settings, caller):
    turn = caller.say("i want my money back for order 107081")
    assert "outside our return window" in turn["bot_text"]
    assert turn["handoff"]["reason"] == "outside_return_window" and turn["handoff"]["queue"] == "after_sales"
    other = Caller(settings)
    other.say("has my refund gone through yet")
    turn = other.say("112567")
    assert "is being processed" in turn["bot_text"]


def test_policy_questions_are_answered_from_the_knowledge_base(caller):
    articles = {a.id: a for a in load_articles()}
    for question, article_id in (
        ("what's your return policy", "returns-and-refunds"),
        ("can i pay with paypal", "payment-methods"),
        ("is there a fee if i cancel", "cancellation-fees"),
        ("um how do i use a promo code", "promotions-and-coupons"),  # no Bitext intent: ask_policy
    ):
        turn = caller.say(question)
        assert turn["bot_text"] == f"{articles[article_id].spoken} Is there anything else I can help you with?", question
        assert not turn["handoff"]


def test_an_account_how_to_is_answered_and_an_account_problem_goes_to_a_person(settings):
    account_help = {a.id: a for a in load_articles()}["account-help"].spoken
    turn = Caller(settings).say("And also, how do I reset my password on the website? I totally forgot it.")
    assert turn["bot_text"].startswith(account_help) and not turn["handoff"]
    turn = Caller(settings).say("I forgot my password and now my account is locked")
    assert turn["handoff"] and account_help not in turn["bot_text"]


def test_a_policy_question_the_knowledge_base_cannot_answer_gets_a_handoff_offer(caller):
    spoken_answers = [a.spoken for a in load_articles() if a.spoken]
    turn = caller.say("do you sell gift vouchers i could give my sister for her birthday")
    assert "put you through to a colleague" in turn["bot_text"] and not turn["handoff"]
    assert not any(answer in turn["bot_text"] for answer in spoken_answers)
    turn = caller.say("yes please")
    assert turn["handoff"]["reason"] == "no_knowledge_answer" and turn["handoff"]["handoff_id"] is not None


def test_declining_the_handoff_offer_keeps_the_bot_on_the_line(caller):
    caller.say("is there a loyalty card scheme where i collect points")
    turn = caller.say("no thanks")
    assert "anything else" in turn["bot_text"] and not turn["handoff"] and not turn["end_call"]
    assert "30 days" in caller.say("how long do i have to return something")["bot_text"]


def test_asking_for_a_person_records_a_routed_handoff_with_a_summary(settings, caller):
    caller.say("where is my order")
    caller.say("104233")
    turn = caller.say("let me talk to a real person")
    assert turn["handoff"]["reason"] == "contact_human_agent"
    assert turn["handoff"]["handoff_id"] is not None
    assert turn["handoff"]["collected"]["order_number"] == "104233"
    assert turn["handoff"]["queue"] == "general" and turn["handoff"]["position"] >= 1
    assert "in the queue" in turn["bot_text"] and "Please hold" in turn["bot_text"]
    stored = httpx.get(f"{settings.engine_url}/api/v1/calls/{caller.call_id}/handoff", headers=service_headers(settings)).json()
    summary = stored["summary_json"]
    assert summary["intents"][0] == "track_order" and summary["intents"][-1] == "contact_human_agent"
    assert summary["orders"][0]["order_number"] == "104233" and summary["orders"][0]["status"] == "in_transit"
    assert "let me talk to a real person" in summary["quotes"]
    assert "order 104233 (in transit" in stored["summary"] and "asked for a person" in stored["summary"]


def test_words_said_on_hold_are_noted_for_the_agent_and_never_acted_on(settings, caller):
    before = order(settings, "101874")
    assert caller.say("my card was charged twice, i need a person")["handoff"]
    turn = caller.say("it's order one oh one eight seven four. and cancel it.")
    assert turn["bot_text"] == prompts.say("noted_on_hold") and not turn["handoff"] and not turn["end_call"]
    assert order(settings, "101874") == before  # on hold nothing is done
    stored = httpx.get(f"{settings.engine_url}/api/v1/calls/{caller.call_id}/handoff", headers=service_headers(settings)).json()
    assert "order 101874" in stored["summary"] and stored["summary_json"]["orders"][0]["order_number"] == "101874"
    call = httpx.get(f"{settings.engine_url}/api/v1/calls/{caller.call_id}", headers=service_headers(settings)).json()
    assert call["turns"][-1]["entities"] == [{"entity": "order_number", "value": "101874"}]


def test_the_bot_tells_the_caller_their_place_in_the_queue_in_the_engines_words(caller):
    turn = caller.say("let me talk to a real person")
    handoff = turn["handoff"]
    place = prompts.say("hold_please", status=prompts.queue_status(handoff["position"], handoff["expected_wait_s"]))
    assert turn["bot_text"] == f"{prompts.say('handoff_person')} {place}"


def test_a_caller_who_stays_upset_is_handed_to_the_complaints_queue(settings, caller):
    for text in ("i have been waiting two weeks for this", "i keep getting passed around"):
        assert not caller.say(text)["handoff"]  # upset, but not for long enough yet
    turn = caller.say("it has been two weeks and still nothing")
    assert turn["handoff"]["reason"] == "angry_caller" and turn["handoff"]["queue"] == "complaints"
    assert "frustrating" in turn["bot_text"]
    call = httpx.get(f"{settings.engine_url}/api/v1/calls/{caller.call_id}", headers=service_headers(settings)).json()
    assert [t["emotion"] for t in call["turns"][1:]] == ["frustrated"] * 3
    assert call["turns"][-1]["intent"] == "caller_upset"
    stored = httpx.get(f"{settings.engine_url}/api/v1/calls/{caller.call_id}/handoff", headers=service_headers(settings)).json()
    summary = stored["summary_json"]  # rebuilt after the turn: it has the last words too
    assert summary["emotion"] == {"trajectory": ["frustrated"] * 3, "at_handoff": "frustrated"}
    assert "it has been two weeks and still nothing" in summary["quotes"]
    assert summary["recommended_action"].startswith("Apologise") and summary["reason"] == "angry_caller"


def test_an_upset_caller_who_asked_before_goes_to_complaints_at_once(caller):
    turn = caller.say("this is ridiculous, i've been calling all week about my parcel and nobody does anything")
    assert turn["handoff"]["reason"] in ("angry_caller", "complaint") and turn["handoff"]["queue"] == "complaints"


def test_the_order_an_upset_caller_names_is_in_their_handoff(settings, caller):
    turn = caller.say("this is the third time i'm calling about order one oh eight four two five, this is ridiculous")
    assert turn["handoff"]["queue"] == "complaints"
    stored = httpx.get(f"{settings.engine_url}/api/v1/calls/{caller.call_id}/handoff", headers=service_headers(settings)).json()
    assert "order 108425" in stored["summary"]


def test_misunderstood_turns_offer_a_person_then_hand_off(caller):
    first = caller.say("how do i improve my golf swing")
    assert first["intent"] in ("out_of_scope", "nlu_fallback")
    assert "orders" in first["bot_text"] and not first["handoff"]
    second = caller.say("what's the capital of australia")
    assert "put you through to a colleague" in second["bot_text"] and not second["handoff"]
    turn = caller.say("tell me a joke about cats")
    assert turn["handoff"]["reason"] == "not_understood"


def test_a_yes_to_the_offered_person_hands_off(caller):
    caller.say("how do i improve my golf swing")
    caller.say("what's the capital of australia")
    turn = caller.say("yes please")
    assert turn["handoff"]["reason"] == "not_understood"


def test_a_corrected_order_number_replaces_the_one_in_hand(settings, caller):
    caller.say("i want to cancel order 100512")
    turn = caller.say("no sorry, i meant order 101874")
    assert "101874" in turn["bot_text"] and "cancel" in turn["bot_text"]
    caller.say("yes")
    assert order(settings, "101874")["status"] == "cancelled"
    assert order(settings, "100512")["status"] == "pending"


def test_each_turn_is_recorded_with_its_own_parse_and_the_actions_taken(settings, caller):
    caller.say("where is my order")
    caller.say("the capital of australia is what")
    caller.say("one oh four two three three")
    call = httpx.get(f"{settings.engine_url}/api/v1/calls/{caller.call_id}", headers=service_headers(settings)).json()
    asked, lost, number = call["turns"][1:4]
    assert asked["intent"] == "track_order" and "order_form" in asked["actions"]
    assert lost["intent"] != "track_order" and "action_reprompt" in lost["actions"]
    assert number["entities"] == [{"entity": "order_number", "value": "104233"}]
    assert "action_order_task" in number["actions"]


def test_turns_are_recorded_with_intents_and_card_numbers_redacted(settings, caller):
    caller.say("my card number is 4111 1111 1111 1111 and it got declined")
    caller.end("handed_off")
    call = httpx.get(f"{settings.engine_url}/api/v1/calls/{caller.call_id}", headers=service_headers(settings)).json()
    assert call["outcome"] == "handed_off"
    assert call["turns"][0]["bot_text"].startswith("Thanks for calling")
    assert "4111" not in call["turns"][1]["caller_text"] and "[card number]" in call["turns"][1]["caller_text"]
    assert call["turns"][1]["intent"] == "payment_issue"


def test_nlu_parse_command_prints_one_json_object_per_line(settings):
    env = {**os.environ, "VOICEBOT_RASA_PORT": str(settings.rasa_port)}
    result = subprocess.run(
        [sys.executable, "-m", "voicebot.cli", "nlu", "parse"],
        input="cancel order one oh four two three three\nhow do i improve my golf swing\n",
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["text"] for line in lines] == ["cancel order one oh four two three three", "how do i improve my golf swing"]
    assert lines[0]["intent"] == "cancel_order" and 0 < lines[0]["confidence"] <= 1
    assert {"entity": "order_number", "value": "104233", "start": 13, "end": 40} in lines[0]["entities"]
    assert lines[1]["intent"] in ("out_of_scope", "nlu_fallback")


def test_crashed_action_server_gives_an_apology_and_a_handoff(stack, caller):
    settings = stack.settings
    caller.say("where is my order")
    stack.rasa.children["action_server"].process.kill()
    stack.rasa.children["action_server"].process.wait()
    turn = caller.say("104233")
    assert turn["failed"] is True and turn["handoff"]["reason"] == "internal_error"
    assert "I'm sorry" in turn["bot_text"]
    call = httpx.get(f"{settings.engine_url}/api/v1/calls/{caller.call_id}", headers=service_headers(settings)).json()
    assert [t["caller_text"] for t in call["turns"]] == [None, "where is my order", "104233"]
    stack.rasa.restart_dead()
    stack.rasa.wait_ready(120, echo=lambda _: None)
    assert "How can I help" in Caller(settings).greeting["bot_text"]


def test_dead_database_gives_an_apology_and_loses_nothing(stack, pg, caller):
    """Runs last in this module: it stops PostgreSQL and starts it again."""
    settings = stack.settings
    cancelled_before = order(settings, "101874")["status"]
    caller.say("where is my order")
    pg.stop()
    try:
        turn = caller.say("104233")
        assert turn["handoff"]["reason"] == "internal_error"
        assert "I'm sorry" in turn["bot_text"]
        assert httpx.get(f"{settings.engine_url}/health").status_code == 503
    finally:
        pg.start()
    assert order(settings, "101874")["status"] == cancelled_before == "cancelled"
