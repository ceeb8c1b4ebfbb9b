"""Which fields of a record augmentation may rewrite.

Rewording the answer of a factual or code task can make it wrong (a changed term, a changed
identifier), and so can rewording its input (the answer was computed from it: a sentence to
correct, a list to sort), so by default `input` and `output` are rewritten only for open tasks:
writing, describing, suggesting, rewriting. The instruction is always fair game. The task kind is a keyword heuristic on the instruction and the answer's
shape; it errs towards "factual", because leaving an answer alone costs little.
"""

from __future__ import annotations

import re

from datacraft.records import Record

CODE = "code"
FACTUAL = "factual"
OPEN = "open"

_CODE_WORDS = re.compile(
    r"\b(?:code|program|programming|function|script|python|java|javascript|typescript|c\+\+|c#|golang|rust|sql|mysql|"
    r"query|regex|regular expression|html|css|json|xml|yaml|bash|shell|algorithm|compile|api|class|method|"
    r"implement|debug|snippet|pseudocode)\b|代码|程序|函数|编程|脚本|正则|查询语句|算法|编写一个类|伪代码|调试",
    re.IGNORECASE)
_CODE_SHAPE = re.compile(
    r"```|~~~|^[^\S\n]*(?:def |class |import |from \S+ import|#include|public |private |function |var |let |const |"
    r"SELECT |INSERT |UPDATE |CREATE TABLE|for ?\(|while ?\(|if ?\(|return\b|print\(|console\.log)", re.MULTILINE)
_FACTUAL_EN = re.compile(
    r"^\W*(?:who|whom|whose|when|where|which|what (?:is|are|was|were|year|day|date|country|city|type|kind)|"
    r"how (?:many|much|far|long|old|tall|big)|name|list|identify|find|calculate|compute|solve|convert|evaluate|"
    r"classify|categori[sz]e|determine|translate|is|are|was|were|does|did|do|can|define|spell|count|sort|"
    r"arrange|extract|detect|label|tag|correct|fix|check|verify|select|choose|pick|fill in|complete the|give (?:me )?(?:the|an?) (?:name|date|number|definition))\b",
    re.IGNORECASE)
_FACTUAL_ZH = re.compile(
    r"谁|什么时候|何时|哪[个些里年国位种一]?|多少|几[个年次岁种]|是什么|什么是|计算|求解|求出|换算|转换|解方程|翻译|分类|归类|"
    r"判断|识别|鉴定|查找|找出|列出|列举|定义|属于|排序|排列|提取|纠正|改正|更正|检查|拼写|命名|选择|选出|填空|_{2,}|给出.{0,6}(?:名称|日期|数字|定义)")
_MATH = re.compile(r"\d\s*[-+*/×÷^=<>]\s*\d|[=≠≤≥√∑∫]|方程|equation|solve for|\bx\s*=", re.IGNORECASE)


def task_kind(record: Record) -> str:
    """CODE, FACTUAL or OPEN, from the instruction, input and output.

    >>> task_kind({"instruction": "Write a poem about autumn.", "output": "Leaves fall..."})
    'open'
    >>> task_kind({"instruction": "What is the capital of France?", "output": "Paris."})
    'factual'
    >>> task_kind({"instruction": "写一个函数计算阶乘", "output": "def f(n): ..."})
    'code'
    """
    instruction = str(record.get("instruction") or "")
    given = str(record.get("input") or "")
    output = str(record.get("output") or "")
    if _CODE_WORDS.search(instruction) or _CODE_SHAPE.search(output) or _CODE_SHAPE.search(given):
        return CODE
    if _FACTUAL_EN.search(instruction) or _FACTUAL_ZH.search(instruction) or _MATH.search(instruction + "\n" + given):
        return FACTUAL
    return OPEN


def fields_to_rewrite(record: Record, fields: list[str] | tuple[str, ...], protect_factual: bool = True) -> list[str]:
    """The fields of `fields` that are non-empty strings and may be rewritten in this record.

    >>> fields_to_rewrite({"instruction": "Sort these numbers.", "input": "3 1 2", "output": "1 2 3"},
    ...                   ["instruction", "input", "output"])
    ['instruction']
    """
    rewritable = getattr(record, "rewritable", None)
    if rewritable is not None:  # a TextView (augment/turns.py): every turn of a chat, by kind
        return rewritable(fields, protect_factual)
    chosen = [f for f in fields if isinstance(record.get(f), str) and record[f].strip()]
    if protect_factual and ("output" in chosen or "input" in chosen) and task_kind(record) != OPEN:
        chosen = [f for f in chosen if f not in ("input", "output")]
    return chosen
