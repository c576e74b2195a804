"""X-Ray tracing that costs nothing until a traced request needs it.

Powertools' ``Tracer()`` imports the X-Ray SDK and patches every library the SDK knows as
soon as it is built, even when tracing is off: at import, in every container. This tracer
decides on the handler's first call, from the same rules Powertools applies, and only then:

- tracing on (in Lambda, ``POWERTOOLS_TRACE_DISABLED`` not set; the template's
  ``Tracing: Active`` gives each request its trace header): builds Powertools' ``Tracer``,
  which imports the SDK and patches botocore, and wraps the handler in its
  ``capture_lambda_handler`` (the ``## lambda_handler`` subsegment, ``ColdStart`` and
  ``Service`` annotations, boto3 calls as subsegments);
- tracing off (``POWERTOOLS_TRACE_DISABLED=true``, outside Lambda, ``sam local``): calls the
  handler as it is, and the SDK is never imported.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

Handler = TypeVar("Handler", bound=Callable[..., Any])

# The only library these functions do I/O through; patching it alone traces every AWS call
# and spares the SDK's patches of libraries the functions never use.
PATCHED_MODULES = ("botocore",)

_TRUTHY = {"1", "y", "yes", "t", "true", "on"}


def tracing_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Powertools' own rule (``Tracer._is_tracer_disabled``), without importing the SDK."""
    if environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUTHY:
        return False
    in_lambda = bool(environ.get("LAMBDA_TASK_ROOT"))
    emulated = bool(environ.get("AWS_SAM_LOCAL") or environ.get("AWS_CHALICE_CLI_MODE"))
    return in_lambda and not emulated


class LazyTracer:
    """``capture_lambda_handler`` as Powertools has it, with the Tracer built on first use."""

    def __init__(self) -> None:
        self._decided = False
        self._tracer: Tracer | None = None

    def tracer(self) -> Tracer | None:
        """Powertools' Tracer when tracing is on (built once per container), else None."""
        if not self._decided:
            if tracing_enabled():
                from aws_lambda_powertools import Tracer  # noqa: PLC0415  # the SDK, only when traced

                self._tracer = Tracer(patch_modules=PATCHED_MODULES)
            self._decided = True
        return self._tracer

    def reset(self) -> None:
        """Decide again on the next call (tests that turn tracing on or off)."""
        self._decided = False
        self._tracer = None

    def capture_lambda_handler(
        self, *, capture_response: bool | None = None, capture_error: bool | None = None
    ) -> Callable[[Handler], Handler]:
        def decorate(lambda_handler: Handler) -> Handler:
            traced: list[tuple[Tracer, Callable[..., Any]]] = []  # (tracer, handler it wraps)

            @functools.wraps(lambda_handler)
            def handler(event: Any, context: Any) -> Any:
                tracer = self.tracer()
                if tracer is None:
                    return lambda_handler(event, context)
                if not traced or traced[0][0] is not tracer:
                    wrapped = tracer.capture_lambda_handler(
                        lambda_handler, capture_response=capture_response, capture_error=capture_error
                    )
                    traced[:] = [(tracer, wrapped)]
                return traced[0][1](event, context)

            return cast(Handler, handler)

        return decorate
