"""Secrets never reach a log line, whatever way they get into one."""

from __future__ import annotations

import logging

import pytest

from bot.logs import MASK, RedactSecrets

TOKEN = "123456:AAE-secret_Token"


@pytest.fixture
def captured() -> tuple[logging.Logger, list[str]]:
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep()
    handler.addFilter(RedactSecrets([TOKEN, "s3cret", ""]))
    logger = logging.getLogger("test.redaction")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, lines


def test_secrets_in_messages_arguments_and_tracebacks_are_masked(
    captured: tuple[logging.Logger, list[str]],
) -> None:
    logger, lines = captured
    logger.info("POST https://api.telegram.org/bot%s/getMe", TOKEN)
    logger.warning(f"direct {TOKEN} and s3cret")
    try:
        raise RuntimeError(f"failed for https://api.telegram.org/bot{TOKEN}/sendMessage")
    except RuntimeError:
        logger.exception("sending failed")
    text = "\n".join(lines)
    assert TOKEN not in text
    assert "s3cret" not in text
    assert text.count(MASK) >= 4
    assert "sendMessage" in text, "the rest of the line is kept"


def test_lines_without_secrets_are_unchanged(captured: tuple[logging.Logger, list[str]]) -> None:
    logger, lines = captured
    logger.info("handled %d updates", 3)
    assert lines == ["handled 3 updates"]
