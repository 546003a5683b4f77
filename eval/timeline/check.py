#!/usr/bin/env python3
"""Check the hand-made "timeline" eval set: article format, answers and timelines.

Run: python3 eval/timeline/check.py
Standard library only (no project imports). Exits non-zero on any error.
"""

import json
import re
import sys
from collections import Counter, defaultdict
from datetime import date, timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARTICLES = HERE / "articles"
CASES = {"current", "then", "conflict", "relative", "control"}
FIELDS = {"id", "question", "answers", "case", "timeline", "conflict", "now", "as_of"}
NAME = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*)-(\d+)\.txt$")
PARA = re.compile(r"^<p>.*</p>$")
LAST = re.compile(
    r"^<br /> The original article was posted "
    r'<a href="https://www\.([a-z0-9-]+\.test)/[^"\s]+">here</a>\.$'
)
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MIN_WORDS, MAX_WORDS, MIN_PARAS, MAX_PARAS = 180, 400, 4, 7


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def plain(html):
    """Body text without tags, entities decoded, whitespace collapsed."""
    p = _Text()
    p.feed(html)
    p.close()
    return " ".join(" ".join(p.parts).split())


def occurs(value, text):
    """True if value is in text as a whole token ("12" is not in "120,000" or "2012")."""
    pat = r"(?<![\w$£€])(?<!\d[.,])" + re.escape(value) + r"(?!\w)(?![.,]\d)"
    return re.search(pat, text) is not None


def read_article(path, errors):
    """Parse one file: JSON header, exactly one blank line, <p> paragraphs, the link line."""
    name = path.name
    m = NAME.match(name)
    if not m:
        errors.append(f"{name}: file name is not <series>-<n>.txt in lower case")
        return None
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        errors.append(f"{name}: not UTF-8")
        return None
    if text.startswith("\ufeff") or "\r" in text:
        errors.append(f"{name}: BOM or CR line ends")
    if not text.startswith("{"):
        errors.append(f"{name}: does not start with the JSON header")
        return None
    try:
        header, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as err:
        errors.append(f"{name}: broken JSON header: {err}")
        return None
    if not isinstance(header, dict) or set(header) != {"title", "date", "author"}:
        errors.append(f"{name}: header keys must be exactly title, date, author")
        return None
    if not all(isinstance(v, str) and v.strip() for v in header.values()):
        errors.append(f"{name}: empty or non-string header value")
        return None
    rest = text[end:]
    if not rest.startswith("\n\n") or rest[2:3] in ("", "\n", " ", "\t"):
        errors.append(f"{name}: header must be followed by exactly one blank line, then the body")
        return None
    try:
        when = parsedate_to_datetime(header["date"])
    except (TypeError, ValueError):
        when = None
    if when is None or when.tzinfo is None:
        errors.append(f"{name}: date {header['date']!r} is not RFC 2822 with a zone")
        return None
    if not header["date"].startswith(DAYS[when.weekday()] + ", "):
        errors.append(f"{name}: weekday in {header['date']!r} is wrong")
    lines = rest[2:].rstrip("\n").split("\n")
    last = LAST.match(lines[-1])
    if not last:
        errors.append(f"{name}: last line is not the 'original article was posted' link")
    paras = lines[:-1]
    bad = [i for i, line in enumerate(paras) if not PARA.match(line)]
    if bad:
        errors.append(f"{name}: body lines {bad} are not single <p>...</p> paragraphs")
    body = plain("\n".join(paras))
    words = len(body.split())
    if not MIN_PARAS <= len(paras) <= MAX_PARAS:
        errors.append(f"{name}: {len(paras)} paragraphs (want {MIN_PARAS}-{MAX_PARAS})")
    if not MIN_WORDS <= words <= MAX_WORDS:
        errors.append(f"{name}: {words} words (want {MIN_WORDS}-{MAX_WORDS})")
    url = re.search(r'href="([^"]+)"', lines[-1])
    return {
        "name": name,
        "series": m.group(1),
        "title": header["title"],
        "author": header["author"],
        "day": when.date(),
        "host": last.group(1) if last else None,
        "url": url.group(1) if url else None,
        "text": body,
        "words": words,
    }


def iso(value, rid, field, errors):
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        errors.append(f"{rid}: {field} {value!r} is not an ISO day")
        return None


def answered_by(entry, rid, answers, errors):
    """The expected timeline value is an answer, and an answer is in that value's article."""
    text, d, same_day = entry
    if text not in answers:
        errors.append(f"{rid}: expected value {text!r} ({d}) is not among the answers")
    if not any(occurs(s, a["text"]) for s in answers for a in same_day):
        errors.append(f"{rid}: no answer occurs in the article dated {d}")


