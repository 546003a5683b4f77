"""Hardening (issue 15), before and after: idle sockets vs /healthz, 32 clients for 20 s,
hostile requests, two rebuilds at once, HTML cleaning and `qa index` on hostile seeds.

Loopback only; every loop is bounded in count and time. `--repo` runs another checkout's
code (e.g. `git archive <commit> | tar -x -C /tmp/base`) with this script, so both sides are
measured the same way:

    .venv/bin/python -m bench.hardening [--repo DIR] [--parts serve,clean,index] [--cap 120]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import QUESTIONS, REPO, SEEDS, VAR, Server, get, percentiles, say, table

TOKEN = "bench"
RETRY_AFTER = 2.0  # what the server sends with a 503 (web/gate.py)
Q = "/api/ask"
NESTED = b"[" * 10_000 + b"]" * 10_000


def _ask(question: str, **extra: object) -> bytes:
    return json.dumps({"question": question, **extra}).encode()


DEEP_OBJECTS = b'{"a":' * 5000 + b"1" + b"}" * 5000
# Distinct words: a follow-up carries every content word of the turn that set the topic.
LONG_TURN = [{"question": " ".join(f"term{i}" for i in range(6000))}]
TURNS = [{"question": " ".join(f"w{t}x{i}" for i in range(400)), "answer": "x"} for t in range(20)]
HOSTILE: list[tuple[str, str, str, bytes | list[bytes]]] = [
    ("nested [ x10,000", "POST", Q, NESTED),
    ("nested in k", "POST", Q, b'{"question": "Bird", "k": ' + NESTED + b"}"),
    ("5,000 objects in filters", "POST", Q, b'{"question": "x", "filters": ' + DEEP_OBJECTS + b"}"),
    ("lone surrogate", "POST", Q, b'{"question": "\\ud800"}'),
    ("after 2012W01T12", "POST", Q, _ask("Bird", filters={"after": "2012W01T12"})),
    ("chinese x30", "POST", Q, _ask("阿里巴巴投资了多少钱" * 30)),
    ("'1 ' x248", "POST", Q, _ask("how much did Alibaba invest " + "1 " * 248)),
    ("1,000 characters", "POST", Q, _ask("Alibaba invest " * 66 + "x" * 10)),
    ("history turn 60 KB", "POST", Q, _ask("and when?", history=LONG_TURN)),
    ("20 turns x 400 words", "POST", Q, _ask("and when?", history=TURNS)),
    ("chunked 70 KB padding", "POST", Q, [b'{"question": "Bird"}', b" " * 35_000, b" " * 35_000]),
    ("/api/articles//etc/passwd", "GET", "/api/articles//etc/passwd", b""),
    ("/api/articles/%2fetc%2fpasswd", "GET", "/api/articles/%2fetc%2fpasswd", b""),
    ("8 KB URL (414)", "GET", "/api/articles/" + "a" * 8000, b""),
    ("rebuild nested", "POST", "/api/rebuild", b'{"full": ' + DEEP_OBJECTS + b"}"),
]


def send(port: int, method: str, path: str, body: bytes | list[bytes], timeout: float = 15):
    """Send one request; return (status or 0 on failure, content type, seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    started = time.perf_counter()
    try:
        chunked = isinstance(body, list)
        conn.request(method, path, iter(body) if chunked else body, headers, encode_chunked=chunked)
        response = conn.getresponse()
        response.read()
        kind = response.getheader("Content-Type", "")
        return response.status, kind, time.perf_counter() - started
    except OSError:
        return 0, "", time.perf_counter() - started
    finally:
        conn.close()


def idle_probes(port: int, idle: int, probes: int = 8) -> list[float | None]:
    """Probe /healthz while `idle` fresh sockets sit open (half silent, half mid-header)."""
    out: list[float | None] = []
    for _ in range(probes):
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(idle)]
        for s in socks[::2]:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the end
        time.sleep(0.3)
        started = time.perf_counter()
        try:
            ok = get(port, "/healthz", timeout=15)[0] == 200
            out.append(time.perf_counter() - started if ok else None)
        except OSError:
            out.append(None)
        for s in socks:
            s.close()
    return out


