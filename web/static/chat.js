// The chat page. Everything that comes from an article or a person is inserted with
// textContent / createTextNode, never as HTML: a <script> in an article stays text.
"use strict";

const STORE_KEY = "newsqa.chat.v1";
const FOLLOW_KEY = "newsqa.followed.v1"; // the saved questions this browser follows
const HISTORY_TURNS = 10; // earlier turns sent with a question, for follow-ups
const K = 5;

const $ = (id) => document.getElementById(id);

// ---- small DOM helpers -------------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// Append text[from:to] to parent, wrapping [markFrom, markTo) in <mark class=cls>.
function appendMarked(parent, text, markFrom, markTo, cls) {
  if (markFrom === null || markFrom === undefined || markTo <= markFrom) {
    parent.appendChild(document.createTextNode(text));
    return null;
  }
  parent.appendChild(document.createTextNode(text.slice(0, markFrom)));
  const mark = el("mark", cls, text.slice(markFrom, markTo));
  parent.appendChild(mark);
  parent.appendChild(document.createTextNode(text.slice(markTo)));
  return mark;
}

function safeUrl(url) {
  // Only web links: an article header could carry javascript: or data: URLs.
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch (err) {
    return null;
  }
}

function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

function articlePath(id) {
  // Ids are paths under the seeds folder: keep the slashes, escape everything else.
  return "/api/articles/" + id.split("/").map(encodeURIComponent).join("/");
}

// ---- conversation state (kept for this browser tab) ----------------------------------------

function loadTurns() {
  try {
    const turns = JSON.parse(sessionStorage.getItem(STORE_KEY) || "[]");
    return Array.isArray(turns) ? turns.filter((t) => t && typeof t.question === "string") : [];
  } catch (err) {
    return [];
  }
}

function saveTurns(turns) {
  try {
    sessionStorage.setItem(STORE_KEY, JSON.stringify(turns));
  } catch (err) {
    // Storage full or disabled: the conversation still works, it just won't survive a reload.
  }
}

// The questions followed from this browser: {id, question, filters}, oldest first. Kept in
// localStorage (not per tab): the server keeps them, the id is all that is needed to see them.
function loadFollowed() {
  try {
    const items = JSON.parse(localStorage.getItem(FOLLOW_KEY) || "[]");
    return Array.isArray(items)
      ? items.filter((f) => f && typeof f.id === "string" && typeof f.question === "string")
      : [];
  } catch (err) {
    return [];
  }
}

function saveFollowed(items) {
  try {
    localStorage.setItem(FOLLOW_KEY, JSON.stringify(items));
  } catch (err) {
    // Storage full or disabled: the questions stay saved on the server, unlisted here.
  }
}

function historyFor(turns) {
  return turns
    .filter((t) => t.response)
    .slice(-HISTORY_TURNS)
    .map((t) => ({ question: t.question, answer: t.response.answer }));
}

// ---- rendering ------------------------------------------------------------------------------

function renderQuestion(text) {
  const row = el("div", "row me");
  row.appendChild(el("div", "bubble question", text));
  return row;
}

function renderMeta(citation) {
  const meta = el("div", "meta");
  const parts = [formatDate(citation.date), citation.author].filter(Boolean);
  meta.textContent = parts.join(" · ");
  return meta;
}

function renderSource(citation, index) {
  const source = el("div", "source");
  const href = safeUrl(citation.url);
  const title = href ? el("a", "title") : el("span", "title");
  // The answer may be quoted from the headline: mark it there, as in a snippet.
  const th = Array.isArray(citation.title_highlight) ? citation.title_highlight : [null, null];
  appendMarked(title, citation.title, th[0], th[1], "hl");
  if (href) {
    title.href = href;
    title.target = "_blank";
    title.rel = "noopener noreferrer";
  }
  const top = el("div", "source-top");
  top.appendChild(el("span", "badge", String(index + 1)));
  top.appendChild(title);
  source.appendChild(top);
  const bottom = el("div", "source-bottom");
  bottom.appendChild(renderMeta(citation));
  const show = el("button", "link show", "Show in article");
  show.type = "button";
  show.addEventListener("click", () => openArticle(citation));
  bottom.appendChild(show);
  source.appendChild(bottom);
  return source;
}

