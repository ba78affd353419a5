from voicebot.domain.redact import redact


def test_card_numbers_are_redacted_in_any_grouping():
    assert redact("my card is 4111 1111 1111 1111 ok") == "my card is [card number] ok"
    assert redact("4111-1111-1111-1111") == "[card number]"
    assert redact("5500000000000004") == "[card number]"


def test_numbers_that_are_not_card_numbers_are_kept():
    assert redact("order 104233 and phone 5125550147") == "order 104233 and phone 5125550147"
    assert redact("4111 1111 1111 1112") == "4111 1111 1111 1112"  # fails the Luhn check


def test_security_codes_are_redacted():
    assert redact("the cvv is 123") == "the cvv is [security code]"
    assert redact(None) is None


def test_card_numbers_as_the_recogniser_writes_them_are_redacted():
    assert redact("my card is 4 111 111 111 111 111 111 111 111") == "my card is [card number]"  # Whisper's grouping
    assert redact("it's 4111111111111111111111111 thanks") == "it's [card number] thanks"  # a repetition loop
    assert redact("4111, 1111, 1111, 1111.") == "[card number]."
    spoken = "four one one one one one one one one one one one one one one one"
    assert redact(f"the number is {spoken} expiry june") == "the number is [card number] expiry june"
    assert redact("five five oh oh, oh oh oh oh, oh oh oh oh, oh oh oh four") == "[card number]"


def test_spoken_security_codes_are_redacted():
    assert redact("and the security code is one two three") == "and the security code is [security code]"
    assert redact("cvv: 4 5 6") == "cvv: [security code]"


def test_digit_words_that_are_no_card_are_kept():
    kept = "order one zero four two three three, my phone ends in zero one one two"
    assert redact(kept) == kept
    assert redact("I'd like one of the two blue ones") == "I'd like one of the two blue ones"


def test_entities_read_from_redacted_words_are_hidden_whole():
    from voicebot.domain.redact import redact_entity

    said = "the security code is one two three and my order is 104233"
    code = {"entity": "digits", "value": "123", "start": 21, "end": 34, "text": "one two three"}
    order = {"entity": "order_number", "value": "104233", "start": 51, "end": 57, "text": "104233"}
    assert redact_entity(said, code) == {**code, "value": "[redacted]", "text": "[redacted]"}
    assert redact_entity(said, order) == order
    assert redact_entity(None, {"entity": "digits", "value": "4111 1111 1111 1111"})["value"] == "[card number]"
