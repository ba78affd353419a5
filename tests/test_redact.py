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
