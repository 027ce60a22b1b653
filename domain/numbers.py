"""Numbers as the official form and the chat show them."""

from __future__ import annotations

from decimal import Decimal


def baht(amount: Decimal) -> str:
    """Money as the form shows it: thousands separators, satang only when there are any."""
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


def percent(value: Decimal) -> str:
    """A percentage with two decimals, as the form shows it."""
    return f"{value:.2f}"
