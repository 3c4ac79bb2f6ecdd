"""The `dezero` command's entry point.

Ctrl-C while the command is still importing its modules would end it with a traceback from
inside some import. From the moment this module loads, Ctrl-C ends the command with our one
line and status 130 instead; once the CLI is imported, its own handling takes over.
"""

import os
import signal


def _interrupted(signum, frame):
    os.write(2, b"error: interrupted\n")
    os._exit(130)  # nothing has been done yet that needs cleaning up


_previous = signal.getsignal(signal.SIGINT)
if _previous is signal.default_int_handler:  # not where Ctrl-C is ignored or taken by others
    signal.signal(signal.SIGINT, _interrupted)


def main() -> int:
    from .cli import main as run

    if signal.getsignal(signal.SIGINT) is _interrupted:
        signal.signal(signal.SIGINT, _previous)
    return run()
