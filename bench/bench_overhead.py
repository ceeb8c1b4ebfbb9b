"""`generate`'s overhead against a plain asyncio + openai loop, side by side in one run.

The baseline is what one would write by hand: an `asyncio.Semaphore(concurrency)`, one
`AsyncOpenAI.chat.completions.create` per request (JSON mode, a seed), `json.loads` of the reply.
datacraft runs its whole loop for the same number of requests (streamed replies, cache, journal,
parse, validation, clean filters, novelty), with `--max-requests` so both send exactly as many.
Both talk to tests/fakellm.py in a child process answering after a fixed latency. Cases alternate
(baseline, datacraft, baseline, ...) so a noisy minute on a shared machine hits both.

    python bench/bench_overhead.py [--requests 2000] [--latency 0.2] [--concurrency 32 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_generate import SEEDS, Server  # noqa: E402

from datacraft.generate import GenerateConfig, run_generation  # noqa: E402
from datacraft.llm import resolve_llm_config  # noqa: E402


def baseline(url: str, requests: int, concurrency: int) -> dict:
    """The hand-written loop."""
    import openai

    async def go() -> int:
        client = openai.AsyncOpenAI(base_url=url, api_key="bench", max_retries=0)
        gate = asyncio.Semaphore(concurrency)
        messages = [{"role": "user", "content": "Write 5 instruction examples as JSON."}]

        async def one(i: int) -> int:
            async with gate:
                response = await client.chat.completions.create(
                    model="bench", messages=messages, seed=i, temperature=1.0, max_tokens=4096,
                    response_format={"type": "json_object"})
            return len(json.loads(response.choices[0].message.content)["items"])

        try:
            return sum(await asyncio.gather(*(one(i) for i in range(requests))))
        finally:
            await client.close()

    started, cpu = time.perf_counter(), time.process_time()
    items = asyncio.run(go())
    return {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu, "items": items}


def datacraft(url: str, requests: int, concurrency: int) -> dict:
    """`generate` for exactly `requests` requests."""
    llm = resolve_llm_config({"concurrency": concurrency, "max_retries": 30, "timeout": 60}, base_url=url,
                             model="bench", env={})
    with tempfile.TemporaryDirectory() as tmp:
        started, cpu = time.perf_counter(), time.process_time()
        summary = run_generation(f"{tmp}/gen.jsonl", llm=llm, seeds=SEEDS,
                                 config=GenerateConfig(n=10**7, batch_size=5), max_requests=requests)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert summary["usage"]["requests"] == requests, summary["usage"]
    return {"wall": wall, "cpu": cpu, "items": summary["accepted"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}; {args.requests} requests, {args.latency * 1000:.0f} ms latency")
    results: dict[tuple[int, str], list[dict]] = {}
    with Server(delay=args.latency, items_per_reply=5) as server:
        for _ in range(args.repeat):
            for concurrency in args.concurrency:
                for name, fn in (("baseline", baseline), ("datacraft", datacraft)):
                    result = fn(server.url, args.requests, concurrency)
                    results.setdefault((concurrency, name), []).append(result)
                    print(f"  c={concurrency} {name}: {result['wall']:.2f} s, "
                          f"CPU {result['cpu'] / args.requests * 1000:.2f} ms/request", flush=True)
    print(f"load average after the runs {os.getloadavg()[0]:.1f}; best of {args.repeat} (median in brackets)")
    print(f"{'concurrency':>11} {'ideal s':>8} {'baseline s':>16} {'datacraft s':>16} {'ratio':>16} "
          f"{'CPU ms/req base':>16} {'CPU ms/req dc':>16} {'CPU ratio':>16}")
    for concurrency in args.concurrency:
        ideal = args.requests * args.latency / concurrency
        base = sorted(results[(concurrency, "baseline")], key=lambda r: r["wall"])
        mine = sorted(results[(concurrency, "datacraft")], key=lambda r: r["wall"])
        base_cpu = sorted(r["cpu"] / args.requests * 1000 for r in base)
        mine_cpu = sorted(r["cpu"] / args.requests * 1000 for r in mine)
        mid = len(base) // 2
        ratio, median_ratio = mine[0]["wall"] / base[0]["wall"], mine[mid]["wall"] / base[mid]["wall"]
        print(f"{concurrency:>11} {ideal:>8.2f} {base[0]['wall']:>8.2f} [{base[mid]['wall']:5.2f}] "
              f"{mine[0]['wall']:>8.2f} [{mine[mid]['wall']:5.2f}] {ratio:>7.3f}x [{median_ratio:.3f}] "
              f"{base_cpu[0]:>8.2f} [{base_cpu[mid]:5.2f}] {mine_cpu[0]:>8.2f} [{mine_cpu[mid]:5.2f}] "
              f"{mine_cpu[0] / base_cpu[0]:>7.3f}x [{mine_cpu[mid] / base_cpu[mid]:.3f}]")
    print("wall: best and [median] of the runs; CPU: process CPU time per request, lowest and [median]")

if __name__ == "__main__":
    main()
