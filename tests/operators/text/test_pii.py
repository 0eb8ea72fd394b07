"""PII redaction: written-out texts with their redacted form and count; ordinary numbers must survive."""

import polars as pl
import pytest

from operators.errors import OperatorParameterError
from operators.text.refine.redact_pii import RedactPiiRefiner


def redacted(texts: list[str | None], op: RedactPiiRefiner | None = None) -> list[tuple[str | None, int | None]]:
    df = pl.DataFrame(
        {"_row_id": [f"r{i}" for i in range(len(texts))], "text": texts}, schema_overrides={"text": pl.String}
    )
    out = (op or RedactPiiRefiner()).run(df).kept
    assert out["pii_count"].dtype == pl.Int64
    return out.select("text", "pii_count").rows()


def test_emails():
    assert redacted(
        ["Mail jane.doe+news@example.co.uk or JOHN_SMITH@mail.example.com.", "user@localhost, @handle"]
    ) == [
        ("Mail <EMAIL> or <EMAIL>.", 2),
        ("user@localhost, @handle", 0),
    ]


def test_ip_addresses_v4_and_v6():
    texts = [
        "Server 192.168.0.1 and 10.0.0.255 answer; 256.1.1.1 and 1.2.3 do not",
        "v6 2001:0db8:85a3:0000:0000:8a2e:0370:7334, fe80::1ff:fe23:4567:890a and 2001:db8::1",
        "not addresses: std::vector, 12:30:45, ratio 10:20, MAC 00:1A:2B:3C:4D:5E",
    ]
    assert redacted(texts) == [
        ("Server <IP_ADDRESS> and <IP_ADDRESS> answer; 256.1.1.1 and 1.2.3 do not", 2),
        ("v6 <IP_ADDRESS>, <IP_ADDRESS> and <IP_ADDRESS>", 3),
        (texts[2], 0),
    ]


def test_credit_cards_only_when_the_luhn_checksum_holds():
    texts = [
        "Visa 4111 1111 1111 1111, invalid 4111 1111 1111 1112",  # the second fails Luhn (sum 31)
        "MC 5555-5555-5555-4444, Amex 378282246310005, Visa13 4222222222222",
        "Order 4111111111111112 and account 1234567812345670 stay",  # Luhn-invalid; Luhn-valid but starts with 1
    ]
    assert redacted(texts) == [
        ("Visa <CREDIT_CARD>, invalid 4111 1111 1111 1112", 1),
        ("MC <CREDIT_CARD>, Amex <CREDIT_CARD>, Visa13 <CREDIT_CARD>", 3),
        (texts[2], 0),
    ]


def test_phone_numbers_in_international_us_and_european_forms():
    texts = [
        "Call +44 20 7946 0958 or +1 (415) 555-2671 or +49 (0)30 1234 5678.",
        "US: 415-555-2671, (212) 555 0199, 1-800-555-0199, 415.555.2671",
        "FR 01 23 45 67 89, 01.23.45.67.89; DE 030 12345678, (030) 1234567",
    ]
    assert redacted(texts) == [
        ("Call <PHONE> or <PHONE> or <PHONE>.", 3),
        ("US: <PHONE>, <PHONE>, <PHONE>, <PHONE>", 4),
        ("FR <PHONE>, <PHONE>; DE <PHONE>, <PHONE>", 4),
    ]


def test_ordinary_numbers_are_not_redacted():
    texts = [
        "In 1999 it cost $1,299.99; by 2024 €12.50.",
        "On 2023-10-15 and 01.02.2024 (or 05/06/2023) we sold 12 345 units at 3.5 stars.",
        "Local 555-0199, id 1234567890, zip 02134, +3 points, 100 200 3000, version 3.11, release 1.2.3.4.5.",
        "Sequence 1234 5678 9012 3456 7890 and 20-digit 12345678901234567890.",
    ]
    assert redacted(texts) == [(text, 0) for text in texts]


def test_kinds_are_configurable_and_counts_add_up():
    text = "Mixed: a@b.io from 8.8.8.8, card 4012888888881881, phone +33 1 23 45 67 89"
    assert redacted([text]) == [("Mixed: <EMAIL> from <IP_ADDRESS>, card <CREDIT_CARD>, phone <PHONE>", 4)]
    only = RedactPiiRefiner(kinds=["email", "phone"])
    assert redacted([text], only) == [("Mixed: <EMAIL> from 8.8.8.8, card 4012888888881881, phone <PHONE>", 2)]


def test_placeholders_already_in_the_text_are_not_counted_and_nulls_stay_null():
    assert redacted(["an <EMAIL> tag and x@y.org", "", None]) == [
        ("an <EMAIL> tag and <EMAIL>", 1),
        ("", 0),
        (None, None),
    ]


def test_output_columns_follow_the_keys():
    df = pl.DataFrame({"body": ["write to a@b.io"]})
    out = RedactPiiRefiner()(df, input_key="body", output_key="clean", pii_count_key="n_pii")
    assert out.rows() == [("write to a@b.io", "write to <EMAIL>", 1)]


def test_rejects_unknown_or_no_kinds():
    with pytest.raises(OperatorParameterError):
        RedactPiiRefiner(kinds=["passport"])
    with pytest.raises(OperatorParameterError):
        RedactPiiRefiner(kinds=[])
