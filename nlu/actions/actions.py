"""The phone bot's custom actions.

Each action reads the dialogue state from slots, asks the order API (engine_api.py)
and answers in short spoken sentences (speech.py), worded in nlu/prompts.yml (prompts.py).
What the caller may do with an order comes from the engine with the order (its `policy`):
the actions phrase that decision and never re-decide it. Whenever the bot cannot help —
the caller asks for a person, the order system is down, checks fail twice — it
hands off: it records the handoff and tells the engine with a `handoff` message.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

from components.person_request import asks_for_person
from components.spoken_entities import spoken_digits
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import (
    ActiveLoop,
    EventType,
    FollowupAction,
    SlotSet,
)
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import engine_api, speech
from actions.prompts import say

logger = logging.getLogger(__name__)

# Tasks on one order: what the `task` slot holds, and the intents that name them.
TASK_INTENTS = ("track_order", "delivery_period", "cancel_order", "change_shipping_address", "get_refund", "track_refund")
# An intent this far down the ranking still counts as the caller's request when the words
# also carry an order number ("when will order 105620 get here" parses as inform first).
TASK_HINT_CONFIDENCE = 0.08
# Below this, words with an order number that parse as another task keep the task in hand.
SURE_TASK_SWITCH = 0.8
# The misunderstanding budget: on the second turn in a row the bot did not understand it
# offers a person, on the third it hands off. Never a loop.
OFFER_PERSON_AFTER = 2
HAND_OFF_AFTER = 3
# A goodbye is believed at this confidence if the caller was helped; with goodbye words in it
# ("thank you very much, goodbye") at GOODBYE_WITH_WORDS; otherwise it is checked first.
SURE_GOODBYE = 0.85
GOODBYE_WITH_WORDS = 0.5
GOODBYE_WORDS = re.compile(
    r"\b(bye|goodbye|that'?s (all|it|everything)|nothing else|hang up|i'?m done|all set|have a (good|nice|great) (day|one|night|evening))\b",
    re.IGNORECASE,
)
# "Bye... oh wait, one more thing": the caller is not done after all.
MORE_TO_SAY = re.compile(r"\b(wait|hold on|hang on|one (more|last)|another thing|before you go)\b", re.IGNORECASE)
UPSET = {"angry", "frustrated"}
# Below this an intent that routes a handoff is a guess: an upset caller goes as upset instead.
SURE_HANDOFF_INTENT = 0.8
# Below this a handoff intent such as payment_issue is a weak guess: a policy question the
# knowledge base is sure of ("how long until the money is back on my card?") is answered instead.
WEAK_HANDOFF_INTENT = 0.6
# Beside a weak handoff guess, an order task this likely is what the caller asked for.
WEAK_HANDOFF_TASK = 0.15
# Intents that ask for a person outright: never answered from the knowledge base instead.
PERSON_INTENTS = {"contact_human_agent", "complaint", "caller_upset", "deny"}

ACCOUNT_INTENTS = {"create_account", "delete_account", "edit_account", "recover_password", "registration_problems", "switch_account"}
HANDOFF_LEADS = {
    "complaint": say("handoff_complaint"),
    "payment_issue": say("handoff_payment_issue"),
    "change_order": say("handoff_change_order"),
    "contact_customer_service": say("handoff_customer_service"),
    "contact_human_agent": say("handoff_person"),
    "account": say("handoff_account"),
    "caller_upset": say("handoff_caller_upset"),
}


# --- shared helpers ------------------------------------------------------------------


def anything_else(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(text=say("anything_else"))


# Proposals waiting for the caller's yes: a question in between does not drop them.
TASK_CONFIRMATIONS = {"cancel", "address", "refund"}


def after_digression(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """After answering a side question: back to the proposal waiting for a yes, or "anything else?"."""
    if tracker.get_slot("pending_confirmation") in TASK_CONFIRMATIONS:
        dispatcher.utter_message(text=say("back_to_confirmation", question=confirmation_question(tracker)))
    else:
        anything_else(dispatcher)


def hand_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    lead: str,
) -> List[EventType]:
    """Records the handoff with what the bot collected, tells the caller, and tells the engine.

    The engine words the caller's place in the queue (`announcement`), as it does on hold.
    """
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    order_number = tracker.get_slot("order_number")
    collected = {
        name: tracker.get_slot(name)
        for name in ("task", "order_number", "identity_verified", "new_address")
        if tracker.get_slot(name) is not None
    }
    queued: Dict[str, Any] = {}
    try:
        queued = engine_api.record_handoff(tracker.sender_id, reason, intent, collected, order_number, caller_emotion(tracker))
    except (engine_api.EngineUnavailable, engine_api.NotAllowed, engine_api.OrderNotFound) as error:
        logger.error("Could not record handoff for %s: %s", tracker.sender_id, error)
    dispatcher.utter_message(text=f"{lead} {queued.get('announcement') or say('hold_shortly')}")
    # The engine holds the handoff itself; the message only names it (None: it could not be queued).
    dispatcher.utter_message(json_message={"handoff": {"handoff_id": queued.get("handoff_id"), "reason": reason}})
    events: List[EventType] = [SlotSet("pending_confirmation", None), SlotSet("handoff_reason", None), SlotSet("address_change_allowed", False)]
    if tracker.active_loop_name:
        events += [ActiveLoop(None), FollowupAction("action_listen")]
    return events


def caller_emotion(tracker: Tracker) -> Optional[str]:
    """The caller's emotion in this turn, as the engine labelled it (message metadata)."""
    return (tracker.latest_message.get("metadata") or {}).get("emotion")


def latest_intent(tracker: Tracker) -> Dict[str, Any]:
    return tracker.latest_message.get("intent") or {}


def spoken_order_number(tracker: Tracker) -> Optional[str]:
    """An order number in the caller's last words, if they said one."""
    return next(tracker.get_latest_entity_values("order_number"), None)


def events_before_turn(tracker: Tracker) -> List[Dict[str, Any]]:
    """The call's events before the caller's last words."""
    last_user = max((i for i, e in enumerate(tracker.events) if e.get("event") == "user"), default=len(tracker.events))
    return tracker.events[:last_user]


def slot_before_turn(tracker: Tracker, name: str) -> Any:
    """A slot's value before the caller's last words (the slot itself already holds what
    those words carried: an order number, the task their intent names)."""
    for event in reversed(events_before_turn(tracker)):
        if event.get("event") == "slot" and event.get("name") == name:
            return event.get("value")
    return None


def order_in_hand(tracker: Tracker) -> Optional[str]:
    """The order the call was about before the caller's last words."""
    return slot_before_turn(tracker, "order_number")


# Words that change the request rather than answer the bot's question.
SWITCH_WORDS = re.compile(r"\b(actually|instead|rather|changed my mind|no,? wait)\b", re.IGNORECASE)


def task_in_hand(tracker: Tracker) -> Optional[str]:
    """The task to do now. A caller who answers "what's the order number?" with the number
    and some words ("it's 107081, I got it six weeks ago") is answering, not switching,
    whatever intent those words parse as; a switch says so ("actually, cancel it")."""
    task, before = tracker.get_slot("task"), slot_before_turn(tracker, "task")
    number = spoken_order_number(tracker)
    answering = number and "order number" in last_bot_text(tracker).lower()
    # After "you can return items within 30 days", "I wanna try anyway, it's order 107081,
    # the blender smells" is the refund, whatever a weak guess (cancel_order 0.6) says.
    weak_guess = number and (latest_intent(tracker).get("confidence") or 0) < SURE_TASK_SWITCH
    if before and task != before and (answering or weak_guess) and not SWITCH_WORDS.search(tracker.latest_message.get("text") or ""):
        return before
    return task


