"""The shell side of a device: commands as strings a POSIX shell reads back into the same words.

``ssh`` and ``adb shell`` hand the device's shell one string, so every argument is quoted here
(``shlex.quote``: single quotes, which no shell expands inside), never pasted in: a bundle called
``my model; rm -rf ~`` is one word there. Scripts are fixed text that receive their values as
positional parameters (``sh -c SCRIPT sh ARG...``), so no value is ever part of a script.
Everything is POSIX ``sh`` (dash on Linux, mksh on Android), whatever the login shell is.
"""

from __future__ import annotations

import shlex

from edgecpm.runtime.client_process import PID_MARKER

# Runs "$@" in a session of its own (setsid: its process group is its pid), reports that pid on
# stderr before anything else, and exits with its status (128 + N when killed by signal N).
# The group lets a stop take the command's own children too (tegrastats beside the runner).
BACKGROUND = f"""setsid "$@" &
pid=$!
echo "{PID_MARKER}$pid" >&2
wait "$pid"
"""

# Stops what BACKGROUND started: TERM to the group, then KILL to whatever is left a second later.
STOP = """kill -TERM -"$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null || exit 0
i=0
while [ $i -lt 10 ] && kill -0 "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -KILL -"$1" 2>/dev/null
kill -KILL "$1" 2>/dev/null
exit 0
"""


def sh_command(script: str, args: list[str] = ()) -> str:
    """One string for the device's login shell that runs ``script`` under ``sh`` with ``args`` as
    $1, $2, ...: every word quoted."""
    return shlex.join(["sh", "-c", script, "sh", *map(str, args)])


def join_path(folder: str, name: str) -> str:
    """``folder/name`` on the device (always '/', whatever this machine uses)."""
    return f"{folder.rstrip('/')}/{name}" if folder else name
