"""The local OpenAI-compatible test server, taught to translate, reword and judge for decontamination tests.

`DecontamLLM` is a `FakeLLM` (a real HTTP server on 127.0.0.1) whose handler answers three kinds of
request by what the prompt asks:
- translate (prompts/translate.j2): each text from the hand-written table below, both directions;
- reword ("REWORD:" + text, sent by the tests to make paraphrased plants): a deterministic
  synonym-and-order rewrite;
- judge (prompts/decontam_judge.j2): "same" when a line of part 2 is a text this server produced
  from part 1 (its translation or rewording), or is word-for-word at least 60% like part 1
  (difflib ratio); else "different". It stands in for a capable model: the tests check what
  decontaminate does with verdicts, not how good a model is.
"""

from __future__ import annotations

import json
import re
from difflib import SequenceMatcher
from typing import Any

from fakellm import FakeLLM, Reply

from datacraft.decontam.overlap import tokens

# Hand-written translations of the fixture eval items (tests/fixtures/decontam/eval_*.jsonl).
TRANSLATIONS = {
    "A baker makes 48 muffins every morning and sells them in boxes of six. On Saturday she sold all but two boxes before noon. How many muffins did she sell before noon on Saturday?":
        "一位面包师每天早上做48个松饼，每六个装一盒出售。星期六中午之前，她卖掉了除两盒以外的所有松饼。星期六中午之前她卖了多少个松饼？",
    "Tom walks to the library at three miles per hour and rides his bicycle home at twelve miles per hour. If the library is six miles away, how many hours does the round trip take him in total?":
        "汤姆以每小时三英里的速度步行去图书馆，再以每小时十二英里的速度骑自行车回家。如果图书馆在六英里外，这次往返一共要花多少小时？",
    "A garden has fourteen rows of tulips with nine tulips in each row. A storm knocks down one third of the tulips in the last six rows. How many tulips are still standing in the garden afterwards?":
        "一个花园里有十四排郁金香，每排九株。一场暴风雨吹倒了最后六排中三分之一的郁金香。之后花园里还有多少株郁金香立着？",
    "Maria saves eight dollars a week from her allowance for a guitar that costs two hundred dollars. Her grandmother gives her forty dollars on her birthday. How many weeks must Maria save before she can buy the guitar?":
        "玛丽亚每周从零花钱中存八美元，想买一把两百美元的吉他。生日时奶奶给了她四十美元。玛丽亚要存多少周才能买下这把吉他？",
    "A train leaves the station with 320 passengers. At the first stop a quarter of them get off and 45 new passengers get on. At the second stop 60 people get off. How many passengers remain on the train?":
        "一列火车载着320名乘客离站。第一站有四分之一的乘客下车，又上来45名新乘客。第二站有60人下车。火车上还剩多少名乘客？",
    "A school orders notebooks in packs of twelve for its 7 classes of 28 students each. Every student needs three notebooks for the year. How many packs of notebooks must the school order at the very least?":
        "一所学校有7个班，每班28名学生，笔记本按每包十二本订购。每个学生一年需要三本笔记本。学校至少要订多少包笔记本？",
    "A swimming pool holds 18000 liters of water. A hose fills it at 40 liters per minute while a leak drains 10 liters per minute. How many hours does it take to fill the empty pool completely?":
        "一个游泳池能装18000升水。水管每分钟注水40升，同时漏洞每分钟漏掉10升。把空游泳池完全注满需要多少小时？",
    "Leo reads 25 pages of his novel on weekdays and 40 pages on each day of the weekend. The novel has 615 pages in all. How many full weeks does Leo need to finish reading the whole novel?":
        "利奥在工作日每天读25页小说，周末每天读40页。这本小说一共615页。利奥需要多少个整周才能读完整本小说？",
    "一个书架有五层，每层放着二十四本书。小明借走了其中的十八本，又还回来六本。请问现在书架上一共有多少本书？":
        "A bookshelf has five shelves with twenty-four books on each shelf. Xiaoming borrowed eighteen of them and then returned six. How many books are on the bookshelf now in total?",
    "妈妈买了三公斤苹果，每公斤十二元，又买了两公斤香蕉，每公斤八元。她付了一百元，应该找回多少钱？":
        "Mom bought three kilograms of apples at twelve yuan per kilogram and two kilograms of bananas at eight yuan per kilogram. She paid one hundred yuan. How much change should she get back?",
    "一辆汽车每小时行驶六十公里，从甲地到乙地用了四个半小时。返回时速度提高到每小时九十公里，返回需要几个小时？":
        "A car travels sixty kilometers per hour and takes four and a half hours to get from A to B. On the way back it speeds up to ninety kilometers per hour. How many hours does the return trip take?",
}
TRANSLATIONS.update({v: k for k, v in list(TRANSLATIONS.items())})

