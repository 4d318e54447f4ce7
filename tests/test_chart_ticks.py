"""Chart tick labels: as many decimals as the ticks need, in the report language's format."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from wfhaudit.report.charts import Ticks, tick_decimals  # noqa: E402
from wfhaudit.report.i18n import catalogue  # noqa: E402


@pytest.mark.parametrize(
    ("ticks", "decimals"),
    [
        ([0.0, 20.0, 40.0, 100.0], 0),
        ([99.7, 99.8, 99.9, 100.0], 1),
        ([0.0, 0.05, 0.1, 0.15000000000000002], 2),  # as MaxNLocator makes them
        ([0.0, 0.25, 0.5], 2),
        ([], 0),
    ],
)
def test_fewest_decimals_that_write_every_tick(ticks, decimals):
    assert tick_decimals(ticks) == decimals


def test_a_zoomed_percent_axis_labels_every_tick_differently():
    # an absence rate between 0.1% and 0.3%: a fixed "0%" labelled every tick the same
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [0.12, 0.27, 0.19])
    ax.yaxis.set_major_formatter(Ticks(catalogue("id")))
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    plt.close(fig)
    assert len(labels) >= 3 and len(set(labels)) == len(labels)
    assert "0,14%" in labels and all(label.endswith("%") for label in labels)


def test_plain_numbers_follow_the_language():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0.0, 0.06])
    formatter = Ticks(catalogue("en"), "")
    ax.yaxis.set_major_formatter(formatter)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    plt.close(fig)
    assert "0.02" in labels and not any("," in label for label in labels)
