"""`generate --kind multi-turn`: conversations from the local OpenAI-compatible server, checked turn by turn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakellm import FakeLLM, Reply

from datacraft.cli import cli
from datacraft.generate.multiturn import follow_up_problem, parse_conversations, to_conversation
from datacraft.records import conversation, to_form
from datacraft.validate import validate_record

SEEDS = str(Path(__file__).parent.parent / "fixtures" / "generate" / "seeds_en.jsonl")
HISTORY_SEEDS = [
    {"instruction": "And in Celsius?", "input": "", "output": "About 37 degrees Celsius.",
     "history": [["What is normal body temperature in Fahrenheit?", "About 98.6 degrees Fahrenheit."]]},
    {"instruction": "Make it shorter.", "input": "", "output": "Dogs: loyal, playful, loving.",
     "history": [["Describe dogs in one sentence.", "Dogs are loyal, playful companions who love their people."]]},
]


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def generate(server: FakeLLM, out: Path, *extra: str, seeds: str = SEEDS):
    return CliRunner().invoke(cli, ["generate", "--seeds", seeds, "--kind", "multi-turn", "-o", str(out),
                                    "--rejects", str(out.with_suffix(".rejects.jsonl")), "--base-url", server.url,
                                    "--model", "fake-model", *extra])


def turn(user: str, assistant: str) -> dict:
    return {"user": user, "assistant": assistant}


def test_conversations_have_the_asked_turns_and_export_to_every_chat_form(llm_env, tmp_path):
    with FakeLLM(kinds=True) as server:
        result = generate(server, tmp_path / "chats.jsonl", "--turns", "2-4", "-n", "12")
        prompts = [body["messages"][0]["content"] for body in server.requests]
    assert result.exit_code == 0, result.output
    records = read(tmp_path / "chats.jsonl")
    assert len(records) == 12 and len({r["id"] for r in records}) == 12
    assert "Every later user turn is a follow-up that depends on what was said before" in prompts[0]
    for record in records:
        assert not validate_record({k: v for k, v in record.items() if k not in ("id", "meta")})
        assert 1 <= len(record["history"]) <= 3 and record["meta"]["kind"] == "multi-turn"
        chat = conversation(record)
        assert [role for role, _ in chat.turns] == ["user", "assistant"] * (len(record["history"]) + 1)
        shared = to_form(record, "sharegpt")["conversations"]
        assert [m["from"] for m in shared][:2] == ["human", "gpt"] and len(shared) == len(chat.turns)
        assert len(to_form(record, "openai")["messages"]) == len(chat.turns)
    asked = {p.split("exactly ")[1].split(" user turns")[0] for p in prompts}
    assert asked <= {"2", "3", "4"} and len(asked) > 1  # the turn count is drawn per request


def test_seed_history_is_shown_to_the_model_for_both_kinds(fake_llm, llm_env, tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps(s) + "\n" for s in HISTORY_SEEDS), encoding="utf-8")
    result = CliRunner().invoke(cli, ["generate", "--seeds", str(seeds), "-n", "2", "-o", str(tmp_path / "one.jsonl"),
                                      "--base-url", fake_llm.url, "--model", "m"])
    assert result.exit_code == 0, result.output
    single = fake_llm.requests[0]["messages"][0]["content"]
    assert "What is normal body temperature in Fahrenheit?" in single and "About 98.6 degrees Fahrenheit." in single
    with FakeLLM(kinds=True) as server:
        result = generate(server, tmp_path / "chats.jsonl", "-n", "2", "--dry-run", seeds=str(seeds))
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output.split("\ndry run:")[0])["messages"][0]["content"]
    assert '{"user": "What is normal body temperature in Fahrenheit?", "assistant": "About 98.6 degrees Fahrenheit."}' in shown
    assert '{"user": "And in Celsius?", "assistant": "About 37 degrees Celsius."}' in shown


def test_each_turn_is_checked_and_every_conversation_is_accounted_for(llm_env, tmp_path):
    good = {"turns": [turn("How do I reverse a list in Python?", "Call items.reverse(), or use items[::-1] for a copy."),
                      turn("Which of those two keeps the original list?", "The slice items[::-1] returns a new list.")]}
    chats = [
        good,
        {"turns": [turn("What is photosynthesis in plants?", "Plants turn light, water and CO2 into sugar."),
                   turn("Name the capital of Peru.", "Lima.")]},  # an unrelated follow-up
        {"turns": [turn("Explain what a prime number means.", "A number with exactly two divisors.")]},  # 1 turn
        {"turns": [turn("Summarise the plot of Hamlet briefly.", "As an AI language model, I cannot do that."),
                   turn("Why not summarise it?", "A prince avenges his father.")]},  # refusal in an earlier turn
        {"turns": [{"user": "What is a haiku?"}]},  # no assistant text
        good,  # the same conversation again
    ]
    with FakeLLM(kinds=True) as server:
        server.script = [Reply("Here you go:\n```json\n" + json.dumps({"conversations": chats}) + "\n```")]
        result = generate(server, tmp_path / "chats.jsonl", "-n", "1", "--turns", "2-3", "--batch-size", "6")
    assert result.exit_code == 0, result.output
    accepted = read(tmp_path / "chats.jsonl")
    rejects = read(tmp_path / "chats.rejects.jsonl")
    assert [r["instruction"] for r in accepted] == ["Which of those two keeps the original list?"]
    assert [r["reason"] for r in rejects] == ["independent_follow_up", "wrong_turn_count", "refusal",
                                              "bad_conversation", "similar_to_earlier"]
    assert rejects[0]["detail"].startswith("user turn 2 shares no word")
    assert "1 user turns, --turns asks for 2-3" in rejects[1]["detail"]
    assert rejects[2]["detail"] == "history: As an AI language model, I"  # the earlier assistant turn
    assert len(accepted) + len(rejects) == len(chats)  # nothing lost
    assert all(r["record"] in chats for r in rejects)


def test_novelty_compares_the_whole_conversation(llm_env, tmp_path):
    # Same last exchange, different first turns: not a duplicate. Same turns: a duplicate.
    first = {"turns": [turn("Plan a three-day trip to Kyoto for a first visit.", "Day 1 temples, day 2 Arashiyama, day 3 Nara."),
                       turn("Can you make that plan cheaper?", "Use a bus pass and stay in a guesthouse.")]}
    other = {"turns": [turn("Write a packing list for a week of winter camping.", "Tent, sleeping bag rated -10C, stove, layers."),
                       turn("Can you make that plan cheaper?", "Use a bus pass and stay in a guesthouse.")]}
    with FakeLLM(kinds=True) as server:
        server.script = [Reply(json.dumps({"conversations": [first, other, first]}))]
        result = generate(server, tmp_path / "chats.jsonl", "-n", "2", "--batch-size", "3")
    assert result.exit_code == 0, result.output
    assert len(read(tmp_path / "chats.jsonl")) == 2
    assert [r["reason"] for r in read(tmp_path / "chats.rejects.jsonl")] == ["similar_to_earlier"]


def test_a_budget_stop_resumes_to_exactly_the_uninterrupted_conversations(llm_env, tmp_path):
    def run(server: FakeLLM, out: Path, *extra: str):
        return generate(server, out, "-n", "15", "--batch-size", "3", "--concurrency", "2", *extra)

    with FakeLLM(kinds=True) as server:
        reference = tmp_path / "reference" / "chats.jsonl"
        assert run(server, reference).exit_code == 0
        resumed = tmp_path / "resumed" / "chats.jsonl"
        first = run(server, resumed, "--max-requests", "2")
        assert "stopped: hit --max-requests" in first.output
        sent = len(server.requests)
        assert run(server, resumed).exit_code == 0
        again = [json.dumps(b["messages"]) for b in server.requests[sent:]]
    assert read(resumed) == read(reference)
    assert len(again) == len(set(again))


def test_a_journal_of_another_kind_is_not_resumed(fake_llm, llm_env, tmp_path):
    out = tmp_path / "gen.jsonl"
    first = CliRunner().invoke(cli, ["generate", "--seeds", SEEDS, "-n", "10", "-o", str(out), "--max-requests", "1",
                                     "--base-url", fake_llm.url, "--model", "m"])
    assert "stopped: hit --max-requests" in first.output
    result = generate(fake_llm, out, "-n", "10")
    assert result.exit_code == 2
    assert "belongs to a run of another kind; choose another -o, or pass --restart" in result.output


@pytest.mark.parametrize(("turns", "message"), [("0-2", "need 1 <= fewest <= most <= 20"), ("4-2", "need 1 <= fewest"),
                                                ("two", "expected a number or a range such as 2-4")])
def test_bad_turn_ranges_are_refused_before_any_request(fake_llm, llm_env, tmp_path, turns, message):
    result = generate(fake_llm, tmp_path / "chats.jsonl", "--turns", turns)
    assert result.exit_code == 2 and message in result.output and not fake_llm.requests


def test_multi_turn_from_documents_is_refused(fake_llm, llm_env, tmp_path):
    docs = tmp_path / "doc.txt"
    docs.write_text("Some text about tea. " * 20, encoding="utf-8")
    result = CliRunner().invoke(cli, ["generate", "--from-docs", str(docs), "--kind", "multi-turn", "-o",
                                      str(tmp_path / "o.jsonl"), "--base-url", fake_llm.url, "--model", "m"])
    assert result.exit_code == 2 and "--kind multi-turn works from --seeds, not --from-docs" in result.output


def test_parse_conversations_on_clean_noisy_empty_and_garbage_replies():
    clean = '{"conversations": [{"turns": [{"user": "a", "assistant": "b"}]}]}'
    assert parse_conversations(clean).items == [{"turns": [{"user": "a", "assistant": "b"}]}]
    noisy = 'Sure! Here they are:\n```json\n{"conversations": [{"turns": [{"user": "a", "assistant": "b"},],},]}\n```\nEnjoy.'
    assert parse_conversations(noisy).items == [{"turns": [{"user": "a", "assistant": "b"}]}]
    messages = '[[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]]'
    assert to_conversation(parse_conversations(messages).items[0])[0] == {"instruction": "a", "input": "", "output": "b"}
    assert parse_conversations("").reason == "empty_reply"
    assert parse_conversations("I cannot help with that.").reason == "no_json"
    assert parse_conversations('{"answer": 42}').reason == "no_items"
    assert parse_conversations('{"conversations": [{"turns": [{"user": "a", "assist', "length").reason == "truncated_reply"
    assert to_conversation({"turns": [{"role": "assistant", "content": "b"}, {"role": "user", "content": "a"}]}) == (
        None, "turns must alternate user and assistant, starting with the user")
    assert to_conversation({"turns": "abc"})[0] is None


@pytest.mark.parametrize(("pairs", "ok"), [
    ([["Write a haiku about rain.", "Soft rain on the roof..."], ["Now make it about snow.", "Snow..."]], True),  # "it"
    ([["Write a haiku about rain.", "Soft rain on the roof..."], ["Translate the haiku into French.", "..."]], True),
    ([["Write a haiku about rain.", "Soft rain on the roof..."], ["Who painted the Mona Lisa?", "Leonardo."]], False),
    ([["请写一首关于春天的诗。", "春风吹绿江南岸。"], ["把它改成五言的。", "春风绿江岸。"]], True),  # 它
    ([["请写一首关于春天的诗。", "春风吹绿江南岸。"], ["春天的诗有哪些名篇？", "很多。"]], True),  # 春天 shared
    ([["请写一首关于春天的诗。", "春风吹绿江南岸。"], ["中国的首都是哪里？", "北京。"]], False),
])
def test_the_follow_up_check(pairs, ok):
    assert (follow_up_problem(pairs) is None) is ok


def test_a_single_turn_item_that_brings_its_history_keeps_it(llm_env, tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps(s) + "\n" for s in HISTORY_SEEDS), encoding="utf-8")
    items = [{"history": [["Name a prime number below 10.", "7 is one."]], "instruction": "Is it odd?", "input": "",
              "output": "Yes, 7 is odd."},
             {"history": "not a list of pairs", "instruction": "Why is the sky blue at noon?", "input": "",
              "output": "Air scatters blue light more than red light."}]
    with FakeLLM() as server:
        server.script = [Reply(json.dumps({"items": items}))]
        result = CliRunner().invoke(cli, ["generate", "--seeds", str(seeds), "-n", "1", "-o", str(tmp_path / "o.jsonl"),
                                          "--rejects", str(tmp_path / "r.jsonl"), "--base-url", server.url, "--model", "m"])
    assert result.exit_code == 0, result.output
    assert read(tmp_path / "o.jsonl")[0]["history"] == [["Name a prime number below 10.", "7 is one."]]
    assert [r["reason"] for r in read(tmp_path / "r.jsonl")] == ["bad_history"]
