"""Spoken prompts that custom actions choose between; edit the wording here.

Responses that rules and stories use directly live in domain.yml.
"""

ORDER_NOT_FOUND = "I can't find that order, {number}. Could you say the order number again? It has six digits."
OFFER_DELIVERY_DATE = "If you give me your order number, I can check its exact date."
KNOWLEDGE_UNSURE = "I'm not sure I have the right answer to that, and I don't want to guess. Would you like me to put you through to a colleague who can help?"
NOTHING_CHANGED = "Okay, I won't change anything."
ANYTHING_ELSE = "Is there anything else I can help you with?"
IDENTITY_RETRY = "That doesn't match what we have on file. Please try once more: the last four digits of your phone, or the zip code on the order."
ASK_ORDER_NUMBER = "Sure. What's your order number? You can say it or key it in."
OUT_OF_SCOPE = "Sorry, that's not something I can help with on this line. I can help with your orders, deliveries and refunds. What do you need?"
ASK_IDENTITY = "For security, please tell me the last four digits of the phone number on the order, or its zip code."
NOT_UNDERSTOOD = "Sorry, I didn't catch that. I can help with tracking, delivery dates, cancellations, address changes and refunds. What do you need?"
ASK_NEW_ADDRESS = "What's the new delivery address, including the zip code?"
SAY_AGAIN = "Sorry, I didn't get that. Could you say it another way?"
