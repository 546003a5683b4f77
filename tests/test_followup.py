"""Follow-up questions: which are follow-ups, and what is carried over from the chat."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qa.followup import FollowUp, Query, content_words, is_follow_up, resolve
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


# --- the follow-up policy, branch by branch, with the fake embedder (fast) ---

ALIYUN_ID = "000_d202ff18b057221d"


@pytest.fixture
def fake_answerer(tiny_seeds, tmp_path, fake_embedder):
    from index.build import build
    from qa.pipeline import Answerer

    build(tiny_seeds, tmp_path / "ix", fake_embedder)
    return Answerer.open(tmp_path / "ix", fake_embedder, rerank=False, read=False)


def _window(answerer, article_id: str, text: str | None = None):
    """A snippet of one article (its first chunk, or the sentence holding `text`)."""
    from qa.retrieval import Passage
    from qa.text.snippets import Snippet

    index = answerer.index
    row = int(index.rows_by_article[article_id][0])
    article = index.articles[article_id]
    passage = Passage(index.chunks[row], article, 1.0, row)
    start = article.text.find(text) if text else passage.chunk.start
    end = start + len(text) if text else passage.chunk.end
    return Snippet(passage, start, end, 1.0, None)


def test_without_a_placed_answer_the_policy_does_nothing():
    inert = FollowUp.of(Query("who runs it?", "who runs Alibaba invest?"), CHAT)
    assert inert == FollowUp() and not inert.given
    assert inert.boost(["not even a passage"], [0.3]) == [0.3]
    assert inert.demote_repeats(["a", "b"]) == ["a", "b"]
    assert inert.logit_bonus("any") == 0.0 and not inert.keeps_topic("any")


def test_the_policy_prefers_the_previous_article(fake_answerer):
    policy = FollowUp.of(Query("who runs it?", "who runs Alibaba?", ALIYUN_ID), CHAT)
    assert policy.article_id == ALIYUN_ID and policy.given
    own, other = _window(fake_answerer, ALIYUN_ID), _window(fake_answerer, "BeyondTheBitcoinBubble")
    passages = [other.passage, own.passage]
    # half the spread of the scores goes to the previous article's passages
    assert policy.boost(passages, [0.02, 0.01]) == pytest.approx([0.02, 0.015])
    assert policy.boost(passages, [0.01, 0.01]) == pytest.approx([0.01, 0.51])  # no spread
    assert policy.logit_bonus(ALIYUN_ID) == 2.0 and policy.logit_bonus(other.article_id) == 0.0
    assert policy.keeps_topic(ALIYUN_ID) and not policy.keeps_topic(other.article_id)


def test_the_policy_moves_the_answer_already_given_last(fake_answerer):
    policy = FollowUp.of(Query("who runs it?", "who runs Alibaba?", ALIYUN_ID), CHAT)
    given = _window(fake_answerer, ALIYUN_ID, "The company will invest US$200 million")
    new = _window(fake_answerer, "BeyondTheBitcoinBubble")
    assert policy.demote_repeats([given, new]) == [new, given]
    pairs = [(given, 1.0), (new, 0.5)]  # any item, with a function naming its text
    assert policy.demote_repeats(pairs, lambda p: p[0].text) == pairs[::-1]


def test_a_follow_up_searches_the_previous_article_within_the_filters(fake_answerer):
    from qa.candidates import Candidates
    from qa.query import Filters, Request

    query = Query("who runs it?", "who runs Alibaba invest?", ALIYUN_ID)
    request = Request.check(query.question, history=CHAT)
    everything = fake_answerer.scope(Filters())
    c = Candidates(request, query, FollowUp.of(query, CHAT), everything)
    own = fake_answerer.search._previous_article(c)
    assert own and {p.article.id for p in own} == {ALIYUN_ID}
    elsewhere = fake_answerer.scope(Filters(author="nobody of that name"))
    assert fake_answerer.search._previous_article(replace(c, scope=elsewhere)) == []
    plain = Candidates(request, Query(query.question, query.text), FollowUp(), everything)
    assert fake_answerer.search._previous_article(plain) == []


def test_a_weak_answer_from_the_previous_article_is_not_refused(fake_answerer):
    from qa.candidates import Candidates
    from qa.query import Request

    query = Query("who runs it?", "who runs Alibaba invest?", ALIYUN_ID)
    base = Candidates(
        Request.check(query.question, history=CHAT),
        query,
        FollowUp.of(query, CHAT),
        fake_answerer.scope(Request.check("x").filters),
        windows=(_window(fake_answerer, ALIYUN_ID),),
        logits=(-5.0,),  # far below the threshold of 0
    )
    assert fake_answerer.decision(base).answer is not None  # same article: stays on topic
    off = replace(base, follow_up=FollowUp())
    answer = fake_answerer.decision(off)
    assert answer.answer is None and answer.citations and "don't cover" in answer.message


def test_a_follow_up_is_answered_end_to_end_from_the_chat(fake_answerer):
    placed = "The company will invest US$200 million into the Aliyun OS business"  # verbatim
    chat = (Turn("how much did Alibaba invest?", placed),)
    answer = fake_answerer.ask("and when did that happen?", history=chat, explain=True)
    assert answer.explanation.query == "when did Alibaba invest?"
    assert answer.explanation.boosted_article == ALIYUN_ID
    assert answer.citations[0].article_id == ALIYUN_ID
    assert placed not in answer.citations[0].snippet  # the answer already given went last
