"""Near-duplicate snippets are shown once: the same sentence twice, or overlapping windows."""

from __future__ import annotations

from dataclasses import dataclass

from qa.text.dedup import distinct, near_copy, same_place, shingles


@dataclass(frozen=True)
class S:
    text: str
    article_id: str
    start: int
    end: int


SENTENCE = "The company will invest US$200 million into the Aliyun OS business."


def test_same_sentence_in_two_articles_is_shown_once():
    a = S(SENTENCE, "a", 0, 66)
    b = S("Reuters: " + SENTENCE.replace("US$", "US $"), "b", 10, 85)
    other = S("Cruise acquired Voyage, a self-driving startup.", "c", 0, 47)
    assert [s.article_id for s in distinct([a, b, other])] == ["a", "c"]


def test_overlapping_windows_of_one_article_are_shown_once():
    one = S("x " * 50, "a", 100, 200)  # e.g. sentences 3-4 of an article
    two = S("y " * 40, "a", 150, 230)  # sentences 4-5, from the next (overlapping) chunk
    far = S("z " * 40, "a", 400, 480)
    assert list(distinct([one, two, far])) == [one, far]
    assert same_place(one, two) and not same_place(one, far)


def test_different_news_with_shared_words_is_kept():
    a = S("Alibaba will invest US$200 million in Aliyun.", "a", 0, 46)
    b = S("Tencent will invest US$500 million in WeChat Pay, its payments arm.", "b", 0, 68)
    assert len(list(distinct([a, b]))) == 2
    assert not near_copy(shingles(a.text), shingles(b.text))


def test_shingles_of_tiny_texts():
    assert shingles("Hello") == frozenset({("hello", "")})
    assert shingles("") == frozenset()


def _pairwise(items: list[S]) -> list[S]:
    """The rule written out plainly: every item against every item kept before it."""
    kept: list[S] = []
    for item in items:
        if not any(
            same_place(item, k) or near_copy(shingles(item.text), shingles(k.text)) for k in kept
        ):
            kept.append(item)
    return kept


def test_distinct_keeps_what_comparing_every_pair_keeps():
    import random

    rng = random.Random(7)
    words = ["the", "company", "will", "invest", "million", "in", "its", "new", "unit", "cloud"]
    items = []
    for _ in range(300):  # near-copies, shared word pairs, overlaps, texts without words
        text = " ".join(rng.choice(words) for _ in range(rng.choice([0, 1, 2, 5, 9])))
        start = rng.randrange(0, 400, 20)
        items.append(S(text or "—", rng.choice("abc"), start, start + rng.choice([20, 60, 120])))
    kept = list(distinct(items))
    assert kept == _pairwise(items)
    assert 10 < len(kept) < 290  # the sample exercises both keeping and skipping
