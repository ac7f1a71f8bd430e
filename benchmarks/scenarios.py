"""The README's example conversations, one per scenario order: what a customer types, in order."""

from __future__ import annotations

CONVERSATIONS: dict[str, list[str]] = {
    "lookup 80000005": ["where is my order 80000005", "li.wei@example.com"],
    "return 80000001": ["I want to return my order 80000001", "li.wei@example.com", "I changed my mind", "yes"],
    "return 80000002": ["can I return order 80000002", "zhang.min@example.com", "there is a quality problem"],
    "return 80000003": ["can i return order 80000003", "wang.fang@example.com", "no thanks"],
    "return 80000004": ["the top-up code doesn't work", "80000004", "wang.fang@example.com"],
    "track 80000006": ["my parcel 80000006 is late", "+86 139 0000 2002", "ok I can wait"],
    "track 80000007": ["the courier lost my parcel 80000007", "chen.jie@example.com", "please reship it"],
    "refund 80000008": ["where is my refund for 80000008", "chen.jie@example.com"],
    "refund 80000009": ["when will I get my money back", "80000009", "liu.yang@example.com"],
    "refund 80000010": ["did the refund for 80000010 complete", "liu.yang@example.com"],
    "lookup 80000011": ["has order 80000011 shipped yet", "13800001001"],
    "lookup 80000012": ["status of order 80000012", "zhang.min@example.com"],
    "refund 80000013": ["why was my refund rejected", "80000013", "chen.jie@example.com"],
    "faq and human": ["what is your return policy", "I want to talk to a human"],
}
