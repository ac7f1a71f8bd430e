"""What the gateway and its channels say themselves, in English and Chinese (traditional converted).

The bot's own answers come from Rasa in the conversation's language; these are the gateway's
notices (queue, agent joined, outage), the channels' texts (Telegram) and the agents' summaries.
"""

from __future__ import annotations

from bot.language import base, to_traditional

TEXTS: dict[str, dict[str, str]] = {
    "queued": {
        "en": "A colleague will take over: you're number {position} in the queue. "
        "Anything you write here reaches them.",
        "zh": "马上为您转接人工客服：您目前排在第 {position} 位。您在这里发送的消息都会转给客服。",
    },
    "no_agent": {
        "en": "No agent is online right now. I've left ticket {ticket} for our team, and you'll get an answer "
        "within 48 hours. Anything you write here reaches them.",
        "zh": "目前没有人工客服在线。我已为您创建工单 {ticket}，客服团队会在48小时内答复您。"
        "您在这里发送的消息都会转给他们。",
    },
    "bot_down": {
        "en": "Sorry, our assistant is not available right now.",
        "zh": "抱歉，智能助手暂时无法使用。",
    },
    "agent_joined": {
        "en": "{agent} joined the conversation.",
        "zh": "人工客服 {agent} 已加入对话。",
    },
    "agent_resolved": {
        "en": "{agent} left: the conversation is resolved. How did we do?",
        "zh": "{agent} 已结束本次服务，问题已解决。请问您对我们的服务满意吗？",
    },
    "agent_handed_back": {
        "en": "{agent} handed you back to the assistant.",
        "zh": "{agent} 已将您转回智能助手。",
    },
    "agent_transferred": {
        "en": "{agent} is taking over from here.",
        "zh": "接下来由 {agent} 为您服务。",
    },
    "transferred_to_team": {
        "en": "I'm passing you to a colleague who specialises in this; please stay here.",
        "zh": "正在为您转接更专业的同事，请稍候。",
    },
    "rate_prompt": {"en": "Please rate this conversation:", "zh": "请为本次服务评分："},
    "rated": {"en": "Thank you for your rating!", "zh": "感谢您的评价！"},
    "rate_not_resolved": {
        "en": "Only a resolved conversation can be rated.",
        "zh": "对话结束后才能评分。",
    },
    "not_text": {
        "en": "Sorry, I can only read text here. Please describe it in words, or ask for a person with /human.",
        "zh": "抱歉，这里只能识别文字。请用文字描述，或发送 /human 转人工客服。",
    },
    "unlinked": {
        "en": "Done: next time I'll ask you to confirm your order again.",
        "zh": "已解除绑定：下次我会再请您验证订单。",
    },
    "no_link": {"en": "There was no link to remove.", "zh": "没有需要解除的绑定。"},
    # Summaries of the gateway's own escalations, for agents (bot/contract.py Handoff.summary_zh).
    "summary_fallback": {
        "en": "The bot did not understand two messages in a row. Last: {last!r}",
        "zh": "机器人连续两次没有理解客户的消息。最后一条：「{last}」",
    },
    "summary_angry": {
        "en": "Angry wording (score {score}, signals: {signals}). Last: {last!r}",
        "zh": "客户措辞激烈（评分 {score}，信号：{signals}）。最后一条：「{last}」",
    },
    "summary_bot_down": {"en": "Rasa did not answer.", "zh": "Rasa 没有响应。"},
}


def say(language: str | None, key: str, **params: object) -> str:
    """The notice `key` in the conversation's language: en, zh, or zh-Hant (converted from simplified)."""
    text = TEXTS[key][base(language)].format(**params)
    return to_traditional(text) if language == "zh-Hant" else text


def both(key: str, **params: object) -> tuple[str, str]:
    """The English and the Chinese text, for what agents read in either language."""
    return TEXTS[key]["en"].format(**params), TEXTS[key]["zh"].format(**params)