def crowd(port: int, clients: int, seconds: float) -> tuple[list[tuple[int, float]], list]:
    """Ask from `clients` threads for `seconds`; probe /healthz meanwhile; return both."""
    stop = time.monotonic() + seconds
    replies: list[tuple[int, float]] = []
    health: list[float | None] = []

    def ask(n: int) -> None:
        while time.monotonic() < stop:
            body = json.dumps({"question": QUESTIONS[n % len(QUESTIONS)]}).encode()
            status, _, took = send(port, "POST", Q, body, timeout=60)
            replies.append((status, took))
            n += clients
            if status == 503:  # as asked by Retry-After (clients that don't get 503s faster)
                time.sleep(min(RETRY_AFTER, max(0.0, stop - time.monotonic())))

    def probe() -> None:
        while time.monotonic() < stop:
            status, _, took = send(port, "GET", "/healthz", b"", timeout=15)
            health.append(took if status == 200 else None)
            time.sleep(0.5)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(clients)]
    threads.append(threading.Thread(target=probe))
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 90)
    return replies, health


def rebuild_pairs(port: int, trials: int) -> list[str]:
    """POST /api/rebuild twice at once, `trials` times; return the statuses of each pair."""
    out = []

    def post(gate: threading.Barrier, statuses: list[int]) -> None:
        gate.wait()
        statuses.append(send(port, "POST", "/api/rebuild", b"")[0])

    for _ in range(trials):
        statuses: list[int] = []
        gate = threading.Barrier(2)
        pair = [threading.Thread(target=post, args=(gate, statuses)) for _ in range(2)]
        for t in pair:
            t.start()
        for t in pair:
            t.join(30)
        deadline = time.monotonic() + 120
        state = "?"
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/api/rebuild", headers={"Authorization": f"Bearer {TOKEN}"})
            state = json.loads(conn.getresponse().read()).get("state", "?")
            conn.close()
            if state != "running":
                break
            time.sleep(0.3)
        out.append(f"{'+'.join(map(str, sorted(statuses)))} -> {state}")
    return out


