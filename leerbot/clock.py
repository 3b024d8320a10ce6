"""One clock for core, chat and the scheduler.

Everything that decides by the time (is a meeting over, is a reminder due, how long is an
answer kept) asks a `Clock`, never `datetime.now` itself, so that a test can set the time and
move it on instead of waiting for it:

- `SystemClock` reads the computer's clock (what `leerbot run` and the console use);
- `FakeClock` stands still until a test moves it (`advance`, `set`); the scheduler listens
  and runs what became due at once.

The `App` owns one clock (`open_app(settings, clock=...)`). The dispatcher hands it to every
command handler (`ctx.clock`) and the scheduler to every job, and both make it the *current*
clock while that work runs, so that core code which was not given `now=` reads the same time
through `leerbot.clock.now()` (a context variable: concurrent work of two apps in one process,
such as tests, each sees its own). Outside such work the current clock is the system's.

What keeps the wall clock, on purpose: log lines, the Discord adapter's count of Discord's
3 seconds (that limit runs on Discord's real clock), the conversion of a due time into a real
timer for APScheduler (`Clock.seconds_until`), and the fake Discord in `leerbot.testing`,
which plays Discord and has its own time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

Listener = Callable[[], None]


class Clock:
    """What time it is (aware, UTC) and how long to wait, in real seconds, until a moment."""

    def now(self) -> datetime:
        raise NotImplementedError

    def __call__(self) -> datetime:
        """`clock()` is `clock.now()` (the scheduler's older signature took a function)."""
        return self.now()

    def seconds_until(self, moment: datetime) -> float | None:
        """Real seconds until this clock shows `moment` (0 when it already does); None when
        only moving the clock by hand can get there (a fake clock)."""
        return max(0.0, (moment - self.now()).total_seconds())

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` whenever the clock is moved by hand; returns how to stop that.
        A system clock is never moved by hand: nothing to listen to."""
        return lambda: None


class SystemClock(Clock):
    """The computer's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FakeClock(Clock):
    """A clock that stands still until it is moved: `advance(minutes=5)`, `set(moment)`.

    Starts at `start` (aware) or at the moment it is made. Moving it forward tells every
    listener (the scheduler arms what became due); it never goes back, as no real clock
    does for the bot (a job's claim would otherwise look older than its due time)."""

    def __init__(self, start: datetime | None = None) -> None:
        moment = start if start is not None else datetime.now(UTC)
        if moment.tzinfo is None:
            raise ValueError("a FakeClock needs an aware start time")
        self._now = moment.astimezone(UTC)
        self._listeners: list[Listener] = []

    def now(self) -> datetime:
        return self._now

    def seconds_until(self, moment: datetime) -> float | None:
        return 0.0 if moment <= self._now else None

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("set the FakeClock to an aware time")
        moment = moment.astimezone(UTC)
        if moment < self._now:
            raise ValueError(f"a clock does not go back ({moment} is before {self._now})")
        self._now = moment
        for listener in list(self._listeners):
            listener()
        return moment

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move on by `delta` or by `days=`, `hours=`, `minutes=`, `seconds=`; returns the
        new time."""
        step = (delta or timedelta()) + timedelta(**parts)
        return self.set(self._now + step)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()})"


SYSTEM = SystemClock()

_current: ContextVar[Clock] = ContextVar("leerbot_clock", default=SYSTEM)


def as_clock(clock: Clock | Callable[[], datetime] | None) -> Clock:
    """A Clock from a Clock, a function that returns the time, or None (the system's)."""
    if clock is None:
        return SYSTEM
    if isinstance(clock, Clock):
        return clock
    return _FunctionClock(clock)


class _FunctionClock(Clock):
    def __init__(self, read: Callable[[], datetime]) -> None:
        self._read = read

    def now(self) -> datetime:
        return self._read()


def current() -> Clock:
    """The clock of the work running now (the app's), or the system's."""
    return _current.get()


def now() -> datetime:
    """What time it is for the work running now: `current().now()`."""
    return _current.get().now()


@contextlib.contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Make `clock` the current one inside the block (for this task and what it starts)."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)
