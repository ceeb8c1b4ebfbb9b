"""Export's names for the record model's conversions (datacraft.records): the forms LLaMA-Factory reads.

Every conversion goes through the canonical `Conversation` (system prompt, tools, role-tagged
turns, preference answers). Alpaca prompts are joined exactly as LLaMA-Factory joins them:
`instruction + "\\n" + input`.
"""

from __future__ import annotations

from datacraft.records import (
    ASSISTANT,
    FORMS,
    FUNCTION,
    OBSERVATION,
    OPENAI_ROLES,
    SHAREGPT_TAGS,
    USER,
    Conversation,
    Record,
    alpaca_conversation,
    conversation,
    conversation_text,
    record_format,
    to_alpaca,
    to_form,
    to_openai,
    to_sharegpt,
)

OUTPUT_FORMATS = FORMS
Chat = Conversation
to_chat = conversation
alpaca_chat = alpaca_conversation
chat_to_alpaca, chat_to_sharegpt, chat_to_openai = to_alpaca, to_sharegpt, to_openai
convert = to_form
chat_text = conversation_text

__all__ = ["ASSISTANT", "FUNCTION", "OBSERVATION", "OPENAI_ROLES", "OUTPUT_FORMATS", "SHAREGPT_TAGS", "USER",
           "Chat", "alpaca_to_openai", "alpaca_to_sharegpt", "chat_text", "convert", "record_format", "to_chat"]


def alpaca_to_sharegpt(record: Record) -> Record:
    """Convert one Alpaca record to ShareGPT.

    >>> alpaca_to_sharegpt({"instruction": "Translate", "input": "你好", "output": "Hello", "system": "Be brief"})
    {'conversations': [{'from': 'human', 'value': 'Translate\\n你好'}, {'from': 'gpt', 'value': 'Hello'}], 'system': 'Be brief'}
    """
    return to_sharegpt(alpaca_conversation(record))


def alpaca_to_openai(record: Record) -> Record:
    """Convert one Alpaca record to OpenAI chat.

    >>> alpaca_to_openai({"instruction": "Hi", "input": "", "output": "Hello", "history": [["1+1?", "2"]]})
    {'messages': [{'role': 'user', 'content': '1+1?'}, {'role': 'assistant', 'content': '2'}, {'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello'}]}
    """
    return to_openai(alpaca_conversation(record))