def run_python(repo: Path, code: str, cap: float) -> str:
    """Run code with the checkout's modules; return its last output line, or '> cap s'."""
    env = {"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True,
            timeout=cap,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"> {cap:g} s (stopped)"
    lines = (done.stdout.strip() or done.stderr.strip() or "?").splitlines()
    return lines[-1][:160]


CLEAN = """
import time; from index.articles import clean_html
body = {body}
t = time.perf_counter(); clean_html(body); print(f"{{time.perf_counter() - t:.2f}} s")
"""


def serve_part(repo: Path, args) -> None:
    """Measure the server of one checkout: idle sockets, a crowd, hostile requests, rebuilds."""
    work = VAR / "hardening" / str(abs(hash(str(repo))))
    seeds, index = work / "seeds", work / "index"
    if not index.exists():
        seeds.mkdir(parents=True, exist_ok=True)
        for path in sorted(SEEDS.glob("*.txt"))[:20]:
            shutil.copy(path, seeds / path.name)
        qa = [str(Path(sys.executable).parent / "qa"), "index", "--seeds", str(seeds)]
        subprocess.run([*qa, "--index", str(index), "-q"], cwd=repo, check=True, env=_env(repo))
    env = {"NEWSQA_ADMIN_TOKEN": TOKEN, "NEWSQA_SEEDS": str(seeds)}
    with Server(index, workers=2, repo=repo, env=env) as server:
        probes = idle_probes(server.port, args.idle)
        ok = [p * 1000 for p in probes if p is not None]
        table(
            f"/healthz with {args.idle} fresh idle sockets open (half silent, half mid-header)",
            ["probes", "answered", "p50 ms", "max ms"],
            [[len(probes), len(ok), *(percentiles(ok)[:1] if ok else ["-"]), max(ok, default="-")]],
        )
        replies, health = crowd(server.port, args.clients, args.seconds)
        ms = [took * 1000 for _, took in replies]
        count = {s: sum(1 for r, _ in replies if r == s) for s in {r for r, _ in replies}}
        hms = [h * 1000 for h in health if h is not None]
        p50, _, p99 = percentiles(ms)
        table(
            f"{args.clients} clients asking for {args.seconds:g} s (rerank on; after a 503 a "
            "client waits 2 s), /healthz probed",
            ["replies", "200", "503", "other", "p50 ms", "p99 ms", "max ms", "healthz ok",
             "healthz max ms"],
            [[len(replies), count.get(200, 0), count.get(503, 0),
              len(replies) - count.get(200, 0) - count.get(503, 0), p50, p99, max(ms),
              f"{len(hms)}/{len(health)}", max(hms, default="-")]],
        )  # fmt: skip
        rows = []
        for name, method, path, body in HOSTILE:
            status, kind, took = send(server.port, method, path, body)
            rows.append([name, status or "no reply", kind.split(";")[0] or "-", f"{took:.2f}"])
        table("hostile requests", ["request", "status", "type", "seconds"], rows)
        pairs = rebuild_pairs(server.port, args.trials)
        table("two POST /api/rebuild at once", ["trial", "statuses -> state after"],
              [[n + 1, p] for n, p in enumerate(pairs)])  # fmt: skip


def _env(repo: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(repo)}


def clean_part(repo: Path, args) -> None:
    """Time clean_html of one checkout on many sibling paragraphs and on deep nesting."""
    cases = [(f"{n:,} <p>a</p>", f'"<p>a</p>" * {n}') for n in (5_000, 10_000, 20_000, 600_000)]
    cases.append(("100,000 nested <div>", '"<div>" * 100000 + "x" + "</div>" * 100000'))
    rows = [[name, run_python(repo, CLEAN.format(body=body), args.cap)] for name, body in cases]
    table("clean_html", ["body", "time"], rows)


def index_part(repo: Path, args) -> None:
    """Run `qa index` of one checkout on a folder with the 600,000-<p> file and a link out."""
    work = VAR / "hardening" / "hostile-seeds"
    shutil.rmtree(work, ignore_errors=True)
    (work / "seeds").mkdir(parents=True)
    shutil.copy(SEEDS / "000_d202ff18b057221d.txt", work / "seeds")
    (work / "seeds" / "huge.txt").write_text('{"title": "Huge"}\n' + "<p>a</p>" * 600_000)
    (work / "outside.txt").write_text('{"title": "Outside"}\n<p>A secret from outside.</p>\n')
    (work / "seeds" / "link.txt").symlink_to(work / "outside.txt")
    cmd = [str(Path(sys.executable).parent / "qa"), "index", "--seeds", str(work / "seeds"),
           "--index", str(work / "index"), "--json", "-q"]  # fmt: skip
    started = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=repo, env=_env(repo), capture_output=True, text=True,
                              timeout=args.cap)  # fmt: skip
        report = json.loads(done.stdout) if done.returncode == 0 else {}
        outcome = ", ".join(f"{Path(s['path']).name}: {s['reason'][:60]}"
                            for s in report.get("skipped", [])) or done.stderr[-120:]  # fmt: skip
        indexed = ", ".join(report.get("added", []))
    except subprocess.TimeoutExpired:
        outcome, indexed = f"still running after {args.cap:g} s (stopped)", "-"
    table("qa index on hostile seeds", ["seconds", "indexed", "skipped"],
          [[f"{time.perf_counter() - started:.1f}", indexed, outcome]])  # fmt: skip


def main() -> None:
    """Run the chosen parts against one checkout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--parts", default="serve,clean,index")
    parser.add_argument("--idle", type=int, default=50)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--cap", type=float, default=120, help="seconds, per cleaning or index")
    args = parser.parse_args()
    say(f"checkout: {args.repo.resolve()}")
    parts = {"serve": serve_part, "clean": clean_part, "index": index_part}
    for name in args.parts.split(","):
        parts[name](args.repo.resolve(), args)


if __name__ == "__main__":
    main()
