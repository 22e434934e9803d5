"""From stored steps to the facts a report states. Nothing here measures; it only reads results.

Per target and level the repetitions are summarised by their median, their range and (from three
repetitions on) a 95% confidence interval of the mean (`statistics`, `cells`). With one repetition
the median is the stored value itself, so every table cell can be traced to `results.json`. Every
verdict (winner, breaking point, saturation; `verdicts`) comes with the rule that decided it, and
every sentence (`findings`) with its numbers. Data flows one way: results -> analysis -> report.
"""

from runner.analysis.analysis import Analysis, analyze
from runner.analysis.cells import Cell
from runner.analysis.statistics import Spread, spread, welch_p_value
from runner.analysis.verdicts import Verdict

__all__ = ["Analysis", "Cell", "Spread", "Verdict", "analyze", "spread", "welch_p_value"]
