"""The sending guard: while a reputation alarm fires, only transactional mail goes out. Pure.

Off by default (``SENDING_GUARD``). The sender reads the states of the reputation alarms
(CloudWatch ``DescribeAlarms`` on ``REPUTATION_ALARM_NAMES``) and asks ``check`` before it
calls SES. Which mail is transactional is the stack's one definition: a stream the
``TransactionalStreams`` parameter lists (``Streams.is_transactional``), the same streams
that carry no unsubscribe link. Password resets and receipts still go out while bulk mail
waits for the rates to recover.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ses_feedback.errors import ReputationGuard
from ses_feedback.model.state import AlarmState


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    firing: tuple[str, ...] = ()  # the alarms that refused it

    def raise_if_refused(self, stream: str) -> None:
        if not self.allowed:
            raise ReputationGuard(
                f"bulk stream '{stream}' is paused while the reputation alarm"
                f"{'s' if len(self.firing) > 1 else ''} {', '.join(self.firing)} "
                f"{'are' if len(self.firing) > 1 else 'is'} in ALARM; mail on a transactional stream "
                "still goes out",
                "stream",
            )


def check(enabled: bool, alarm_states: Mapping[str, AlarmState | None], transactional: bool) -> Verdict:
    """May this message go out now? ``transactional``: its stream is one of the stack's transactional ones.

    Only ALARM refuses. INSUFFICIENT_DATA (SES publishes reputation only above some volume)
    and an unknown state (``None``: the sender could not read the alarm) let mail through:
    the alarm is a warning below AWS's own review level, and a CloudWatch hiccup must not
    stop an application's mail.
    """
    if not enabled or transactional:
        return Verdict(allowed=True)
    firing = tuple(sorted(name for name, state in alarm_states.items() if state is AlarmState.ALARM))
    return Verdict(allowed=not firing, firing=firing)
