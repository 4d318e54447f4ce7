"""The policy: the shipped Jabar default, user files merged over it key by key.

API (keep it stable):

- ``load_policy(path: Path | None = None) -> Policy`` — default merged with the
  user's file; raises ``DataError`` (exit 3) naming the key on an invalid file.
- ``check_policy_file(path) -> Policy`` — validate a file; same errors.
- ``policy_to_toml(policy) -> str`` — the resolved policy as TOML.
- ``Policy``, ``Hours``, ``SpecialHours``, ``WfhPeriod`` in ``policy.model``.
"""

from wfhaudit.policy.model import WEEKDAYS, Hours, Policy, SpecialHours, WfhPeriod

__all__ = ["WEEKDAYS", "Hours", "Policy", "SpecialHours", "WfhPeriod"]
