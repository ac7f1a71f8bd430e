"""Every text the actions write themselves, in English and Chinese: `say(lang, key, **params)`.

Responses live in domain.yml; this catalogue holds what the actions compose in code (order and
tracking texts, button titles, status words, masks, handoff summaries). Keys are dotted by topic;
word groups (`order_status.paid`) are read with `word`, which falls back to the code itself.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["en", "zh"]

PHRASES: dict[str, dict[Lang, str]] = {
    # --- shared: buttons, punctuation, fallbacks ------------------------------------------------
    "button.retry": {"en": "Try again", "zh": "重试"},
    "button.human": {"en": "Talk to a person", "zh": "转人工客服"},
    "button.no_thanks": {"en": "No, thanks", "zh": "不用了，谢谢"},
    "button.return_item": {"en": "Return an item", "zh": "退货"},
    "button.appeal": {"en": "Appeal with a person", "zh": "找人工客服申诉"},
    "stop": {"en": ".", "zh": "。"},
    "list_sep": {"en": ", ", "zh": "、"},
    "unknown": {"en": "unknown", "zh": "未知"},
    "phone_mask": {"en": "the phone ending {last4}", "zh": "尾号{last4}的手机"},
    # --- payment methods ------------------------------------------------------------------------
    "payment.alipay": {"en": "Alipay", "zh": "支付宝"},
    "payment.wechat_pay": {"en": "WeChat Pay", "zh": "微信支付"},
    "payment.card": {"en": "bank card", "zh": "银行卡"},
    "payment.original": {"en": "original payment method ({name})", "zh": "原支付方式（{name}）"},
    # --- order lookup (actions/orders.py) -------------------------------------------------------
    "order_status.pending_payment": {"en": "waiting for payment", "zh": "等待付款"},
    "order_status.paid": {"en": "paid and being prepared; it has not shipped yet", "zh": "已付款，正在备货，尚未发货"},
    "order_status.shipped": {"en": "on its way", "zh": "正在配送途中"},
    "order_status.delivered": {"en": "delivered", "zh": "已送达"},
    "order_status.cancelled": {"en": "cancelled", "zh": "已取消"},
    "order.head": {
        "en": "Order {number}, placed {placed}, is {status}.",
        "zh": "订单{number}于{placed}下单，{status}。",
    },
    "order.item": {"en": "{name} × {quantity}: {price}", "zh": "{name} × {quantity}：{price}"},
    "order.total": {"en": "Total {total}", "zh": "合计{total}"},
    "order.paid": {"en": ", paid by {method} on {date}", "zh": "，于{date}用{method}付款"},
    "order.ships_to": {"en": ". Ships to {city}", "zh": "，寄往{city}"},
    "order.cancelled": {"en": "Cancelled on {date}: {reason}", "zh": "已于{date}取消：{reason}"},
    "order.no_reason": {"en": "no reason given", "zh": "未说明原因"},
    "order.delivered": {"en": "Delivered on {date}.", "zh": "已于{date}送达。"},
    "order.shipment": {"en": "Shipment: {line}", "zh": "包裹：{line}"},
    "order.return": {"en": "Return {number}: {status}.", "zh": "退货{number}：{status}。"},
    "order.refund": {"en": "Refund {number} of {amount}: {stage}.", "zh": "退款{number}（{amount}）：{stage}。"},
    "return_status.requested": {"en": "requested", "zh": "已申请"},
    "return_status.approved": {"en": "approved", "zh": "已批准"},
    "return_status.received": {"en": "received", "zh": "已收到退货"},
    "return_status.completed": {"en": "completed", "zh": "已完成"},
    "return_status.rejected": {"en": "rejected", "zh": "已拒绝"},
    # The refund's stage in an order's summary (the refund status text says it at length, below).
    "refund_step.requested": {"en": "requested", "zh": "已申请"},
    "refund_step.under_review": {"en": "under review", "zh": "审核中"},
    "refund_step.approved": {"en": "approved", "zh": "已批准"},
    "refund_step.processing": {"en": "processing", "zh": "退款处理中"},
    "refund_step.completed": {"en": "completed", "zh": "已完成"},
    "refund_step.rejected": {"en": "rejected", "zh": "已拒绝"},
    # --- shipments and tracking (actions/orders.py, actions/logistics.py) ------------------------
    "shipment_status.label_created": {"en": "label created", "zh": "已打印面单，待揽收"},
    "shipment_status.in_transit": {"en": "in transit", "zh": "运输中"},
    "shipment_status.out_for_delivery": {"en": "out for delivery", "zh": "派送中"},
    "shipment_status.delivered": {"en": "delivered", "zh": "已签收"},
    "shipment_status.lost": {"en": "lost", "zh": "已丢失"},
    "shipment_status.damaged": {"en": "damaged", "zh": "已损坏"},
    "shipment_status.returned_to_sender": {"en": "returned to sender", "zh": "已退回发件人"},
    "shipment.head": {
        "en": "{carrier}, tracking number {tracking}: {status}",
        "zh": "{carrier}，运单号{tracking}：{status}",
    },
    "shipment.expected": {"en": ", expected {date}", "zh": "，预计{date}送达"},
    "shipment.last_scan": {
        "en": ". Latest scan: {description}, {location}, {at}",
        "zh": "。最新扫描：{description}，{location}，{at}",
    },
    "tracking.cancelled": {
        "en": "Order {number} was cancelled, so nothing was shipped.",
        "zh": "订单{number}已取消，因此没有发货。",
    },
    "tracking.virtual": {
        "en": "Order {number} holds virtual goods: the code was sent to you, no parcel.",
        "zh": "订单{number}是虚拟商品：兑换码已发送给您，没有包裹。",
    },
    "tracking.not_shipped": {
        "en": "Order {number} has not been handed to a carrier yet; tracking starts once it ships.",
        "zh": "订单{number}还没有交给快递公司；发货后即可查询物流。",
    },
    "tracking.head": {
        "en": "Order {number}{items}, {carrier} parcel {tracking}: {status}.",
        "zh": "订单{number}{items}，{carrier}包裹{tracking}：{status}。",
    },
    "tracking.event": {"en": "• {at}: {description} ({location})", "zh": "• {at}：{description}（{location}）"},
    "tracking.problem": {"en": "{apology} {detail}", "zh": "{apology}{detail}"},
    "tracking.new_estimate": {"en": "New estimated delivery: {date}.", "zh": "新的预计送达日期：{date}。"},
    "tracking.expected": {"en": "Expected delivery: {date}.", "zh": "预计送达日期：{date}。"},
    "tracking.change_allowed": {
        "en": "The delivery time or address can still be changed: a person can do that for you.",
        "zh": "配送时间或地址仍可修改：人工客服可以为您办理。",
    },
    "tracking.remedies": {"en": "Here is what I can do:", "zh": "我可以为您这样处理："},
    "apology.delayed": {"en": "I'm sorry, your parcel is delayed.", "zh": "很抱歉，您的包裹延误了。"},
    "apology.lost": {"en": "I'm very sorry.", "zh": "非常抱歉。"},
    "apology.other": {"en": "I'm sorry.", "zh": "很抱歉。"},
    "remedy.wait": {"en": "I'll wait", "zh": "我再等等"},
    "remedy.reship": {"en": "Send it again", "zh": "重新发货"},
    "remedy.refund": {"en": "Refund me", "zh": "给我退款"},
    "remedy.human": {"en": "Talk to a person", "zh": "转人工客服"},
    "wanted.wait": {"en": "to wait", "zh": "继续等待"},
    "wanted.reship": {"en": "a new parcel sent", "zh": "补发新包裹"},
    "wanted.refund": {"en": "a refund", "zh": "退款"},
    "parcel_problem.delayed": {"en": "delayed", "zh": "延误"},
    "parcel_problem.lost": {"en": "lost", "zh": "丢失"},
    "parcel_problem.damaged": {"en": "damaged", "zh": "损坏"},
    "parcel_problem.returned_to_sender": {"en": "returned to sender", "zh": "退回发件人"},
    "remedy.ticket": {
        "en": "Parcel {problem}: {detail} The customer asks for {wanted}.",
        "zh": "包裹{problem}：{detail}客户要求{wanted}。",
    },
    # --- refunds (actions/refunds.py) -----------------------------------------------------------
    "refund_stage.requested": {"en": "requested", "zh": "已提交申请"},
    "refund_stage.under_review": {"en": "under review", "zh": "正在审核"},
    "refund_stage.approved": {"en": "approved", "zh": "已批准"},
    "refund_stage.processing": {"en": "being paid out", "zh": "正在退回"},
    "refund_stage.completed": {"en": "completed", "zh": "已完成"},
    "refund_stage.rejected": {"en": "rejected", "zh": "已被拒绝"},
    "refund.head": {
        "en": "Refund {number} of {amount} for order {order} is {stage}.",
        "zh": "订单{order}的退款{number}（{amount}）{stage}。",
    },
    "refund.history": {"en": "• {stage}: {at}", "zh": "• {stage}：{at}"},
    "refund.in_review": {
        "en": "The review finishes by {review_due} (48 hours at most); once approved, the money is back on your "
        "{method} within 7 working days, by {expected} at the latest.",
        "zh": "审核将在{review_due}前完成（最长48小时）；批准后，款项将在7个工作日内退回您的{method}，"
        "最晚{expected}到账。",
    },
    "refund.approved": {
        "en": "Expected on your {method} by {expected} (7 working days after approval).",
        "zh": "预计{expected}前退回您的{method}，即批准后7个工作日内。",
    },
    "refund.completed": {
        "en": "The money went back to your {method} on {date}.",
        "zh": "款项已于{date}退回您的{method}。",
    },
    "refund.rejected": {
        "en": "Reason: {reason}\nIf you disagree, a person can review your appeal.",
        "zh": "原因：{reason}\n如有异议，人工客服可以复核您的申诉。",
    },
    "refund.none": {
        "en": "There is no refund on order {number}. If you'd like to send something back, I can check that.",
        "zh": "订单{number}没有退款。如果您想退货，我可以帮您查看。",
    },
    # --- returns (actions/returns.py) -----------------------------------------------------------
    "return_reason.no_reason": {"en": "Return without a reason", "zh": "无理由退货"},
    "return_reason.quality": {"en": "Report a quality problem", "zh": "反馈质量问题"},
    "issue.defective": {"en": "It's defective", "zh": "商品有缺陷"},
    "issue.damaged_in_transit": {"en": "It arrived damaged", "zh": "收到时已损坏"},
    "issue.not_as_described": {"en": "Not as described", "zh": "与描述不符"},
    "issue.invalid_code": {"en": "The code doesn't work", "zh": "兑换码无法使用"},
    "return.head": {"en": "Returns for order {number}:", "zh": "订单{number}的退货情况："},
    "return.item_allowed": {
        "en": "{name}: can go back without a reason. {reason}",
        "zh": "{name}：可以无理由退货。{reason}",
    },
    "return.conditions": {"en": "It must be {conditions}.", "zh": "须满足：{conditions}。"},
    "return.item_refused": {"en": "{name}: {reason}", "zh": "{name}：{reason}"},
    "return.quality": {"en": "Quality problem: {reason}", "zh": "质量问题：{reason}"},
    "return.start": {"en": "Would you like to start a return?", "zh": "要开始办理退货吗？"},
    "return.warranty": {"en": "A person can help with a warranty repair.", "zh": "人工客服可以帮您办理保修维修。"},
    "return.ship_back": {"en": "Please send the items back by {date}.", "zh": "请在{date}前寄回商品。"},
    "return.nothing_to_send": {"en": "Nothing needs to be sent back.", "zh": "无需寄回任何商品。"},
    # --- complaints (actions/complaints.py) -----------------------------------------------------
    "category.product_quality": {"en": "product quality", "zh": "商品质量"},
    "category.delivery": {"en": "delivery", "zh": "物流配送"},
    "category.service_attitude": {"en": "service attitude", "zh": "服务态度"},
    "category.refund": {"en": "refund", "zh": "退款"},
    "category.fraud_security": {"en": "fraud security", "zh": "欺诈与账户安全"},
    "category.other": {"en": "other", "zh": "其他"},
    "security.description": {"en": "Security problem reported.", "zh": "客户报告了账户安全问题。"},
    # --- fallback suggestions (actions/fallback.py) ---------------------------------------------
    "suggest.order_status": {"en": "Check an order", "zh": "查询订单"},
    "suggest.track_shipment": {"en": "Track a parcel", "zh": "查询物流"},
    "suggest.return_request": {"en": "Return an item", "zh": "退货"},
    "suggest.refund_status": {"en": "Where is my refund", "zh": "我的退款到哪了"},
    "suggest.complaint": {"en": "Make a complaint", "zh": "我要投诉"},
    # --- handoff summary for agents (actions/handoff.py) ----------------------------------------
    "summary.intents": {"en": "Intents: {intents}.", "zh": "意图：{intents}。"},
    "summary.order": {"en": "Order: {order}.", "zh": "订单：{order}。"},
    "summary.verified": {"en": "Verified: yes, customer {customer}.", "zh": "已验证：是，客户{customer}。"},
    "summary.not_verified": {"en": "Verified: no.", "zh": "已验证：否。"},
    "summary.slots": {"en": "Slots: {slots}.", "zh": "{slots}。"},
    "summary.slot": {"en": "{name}={value}", "zh": "{name}：{value}"},
    "summary.sep": {"en": ", ", "zh": "；"},
    "summary.locked": {"en": "Verification failed 3 times.", "zh": "验证已失败3次。"},
    "summary.chinese": {"en": "The customer writes Chinese.", "zh": "客户使用中文。"},
    "none": {"en": "none", "zh": "无"},
    "slot.request": {"en": "request", "zh": "请求"},
    "slot.return_reason": {"en": "return_reason", "zh": "退货原因"},
    "slot.quality_issue": {"en": "quality_issue", "zh": "质量问题"},
    "slot.complaint_category": {"en": "complaint_category", "zh": "投诉类别"},
    "slot.remedy": {"en": "remedy", "zh": "处理方式"},
    "request.order_status": {"en": "order_status", "zh": "查询订单"},
    "request.track": {"en": "track", "zh": "查询物流"},
    "request.return": {"en": "return", "zh": "退货"},
    "request.refund": {"en": "refund", "zh": "退款"},
    "request.complaint": {"en": "complaint", "zh": "投诉"},
    "request.security": {"en": "security", "zh": "账户安全"},
}


def say(lang: Lang, key: str, **params: object) -> str:
    """The phrase `key` in `lang`, its `{placeholders}` filled from `params`."""
    return PHRASES[key][lang].format(**params)


def word(lang: Lang, group: str, code: str) -> str:
    """The word for a code (`word("zh", "order_status", "paid")`); an unknown code reads as itself."""
    phrase = PHRASES.get(f"{group}.{code}")
    return phrase[lang] if phrase else code.replace("_", " ")


def button(lang: Lang, key: str, payload: str) -> dict[str, str]:
    """A button whose title is the phrase `key`."""
    return {"title": say(lang, key), "payload": payload}


def join(lang: Lang, items: list[str]) -> str:
    """A list in a sentence: 'a, b' or 'a、b'."""
    return say(lang, "list_sep").join(items)


def sentences(lang: Lang, parts: list[str]) -> str:
    """Sentences run together: a space between English ones, none between Chinese ones."""
    return ("" if lang == "zh" else " ").join(p for p in parts if p)
