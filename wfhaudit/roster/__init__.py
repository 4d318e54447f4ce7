"""Roster check before the month and the consolidated roster (``roster check`` / ``export``)."""

from wfhaudit.roster.check import PROBLEMS, RosterCheck, check_roster, safe_unit
from wfhaudit.roster.export import export_roster

__all__ = ["PROBLEMS", "RosterCheck", "check_roster", "export_roster", "safe_unit"]
