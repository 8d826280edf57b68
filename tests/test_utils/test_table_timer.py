"""The one table formatter and the one timer."""
import pytest

from dualpose.utils.table import format_table
from dualpose.utils.timer import summarize, time_call, time_calls


def test_markdown_and_text_tables_hold_the_same_cells():
    rows = [['Walk', 40.123, 3], ['mean', 41.0, 12]]
    md = format_table(rows, ['action', 'mpjpe', 'n'], style='markdown')
    assert md.splitlines() == ['| action | mpjpe | n |', '|---|---|---|',
                               '| Walk | 40.12 | 3 |', '| mean | 41.00 | 12 |']
    text = format_table(rows, ['action', 'mpjpe', 'n'])
    assert text.splitlines()[2] == 'Walk   | 40.12 |  3'
    with pytest.raises(ValueError, match="style must be 'text' or 'markdown'"):
        format_table(rows, ['a', 'b', 'c'], style='html')


def test_timer_counts_calls_and_takes_the_true_median():
    calls = []
    times = time_calls(lambda: calls.append(1), repeats=3, warmup=2)
    assert len(calls) == 5 and len(times) == 3
    assert all(wall >= 0 and cpu >= 0 for wall, cpu in times)
    synced = []
    time_call(lambda: None, sync=lambda: synced.append(1))
    assert synced == [1]
    # the median of two repeats is their mean, not the larger one
    assert summarize([1.0, 3.0]) == dict(median=2.0, min=1.0, max=3.0)
    assert summarize([5.0, 1.0, 2.0])['median'] == 2.0
    with pytest.raises(ValueError, match='repeats must be >= 1'):
        time_calls(lambda: None, repeats=0)
