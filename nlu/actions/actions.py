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

from components.spoken_entities import spoken_digits
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import (
    ActiveLoop,
    EventType,
    FollowupAction,
    SlotSet,
    UserUtteranceReverted,
)
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import engine_api, speech
from actions.prompts import say

logger = logging.getLogger(__name__)

MISUNDERSTOOD = {"nlu_fallback", "out_of_scope"}
MAX_REPROMPTS = 2

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
        queued = engine_api.record_handoff(tracker.sender_id, reason, intent, collected, order_number)
    except (engine_api.EngineUnavailable, engine_api.NotAllowed, engine_api.OrderNotFound) as error:
        logger.error("Could not record handoff for %s: %s", tracker.sender_id, error)
    dispatcher.utter_message(text=f"{lead} {queued.get('announcement') or say('hold_shortly')}")
    # The engine holds the handoff itself; the message only names it (None: it could not be queued).
    dispatcher.utter_message(json_message={"handoff": {"handoff_id": queued.get("handoff_id"), "reason": reason}})
    return [SlotSet("pending_confirmation", None), SlotSet("handoff_reason", None), SlotSet("address_change_allowed", False)]


def system_failure(dispatcher: CollectingDispatcher, tracker: Tracker, error: Exception) -> List[EventType]:
    logger.error("Order system unavailable during %s: %s", tracker.sender_id, error)
    return hand_off(dispatcher, tracker, "internal_error", say("handoff_system_down"))


