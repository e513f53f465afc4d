"""The model gateway over litellm, the fake model for tests, and the embedded local model.

Nothing here imports litellm at import time: it is imported on the first model call. The
package depends on the store (calls are recorded in ``traitors.store.calls``) and on no
episode code.
"""

from traitors.llm.gateway import Gateway, ModelRequest, ModelResponse
from traitors.store.calls import CallLog, ReplayMiss

__all__ = ["CallLog", "Gateway", "ModelRequest", "ModelResponse", "ReplayMiss"]
