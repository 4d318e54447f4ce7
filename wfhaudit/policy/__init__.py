"""The policy: the shipped Jabar default, user files merged over it key by key.

API (keep it stable):

- ``load_policy(path: Path | None = None) -> Policy`` — default merged with the
  user's file; raises ``DataError`` (exit 3) naming the key on an invalid file.
- ``check_policy_file(path) -> Policy`` — validate a file; same errors.
- ``replaced_defaults(path, policy=None) -> list[str]`` — the warnings of
  ``policy check``: default arrays the file replaces, dropping entries.
- ``policy_to_toml(policy) -> str`` — the resolved policy as TOML.
- ``Policy``, ``Hours``, ``SpecialHours``, ``WfhPeriod`` in ``policy.model``.
- ``sanction_tier(equivalent_days)`` in ``policy.sanctions`` (PP 94/2021 scale).
"""

from wfhaudit.policy.loader import check_policy_file, load_policy, replaced_defaults
from wfhaudit.policy.model import WEEKDAYS, Hours, Policy, SpecialHours, WfhPeriod
from wfhaudit.policy.sanctions import TIERS, SanctionTier, sanction_tier, tier_for
from wfhaudit.policy.toml_out import policy_to_toml

__all__ = [
    "WEEKDAYS",
    "TIERS",
    "Hours",
    "Policy",
    "SpecialHours",
    "SanctionTier",
    "WfhPeriod",
    "check_policy_file",
    "load_policy",
    "policy_to_toml",
    "replaced_defaults",
    "sanction_tier",
    "tier_for",
]