function renderQuote(citation, className) {
  const quote = el("blockquote", className);
  const hl = Array.isArray(citation.highlight) ? citation.highlight : [null, null];
  appendMarked(quote, citation.snippet, hl[0], hl[1], "hl");
  return quote;
}

function renderMore(citations) {
  const more = el("details", "more");
  const label = citations.length === 1 ? "1 more source" : `${citations.length} more sources`;
  more.appendChild(el("summary", null, label));
  citations.forEach((citation, i) => {
    const item = el("div", "more-item");
    item.appendChild(renderQuote(citation, "quote small"));
    item.appendChild(renderSource(citation, i + 1));
    more.appendChild(item);
  });
  return more;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function showDate(iso) {
  // "2012-09-20" -> "20 Sep 2012", "2012-03" -> "Mar 2012", "2011" -> "2011"
  const [year, month, day] = iso.split("-").map(Number);
  if (!month) return String(year);
  const name = MONTHS[month - 1] || "";
  return day ? `${day} ${name} ${year}` : `${name} ${year}`;
}

function asOfLabel(response) {
  // "as of 2018" when the answer stands as of a named period (the server's label), else null
  if (typeof response.as_of !== "string" || !response.as_of) return null;
  const period = response.period;
  const label = period && typeof period.label === "string" ? period.label.trim() : "";
  return `as of ${label || showDate(response.as_of)}`;
}

function renderExact(exact, asOf) {
  // The answer words first, in bold; a date resolved against the article beside them.
  const line = el("p", "exact");
  line.appendChild(el("strong", "exact-text", exact.text));
  if (exact.date) line.appendChild(el("span", "exact-date", ` — ${showDate(exact.date)}`));
  if (asOf) line.appendChild(el("span", "exact-asof", ` (${asOf})`));
  return line;
}

// Under the exact answer, the other values the articles gave (like `qa ask`): either
// "Sources differ: 120,000 (Juniper Halsey) · 45,000 (…)", or "Earlier: $2.1 billion — 3 Apr
// 2018 · …" and, for a past period, "Later: …". Each value shows its citation when clicked.
function renderTimeline(response, showCitation) {
  const timeline = (Array.isArray(response.timeline) ? response.timeline : []).filter(
    (d) => d && typeof d.text === "string" && typeof d.date === "string",
  );
  if (!timeline.length) return null;
  const citations = response.citations;

  const value = (entry) => {
    if (!citations[entry.citation]) return el("span", "tl-value", entry.text);
    const button = el("button", "link tl-value", entry.text);
    button.type = "button";
    button.title = `Show source ${entry.citation + 1}`;
    button.addEventListener("click", () => showCitation(entry.citation));
    return button;
  };
  const line = (label, entries, describe) => {
    const p = el("p", "tl-line");
    p.appendChild(el("span", "tl-label", `${label}: `));
    entries.forEach((entry, i) => {
      if (i) p.appendChild(el("span", "tl-sep", " · "));
      const item = el("span", "tl-item");
      item.appendChild(value(entry));
      const note = describe(entry);
      if (note) item.appendChild(el("span", "tl-note", note));
      p.appendChild(item);
    });
    return p;
  };

  const box = el("div", "timeline");
  const conflicting = timeline.filter((d) => d.conflict === true);
  if (conflicting.length) {
    box.classList.add("differ");
    box.appendChild(
      line("Sources differ", conflicting, (d) => {
        const cited = citations[d.citation];
        const who = cited ? cited.author || cited.title : "";
        return who ? ` (${who})` : "";
      }),
    );
    return box;
  }
  // The exact answer's own entry (the server marks it `current`) is not repeated.
  const top = timeline.find((d) => d.current === true);
  const dated = (d) => ` — ${showDate(d.date)}`;
  const earlier = timeline.filter((d) => d !== top && (!top || d.date <= top.date));
  const later = timeline.filter((d) => top && d !== top && d.date > top.date);
  if (earlier.length) box.appendChild(line("Earlier", earlier, dated));
  if (later.length) box.appendChild(line("Later", later, dated));
  return box.childElementCount ? box : null;
}

function flash(node) {
  // Restart the highlight animation, even on a second click.
  node.classList.remove("flash");
  void node.offsetWidth;
  node.classList.add("flash");
}

function renderAnswer(response) {
  const row = el("div", "row bot");
  const bubble = el("div", "bubble answer");
  const citations = Array.isArray(response.citations) ? response.citations : [];
  if (response.answer === null || response.answer === undefined || !citations.length) {
    bubble.classList.add("abstain");
    bubble.appendChild(el("p", "abstain-title", "No answer in the articles"));
    bubble.appendChild(
      el("p", "abstain-text", response.message || "The articles don't cover this question."),
    );
    bubble.appendChild(
      el("p", "abstain-tip", "Try other words, a broader question, or different filters."),
    );
    if (citations.length) {
      const near = renderMore(citations);
      near.querySelector("summary").textContent = "Closest passages";
      bubble.appendChild(near);
    }
  } else {
    const exact = response.exact;
    if (exact && typeof exact.text === "string" && exact.text) {
      bubble.appendChild(renderExact(exact, asOfLabel(response)));
    }
    const lead = el("div", "cited");
    lead.appendChild(renderQuote(citations[0], "quote"));
    lead.appendChild(renderSource(citations[0], 0));
    const more = citations.length > 1 ? renderMore(citations.slice(1)) : null;
    const showCitation = (i) => {
      // Citation i: the first is the lead quote, the others are in "more sources".
      const target = i === 0 ? lead : more && more.querySelectorAll(".more-item")[i - 1];
      if (!target) return;
      if (i > 0) more.open = true;
      target.scrollIntoView({ behavior: "smooth", block: "center" });
      flash(target);
    };
    const timeline = renderTimeline(response, showCitation);
    if (timeline) bubble.appendChild(timeline);
    bubble.appendChild(lead);
    if (more) bubble.appendChild(more);
  }
  row.appendChild(bubble);
  return row;
}

function renderError(message, onRetry) {
  const row = el("div", "row bot");
  const bubble = el("div", "bubble error", null);
  bubble.setAttribute("role", "alert");
  bubble.appendChild(el("p", "error-title", "Something went wrong"));
  bubble.appendChild(el("p", "error-text", message));
  if (onRetry) {
    const retry = el("button", "ghost small", "Try again");
    retry.type = "button";
    retry.addEventListener("click", () => {
      row.remove();
      onRetry();
    });
    bubble.appendChild(retry);
  }
  row.appendChild(bubble);
  return row;
}

function renderLoading() {
  const row = el("div", "row bot");
  const bubble = el("div", "bubble loading");
  bubble.setAttribute("aria-label", "Searching the articles");
  for (let i = 0; i < 3; i += 1) bubble.appendChild(el("span", "dot"));
  bubble.appendChild(el("span", "loading-text", "Searching the articles…"));
  row.appendChild(bubble);
  return row;
}

// ---- the article view -----------------------------------------------------------------------

async function openArticle(citation) {
  const dialog = $("reader");
  const text = $("reader-text");
  const note = $("reader-note");
  $("reader-title").textContent = citation.title;
  $("reader-meta").textContent = [formatDate(citation.date), citation.author]
    .filter(Boolean)
    .join(" · ");
  text.replaceChildren(el("p", "muted", "Loading the article…"));
  note.hidden = true;
  if (!dialog.open) dialog.showModal();
  let article;
  try {
    const response = await fetch(articlePath(citation.article_id), {
      headers: { Accept: "application/json" },
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
    article = body;
  } catch (err) {
    text.replaceChildren(el("p", "error-text", `Could not load the article: ${err.message}`));
    return;
  }
  // The index may have been rebuilt since the answer: trust offsets only if they still match.
  let start = citation.start;
  let end = citation.end;
  if (article.text.slice(start, end) !== citation.snippet) {
    start = article.text.indexOf(citation.snippet);
    end = start + citation.snippet.length;
  }
  text.replaceChildren();
  if (start < 0) {
    note.textContent = "This article changed since the answer; the passage is no longer in it.";
    note.hidden = false;
    text.appendChild(document.createTextNode(article.text));
    return;
  }
  text.appendChild(document.createTextNode(article.text.slice(0, start)));
  const cite = el("mark", "cite");
  const hl = Array.isArray(citation.highlight) ? citation.highlight : [null, null];
  appendMarked(cite, article.text.slice(start, end), hl[0], hl[1], "hl");
  text.appendChild(cite);
  text.appendChild(document.createTextNode(article.text.slice(end)));
  cite.scrollIntoView({ block: "center" });
}

// ---- talking to the API ---------------------------------------------------------------------

function readFilters() {
  const form = $("ask");
  const filters = {};
  for (const name of ["after", "before", "author"]) {
    const value = form.elements[name].value.trim();
    if (value) filters[name] = value;
  }
  $("filter-count").textContent = Object.keys(filters).length
    ? `(${Object.keys(filters).length})`
    : "";
  return filters;
}

const NOT_READY = new Set(["index_unavailable", "store_unavailable"]);

function describeFailure(status, body) {
  if (body && body.error && body.error.message) {
    if (NOT_READY.has(body.error.code)) return `The index isn't ready: ${body.error.message}`;
    return body.error.message;
  }
  return `The server answered ${status}.`;
}

// Send a request with an optional JSON body; return the JSON answer, or throw an Error whose
// message a person can read (and whose `status` is the HTTP status, 0 when unreachable).
async function fetchJson(url, method = "GET", payload = undefined) {
  const headers = { Accept: "application/json" };
  if (payload !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
  } catch (err) {
    const error = new Error("Can't reach the server. Check that it is running, then try again.");
    error.status = 0;
    throw error;
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  if (!response.ok || !body) {
    const error = new Error(describeFailure(response.status, body));
    error.status = response.status;
    throw error;
  }
  return body;
}

async function postQuestion(question, history, filters) {
  const payload = { question, k: K, history };
  if (Object.keys(filters).length) payload.filters = filters;
  return fetchJson("/api/ask", "POST", payload);
}

// ---- followed questions -----------------------------------------------------------------------
// Where the server lets anyone save questions (NEWSQA_SAVED_OPEN), each answer can be followed:
// its question (with the filters it was asked with) is saved on the server, which asks it again
// after each new index generation and records every change of its answer. The page lists the
// followed questions with their latest change and their Atom feed.

function savedPath(id, tail = "") {
  return `/api/saved/${encodeURIComponent(id)}${tail}`;
}

function followKey(question, filters) {
  // The same question (spaces aside, as the server keeps it) with the same filters.
  const words = String(question).replace(/\s+/g, " ").trim();
  const kept = Object.keys(filters || {})
    .filter((name) => filters[name])
    .sort()
    .map((name) => [name, String(filters[name])]);
  return JSON.stringify([words, kept]);
}

function describeFilters(filters) {
  const f = filters || {};
  const parts = [];
  if (f.after) parts.push(`after ${showDate(f.after)}`);
  if (f.before) parts.push(`before ${showDate(f.before)}`);
  if (f.author) parts.push(`by ${f.author}`);
  return parts.join(" · ");
}

function exactWords(answer) {
  const exact = answer && answer.exact;
  return exact && typeof exact.text === "string" && exact.text ? exact.text : "no answer";
}

function describeChange(change) {
  // "answer changed: $2.1 billion → $4.8 billion, 12 Jun 2019", or "no change yet"
  if (!change) return "no change yet";
  const from = exactWords(change.before);
  const to = exactWords(change.after);
  const when = typeof change.time === "string" ? `, ${showDate(change.time.slice(0, 10))}` : "";
  if (from === to) return `earlier values changed: ${to}${when}`; // only the timeline moved
  return `answer changed: ${from} → ${to}${when}`;
}

// Return {control(question, filters), refresh()} where following is open, else null.
function setupFollowing() {
  const panel = $("followed");
  if (document.body.dataset.savedOpen !== "true" || !panel) return null;
  const list = $("followed-list");
  let items = loadFollowed();
  const rows = new Map(); // id -> its <li>
  const controls = new Set(); // the follow buttons under the answers: {box, update}

  const isFollowed = (key) => items.some((f) => followKey(f.question, f.filters) === key);
  const updateControls = () => {
    for (const control of controls) {
      if (control.box.isConnected) control.update();
      else controls.delete(control); // its answer is gone ("New chat")
    }
  };
  const showCount = () => {
    panel.hidden = items.length === 0;
    $("followed-count").textContent = items.length ? `(${items.length})` : "";
  };
  const showProblem = (row, message) => {
    // An error under the item (or none); the latest change line stays as it was.
    const old = row.querySelector(".followed-error");
    if (old) old.remove();
    if (!message) return;
    const problem = el("p", "error-text followed-error", message);
    problem.setAttribute("role", "alert");
    row.querySelector(".followed-text").appendChild(problem);
  };
  const showChange = (row, text, changed) => {
    const line = row.querySelector(".followed-change");
    line.textContent = text;
    line.classList.toggle("changed", changed);
  };

  function renderItem(item) {
    const row = el("li", "followed-item");
    const text = el("div", "followed-text");
    text.appendChild(el("p", "followed-q", item.question));
    const where = describeFilters(item.filters);
    if (where) text.appendChild(el("p", "followed-filters", where));
    text.appendChild(el("p", "followed-change", "checking for changes…"));
    row.appendChild(text);
    const actions = el("div", "followed-actions");
    const feed = el("a", "link feed", "feed");
    feed.href = savedPath(item.id, "/changes.atom");
    feed.type = "application/atom+xml";
    feed.target = "_blank";
    feed.rel = "noopener noreferrer";
    feed.title = "Its changes as an Atom feed: subscribe to this link in a feed reader";
    const unfollow = el("button", "link unfollow", "unfollow");
    unfollow.type = "button";
    unfollow.title = "Stop following: the server forgets this question and its changes";
    unfollow.addEventListener("click", () => stop(item, row, unfollow));
    actions.appendChild(feed);
    actions.appendChild(unfollow);
    row.appendChild(actions);
    rows.set(item.id, row);
    return row;
  }

  async function refreshOne(item) {
    const row = rows.get(item.id);
    try {
      const body = await fetchJson(savedPath(item.id, "/changes"));
      const latest = Array.isArray(body.changes) && body.changes.length ? body.changes[0] : null;
      showChange(row, describeChange(latest), latest !== null);
      showProblem(row, null);
    } catch (err) {
      if (err.status === 404) {
        showChange(row, "no longer saved on the server", false);
        showProblem(row, null);
      } else {
        showProblem(row, `Could not check for changes: ${err.message}`);
      }
    }
  }

  async function follow(question, filters) {
    const payload = { question };
    if (Object.keys(filters).length) payload.filters = filters;
    let body;
    try {
      body = await fetchJson("/api/saved", "POST", payload);
    } catch (err) {
      if (err.status === 401 || err.status === 403) {
        err.message = "This server no longer lets visitors follow questions.";
      }
      throw err;
    }
    const item = { id: body.id, question: body.question, filters: body.filters || {} };
    items.push(item);
    saveFollowed(items);
    const row = renderItem(item);
    showChange(row, "no change yet", false);
    list.prepend(row); // newest first
    showCount();
    flash(panel.querySelector("summary"));
    updateControls();
  }

  async function stop(item, row, button) {
    button.disabled = true;
    showProblem(row, null);
    try {
      await fetchJson(savedPath(item.id), "DELETE");
    } catch (err) {
      if (err.status !== 404) {
        // 404: gone from the server already; anything else: it is still followed
        button.disabled = false;
        showProblem(row, `Could not unfollow: ${err.message}`);
        return;
      }
    }
    items = items.filter((f) => f.id !== item.id);
    saveFollowed(items);
    rows.delete(item.id);
    row.remove();
    showCount();
    updateControls();
  }

  // A "Follow this question" button (and its error, if following fails) for one answer.
  function control(question, filters) {
    const box = el("div", "follow");
    const button = el("button", "ghost small follow-button");
    button.type = "button";
    const key = followKey(question, filters);
    let saving = false;
    const entry = {
      box,
      update() {
        const followed = isFollowed(key);
        button.disabled = saving || followed;
        button.textContent = saving ? "Saving…" : followed ? "Following" : "Follow this question";
        button.title = followed
          ? "Listed under Followed questions, at the top"
          : "Hear when this answer changes: the server asks the question again as news arrives";
      },
    };
    button.addEventListener("click", async () => {
      const old = box.querySelector(".follow-error");
      if (old) old.remove();
      saving = true;
      entry.update();
      try {
        await follow(question, filters);
      } catch (err) {
        const problem = el("p", "error-text follow-error", `Could not follow it: ${err.message}`);
        problem.setAttribute("role", "alert");
        box.appendChild(problem);
      } finally {
        saving = false;
        entry.update();
      }
    });
    box.appendChild(button);
    controls.add(entry);
    entry.update();
    return box;
  }

  for (const item of items.slice().reverse()) list.appendChild(renderItem(item));
  showCount();
  const refresh = () => Promise.all(items.map(refreshOne));
  return { control, refresh };
}

// ---- the page -------------------------------------------------------------------------------

function setup() {
  const log = $("log");
  const form = $("ask");
  const input = $("question");
  const send = $("send");
  const welcome = $("welcome");
  let turns = loadTurns();
  let busy = false;
  const following = setupFollowing(); // null unless the server lets anyone follow questions

  const scrollDown = () => log.scrollTo({ top: log.scrollHeight, behavior: "smooth" });
  const showWelcome = () => {
    welcome.hidden = turns.length > 0;
  };
  const fit = () => {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
  };
  const setBusy = (value) => {
    busy = value;
    send.disabled = value;
    form.classList.toggle("busy", value);
  };

  const answerRow = (turn) => {
    // The answer, and under it "Follow this question" where following is open.
    const row = renderAnswer(turn.response);
    if (following) {
      row.classList.add("with-actions");
      row.appendChild(following.control(turn.question, turn.filters || {}));
    }
    return row;
  };

  for (const turn of turns) {
    log.appendChild(renderQuestion(turn.question));
    if (turn.response) log.appendChild(answerRow(turn));
  }
  showWelcome();
  log.scrollTop = log.scrollHeight;

  async function ask(question) {
    const loading = renderLoading();
    log.appendChild(loading);
    scrollDown();
    setBusy(true);
    try {
      const filters = readFilters();
      const response = await postQuestion(question, historyFor(turns), filters);
      const turn = { question, response, filters };
      turns.push(turn);
      saveTurns(turns);
      loading.replaceWith(answerRow(turn));
      if (following) following.refresh(); // a new generation may have changed an answer
    } catch (err) {
      loading.replaceWith(renderError(err.message, () => ask(question)));
    } finally {
      setBusy(false);
      scrollDown();
      input.focus();
    }
  }

  function submit(question) {
    question = question.trim();
    if (!question || busy) return;
    welcome.hidden = true;
    log.appendChild(renderQuestion(question));
    input.value = "";
    fit();
    ask(question);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(input.value);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit(input.value);
    }
  });
  input.addEventListener("input", fit);
  for (const chip of document.querySelectorAll(".examples .chip")) {
    chip.addEventListener("click", () => submit(chip.textContent));
  }
  $("new-chat").addEventListener("click", () => {
    turns = [];
    saveTurns(turns);
    for (const row of log.querySelectorAll(".row")) row.remove();
    showWelcome();
    input.focus();
  });
  form.addEventListener("change", readFilters);
  $("clear-filters").addEventListener("click", () => {
    for (const name of ["after", "before", "author"]) form.elements[name].value = "";
    readFilters();
  });

  const reader = $("reader");
  $("reader-close").addEventListener("click", () => reader.close());
  reader.addEventListener("click", (event) => {
    if (event.target === reader) reader.close(); // a click on the backdrop
  });

  if (following) following.refresh();

  fetch("/healthz", { headers: { Accept: "application/json" } })
    .then((response) => response.json())
    .then((health) => {
      const status = $("status");
      if (health.index_loaded) {
        status.textContent = `${health.articles.toLocaleString()} articles`;
        status.title = `index ${health.generation}, built ${health.built}, model ${health.model}`;
      } else {
        status.textContent = "No index yet";
        status.classList.add("warn");
        status.title = health.error ? health.error.message : "";
      }
    })
    .catch(() => {});
}

document.addEventListener("DOMContentLoaded", setup);
