"""Fixtures shared by the attention op tests."""
import logging

import pytest
from mmengine.logging import MMLogger

import dualpose.ops.attention as fa


class _Records(logging.Handler):

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def log_lines():
    """Messages the ops log through mmengine's current logger, with a fresh once-only log;
    the once-only log and the CUDA build state are restored afterwards."""
    logger = MMLogger.get_current_instance()
    handler = _Records()
    logger.addHandler(handler)
    saved = (set(fa._logged), fa._BuildState.tried, fa._BuildState.module, fa._BuildState.error)
    fa._logged.clear()
    yield handler.messages
    logger.removeHandler(handler)
    fa._logged.clear()
    fa._logged.update(saved[0])
    fa._BuildState.tried, fa._BuildState.module, fa._BuildState.error = saved[1:]