def open_refunds(order: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The refunds worth telling the caller about: all but the rejected ones."""
    return [r for r in order.get("refunds", []) if r["status"] != "rejected"]


# --- the order task: what the caller came for, once the order number is known ----------


def answer_task(dispatcher: CollectingDispatcher, tracker: Tracker, task: Optional[str], number: str) -> List[EventType]:
    try:
        order = engine_api.get_order(number, tracker.sender_id)
    except engine_api.OrderNotFound:
        return hand_off(dispatcher, tracker, "order_not_found", say("handoff_order_not_found", number=number))
    except engine_api.EngineUnavailable as error:
        return system_failure(dispatcher, tracker, error)

    handler = TASKS.get(task or "track_order", track)
    try:
        return handler(dispatcher, tracker, order)
    except engine_api.EngineUnavailable as error:
        return system_failure(dispatcher, tracker, error)


def track(dispatcher: CollectingDispatcher, tracker: Tracker, order: Dict[str, Any]) -> List[EventType]:
    dispatcher.utter_message(text=speech.order_status(order))
    anything_else(dispatcher)
    return []


def delivery(dispatcher: CollectingDispatcher, tracker: Tracker, order: Dict[str, Any]) -> List[EventType]:
    sentence = speech.delivery_sentence(order) or say("delivery_no_date", status=speech.STATUS_PHRASES[order["status"]])
    dispatcher.utter_message(text=say("delivery_answer", number=order["order_number"], delivery=sentence))
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
        dispatcher.utter_message(text=say("cancel_too_late_in_delivery", number=number, days=policy["return_window_days"]))
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
        return [SlotSet("address_change_allowed", True)]
    dispatcher.utter_message(text=say("address_confirm", number=number, address=new_address))
    return [SlotSet("address_change_allowed", False), SlotSet("pending_confirmation", "address")]


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
        dispatcher.utter_message(text=say("refund_outside_window", number=number, date=delivered, days=days))
        return [SlotSet("pending_confirmation", "handoff"), SlotSet("handoff_reason", "outside_return_window")]
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
        task, number = tracker.get_slot("task"), tracker.get_slot("order_number")
        if not number:
            answer = general_delivery_time(tracker) if task == "delivery_period" else None
            if answer:
                dispatcher.utter_message(text=say("general_delivery_time", answer=answer))
            else:
                dispatcher.utter_message(text=say("ask_order_number"))
            events: List[EventType] = []
        else:
            events = answer_task(dispatcher, tracker, task, number)
        # The rules read this slot after every task: only `true` starts the address change form.
        if not any(e.get("name") == "address_change_allowed" for e in events):
            events.append(SlotSet("address_change_allowed", False))
        return events


class ActionHandleInform(Action):
    """The caller gave information outside a form: usually an order number for the task in hand."""

    def name(self) -> Text:
        return "action_handle_inform"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        number = next(tracker.get_latest_entity_values("order_number"), None)
        task = tracker.get_slot("task")
        if number and task:
            return answer_task(dispatcher, tracker, task, number)
        if number:
            dispatcher.utter_message(text=say("order_number_noted", number=number))
            return [SlotSet("order_number", number)]
        dispatcher.utter_message(text=say("what_can_i_do"))
        return []


# --- policy questions: answered from the knowledge base -------------------------------


def ask_knowledge(tracker: Tracker) -> Dict[str, Any]:
    """The knowledge base's answer to the caller's last words (raises EngineUnavailable)."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return engine_api.knowledge_answer(tracker.latest_message.get("text") or "", intent)


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
    so designers edit each policy in one place for the bot and the agents.
    """

    def name(self) -> Text:
        return "action_answer_from_knowledge"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            answer = ask_knowledge(tracker)
        except engine_api.EngineUnavailable as error:
            return system_failure(dispatcher, tracker, error)
        if answer["answered"]:
            logger.info("Knowledge answer %s (score %s) for %s", answer["article_id"], answer["score"], tracker.sender_id)
            dispatcher.utter_message(text=answer["spoken"])
            anything_else(dispatcher)
            return []
        logger.info("No sure knowledge answer (best %s, score %s): offering a person", answer["article_id"], answer["score"])
        dispatcher.utter_message(text=say("knowledge_unsure"))
        return [SlotSet("pending_confirmation", "handoff"), SlotSet("handoff_reason", "no_knowledge_answer")]


# --- yes / no ---------------------------------------------------------------------------


class ActionConfirm(Action):
    """The caller said yes: carry out what the bot proposed."""

    def name(self) -> Text:
        return "action_confirm"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        pending, number = tracker.get_slot("pending_confirmation"), tracker.get_slot("order_number")
        if pending == "handoff":
            reason = tracker.get_slot("handoff_reason") or "caller_request"
            return hand_off(dispatcher, tracker, reason, say("handoff_accepted"))
        if not pending:
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
        except engine_api.NotAllowed as refused:
            if refused.code == "identity_check_failed":
                return hand_off(dispatcher, tracker, "identity_check_failed", say("handoff_identity_failed"))
            dispatcher.utter_message(text=say("not_done", reason=refused))
        except (engine_api.EngineUnavailable, engine_api.OrderNotFound) as error:
            return system_failure(dispatcher, tracker, error)
        anything_else(dispatcher)
        return [SlotSet("pending_confirmation", None)]


class ActionDecline(Action):
    """The caller said no: drop the proposal, or end the call if nothing was pending."""

    def name(self) -> Text:
        return "action_decline"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        pending = tracker.get_slot("pending_confirmation")
        if not pending:
            dispatcher.utter_message(response="utter_goodbye")
            dispatcher.utter_message(json_message={"end_call": {"reason": "caller_done"}})
            return []
        if pending == "address":
            dispatcher.utter_message(text=say("address_unchanged"))
            anything_else(dispatcher)
            return [SlotSet("pending_confirmation", None), SlotSet("new_address", None)]
        if pending == "handoff":
            dispatcher.utter_message(text=say("handoff_declined"))
            anything_else(dispatcher)
            return [SlotSet("pending_confirmation", None), SlotSet("handoff_reason", None)]
        dispatcher.utter_message(text=say("nothing_changed"))
        anything_else(dispatcher)
        return [SlotSet("pending_confirmation", None)]


# --- conversation repair ----------------------------------------------------------------


class ActionHandoff(Action):
    """The caller asked for something only a person can do, or asked for a person."""

    def name(self) -> Text:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or "contact_human_agent"
        key = "account" if intent in ACCOUNT_INTENTS else intent
        lead = HANDOFF_LEADS.get(key, HANDOFF_LEADS["contact_human_agent"])
        reason = {"deny": "caller_request", "caller_upset": "angry_caller"}.get(intent, intent)
        return hand_off(dispatcher, tracker, reason, lead)


class ActionReprompt(Action):
    """Not understood or out of scope: reprompt at most twice in a row, then hand off."""

    def name(self) -> Text:
        return "action_reprompt"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        misses = 0
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                if (event.get("parse_data", {}).get("intent") or {}).get("name") not in MISUNDERSTOOD:
                    break
                misses += 1
        if misses > MAX_REPROMPTS:
            events = hand_off(dispatcher, tracker, "not_understood", say("handoff_not_understood"))
            if tracker.active_loop_name:
                events += [ActiveLoop(None), FollowupAction("action_listen")]
            return events
        if not tracker.active_loop_name and self.answered_from_knowledge(dispatcher, tracker):
            return []
        out_of_scope = (tracker.latest_message.get("intent") or {}).get("name") == "out_of_scope"
        if tracker.active_loop_name:
            dispatcher.utter_message(text=say("not_caught_in_form"))
        else:
            dispatcher.utter_message(text=say("out_of_scope" if out_of_scope else "not_understood"))
        return []

    @staticmethod
    def answered_from_knowledge(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        """Words NLU could not place may still be a policy question the knowledge base is sure of."""
        try:
            answer = ask_knowledge(tracker)
        except engine_api.EngineUnavailable as error:
            logger.warning("Knowledge base unavailable while reprompting: %s", error)
            return False
        if answer["answered"]:
            dispatcher.utter_message(text=answer["spoken"])
            anything_else(dispatcher)
        return bool(answer["answered"])


class ActionCoreFallback(Action):
    """The dialogue policies are unsure what comes next: ask again and forget the turn (no loops)."""

    def name(self) -> Text:
        return "action_core_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(text=say("say_again"))
        return [UserUtteranceReverted()]


class ActionRepeat(Action):
    """Says the bot's last turn again."""

    def name(self) -> Text:
        return "action_repeat"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        said: List[str] = []
        users_seen = 0
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                users_seen += 1
                if users_seen == 2:
                    break
            elif event.get("event") == "bot" and users_seen == 1 and event.get("text"):
                said.insert(0, event["text"])
        for text in said or [say("nothing_to_repeat")]:
            dispatcher.utter_message(text=text)
        return []


class ActionEndCall(Action):
    """Tells the engine to hang up after the goodbye has been spoken."""

    def name(self) -> Text:
        return "action_end_call"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(json_message={"end_call": {"reason": "caller_goodbye"}})
        return []


# --- forms ----------------------------------------------------------------------------


def postcode_in(text: Optional[str]) -> Optional[str]:
    match = re.search(r"\b(\d{5})(?:-\d{4})?\s*$", text or "")
    return match.group(1) if match else None


class ActionAskOrderNumber(Action):
    """Asks for the order number, saying why when the last one was not found."""

    def name(self) -> Text:
        return "action_ask_order_number"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        rejected = tracker.get_slot("rejected_order_number")
        if rejected and (tracker.get_slot("order_attempts") or 0) >= 1:
            dispatcher.utter_message(text=say("order_not_found", number=rejected))
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
    def name(self) -> Text:
        return "action_ask_new_address"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(text=say("ask_new_address"))
        return []


class ValidateAddressChangeForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_address_change_form"

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
        answer = re.sub(r"\D", "", str(value or ""))
        if len(answer) not in (4, 5) and len(answer) < 10:
            return {"identity_answer": None}
        answer = answer if len(answer) == 5 else answer[-4:]
        try:
            verified = engine_api.verify_identity(tracker.get_slot("order_number"), answer, tracker.sender_id)
        except (engine_api.EngineUnavailable, engine_api.OrderNotFound):
            return {"identity_answer": answer, "identity_verified": None}
        if verified:
            return {"identity_answer": answer, "identity_verified": True, "identity_attempts": 0}
        attempts = (tracker.get_slot("identity_attempts") or 0) + 1
        if attempts >= 2:
            return {"identity_answer": answer, "identity_verified": False, "identity_attempts": attempts}
        return {"identity_answer": None, "identity_attempts": attempts}

    def validate_new_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        address = clean_address(str(value or ""))
        if not re.search(r"\d", address) or not re.search(r"[a-zA-Z]{2,}", address):
            dispatcher.utter_message(text=say("address_incomplete"))
            return {"new_address": None}
        return {"new_address": address}


ADDRESS_LEADS = re.compile(
    r"^(?:(?:um+|uh+|so|okay|ok|yeah|well|it's|it is|the new address is|new address is|my new address is|"
    r"please|send it to|ship it to|deliver it to|change it to|to)\b[\s,]*)+",
    re.IGNORECASE,
)


def clean_address(text: str) -> str:
    """'um send it to forty two elm street' -> '42 elm street' (spoken numbers become digits)."""
    text = ADDRESS_LEADS.sub("", spoken_digits(text.strip())).strip(" .,")
    return re.sub(r"\s+", " ", text)