_SYNONYMS = {
    "makes": "bakes", "every": "each", "sells": "packs", "boxes": "cartons", "sold": "got rid of",
    "how many": "what number of", "walks": "goes on foot", "rides": "cycles", "total": "all",
    "knocks down": "flattens", "still": "left", "afterwards": "after that", "saves": "puts aside",
    "gives": "hands", "must": "will", "leaves": "departs from", "get off": "step out", "remain": "are left",
    "orders": "buys", "needs": "requires", "holds": "can contain", "fills": "fills up", "drains": "loses",
    "reads": "gets through", "finish": "complete", "whole": "entire", "new": "more", "people": "riders",
    "at the very least": "at minimum", "completely": "to the top", "in all": "altogether",
}


def reword(text: str) -> str:
    """A deterministic paraphrase: synonyms swapped in, and the question moved to the front."""
    out = text
    for word, other in _SYNONYMS.items():
        out = re.sub(rf"\b{re.escape(word)}\b", other, out, flags=re.IGNORECASE)
    sentences = re.split(r"(?<=[.?!])\s+", out.strip())
    if len(sentences) > 1:
        sentences = [sentences[-1], *sentences[:-1]]
        sentences[0] = "Here is a puzzle: " + sentences[0]
    return " ".join(sentences)


class DecontamLLM(FakeLLM):
    """FakeLLM that translates from the table, rewords, and judges what it produced."""

    def __init__(self, **kwargs: Any):
        super().__init__(handler=self.answer, **kwargs)
        self.origin: dict[str, str] = {}  # normalised produced text -> normalised source text
        self.kinds: list[str] = []

    def _key(self, text: str) -> str:
        return " ".join(tokens(text))

    def _remember(self, produced: str, source: str) -> None:
        self.origin[self._key(produced)] = self._key(source)

    def answer(self, body: dict[str, Any], index: int) -> Reply:
        prompt = body["messages"][-1]["content"]
        if prompt.startswith("REWORD:"):
            self.kinds.append("reword")
            source = prompt[len("REWORD:"):].strip()
            produced = reword(source)
            self._remember(produced, source)
            return Reply(produced)
        if prompt.startswith("Translate each text"):
            self.kinds.append("translate")
            texts = json.loads(prompt[prompt.rindex("\n[") + 1:])
            produced = [TRANSLATIONS.get(t, t) for t in texts]
            for out, source in zip(produced, texts, strict=True):
                self._remember(out, source)
            return Reply(json.dumps({"translations": produced}, ensure_ascii=False))
        if "Part 1 (benchmark item)" in prompt:
            self.kinds.append("judge")
            part1, part2 = re.findall(r'"""\n(.*?)\n"""', prompt, flags=re.DOTALL)[:2]
            root1 = self.origin.get(self._key(part1), self._key(part1))
            roots = {self.origin.get(self._key(p), self._key(p)) for p in part2.split("\n")}
            same = root1 in roots or any(
                SequenceMatcher(None, root1.split(), r.split(), autojunk=False).ratio() >= 0.6 for r in roots)
            reason = "the same item, reworded or translated" if same else "a different question"
            return Reply(json.dumps({"same": same, "reason": reason}))
        return Reply("unexpected request")



if __name__ == "__main__":  # `python tests/decontam/decontam_server.py`: prints its URL, serves until Ctrl-C
    import time

    with DecontamLLM() as served:
        print(served.url, flush=True)
        while True:
            time.sleep(3600)
