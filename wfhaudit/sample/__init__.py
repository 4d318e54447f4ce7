"""Synthetic Pemprov Jabar data with planted violations and their ground truth.

``generate_sample(out_dir, *, employees, units, month, seed, fmt) -> SampleInfo``
(``wfhaudit sample`` on the command line).
"""

from wfhaudit.sample.generator import FORMATS, GROUND_TRUTH_COLUMNS, SampleInfo, generate_sample

__all__ = ["FORMATS", "GROUND_TRUTH_COLUMNS", "SampleInfo", "generate_sample"]
