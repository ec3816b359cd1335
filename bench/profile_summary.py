"""Summarise a py-spy raw (collapsed stacks) file: `python -m bench.profile_summary FILE [substring ...]`.

Prints the functions with the most samples on top of the stack (self) and, for frames whose text contains one
of the substrings (default: queue_server), the share of samples in which they appear anywhere (inclusive).
"""
from __future__ import annotations

import sys
from collections import Counter


def summarise(path: str, wanted: list[str], top: int = 25) -> None:
    own: Counter = Counter()
    incl: Counter = Counter()
    total = 0
    for line in open(path, encoding="utf-8"):
        stack, _, n = line.rstrip().rpartition(" ")
        if not n.isdigit():
            continue
        total += int(n)
        frames = stack.split(";")
        own[frames[-1]] += int(n)
        for f in set(frames):
            incl[f] += int(n)
    print(f"{path}: {total} samples\n-- self")
    for f, n in own.most_common(top):
        print(f"{100 * n / total:5.1f}%  {f[:140]}")
    print("-- inclusive")
    shown = 0
    for f, n in incl.most_common():
        if any(w in f for w in wanted):
            print(f"{100 * n / total:5.1f}%  {f[:140]}")
            shown += 1
            if shown >= top * 2:
                break


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    summarise(sys.argv[1], sys.argv[2:] or ["queue_server"])