def main():
    errors = []
    arts = [read_article(p, errors) for p in sorted(ARTICLES.glob("*"))]
    arts = [a for a in arts if a]
    errors += [f"URL used twice: {u}" for u, n in Counter(a["url"] for a in arts).items() if n > 1]

    def having(value):
        return [a for a in arts if occurs(value, a["text"])]

    with open(HERE / "questions.jsonl", encoding="utf-8") as f:
        qs = [json.loads(line) for line in f if line.strip()]
    errors += [f"duplicate id {i}" for i, n in Counter(q.get("id") for q in qs).items() if n > 1]

    used = set()
    for q in qs:
        rid, case = q.get("id"), q.get("case")
        for k in ("id", "question", "answers", "case", "timeline", "conflict"):
            if k not in q:
                errors.append(f"{rid}: missing field {k}")
        errors += [f"{rid}: unknown field {k}" for k in set(q) - FIELDS]
        if case not in CASES:
            errors.append(f"{rid}: bad case {case!r}")
            continue
        answers = q.get("answers") or []
        if not answers or len(set(answers)) != len(answers):
            errors.append(f"{rid}: needs distinct non-empty answers")
        for s in answers:
            hits = having(s)
            if not hits:
                errors.append(f"{rid}: answer {s!r} occurs verbatim in no article")
            used.update(a["name"] for a in hits)
        if (q.get("conflict") is True) != (case == "conflict"):
            errors.append(f"{rid}: conflict must be true exactly for the conflict case")
        if ("now" in q) != (case == "relative"):
            errors.append(f"{rid}: 'now' belongs to relative questions only, and they need it")
        if "as_of" in q and case != "then":
            errors.append(f"{rid}: 'as_of' belongs to then questions only")
        tl = q.get("timeline")
        if case in ("relative", "control"):
            if tl is not None:
                errors.append(f"{rid}: timeline must be null for {case}")
        elif not isinstance(tl, list) or not tl:
            errors.append(f"{rid}: needs a timeline")
            continue

        # timeline entries: verbatim in an article with that header day, and that is the
        # earliest article of its series reporting the value
        entries = []
        for e in tl or []:
            d = iso(e.get("date"), rid, "timeline date", errors)
            same_day = [a for a in having(e.get("text", "")) if a["day"] == d]
            if not same_day:
                errors.append(f"{rid}: {e.get('text')!r} is in no article dated {d}")
                continue
            used.update(a["name"] for a in same_day)
            series = {a["series"] for a in same_day}
            earlier = [
                a["name"] for a in having(e["text"]) if a["series"] in series and a["day"] < d
            ]
            if earlier:
                errors.append(f"{rid}: {e['text']!r} already reported earlier in {earlier}")
            entries.append((e["text"], d, same_day))
        if tl:
            days = [e[1] for e in entries]
            if days != sorted(days, reverse=True):
                errors.append(f"{rid}: timeline is not newest first")
            if len({e[0] for e in entries}) != len(entries):
                errors.append(f"{rid}: timeline repeats a value")
            if len({a["series"] for e in entries for a in e[2]}) != 1:
                errors.append(f"{rid}: timeline spans more than one series")

        if case == "current" and entries:
            answered_by(entries[0], rid, answers, errors)
        elif case == "then" and entries:
            as_of = iso(q.get("as_of"), rid, "as_of", errors)
            if as_of:
                live = [e for e in entries if e[1] <= as_of]
                if not live:
                    errors.append(f"{rid}: no value known by {as_of}")
                else:
                    answered_by(live[0], rid, answers, errors)
                    if live[0] is entries[0]:
                        errors.append(f"{rid}: as_of {as_of} gives the current value, not a then")
        elif case == "conflict" and entries:
            if len({e[1] for e in entries}) != 1 or len(entries) < 2:
                errors.append(f"{rid}: conflict needs two or more values on one day")
            if {e[0] for e in entries} != set(answers):
                errors.append(f"{rid}: conflict answers must be exactly the timeline values")
            for text, _, same_day in entries:
                others = [t for t, _, _ in entries if t != text]
                for a in same_day:
                    if any(occurs(t, a["text"]) for t in others):
                        errors.append(f"{rid}: {a['name']} mentions the other outlet's figure")
            if len({a["host"] for e in entries for a in e[2]}) < 2:
                errors.append(f"{rid}: conflicting figures must come from different outlets")
        elif case == "relative":
            now = iso(q.get("now"), rid, "now", errors)
            if now:
                week = now - timedelta(days=now.weekday())
                rivals = {
                    s
                    for r in qs
                    if r.get("question") == q.get("question")
                    for s in r.get("answers", [])
                }
                for a in arts:
                    if week <= a["day"] <= now:
                        hit = {s for s in rivals if occurs(s, a["text"])}
                        if hit - set(answers):
                            errors.append(f"{rid}: {a['name']} this week names {sorted(hit)}")
                for s in answers:
                    hits = having(s)
                    if len(hits) != 1 or not week <= hits[0]["day"] <= now:
                        errors.append(f"{rid}: {s!r} is not in one article of the week of {now}")
        elif case == "control":
            for s in answers:
                if len(having(s)) != 1:
                    errors.append(f"{rid}: control answer {s!r} is not in exactly one article")

    errors += [f"{a['name']}: used by no question" for a in arts if a["name"] not in used]

    # report
    print(f"{len(arts)} articles, {len(qs)} questions")
    by_series = defaultdict(list)
    for a in arts:
        by_series[a["series"]].append(a)
    for s, group in sorted(by_series.items()):
        days = ", ".join(f"{a['day']} {a['host']}" for a in sorted(group, key=lambda a: a["day"]))
        print(f"  {s:<13} {len(group)}: {days}")
    words = [a["words"] for a in arts]
    if words:
        print(f"words per article: {min(words)}-{max(words)}")
    print("questions per case:", dict(Counter(q.get("case") for q in qs)))
    # informational: older values repeated in later articles (only dates tell them apart)
    for q in qs:
        if q.get("case") != "current":
            continue
        for e in q["timeline"][1:]:
            later = [
                a["name"] for a in having(e["text"]) if a["day"] > date.fromisoformat(e["date"])
            ]
            if later:
                print(f"note: older value {e['text']!r} ({e['date']}) repeated in {later}")

    if errors:
        print(f"\n{len(errors)} ERROR(S):")
        print("\n".join("  " + e for e in errors))
        sys.exit(1)
    print("\nOK")


if __name__ == "__main__":
    main()
