"""Deciding a message's language, converting scripts, and tokenizing English, Chinese and mixed text."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.language import base, detect, follow, from_locale, to_simplified_chars, to_traditional, written_for
from bot.nlu.tokenizer import BilingualTokenizer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("where is my order", "en"),
        ("help", "en"),
        ("我的快递到哪了", "zh"),
        ("我的order还没到", "zh"),
        ("refund 什么时候到账", "zh"),
        ("請問訂單80000005的物流到哪裡了", "zh-Hant"),
        ("退貨", "zh-Hant"),
        ("80000005", None),
        ("li.wei@example.com", None),
        ("+86 138 0000 0000", None),
        ("ok", None),
        ("👍", None),
        ("https://shop.example/orders/1", None),
    ],
)
def test_detect(text: str, expected: str | None) -> None:
    assert detect(text) == expected


def test_the_conversation_follows_what_the_text_says() -> None:
    assert follow("en", "我的快递呢") == "zh" and follow("zh", "where is my parcel") == "en"
    assert follow("zh", "80000005") == "zh" and follow("zh-Hant", "ok") == "zh-Hant"
    assert follow("zh-Hant", "你好") == "zh-Hant"  # the same in both scripts: the customer's script stays
    assert follow("zh-Hant", "我的订单") == "zh" and follow("zh", "我的訂單") == "zh-Hant"


def test_locales_and_scripts() -> None:
    assert [from_locale(t) for t in ("zh-CN", "zh-Hant-TW", "zh-HK", "zh", "en-GB", None, "")] == [
        "zh", "zh-Hant", "zh-Hant", "zh", "en", "en", "en",
    ]  # fmt: skip
    assert (base("zh-Hant"), base("zh"), base("en"), base(None)) == ("zh", "zh", "en", "en")
    assert to_traditional("退货退款将在7个工作日内到账") == "退貨退款將在7個工作日內到賬"
    assert written_for("zh", "订单") == "订单" and written_for("zh-Hant", "订单") == "訂單"
    original = "我想退貨，訂單80000001還沒到"
    simplified = to_simplified_chars(original)
    assert simplified == "我想退货，订单80000001还没到" and len(simplified) == len(original)


@pytest.fixture(scope="module")
def tokenizer() -> BilingualTokenizer:
    return BilingualTokenizer(BilingualTokenizer.get_default_config())


def words(tokenizer: BilingualTokenizer, text: str) -> list[tuple[str, int, int]]:
    return [(t.text, t.start, t.end) for t in tokenizer.tokenize(Message(data={"text": text}), "text")]


def test_english_is_tokenized_as_the_whitespace_tokenizer_does(tokenizer: BilingualTokenizer) -> None:
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer

    plain = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    for text in ("where's my order #80000005?", "e-mail: li.wei@example.com, thanks!", "10'000.00 CNY :)"):
        expected = [(t.text, t.start, t.end) for t in plain.tokenize(Message(data={"text": text}), "text")]
        assert words(tokenizer, text) == expected


def test_chinese_runs_are_cut_into_words_with_offsets_into_the_original(tokenizer: BilingualTokenizer) -> None:
    text = "我想退貨，訂單80000001還沒到"
    tokens = words(tokenizer, text)
    assert ("退货", 2, 4) in tokens and ("80000001", 7, 15) in tokens and ("订单", 5, 7) in tokens
    assert all(text[s:e] == to_traditional(w) or text[s:e] == w for w, s, e in tokens)
    assert [w for w, _, _ in words(tokenizer, "退款 refund")] == ["退款", "refund"]
    assert [w for w, _, _ in words(tokenizer, "亲，我要转人工")][-1] == "转人工"
    assert words(tokenizer, "，，！") == [("，，！", 0, 3)]  # nothing but punctuation: the whole text, as Rasa does
