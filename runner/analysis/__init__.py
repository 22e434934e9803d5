"""From stored steps to the facts a report states. Nothing here measures; it only reads results.

Per target and level the valid repetitions (`left_out`: a step judged invalid is left out and
named) are summarised by their median, their range and (from three repetitions on) a 95%
confidence interval of the mean (`statistics`, `cells`). With one repetition the median is the
stored value itself, so every table cell can be traced to `results.json`. Every verdict (winner,
`verdicts`; breaking point, peak and knee, decided together in `curve`) comes with the rule that
decided it, and every sentence (`findings`) with its numbers. Data flows one way:
results -> analysis -> report.
"""

from runner.analysis.analysis import Analysis, analyze
from runner.analysis.cells import Cell
from runner.analysis.curve import Curve
from runner.analysis.significance import welch_p_value
from runner.analysis.statistics import Spread, spread
from runner.analysis.verdicts import Verdict

__all__ = ["Analysis", "Cell", "Curve", "Spread", "Verdict", "analyze", "spread", "welch_p_value"]
