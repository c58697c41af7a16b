"""The phone book's number index: which cells hold a number, found with a binary search."""

from __future__ import annotations

import numpy as np


class NumberIndex:
    """Which cells hold each number: E.164 codes to cells (position * fields + field).

    Numbers below 2**35 (every +1 number, most others) are packed with their cell into one
    int64, ``code << 28 | cell``: a plain sort (much faster than an argsort) orders both,
    and a number's cells sit together in row order. Longer numbers, and every number of a
    book with 2**28 cells or more, are kept apart, sorted by number, then cell.
    """

    SHIFT = 28
    LIMIT = 1 << 35  # codes below this fit beside a cell number in 63 bits
    MASK = (1 << SHIFT) - 1

    def __init__(self, numbers: np.ndarray, cells: np.ndarray):
        self.size = len(numbers)
        self.packs = not len(cells) or int(cells.max()) <= self.MASK
        packable = (numbers < self.LIMIT) if self.packs else np.zeros(len(numbers), dtype=bool)
        self._packed = np.sort((numbers[packable] << self.SHIFT) | cells[packable])
        rest_numbers, rest_cells = numbers[~packable], cells[~packable]
        order = np.lexsort((rest_cells, rest_numbers))
        self._numbers, self._cells = rest_numbers[order], rest_cells[order]

    def cells(self, code: int) -> list[int]:
        """The cells holding ``code``, in order ([] if none)."""
        # .item() gives Python ints: comparing numpy scalars costs a ufunc call each.
        if code < self.LIMIT and self.packs:
            packed, shift = self._packed, self.SHIFT
            lo = int(packed.searchsorted(code << shift))
            if lo == len(packed) or packed.item(lo) >> shift != code:
                return []
            if lo + 1 == len(packed) or packed.item(lo + 1) >> shift != code:
                return [packed.item(lo) & self.MASK]
            hi = int(packed.searchsorted((code + 1) << shift))
            return (packed[lo:hi] & self.MASK).tolist()
        lo = int(self._numbers.searchsorted(code))
        hi = int(self._numbers.searchsorted(code, "right"))
        return self._cells[lo:hi].tolist()