def task_asked(tracker: Tracker, min_confidence: float = TASK_HINT_CONFIDENCE) -> Optional[str]:
    """The order task the caller's last words ask for: the top intent, or one a little
    further down the ranking (words that carry an order number often parse as inform)."""
    for ranked in tracker.latest_message.get("intent_ranking") or [latest_intent(tracker)]:
        if ranked.get("name") in TASK_INTENTS and (ranked.get("confidence") or 0) >= min_confidence:
            return ranked["name"]
    return None


def turn_events(tracker: Tracker, turns_back: int = 0) -> List[Dict[str, Any]]:
    """The events of one caller turn: 0 is the turn being answered, 1 the one before..."""
    bounds = [i for i, e in enumerate(tracker.events) if e.get("event") == "user"]
    if len(bounds) <= turns_back:
        return []
    start = bounds[-1 - turns_back]
    end = bounds[-turns_back] if turns_back else len(tracker.events)
    return tracker.events[start + 1 : end]


def repair_streak(tracker: Tracker) -> int:
    """How many caller turns in a row, up to the one before this, the bot did not understand.

    Each misunderstood turn records its place in the streak (`repair_streak` slot) in its
    own events, so one look at the previous turn is enough.
    """
    for event in reversed(turn_events(tracker, 1)):
        if event.get("event") == "slot" and event.get("name") == "repair_streak":
            return int(event.get("value") or 0)
    return 0


def last_bot_text(tracker: Tracker, turns_back: int = 1) -> str:
    texts = [e.get("text") or "" for e in turn_events(tracker, turns_back) if e.get("event") == "bot"]
    return texts[-1] if texts else ""


def system_failure(dispatcher: CollectingDispatcher, tracker: Tracker, error: Exception) -> List[EventType]:
    logger.error("Order system unavailable during %s: %s", tracker.sender_id, error)
    return hand_off(dispatcher, tracker, "internal_error", say("handoff_system_down"))


