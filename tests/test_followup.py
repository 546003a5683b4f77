"""Follow-up questions: which are follow-ups, and what is carried over from the chat."""

from __future__ import annotations

import pytest

from qa.followup import Query, content_words, is_follow_up, resolve
from qa.query import Turn

ANSWER = "3. The company will invest US$200 million into the Aliyun OS business."
CHAT = (Turn("how much did Alibaba invest?", ANSWER),)


@pytest.mark.parametrize(
    "question, follow_up",
    [
        ("and when did that happen?", True),
        ("who runs it?", True),
        ("What about Tencent?", True),
        ("how much?", True),
        ("how much did Alibaba invest in Aliyun?", False),
        ("Which company did Cruise acquire?", False),
    ],
)
def test_is_follow_up(question, follow_up):
    assert is_follow_up(question) is follow_up


def test_follow_up_carries_key_terms_and_the_answer_article():
    query = resolve("and when did that happen?", CHAT, lambda answer: "aliyun-article")
    assert query == Query("and when did that happen?", "when did Alibaba invest?", "aliyun-article")
    assert query.carried
    assert resolve("who runs it?", CHAT).text == "who runs Alibaba invest?"


def test_a_standalone_question_ignores_the_chat():
    query = resolve("Which company did Cruise acquire?", CHAT, lambda answer: "x")
    assert query == Query("Which company did Cruise acquire?", "Which company did Cruise acquire?")
    assert not query.carried
    assert resolve("who runs it?", ()).text == "who runs it?"


def test_a_chain_of_follow_ups_reaches_back_to_the_topic():
    chat = (
        Turn("Which company did Cruise acquire?", "Voyage ..."),
        Turn("how much did Alibaba invest?", ANSWER),
        Turn("who runs it?", "Jonathan Lu ..."),
    )
    text = resolve("and when?", chat).text
    assert "Alibaba" in text and "invest" in text
    assert "Cruise" not in text  # an older topic, closed by the Alibaba question


def test_content_words_drop_question_words_and_repeats():
    assert content_words("How much did Alibaba invest, and did Alibaba?") == ["Alibaba", "invest"]
