"""Benchmark `generate` against a local OpenAI-compatible server with a fixed latency per request.

Measures, in one run:
1. 2,000 requests at concurrency 32 through the whole generation loop (request, parse, Alpaca
   validation, clean filters, ROUGE-L + MinHash novelty, journal), and through the bare client,
   against the ideal time 2000 x latency / 32;
2. the same run against a server that answers 429 above 16 requests in flight: share of 429 replies
   and time against the ideal at 16 (2000 x latency / 16), with adaptive concurrency on and off;
3. the sequential baseline (one request at a time, as Stanford Alpaca's generate_instruction.py
   sends them): 50 requests timed, extrapolated to 2,000;
4. parse / validate / clean / novelty overhead per item, measured on its own.

The server (tests/fakellm.py) runs in a separate process so it does not share the GIL with the
client. Usage: .venv/bin/python bench/bench_generate.py [--requests 2000] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fakellm import FakeLLM, invent_items  # noqa: E402

from datacraft.clean import CleanConfig, Normalizer, record_filter  # noqa: E402
from datacraft.generate import (  # noqa: E402
    GenerateConfig,
    NoveltyChecker,
    load_seeds,
    parse_items,
    run_generation,
    to_record,
)
from datacraft.llm import LLMClient, resolve_llm_config  # noqa: E402
from datacraft.validate import validate_record  # noqa: E402

SEEDS = str(ROOT / "tests" / "fixtures" / "generate" / "seeds_en.jsonl")


def _serve(conn, options: dict) -> None:
    server = FakeLLM(**options).start()
    conn.send(server.url)
    conn.recv()  # any message: stop
    server.stop()


class Server:
    """FakeLLM in a child process."""

    def __init__(self, **options):
        self.options = options

    def __enter__(self) -> Server:
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_serve, args=(child, self.options), daemon=True)
        self._process.start()
        self.url = self._conn.recv()
        return self

    def stats(self) -> dict:
        with urllib.request.urlopen(self.url.removesuffix("/v1") + "/stats") as response:
            return json.loads(response.read())

    def __exit__(self, *exc) -> None:
        self._conn.send("stop")
        self._process.join(5)


def llm(url: str, concurrency: int, adaptive: bool = True):
    return resolve_llm_config({"concurrency": concurrency, "adaptive": adaptive, "max_retries": 30, "timeout": 60},
                              base_url=url, model="bench", env={})


def engine_run(url: str, requests: int, concurrency: int, adaptive: bool = True, batch: int = 5) -> dict:
    """The whole generation loop (asking for `batch` items per request); stops at the request budget."""
    with tempfile.TemporaryDirectory() as tmp:
        started, cpu = time.perf_counter(), time.process_time()
        summary = run_generation(f"{tmp}/gen.jsonl", llm=llm(url, concurrency, adaptive), seeds=SEEDS,
                                 config=GenerateConfig(n=10**7, batch_size=batch), max_requests=requests)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert summary["usage"]["requests"] == requests, summary["usage"]
    return {"wall": wall, "cpu": cpu, "accepted": summary["accepted"], "rejected": summary["rejected"],
            "usage": summary["usage"]}


def client_run(url: str, requests: int, concurrency: int) -> dict:
    """The bare client: the same requests, no parsing or checking."""
    async def go(client: LLMClient):
        async with client:
            messages = [{"role": "user", "content": "Write 5 examples as JSON."}]
            return await asyncio.gather(*(client.complete(messages, seed=i, json_mode=True) for i in range(requests)))

    client = LLMClient(llm(url, concurrency), key="bench")
    started, cpu = time.perf_counter(), time.process_time()
    asyncio.run(go(client))
    return {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu}


def item_overhead(replies: int) -> dict:
    """Seconds per item for each check, on `replies` replies of 5 invented items (novelty against all before)."""
    texts = [json.dumps({"items": invent_items(seed, 5)}) for seed in range(replies)]
    normalize, keep = Normalizer(CleanConfig().normalize), record_filter(CleanConfig().filters)
    novelty = NoveltyChecker()
    seeds = load_seeds(SEEDS)
    novelty.add_many(seeds, [s["id"] for s in seeds], kind="seed")
    timings = dict.fromkeys(("parse", "validate", "clean", "novelty"), 0.0)
    count = 0

    def timed(name: str, fn, *args):
        started = time.perf_counter()
        result = fn(*args)
        timings[name] += time.perf_counter() - started
        return result

    for text in texts:
        items = timed("parse", lambda t: [to_record(i)[0] for i in parse_items(t).items], text)
        checked = []
        for record in items:
            assert not timed("validate", validate_record, record)
            record = timed("clean", normalize, record)
            assert timed("clean", keep, record)[0]
            checked.append(record)
        keys = [f"item-{count + i}" for i in range(len(checked))]
        timed("novelty", novelty.check_many, checked, keys)  # as generate does it: one call per reply
        count += len(checked)
    return {name: seconds / count for name, seconds in timings.items()} | {"items": count}


def _best(runs: list[dict]) -> dict:
    """The fastest of repeated runs (noise from other jobs only ever adds time), with the median beside it."""
    ordered = sorted(runs, key=lambda r: r["wall"])
    return {**ordered[0], "median": ordered[len(ordered) // 2]["wall"], "runs": len(runs)}


def _rate_limited(url_options: dict, count: int, adaptive: bool) -> dict:
    with Server(**url_options) as server:
        run = engine_run(server.url, count, 32, adaptive=adaptive, batch=1)
        stats = server.stats()
    return {**run, "rate_limited": stats["rate_limited"], "replies": stats["requests"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--sequential", type=int, default=50, help="requests timed for the sequential baseline")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each concurrent case (best and median shown)")
    args = parser.parse_args()
    n, latency = args.requests, args.latency
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}")

    ideal, ideal16 = n * latency / 32, n * latency / 16
    limited = {"delay": latency, "items_per_reply": 1, "max_concurrent": 16, "retry_after": "1"}
    runs: dict[str, list[dict]] = {"client": [], "one": [], "five": [], "adaptive": []}
    for _ in range(args.repeat):  # interleaved, so a noisy minute does not hit one case only
        with Server(delay=latency, items_per_reply=1) as server:
            runs["client"].append(client_run(server.url, n, 32))
            runs["one"].append(engine_run(server.url, n, 32, batch=1))
        with Server(delay=latency, items_per_reply=5) as server:
            runs["five"].append(engine_run(server.url, n, 32, batch=5))
        runs["adaptive"].append(_rate_limited(limited, n, adaptive=True))
    client, one, five, adaptive = (_best(runs[k]) for k in ("client", "one", "five", "adaptive"))
    with Server(delay=latency, items_per_reply=5) as server:
        sequential = engine_run(server.url, args.sequential, 1, batch=5)
    fixed = _rate_limited(limited, n // 4, adaptive=False)
    print(f"load average after the runs {os.getloadavg()[0]:.1f}; best of {args.repeat} (median in brackets)")

    seq_total = sequential["wall"] * n / args.sequential
    print(f"\n1. {n} requests, {latency * 1000:.0f} ms each, concurrency 32: ideal {ideal:.2f} s")
    for name, run in (("bare client", client), ("generate, 1 item/request", one), ("generate, 5 items/request", five)):
        extra = f"{run['accepted']} accepted; " if "accepted" in run else ""
        print(f"   {name:<28} {run['wall']:7.2f} s = {run['wall'] / ideal:.3f}x ideal [{run['median'] / ideal:.3f}x]  "
              f"({extra}CPU {run['cpu'] / n * 1000:.2f} ms/request)")
    print(f"   sequential, 5 items/request  {seq_total:7.2f} s (estimated: {args.sequential} requests took "
          f"{sequential['wall']:.2f} s, x{n / args.sequential:g}) -> concurrent is {seq_total / five['wall']:.1f}x faster")

    print(f"\n2. server answers 429 above 16 in flight (Retry-After: 1), client concurrency 32, 1 item/request: "
          f"ideal at 16 {ideal16:.2f} s")
    for name, run, count in (("adaptive on ", adaptive, n), ("adaptive off", fixed, n // 4)):
        share = run["rate_limited"] / run["replies"]
        median = f" [{run['median'] / (count * latency / 16):.3f}x]" if "median" in run else ""
        print(f"   {name} ({count} requests) {run['wall']:7.2f} s = {run['wall'] / (count * latency / 16):.3f}x ideal"
              f"{median}; 429s {run['rate_limited']} of {run['replies']} replies = {share:.1%}")

    per_item = item_overhead(n)
    total = sum(v for k, v in per_item.items() if k != "items")
    print(f"\n3. checks per item ({per_item['items']} items): " + ", ".join(
        f"{k} {v * 1e6:.0f} us" for k, v in per_item.items() if k != "items") + f"; total {total * 1e6:.0f} us")


if __name__ == "__main__":
    main()