def open_refunds(order: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The refunds worth telling the caller about: all but the rejected ones."""
    return [r for r in order.get("refunds", []) if r["status"] != "rejected"]


# --- the order task: what the caller came for, once the order number is known ----------


def answer_task(dispatcher: CollectingDispatcher, tracker: Tracker, task: Optional[str], number: str) -> List[EventType]:
    """Does `task` on order `number` (the order the conversation is now about)."""
    task = task or "track_order"
    about: List[EventType] = [SlotSet("order_number", number), SlotSet("task", task)]
    try:
        order = engine_api.get_order(number, tracker.sender_id)
    except engine_api.OrderNotFound:
        if tracker.get_slot("rejected_order_number") != number:
            # A first miss outside the order form ("when will 104234 come?"): the form checks
            # the number itself, says it could not find it and asks again; a second miss
            # there hands off.
            return about + [SlotSet("order_number", None), FollowupAction("order_form")]
        return about + hand_off(dispatcher, tracker, "order_not_found", say("handoff_order_not_found", number=number))
    except engine_api.EngineUnavailable as error:
        return about + system_failure(dispatcher, tracker, error)
    try:
        return about + TASKS.get(task, track)(dispatcher, tracker, order)
    except engine_api.EngineUnavailable as error:
        return about + system_failure(dispatcher, tracker, error)


def answer_task_now(dispatcher: CollectingDispatcher, tracker: Tracker, task: Optional[str], number: str) -> List[EventType]:
    """`answer_task` from an action the rules do not follow with the address form (a
    correction, a number given outside a form): an address change it allows starts the form."""
    events = answer_task(dispatcher, tracker, task, number)
    allowed = any(e.get("name") == "address_change_allowed" and e.get("value") is True for e in events)
    return events + [FollowupAction("address_change_form")] if allowed else events


def track(dispatcher: CollectingDispatcher, tracker: Tracker, order: Dict[str, Any]) -> List[EventType]:
    """Status and date in two short sentences; the latest scan is offered, not read out."""
    dispatcher.utter_message(text=speech.order_status(order))
    update = speech.latest_update(order)
    if update:
        dispatcher.utter_message(text=say("offer_tracking_update"))
        return [SlotSet("pending_confirmation", "details"), SlotSet("details", update)]
    anything_else(dispatcher)
    return []


def delivery(dispatcher: CollectingDispatcher, tracker: Tracker, order: Dict[str, Any]) -> List[EventType]:
    """When it arrives; for an order with the carrier, also who brings it and why it is late:
    the same two sentences as tracking (callers watch for the carrier)."""
    number, status = order["order_number"], order["status"]
    if order.get("carrier") and order["policy"]["in_delivery"]:
        dispatcher.utter_message(text=speech.order_status(order))
        anything_else(dispatcher)
        return []
    sentence = speech.delivery_sentence(order) or say("delivery_no_date", status=speech.STATUS_PHRASES[status])
    dispatcher.utter_message(text=say("delivery_answer", number=number, delivery=sentence))
    anything_else(dispatcher)
    return []


def cancel(dispatcher: CollectingDispatcher, tracker: Tracker, order: Dict[str, Any]) -> List[EventType]:
    number, status, policy = order["order_number"], order["status"], order["policy"]
    if policy["can_cancel"]:
        dispatcher.utter_message(text=say("cancel_offer", number=number, items=speech.item_summary(order["items"])))
        return [SlotSet("pending_confirmation", "cancel")]
    if status == "cancelled":
        dispatcher.utter_message(text=say("cancel_already_cancelled", number=number))
    elif policy["in_delivery"]:
        with_carrier = f" with {order['carrier']}" if order.get("carrier") else ""  # who has it: the caller's next question
        dispatcher.utter_message(text=say("cancel_too_late_in_delivery", number=number, with_carrier=with_carrier, days=policy["return_window_days"]))
    elif policy["can_request_refund"] and not open_refunds(order):  # a refund on record is reported, not offered again
        delivered = speech.spoken_date(order["delivered_at"])
        dispatcher.utter_message(text=say("cancel_too_late_return_instead", number=number, date=delivered))
        return [SlotSet("pending_confirmation", "refund")]
    else:
        dispatcher.utter_message(text=say("cancel_nothing_left", number=number, status=speech.STATUS_PHRASES[status]))
    anything_else(dispatcher)
    return []


def change_address(dispatcher: CollectingDispatcher, tracker: Tracker, order: Dict[str, Any]) -> List[EventType]:
    number, status = order["order_number"], order["status"]
    if not order["policy"]["can_change_address"]:
        dispatcher.utter_message(text=say("address_too_late", number=number, status=speech.STATUS_PHRASES[status]))
        anything_else(dispatcher)
        return [SlotSet("address_change_allowed", False)]
    verified = tracker.get_slot("identity_verified")
    if verified is False:
        return hand_off(dispatcher, tracker, "identity_check_failed", say("handoff_identity_failed_address"))
    new_address = tracker.get_slot("new_address")
    if not verified or not new_address:
        dispatcher.utter_message(text=say("address_can_change", number=number))
        volunteered = None if verified else volunteered_identity(tracker)
        # The form checks an answer given before it was asked, as if it had asked.
        return [SlotSet("address_change_allowed", True)] + ([SlotSet("identity_answer", volunteered)] if volunteered else [])
    dispatcher.utter_message(text=say("address_confirm", number=number, address=new_address))
    return [SlotSet("address_change_allowed", False), SlotSet("pending_confirmation", "address")]


def volunteered_identity(tracker: Tracker) -> Optional[str]:
    """A zip code or a phone's last digits said with the request ("...order one oh two three
    nine six, and the zip on it is nine eight one oh three"), before the security question."""
    text = tracker.latest_message.get("text") or ""
    for entity in reversed(tracker.latest_message.get("entities") or []):
        value = str(entity.get("value") or "")
        if entity.get("entity") in ("postcode", "phone_number") or (entity.get("entity") == "digits" and len(value) == 4 and PHONE_WORDS.search(text)):
            return value
    return None


PHONE_WORDS = re.compile(r"\b(?:phone|last four|ends in|ending in)\b", re.IGNORECASE)


def refund(dispatcher: CollectingDispatcher, tracker: Tracker, order: Dict[str, Any]) -> List[EventType]:
    number, status, policy = order["order_number"], order["status"], order["policy"]
    days = policy["return_window_days"]
    refunds = open_refunds(order)
    if refunds:
        dispatcher.utter_message(text=speech.refund_status(number, refunds))
    elif policy["can_request_refund"]:
        delivered = speech.spoken_date(order["delivered_at"])
        dispatcher.utter_message(text=say("refund_offer", number=number, date=delivered, days=days))
        return [SlotSet("pending_confirmation", "refund")]
    elif status == "delivered":
        delivered = speech.spoken_date(order["delivered_at"])
        # Only a person can make an exception: the caller is put through, not asked first.
        return hand_off(dispatcher, tracker, "outside_return_window", say("refund_outside_window", number=number, date=delivered, days=days))
    elif policy["can_cancel"]:
        dispatcher.utter_message(text=say("refund_cancel_instead", number=number))
        return [SlotSet("pending_confirmation", "cancel")]
    elif policy["in_delivery"]:
        dispatcher.utter_message(text=say("refund_after_arrival", number=number, days=days))
    else:
        dispatcher.utter_message(text=say("refund_none_due", number=number, status=speech.STATUS_PHRASES[status]))
    anything_else(dispatcher)
    return []


def refund_status(dispatcher: CollectingDispatcher, tracker: Tracker, order: Dict[str, Any]) -> List[EventType]:
    refunds = open_refunds(order)
    if refunds:
        dispatcher.utter_message(text=speech.refund_status(order["order_number"], refunds))
        anything_else(dispatcher)
        return []
    dispatcher.utter_message(text=say("refund_none_yet", number=order["order_number"]))
    return refund(dispatcher, tracker, order) if order["policy"]["can_request_refund"] else (anything_else(dispatcher) or [])


TASKS = {
    "track_order": track,
    "delivery_period": delivery,
    "cancel_order": cancel,
    "change_shipping_address": change_address,
    "get_refund": refund,
    "track_refund": refund_status,
}


class ActionOrderTask(Action):
    """Does what the caller asked for, on the order in the `order_number` slot."""

    def name(self) -> Text:
        return "action_order_task"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if puts_off(tracker):
            # "Let's not do it today, I'll think about it" to "shall I open a refund?": a no to the
            # question, whatever task NLU heard in "not do it".
            return ActionDecline().run(dispatcher, tracker, domain) + [SlotSet("task", slot_before_turn(tracker, "task"))]
        task, number = task_in_hand(tracker), tracker.get_slot("order_number")
        if asks_what_was_proposed(tracker, task, number):
            return ActionConfirm().run(dispatcher, tracker, domain)
        if not number:
            answer = general_delivery_time(tracker) if task == "delivery_period" else None
            if answer:
                # One sentence of the general policy, then the floor: the caller's own date is one number away.
                dispatcher.utter_message(text=say("general_delivery_time", answer=speech.first_sentence(answer)))
            else:
                dispatcher.utter_message(text=say("ask_order_number"))
            events: List[EventType] = []
        else:
            events = self.answer_unless_repeated(dispatcher, tracker, task, number)
        # The rules read this slot after every task: only `true` starts the address change form.
        if not any(e.get("name") == "address_change_allowed" for e in events):
            events.append(SlotSet("address_change_allowed", False))
        return events


    @staticmethod
    def answer_unless_repeated(dispatcher: CollectingDispatcher, tracker: Tracker, task: Optional[str], number: str) -> List[EventType]:
        """The answer; but asked again after the bot offered a person because it cannot do
        this ("I'd still like my money back"), the same refusal once more would be a loop:
        the caller gets the person instead."""
        draft = CollectingDispatcher()
        events = answer_task(draft, tracker, task, number)
        offered = tracker.get_slot("handoff_reason") if tracker.get_slot("pending_confirmation") == "handoff" else None
        said_before = {e.get("text") for e in turn_events(tracker, 1) if e.get("event") == "bot"}
        if offered and draft.messages and draft.messages[0].get("text") in said_before:
            return hand_off(dispatcher, tracker, offered, say("handoff_accepted"))
        dispatcher.messages.extend(draft.messages)
        if offered and not any(e.get("name") == "pending_confirmation" for e in events):
            # The caller went on with a task instead of taking the offered person: the offer
            # lapses (a later repeat must not hand off for the old reason).
            events += [SlotSet("pending_confirmation", None), SlotSet("handoff_reason", None)]
        return events


def asks_what_was_proposed(tracker: Tracker, task: Optional[str], number: Optional[str]) -> bool:
    """"Yes, cancel it, I don't need it any more" to "do you want me to cancel it?": the
    request the bot proposed, on the same order, is a yes (unless it is taken back or hedged)."""
    pending = tracker.get_slot("pending_confirmation")
    text = tracker.latest_message.get("text") or ""
    return (
        pending in TASK_CONFIRMATIONS and PENDING_TASKS[pending] == task
        and number is not None and number == slot_before_turn(tracker, "order_number")
        and not NEGATED_TASK.search(text) and not HESITATION.search(text)
    )


# "Don't cancel it", "not change it": the task named only to be refused.
NEGATED_TASK = re.compile(r"\b(?:don'?t|do not|not|never|no need to)\s+(?:\w+\s+)?(?:cancel|change|refund|return|send)", re.IGNORECASE)


class ActionHandleInform(Action):
    """The caller gave information outside a form: usually an order number, for the task in
    hand, for the task their words also ask for, or correcting the order the bot used."""

    def name(self) -> Text:
        return "action_handle_inform"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.active_loop_name:
            # The form could not use these words ("then try the zip"): a misunderstanding,
            # repaired within the budget; the form then asks its question again.
            return ActionReprompt().run(dispatcher, tracker, domain)
        corrected = address_correction(dispatcher, tracker)
        if corrected is not None:
            return corrected
        number = spoken_order_number(tracker)
        if number in (None, order_in_hand(tracker)) and tracker.get_slot("pending_confirmation") in TASK_CONFIRMATIONS \
                and YES_LEAD.match(tracker.latest_message.get("text") or ""):
            # "Yep, one oh two three nine six, that's the one", "yeah, three oh three one eight,
            # that's right": a yes, repeating what the bot read back.
            return ActionConfirm().run(dispatcher, tracker, domain)
        task = task_asked(tracker) or tracker.get_slot("task")
        if number and task:
            return answer_task_now(dispatcher, tracker, task, number)
        if number:
            dispatcher.utter_message(text=say("order_number_noted", number=number))
            return [SlotSet("order_number", number)]
        # "The... no, the other one, with the thing...": nothing the bot can use, whatever
        # NLU called it. A misunderstanding, within the budget.
        return ActionReprompt().run(dispatcher, tracker, domain)


class ActionSwitchTask(Action):
    """Inside a form the caller asks for another task ("actually, cancel it"): take it up.

    The `task` slot already holds the new task (its mapping reads every intent); this
    acknowledges the switch before the form asks for what it still needs.
    """

    def name(self) -> Text:
        return "action_switch_task"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        task = tracker.get_slot("task")
        earlier = [e.get("value") for e in tracker.events if e.get("event") == "slot" and e.get("name") == "task"]
        if task in SWITCH_LEADS and len(earlier) >= 2 and earlier[-2] != task:
            dispatcher.utter_message(text=SWITCH_LEADS[task])
        return []


SWITCH_LEADS = {
    "track_order": say("switch_to_track_order"),
    "delivery_period": say("switch_to_delivery_period"),
    "cancel_order": say("switch_to_cancel_order"),
    "change_shipping_address": say("switch_to_change_shipping_address"),
    "get_refund": say("switch_to_get_refund"),
    "track_refund": say("switch_to_track_refund"),
}


# --- policy questions: answered from the knowledge base -------------------------------


# A policy answer names the task an order number given next is for: "can I still send it
# back?" (the returns answer), then "it's one oh seven, oh eight one" is a refund request.
ARTICLE_TASKS = {
    "returns-and-refunds": "get_refund",
    "cancellation-fees": "cancel_order",
    "delivery-times": "delivery_period",
    "tracking-a-parcel": "track_order",
    "address-changes": "change_shipping_address",
}


def ask_knowledge(tracker: Tracker) -> Dict[str, Any]:
    """The knowledge base's answer to the caller's last words (raises EngineUnavailable)."""
    return engine_api.knowledge_answer(tracker.latest_message.get("text") or "", latest_intent(tracker).get("name"))


def answered_from_knowledge(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Words NLU could not place, or placed only weakly, may still be a policy question the
    knowledge base is sure of: answered, it keeps the caller with the bot."""
    try:
        answer = ask_knowledge(tracker)
    except engine_api.EngineUnavailable as error:
        logger.warning("Knowledge base unavailable: %s", error)
        return False
    if answer["answered"]:
        dispatcher.utter_message(text=answer["spoken"])
        after_digression(dispatcher, tracker)
    return bool(answer["answered"])


def general_delivery_time(tracker: Tracker) -> Optional[str]:
    """How long delivery takes in general, from the knowledge base; None if it has no sure answer."""
    try:
        answer = ask_knowledge(tracker)
    except engine_api.EngineUnavailable as error:
        logger.warning("Knowledge base unavailable for a delivery-time question: %s", error)
        return None
    return answer["spoken"] if answer["answered"] else None


class ActionAnswerFromKnowledge(Action):
    """A policy question: say the knowledge base's answer, or offer a person rather than guess.

    The answers live in knowledge/articles/*.md (their `spoken` text), not in domain.yml,
    so designers edit each policy in one place for the bot and the agents. Asked in the
    middle of a form, the answer is a digression: the form then asks again for what it needs.
    """

    def name(self) -> Text:
        return "action_answer_from_knowledge"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if has_street(clean_address(tracker.latest_message.get("text") or "")):
            # A street while the new address is asked for or read back is the address, whatever NLU called it.
            given = address_given(dispatcher, tracker, domain)
            if given is not None:
                return given
        try:
            answer = ask_knowledge(tracker)
        except engine_api.EngineUnavailable as error:
            return system_failure(dispatcher, tracker, error)
        in_form = bool(tracker.active_loop_name)
        # A side question never changes the task in hand ("how long does shipping take?" in
        # the middle of an address change sets `task` by its intent).
        events: List[EventType] = [SlotSet("task", slot_before_turn(tracker, "task"))] if in_form else []
        if answer["answered"]:
            logger.info("Knowledge answer %s (score %s) for %s", answer["article_id"], answer["score"], tracker.sender_id)
            article_task, number = ARTICLE_TASKS.get(answer["article_id"]), tracker.get_slot("order_number")
            if not in_form and article_task and number and not tracker.get_slot("pending_confirmation"):
                # "Can I just return it?" about the order just looked up: the rule in one
                # sentence, then what it means for that order ("...shall I open a refund?").
                dispatcher.utter_message(text=speech.first_sentence(answer["spoken"]))
                return answer_task_now(dispatcher, tracker, article_task, number)
            dispatcher.utter_message(text=answer["spoken"])
            if not in_form:
                after_digression(dispatcher, tracker)
                if not tracker.get_slot("task") and article_task:
                    events.append(SlotSet("task", article_task))
            return events
        logger.info("No sure knowledge answer (best %s, score %s): offering a person", answer["article_id"], answer["score"])
        if in_form:
            dispatcher.utter_message(text=say("knowledge_unsure_in_form"))
            return events
        if tracker.get_slot("pending_confirmation") in TASK_CONFIRMATIONS:
            dispatcher.utter_message(text=say("knowledge_unsure_in_form"))
            after_digression(dispatcher, tracker)
            return []
        dispatcher.utter_message(text=say("knowledge_unsure"))
        return [SlotSet("pending_confirmation", "handoff"), SlotSet("handoff_reason", "no_knowledge_answer")]


# --- yes / no ---------------------------------------------------------------------------


def correction(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """"No, it's one zero four...": another order number than the one in hand redoes the task
    on it; a street or zip code while the new address is being confirmed replaces it."""
    if tracker.get_slot("pending_confirmation") == "address":
        return address_correction(dispatcher, tracker)
    number = spoken_order_number(tracker)
    if not number or number == order_in_hand(tracker):
        return None
    events: List[EventType] = [SlotSet("pending_confirmation", None), SlotSet("details", None)]
    return events + answer_task_now(dispatcher, tracker, task_asked(tracker) or tracker.get_slot("task"), number)


def address_given(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Optional[List[EventType]]:
    """A street said while the form asks for the new address fills it, as the form would
    ("...three oh three one nine, no wait, three oh three one eight" taken for a question);
    said while the address is read back, it corrects it. None when neither is the case."""
    text = tracker.latest_message.get("text") or ""
    asked = tracker.active_loop_name == "address_change_form" and tracker.get_slot("requested_slot") == "new_address"
    if asked and has_street(clean_address(text)):
        slots = ValidateAddressChangeForm().validate_new_address(text, dispatcher, tracker, domain)
        return [SlotSet(name, value) for name, value in slots.items()]
    return address_correction(dispatcher, tracker)


def address_correction(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """"Oh, it's three oh three one two" while the new address is read back: the corrected
    address, read back for a yes (None when no address is being read back)."""
    if tracker.get_slot("pending_confirmation") != "address":
        return None
    words, before = clean_address(tracker.latest_message.get("text") or ""), tracker.get_slot("new_address") or ""
    if has_street(words) and not postcode_in(words) and "," in before:
        address = f"{words}, {before.split(',', 1)[1].strip()}"  # "it's Pine Street, not Elm": the same town
    elif has_street(words):
        address = words if postcode_in(words) or not postcode_in(before) else with_zip_code(words, postcode_in(before))
    elif zip_code_in(words):
        address = with_zip_code(before, zip_code_in(words))
    else:
        return None
    if address == before:
        return None  # "yeah, three oh three one eight, that's right": the same address, no correction
    dispatcher.utter_message(text=say("address_confirm", number=tracker.get_slot("order_number"), address=address))
    return [SlotSet("new_address", address)]


def confirmation_question(tracker: Tracker) -> str:
    """The yes/no question pending, asked again in plain words."""
    pending, number = tracker.get_slot("pending_confirmation"), tracker.get_slot("order_number")
    if pending == "cancel":
        return say("confirm_cancel", number=number)
    if pending == "address":
        return say("confirm_address", number=number, address=tracker.get_slot("new_address"))
    if pending == "refund":
        return say("confirm_refund", number=number)
    if pending == "details":
        return say("offer_tracking_update")
    return say("confirm_end_call")


class ActionConfirm(Action):
    """The caller said yes (in any words the rules map here): carry out what the bot proposed."""

    def name(self) -> Text:
        return "action_confirm"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        corrected = correction(dispatcher, tracker)
        if corrected is not None:
            return corrected
        pending, number = tracker.get_slot("pending_confirmation"), tracker.get_slot("order_number")
        asked_for = asks_what_was_proposed(tracker, latest_intent(tracker).get("name"), number)
        if pending in TASK_CONFIRMATIONS and HEDGE.search(tracker.latest_message.get("text") or "") and not asked_for:
            return self.hedged(dispatcher, tracker, pending, number)  # "okay, no, yeah. yes, cancel it" is no hedge
        if pending == "handoff":
            reason = tracker.get_slot("handoff_reason") or "caller_request"
            return hand_off(dispatcher, tracker, reason, say("handoff_accepted"))
        if pending == "end_call":
            return end_call(dispatcher, "caller_goodbye")
        if pending == "details":
            dispatcher.utter_message(text=tracker.get_slot("details") or say("nothing_to_repeat"))
            anything_else(dispatcher)
            return [SlotSet("pending_confirmation", None), SlotSet("details", None)]
        if not pending:
            if GOODBYE_WORDS.search(tracker.latest_message.get("text") or ""):
                return end_call(dispatcher, "caller_done")  # "great, thanks, that's all"
            dispatcher.utter_message(text=say("nothing_pending"))
            return []
        try:
            if pending == "cancel":
                result = engine_api.cancel_order(number, tracker.sender_id)
                text = say("cancel_done", number=number)
                if result.get("refund"):
                    text += " " + say("cancel_refund_on_its_way", amount=result["refund"]["amount"])
                dispatcher.utter_message(text=text)
            elif pending == "address":
                address = tracker.get_slot("new_address")
                engine_api.change_address(number, address, postcode_in(address), tracker.get_slot("identity_answer"), tracker.sender_id)
                dispatcher.utter_message(text=say("address_done", number=number, address=address))
            elif pending == "refund":
                result = engine_api.request_refund(number, "requested by caller on the phone", tracker.sender_id)
                dispatcher.utter_message(text=say("refund_opened", ticket_id=result.get("ticket_id"), number=number))
        except engine_api.TooManyAttempts:
            return hand_off(dispatcher, tracker, "identity_check_failed", say("handoff_identity_failed"))
        except engine_api.NotAllowed as refused:
            if refused.code == "identity_check_failed":
                return hand_off(dispatcher, tracker, "identity_check_failed", say("handoff_identity_failed"))
            dispatcher.utter_message(text=say("not_done", reason=refused))
        except (engine_api.EngineUnavailable, engine_api.OrderNotFound) as error:
            return system_failure(dispatcher, tracker, error)
        anything_else(dispatcher)
        return [SlotSet("pending_confirmation", None)]


    @staticmethod
    def hedged(dispatcher: CollectingDispatcher, tracker: Tracker, pending: str, number: str) -> List[EventType]:
        """"Hmm, not sure... could I change the address instead?" names the task but is no yes:
        another task in the words is taken up; a "no" in it drops the proposal; otherwise the
        question is asked once more. Nothing is cancelled, re-addressed or refunded on a hedge."""
        if WAIT_WORDS.search(tracker.latest_message.get("text") or ""):
            dispatcher.utter_message(text=say("take_your_time"))  # "no wait, hold on, let me think": the question stands
            return []
        for ranked in tracker.latest_message.get("intent_ranking") or []:
            name = ranked.get("name")
            if name in TASK_INTENTS and name != PENDING_TASKS[pending] and (ranked.get("confidence") or 0) >= TASK_HINT_CONFIDENCE:
                dispatcher.utter_message(text=SWITCH_LEADS[name])
                return [SlotSet("pending_confirmation", None)] + answer_task_now(dispatcher, tracker, name, number)
        if NO_WORD.search(tracker.latest_message.get("text") or ""):
            dispatcher.utter_message(text=say("nothing_changed"))
            anything_else(dispatcher)
            return [SlotSet("pending_confirmation", None)]
        dispatcher.utter_message(text=say("confirm_again", question=confirmation_question(tracker)))
        return []


# The task a pending proposal carries out, and words that make a yes no yes ("not sure", "wait").
PENDING_TASKS = {"cancel": "cancel_order", "address": "change_shipping_address", "refund": "get_refund"}
_NO = r"no\b(?! (?:problem|worries|rush|hurry|big deal|biggie)\b)|nope"  # "no worries" is no no
_HESITATE = r"not sure|wait|instead|rather|hold on|hang on|maybe|should i|let me think"
NO_WORD = re.compile(rf"\b({_NO}|don'?t)", re.IGNORECASE)
HEDGE = re.compile(rf"\b({_NO}|{_HESITATE})", re.IGNORECASE)
HESITATION = re.compile(rf"\b({_HESITATE})\b", re.IGNORECASE)  # a hedge without a no
YES_LEAD = re.compile(r"^\W*(?:yes|yeah|yep|yup|sure|correct|right|exactly|that's (?:right|it|the one)|uh-huh|mm-hm+)\b", re.IGNORECASE)


class ActionDecline(Action):
    """The caller said no: drop the proposal; a no to "anything else?" ends the call."""

    def name(self) -> Text:
        return "action_decline"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        corrected = correction(dispatcher, tracker)
        if corrected is not None:
            return corrected
        pending = tracker.get_slot("pending_confirmation")
        done = GOODBYE_WORDS.search(tracker.latest_message.get("text") or "")  # "no, that's all"
        if pending in (None, "details") and (done or last_bot_text(tracker) == say("anything_else")):
            return end_call(dispatcher, "caller_done")
        if not pending:
            dispatcher.utter_message(text=say("nothing_pending"))
            return []
        if pending == "address":
            dispatcher.utter_message(text=say("address_unchanged"))
            anything_else(dispatcher)
            return [SlotSet("pending_confirmation", None), SlotSet("new_address", None)]
        if pending == "handoff":
            dispatcher.utter_message(text=say("handoff_declined"))
            anything_else(dispatcher)
            return [SlotSet("pending_confirmation", None), SlotSet("handoff_reason", None)]
        if pending == "end_call":
            dispatcher.utter_message(text=say("nothing_pending"))
            return [SlotSet("pending_confirmation", None)]
        if pending == "details":
            anything_else(dispatcher)
            return [SlotSet("pending_confirmation", None), SlotSet("details", None)]
        dispatcher.utter_message(text=say("nothing_changed"))
        anything_else(dispatcher)
        return [SlotSet("pending_confirmation", None)]


# --- conversation repair ----------------------------------------------------------------


class ActionHandoff(Action):
    """The caller asked for something only a person can do, or asked for a person.

    An upset caller whose words only weakly name a request goes as an upset caller
    (the complaints desk), not by the guess. A calm caller's weak guess (change_order at
    0.58) is first checked for an order task the bot can do, then for a policy question
    the knowledge base is sure of.
    """

    def name(self) -> Text:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        parsed = latest_intent(tracker)
        intent = parsed.get("name") or "contact_human_agent"
        text = tracker.latest_message.get("text") or ""
        # A sure intent wins over waiting words said in passing, unless it is only a guess at a person.
        sure = (parsed.get("confidence") or 0) >= SURE_HANDOFF_INTENT and intent not in PERSON_INTENTS
        move = leaving_or_waiting(dispatcher, tracker, wait=not sure)
        if move is not None:
            return move
        upset = caller_emotion(tracker) in UPSET
        if intent == "complaint" and not upset and THANKS_AT_END.search(text):
            # "Well, that's annoying, but not your fault I guess. Thanks.": a grumble that closes, no complaint to file.
            return ActionThanks().run(dispatcher, tracker, domain)
        weak = (parsed.get("confidence") or 0) < WEAK_HANDOFF_INTENT and intent not in PERSON_INTENTS
        if weak and not upset:
            if tracker.get_slot("task") and not tracker.get_slot("order_number"):
                # Asked for the number, the caller said something else ("sorry, can I type
                # it? is more easy"): a guess at a handoff is no reason to drop the task.
                return ask_for_number_again(dispatcher, tracker)
            task, number = task_asked(tracker, WEAK_HANDOFF_TASK), spoken_order_number(tracker)
            if task:
                # "I ordered the wrong size and I'd like to cancel": the task the bot can do.
                return answer_task(dispatcher, tracker, task, number) if number else [SlotSet("task", task), FollowupAction("order_form")]
            if number:
                # "...can we start with one oh one eight seven four?": the order is clear, the request is not.
                dispatcher.utter_message(text=say("order_number_noted", number=number))
                return [SlotSet("order_number", number)]
            if answered_from_knowledge(dispatcher, tracker):
                return []
        if intent in SELF_SERVICE_INTENTS and HOW_TO.search(text) and not upset and answered_from_knowledge(dispatcher, tracker):
            return []  # "how do I reset my password?" has an answer; "I can't log in" goes to a person
        # An angry caller goes as upset unless the intent is sure; a frustrated one only over a weak guess
        # ("I think I was charged twice... charged twice" is a payment problem, said anxiously).
        doubt = SURE_HANDOFF_INTENT if caller_emotion(tracker) == "angry" else WEAK_HANDOFF_INTENT
        if upset and (parsed.get("confidence") or 0) < doubt and intent != "contact_human_agent":
            intent = "caller_upset"
        key = "account" if intent in ACCOUNT_INTENTS else intent
        lead = HANDOFF_LEADS.get(key, HANDOFF_LEADS["contact_human_agent"])
        reason = {"deny": "caller_request", "caller_upset": "angry_caller"}.get(intent, intent)
        return hand_off(dispatcher, tracker, reason, lead)


def leaving_or_waiting(dispatcher: CollectingDispatcher, tracker: Tracker, wait: bool = True) -> Optional[List[EventType]]:
    """The caller is leaving ("Oh shoot, someone's at the door, I'll call back") or asks the
    bot to wait ("Uh, the phone number, hang on..."), whatever NLU made of the words (a guess
    at a person, out of scope, nothing sure); None when they do neither, or ask for a person."""
    text = tracker.latest_message.get("text") or ""
    if asks_for_person(text):
        return None
    if CALLING_BACK.search(text):
        return end_call(dispatcher, "caller_done", say("goodbye_call_back"))
    if wait and WAIT_WORDS.search(text):
        # The task they were in goes on when they are back.
        dispatcher.utter_message(text=say("take_your_time"))
        form = form_before_turn(tracker)
        return [FollowupAction(form)] if form else []
    return None


# Thanks as the caller's last words ("...not your fault I guess. Thanks."), not "thanks for nothing".
THANKS_AT_END = re.compile(r"\b(?:thanks|thank you|cheers)\b(?! for nothing)[^.!?]*[.!]?\s*$", re.IGNORECASE)

# "I'll call back later", "let me call you again tomorrow": the caller will ring again (not "call me back").
CALLING_BACK = re.compile(r"\b(?:i'?ll|i will|i'?m gonna|i'?m going to|let me|i'?ll have to|i need to) (?:just )?(?:call|ring|phone) (?:you |y'all )?(?:back|again|later)\b", re.IGNORECASE)

# Account tasks the caller does on the website; asked how to, the help article answers.
SELF_SERVICE_INTENTS = {"create_account", "recover_password", "edit_account"}
HOW_TO = re.compile(r"\b(?:how (?:do|can|would|should|could) (?:i|we|you)|where (?:do|can) i|is there a way|what do i (?:do|need))\b", re.IGNORECASE)

# "Hang on", "one sec", "give me a minute": the caller asks the bot to wait.
WAIT_WORDS = re.compile(
    r"\b(?:hang on|hold on|let me think|(?:one|a|just a|give me a) (?:sec|second|moment|minute)\b(?!\s+(?:one|ones|item|items|order|time|shirt|pair)\b))\b",
    re.IGNORECASE,
)  # not "add a second one"


def form_before_turn(tracker: Tracker) -> Optional[str]:
    """The form that was asking when the caller last spoke (the rules may have ended it since)."""
    for event in reversed(events_before_turn(tracker)):
        if event.get("event") == "active_loop":
            return event.get("name")
    return None


# "Can I type it?", "I'll key it in": the caller would rather use the keypad.
KEYPAD_WORDS = re.compile(r"\b(type|typing|key(pad)? ?it|keypad|punch|press|dial)\b", re.IGNORECASE)


def ask_for_number_again(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """Back to the order form's question, within the misunderstanding budget; a caller who
    asks to type the number is told how."""
    if KEYPAD_WORDS.search(tracker.latest_message.get("text") or ""):
        dispatcher.utter_message(text=say("type_the_number"))
        events: List[EventType] = []
    else:
        events = ActionReprompt().run(dispatcher, tracker, {})
        if any(e.get("name") == "pending_confirmation" for e in events):
            return events  # handed off, or a person offered: no question about the number now
    return events + [ActiveLoop("order_form"), SlotSet("requested_slot", "order_number")]


class ActionReprompt(Action):
    """The bot did not understand (or the policies could not place the turn): repair, never loop.

    Words NLU could not place may still carry an order number and a request, or be a
    policy question the knowledge base is sure of. Otherwise the repair prompt offers the
    choices; on the second misunderstood turn in a row the bot offers a person, on the
    third it hands off. A yes/no question that got an unclear answer is asked once more.
    """

    def name(self) -> Text:
        return "action_reprompt"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        given = address_given(dispatcher, tracker, domain)
        if given is not None:
            return given  # "Hmm, no, I said that wrong. It's Pine Street, not Elm."
        move = leaving_or_waiting(dispatcher, tracker)
        if move is not None:
            return move
        text = tracker.latest_message.get("text") or ""
        if not tracker.active_loop_name and caller_emotion(tracker) not in UPSET and THANKS_AT_END.search(text):
            # "Hmm, weather. Okay, well, that's annoying, but not your fault I guess. Thanks.": words
            # NLU cannot place that end in thanks close the request; nothing to repair.
            return ActionThanks().run(dispatcher, tracker, domain)
        number, task = spoken_order_number(tracker), task_asked(tracker)
        if number and not tracker.active_loop_name:
            return answer_task(dispatcher, tracker, task or tracker.get_slot("task"), number)
        if not tracker.active_loop_name and answered_from_knowledge(dispatcher, tracker):
            return []
        streak = repair_streak(tracker) + 1
        events: List[EventType] = [SlotSet("repair_streak", streak)]
        if streak >= HAND_OFF_AFTER:
            return events + hand_off(dispatcher, tracker, "not_understood", say("handoff_not_understood"))
        pending = tracker.get_slot("pending_confirmation")
        offered = tracker.get_slot("handoff_reason") if pending == "handoff" else None
        if offered and offered != "not_understood" and latest_intent(tracker).get("name") != "inform":
            # The bot offered a person because it cannot do what the caller needs; an answer
            # that is not a no ("is there really nothing you can do?") means they still need it;
            # information given instead ("my phone ends in oh one six three") answers something else.
            return events + hand_off(dispatcher, tracker, offered, say("handoff_accepted"))
        if pending and pending != "handoff":
            if streak == 1:
                dispatcher.utter_message(text=say("confirm_again", question=confirmation_question(tracker)))
                return events
            dispatcher.utter_message(text=say("confirm_dropped"))
            return events + [SlotSet("pending_confirmation", None), SlotSet("details", None)]
        if streak >= OFFER_PERSON_AFTER:
            dispatcher.utter_message(text=say("offer_person_not_understood"))
            events += [SlotSet("pending_confirmation", "handoff"), SlotSet("handoff_reason", "not_understood")]
            # One question at a time: the form stops asking while the caller answers this one.
            return events + ([ActiveLoop(None), FollowupAction("action_listen")] if tracker.active_loop_name else [])
        if tracker.active_loop_name:
            dispatcher.utter_message(text=say("not_caught_in_form"))  # the form asks its question again next
        elif tracker.get_slot("task") and not tracker.get_slot("order_number"):
            # The bot asked for the number without a form (after a general delivery answer).
            dispatcher.utter_message(text=say("not_caught_in_form") + " " + say("ask_order_number_again"))
        else:
            out_of_scope = latest_intent(tracker).get("name") == "out_of_scope"
            dispatcher.utter_message(text=say("out_of_scope" if out_of_scope else "not_understood"))
        return events


class ActionCoreFallback(ActionReprompt):
    """The dialogue policies are unsure what comes next.

    Straight after the caller spoke it is a misunderstanding: the same repair, within the
    same budget, then the form (if one is open) asks its question again. After the bot has
    already answered, the turn is over: it listens. Either way the policies are not asked
    again this turn, so they cannot loop.
    """

    def name(self) -> Text:
        return "action_core_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if any(e.get("event") == "bot" for e in turn_events(tracker)):
            return [FollowupAction("action_listen")]
        events = super().run(dispatcher, tracker, domain)
        if any(e.get("event") == "followup" for e in events):
            return events
        return events + [FollowupAction(tracker.active_loop_name or "action_listen")]


# Below this a "repeat" is a guess at words NLU could not place: repaired, not repeated.
SURE_REPEAT = 0.6


class ActionRepeat(Action):
    """Says the bot's last turn again."""

    def name(self) -> Text:
        return "action_repeat"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if (latest_intent(tracker).get("confidence") or 0) < SURE_REPEAT:
            # "It's about the, uh... the thing, sorry, the line's...": a guess, not a "say that again".
            return ActionReprompt().run(dispatcher, tracker, domain)
        said = [e["text"] for e in turn_events(tracker, 1) if e.get("event") == "bot" and e.get("text")]
        for text in said or [say("nothing_to_repeat")]:
            dispatcher.utter_message(text=text)
        return []


def end_call(dispatcher: CollectingDispatcher, reason: str, goodbye: Optional[str] = None) -> List[EventType]:
    """Says goodbye and tells the engine to hang up once it has been spoken."""
    dispatcher.utter_message(text=goodbye or say("goodbye"))
    dispatcher.utter_message(json_message={"end_call": {"reason": reason}})
    return [SlotSet("pending_confirmation", None)]


class ActionThanks(Action):
    """Thanks alone gets "you're welcome, anything else?"; thanks that says it is all
    ("thanks, that's all") closes the call, as a no to "anything else?" does."""

    def name(self) -> Text:
        return "action_thanks"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if GOODBYE_WORDS.search(tracker.latest_message.get("text") or ""):
            return end_call(dispatcher, "caller_done")
        dispatcher.utter_message(response="utter_you_are_welcome")
        return []


class ActionGoodbye(Action):
    """The caller said goodbye: hang up, unless it may be a mishearing.

    Goodbye words ("thank you very much, goodbye") are believed even when NLU is only
    fairly sure; without them a goodbye needs a sure NLU and a caller the bot has helped.
    Anything else ("It's my return, don't away") is checked first: hanging up on a
    caller who was still asking is the worst mistake a phone bot makes.
    """

    def name(self) -> Text:
        return "action_goodbye"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        confidence = latest_intent(tracker).get("confidence") or 0
        words = GOODBYE_WORDS.search(tracker.latest_message.get("text") or "")
        helped = any(e.get("event") == "action" and e.get("name") in HELPING_ACTIONS for e in tracker.events)
        events: List[EventType] = [ActiveLoop(None)] if tracker.active_loop_name else []
        if MORE_TO_SAY.search(tracker.latest_message.get("text") or ""):
            dispatcher.utter_message(text=say("go_on"))
            return events + [SlotSet("pending_confirmation", None)]
        if not words and tracker.get_slot("pending_confirmation") in TASK_CONFIRMATIONS:
            # A goodbye that is not one to "shall I open a refund?" ("I'll think about it"): a no to the question.
            return events + ActionDecline().run(dispatcher, tracker, domain)
        if (words and confidence >= GOODBYE_WITH_WORDS) or (helped and confidence >= SURE_GOODBYE):
            return events + end_call(dispatcher, "caller_goodbye")
        dispatcher.utter_message(text=say("confirm_end_call"))
        return events + [SlotSet("pending_confirmation", "end_call")]


def puts_off(tracker: Tracker) -> bool:
    """A task the bot proposed is waiting for a yes, and the caller puts it off ("not today",
    "let me think about it", "I'd rather hold off")."""
    return tracker.get_slot("pending_confirmation") in TASK_CONFIRMATIONS and bool(PUT_OFF.search(tracker.latest_message.get("text") or ""))


# "Let's not do it today", "I'll think it over", "maybe later": not now, said to a proposal
# (a bare "let me think" asks for a moment: see WAIT_WORDS).
PUT_OFF = re.compile(
    r"(?:^|[,.!?]\s*)not yet\b|\b(?:let'?s not|not (?:today|right now|for now)|hold off|maybe later|some other time|another time|"
    r"think (?:about it|it over)|sleep on it)\b",
    re.IGNORECASE,
)


# Actions that do something for the caller: after one of them, a plain goodbye is believable.
HELPING_ACTIONS = {"action_order_task", "action_answer_from_knowledge", "action_confirm", "action_handle_inform", "action_handoff"}


# --- forms ----------------------------------------------------------------------------


def postcode_in(text: Optional[str]) -> Optional[str]:
    match = re.search(r"\b(\d{5})(?:-\d{4})?\s*$", text or "")
    return match.group(1) if match else None


class ActionAskOrderNumber(Action):
    """Asks for the order number, saying why when the last one was not found, or that
    the call is back on the order after the caller asked something else."""

    def name(self) -> Text:
        return "action_ask_order_number"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        rejected = tracker.get_slot("rejected_order_number")
        if rejected and (tracker.get_slot("order_attempts") or 0) >= 1:
            dispatcher.utter_message(text=say("order_not_found", number=rejected))
        elif any(e.get("event") == "bot" for e in turn_events(tracker)):
            # After a digression or a repair this turn: back to the order, in plain words.
            dispatcher.utter_message(text=say("ask_order_number_again"))
        else:
            dispatcher.utter_message(text=say("ask_order_number"))
        return []


class ValidateOrderForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_order_form"

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        number = re.sub(r"\D", "", str(value or ""))
        if not number:
            return {"order_number": None}
        try:
            engine_api.get_order(number, tracker.sender_id)
        except engine_api.OrderNotFound:
            attempts = (tracker.get_slot("order_attempts") or 0) + 1
            if attempts >= 2:
                # Second miss: keep it, so the task action hands the call to a person.
                return {"order_number": number, "order_attempts": 0, "rejected_order_number": number}
            return {"order_number": None, "order_attempts": attempts, "rejected_order_number": number}
        except engine_api.EngineUnavailable:
            # The task action retries the lookup and apologises if the system is still down.
            return {"order_number": number}
        return {"order_number": number, "order_attempts": 0, "rejected_order_number": None}


class ActionAskIdentityAnswer(Action):
    def name(self) -> Text:
        return "action_ask_identity_answer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        failed = (tracker.get_slot("identity_attempts") or 0) >= 1
        dispatcher.utter_message(text=say("identity_retry" if failed else "ask_identity"))
        return []


class ActionAskNewAddress(Action):
    """Asks for the new address, or only for its zip code when the street is in hand."""

    def name(self) -> Text:
        return "action_ask_new_address"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(text=say("ask_zip_code" if tracker.get_slot("address_so_far") else "ask_new_address"))
        return []


class ValidateAddressChangeForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_address_change_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        # The form starting reads the `task` slot's mapping again from the caller's words:
        # the number said as "track_order 0.56" must not turn the address change into tracking.
        events = await super().run(dispatcher, tracker, domain)
        kept = task_in_hand(tracker)
        return events + [SlotSet("task", kept)] if kept and kept != tracker.get_slot("task") else events

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        # After a failed identity check there is nothing more to ask: the task action hands off.
        if tracker.get_slot("identity_verified") is False:
            return ["identity_answer"]
        return domain_slots

    def validate_identity_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        answer = identity_digits(str(value or ""))
        if answer is None:
            return {"identity_answer": None}
        try:
            verified = engine_api.verify_identity(tracker.get_slot("order_number"), answer, tracker.sender_id)
        except (engine_api.EngineUnavailable, engine_api.OrderNotFound):
            return {"identity_answer": answer, "identity_verified": None}
        except engine_api.TooManyAttempts:  # locked after earlier failures: handed off like a failed check
            return {"identity_answer": answer, "identity_verified": False}
        if verified:
            return {"identity_answer": answer, "identity_verified": True, "identity_attempts": 0}
        attempts = (tracker.get_slot("identity_attempts") or 0) + 1
        if attempts >= 2:
            return {"identity_answer": answer, "identity_verified": False, "identity_attempts": attempts}
        return {"identity_answer": None, "identity_attempts": attempts}

    def validate_new_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The new address may come in pieces: a street first, then (asked for) the zip code."""
        address = clean_address(str(value or ""))
        if WAIT_WORDS.search(str(value or "")) and not re.search(r"\d", address):
            dispatcher.utter_message(text=say("take_your_time"))  # "hang on, let me grab the address"
            return {"new_address": None}
        so_far = tracker.get_slot("address_so_far")
        if so_far and not has_street(address):
            if not zip_code_in(address):
                # "Tacoma, Washington": more of the address; the zip code is still to come.
                return {"new_address": None, "address_so_far": f"{so_far.rstrip(' .,')}, {address}"}
            address = with_zip_code(so_far, zip_code_in(address))
        if not has_street(address):
            dispatcher.utter_message(text=say("address_incomplete"))
            return {"new_address": None}
        if not postcode_in(address):
            return {"new_address": None, "address_so_far": address}  # action_ask_new_address asks for the zip code
        return {"new_address": address, "address_so_far": None}


ADDRESS_LEADS = re.compile(
    r"^(?:(?:um+|uh+|so|okay|ok|yeah|well|it's|it is|the new address is|new address is|my new address is|"
    r"please|send it to|ship it to|deliver it to|change it to|the street is|the address is|street is|address is|to)\b[\s,]*)+",
    re.IGNORECASE,
)


def identity_digits(text: str) -> Optional[str]:
    """The zip code or the phone's last four digits in the caller's words, the last one said
    ("my order number is... zip code three oh three oh nine"): a group of five or four
    digits, a whole phone number (its last four), a run of six to nine digits (a stray digit
    before a zip code: its last five); else all the digits, if they make one."""
    groups = re.findall(r"\d+", spoken_digits(text))
    candidates = [g if len(g) in (4, 5) else g[-4:] if len(g) >= 10 else g[-5:] for g in groups if len(g) >= 4]
    if candidates:
        return candidates[-1]
    digits = "".join(groups)
    if len(digits) in (4, 5):
        return digits
    return digits[-4:] if len(digits) >= 10 else None


def has_street(address: str) -> bool:
    """A house number and a street name: '42 elm street' (a zip code alone is not one)."""
    return bool(re.search(r"\d", re.sub(r"\b\d{5,}(?:-\d{4})?\b", "", address))) and bool(re.search(r"[a-zA-Z]{2,}", address))


def zip_code_in(text: str) -> Optional[str]:
    """A five-digit zip code anywhere in the words ("oh, right, three oh three one two")."""
    # The last one said ("nine eight four oh two... no, nine eight four oh five"); a run of up
    # to nine digits is a zip code read with a repeat at the end ("...oh five. Oh five").
    found = [g[:5] for g in re.findall(r"\d+", spoken_digits(text or "")) if 5 <= len(g) <= 9]
    return found[-1] if found else None


def with_zip_code(address: str, zip_code: str) -> str:
    """The address with its zip code replaced, or added when it had none."""
    if postcode_in(address):
        return re.sub(r"\b\d{5}(?:-\d{4})?\s*$", zip_code, address)
    return f"{address.rstrip(' .,')} {zip_code}"


# "Three hundred, no, sorry, three twenty Peachtree Street": the address starts again after it.
SELF_CORRECTION = re.compile(r"\b(?:no,? (?:sorry|wait)(?:,? sorry)?|sorry,? no|i mean)\b[\s,.]*", re.IGNORECASE)


def clean_address(text: str) -> str:
    """'um send it to forty two elm street' -> '42 elm street' (spoken numbers become digits).
    A correction in the words wins: a whole new address after "no, sorry", or a new zip
    code ("... nine eight one oh two, no wait, nine eight one oh nine")."""
    *before, after = SELF_CORRECTION.split(text.strip())
    corrected = _clean(after)
    if not before or has_street(corrected):
        return corrected
    earlier = _clean(" ".join(before))
    return with_zip_code(earlier, zip_code_in(corrected)) if zip_code_in(corrected) else earlier


# Before the zip code: "and the zip is", "that's". Said, not part of the address.
ZIP_LEAD = re.compile(r"[,.]?\s*\b(?:and\s+)?(?:the\s+)?(?:zip(?:\s*code)?(?:\s+is)?|that'?s|that is)\s+(?=\d{5}\b)", re.IGNORECASE)


def house_number_start(text: str) -> int:
    """Where the house number starts, past words said before it ("the new one is eighty-eight
    west third avenue", "she lives at 317 maple drive"); 0 when there is none."""
    for match in re.finditer(r"\b\w+\b", text):
        word = match.group().lower()
        if word.isdigit():
            return match.start()
        if word in UNITS or word in TENS:
            following = text[match.end():].lstrip(" -").split(" ", 1)[0].lower()
            if word not in ("one", "oh") or following in UNITS or following in TENS or following == "hundred":
                return match.start()  # "the new one is", "oh, it's" start no house number; "one twenty" does
    return 0


# Words after the zip code ("..., nine eight one one five, so if you could send it there")
# and a "not the old one" after the street ("1830 Pine Street, not Elm") are no part of it.
AFTER_ZIP = re.compile(r"^(.*\d\D*?\D)(\d{5}(?:-\d{4})?)\b\D*$", re.DOTALL)
NOT_THAT = re.compile(r"[,.;]?\s*\bnot\b.*$", re.IGNORECASE | re.DOTALL)


def _clean(text: str) -> str:
    text = ZIP_LEAD.sub(" ", ADDRESS_LEADS.sub("", spoken_digits(text)).strip(" .,"))
    text = text[house_number_start(text):]
    text = AFTER_ZIP.sub(r"\1\2", text)
    if has_street(NOT_THAT.sub("", text)):
        text = NOT_THAT.sub("", text)
    return re.sub(r"\s+", " ", spoken_house_number(text)).strip(" .,")


UNITS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
UNITS["oh"] = 0
TENS = {w: 10 * n for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}
NUMBER_WORD = re.compile(r"^((?:(?:%s|hundred)(?:[\s-]+|$))+)" % "|".join(sorted([*UNITS, *TENS], key=len, reverse=True)), re.IGNORECASE)


def spoken_house_number(address: str) -> str:
    """A house number read out at the start of an address, as digits: "forty-two" -> 42,
    "fifteen seventeen" -> 1517, "eight eighty" -> 880, "two hundred" -> 200 (house numbers
    are read in pairs, each part written after the other)."""
    match = NUMBER_WORD.match(address)
    if not match:
        return address
    parts: List[int] = []
    for word in re.split(r"[\s-]+", match.group(1).strip().lower()):
        if word == "hundred" and parts:
            parts[-1] *= 100
        elif word in TENS:
            parts.append(TENS[word])
        elif word in UNITS and parts and parts[-1] % 10 == 0 and parts[-1] >= 20 and parts[-1] % 100 != 0 and UNITS[word] < 10:
            parts[-1] += UNITS[word]  # "forty two"
        elif word in UNITS:
            parts.append(UNITS[word])
    if len(parts) > 1 and parts[0] % 100 == 0 and parts[0] >= 100 and parts[1] < 100:
        parts = [parts[0] + parts[1]] + parts[2:]  # "two hundred twelve"
    return "".join(str(p) for p in parts) + " " + address[match.end():]
