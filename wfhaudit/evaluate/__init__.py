"""The periodic evaluation of the 50:50 scheme (``wfhaudit evaluate``, docs/evaluation.md).

``evaluate(store, span, policy, by=..., as_of=..., unit=...)`` audits the span
bucket by bucket (month or ISO week) with the audit engine, reduces each
bucket's employee-day facts to the measures and the within-person WFH-WFO
comparison, and returns the evaluation model that every format renders.
"""

from wfhaudit.evaluate.model import evaluate

__all__ = ["evaluate"]
