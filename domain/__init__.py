"""The ground of the product: its values, calendar, Thai numbers and dates, checks and limits.

Pure: no I/O, no storage, no chat or scheduling library. Everything else stands on it.
"""
