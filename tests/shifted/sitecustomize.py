"""Loaded (through PYTHONPATH) only by the test run whose runner is shifted a
year ahead with libfaketime (scripts/test.sh, "date bombs").

libfaketime 0.9.10, Debian 12's, breaks clock_nanosleep(CLOCK_MONOTONIC,
TIMER_ABSTIME) when FAKETIME_DONT_FAKE_MONOTONIC=1: it moves the absolute
monotonic deadline by the offset and the kernel answers EINVAL (libfaketime
issue #426). Python 3.11's time.sleep() sleeps that way. Here it sleeps with
select(), whose timeout is relative, measured on the (real) monotonic clock.
Nothing else is changed: the wall clock stays faked, as intended.
"""
import select
import time


def _sleep(seconds):
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        select.select([], [], [], left)


time.sleep = _sleep
