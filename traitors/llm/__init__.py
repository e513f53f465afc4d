"""The model gateway over litellm, the fake model for tests, and the embedded local model.

Nothing here imports litellm at import time: it is imported on the first model call.
"""

from traitors.llm.gateway import CallLog, Gateway, ModelRequest, ModelResponse, ReplayMiss

__all__ = ["CallLog", "Gateway", "ModelRequest", "ModelResponse", "ReplayMiss"]
