"""The one table formatter of the package: metric logs, benchmark and study reports (plain text
or Markdown, no extra dependency)."""
from numbers import Integral, Real
from typing import Sequence


def _cell(value, float_fmt: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Integral) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, Real):
        return format(float(value), float_fmt)
    return str(value)


def format_table(rows: Sequence[Sequence], header: Sequence[str], float_fmt: str = '.2f',
                 style: str = 'text') -> str:
    """Render rows as an aligned text table.

    Args:
        rows (Sequence[Sequence]): table rows; each has ``len(header)`` cells. Strings are
            printed as they are, integers as integers, other numbers with ``float_fmt``.
        header (Sequence[str]): column titles.
        float_fmt (str): format spec of float cells. Defaults to ``'.2f'``.
        style (str): ``'text'`` (aligned, for logs and terminals) or ``'markdown'`` (a GitHub
            table, for docs and reports). Defaults to ``'text'``.

    Returns:
        str: the table, one line per row, a rule under the header; the first column is
        left-aligned, the others right-aligned.

    Example:
        >>> print(format_table([['Walking', 40.123], ['mean', 41.0]], ['action', 'mpjpe']))
        action  | mpjpe
        --------+------
        Walking | 40.12
        mean    | 41.00
    """
    if style not in ('text', 'markdown'):
        raise ValueError(f"format_table: style must be 'text' or 'markdown', got {style!r}")
    header = [str(h) for h in header]
    cells = []
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f'format_table: row {i} has {len(row)} cells, the header has '
                             f'{len(header)}')
        cells.append([_cell(v, float_fmt) for v in row])
    if style == 'markdown':
        return '\n'.join(['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
                         + ['| ' + ' | '.join(r) + ' |' for r in cells])
    widths = [max([len(header[c])] + [len(r[c]) for r in cells]) for c in range(len(header))]

    def line(values):
        parts = [values[0].ljust(widths[0])] + [
            v.rjust(w) for v, w in zip(values[1:], widths[1:])]
        return ' | '.join(parts).rstrip()

    rule = '-+-'.join('-' * w for w in widths)
    return '\n'.join([line(header), rule] + [line(r) for r in cells])
