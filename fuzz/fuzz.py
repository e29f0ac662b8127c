"""Run one fuzz target under atheris (libFuzzer), or replay every committed regression input.

    python -m fuzz.fuzz TARGET CORPUS_DIR [libFuzzer options]   # a campaign on one target
    python -m fuzz.fuzz --replay                                 # fuzz/regressions/*/*, once
    python -m fuzz.fuzz --list                                   # the target names

fuzz/run drives both; fuzz/README.md says how to run a long campaign.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

MAX_SECONDS = 5.0  # per input, the issue 16 bound
MAX_MEGABYTES = 500


def _replay() -> int:
    from fuzz import targets

    slow = []
    for name in sorted(targets.TARGETS):
        for path in sorted((targets.REGRESSIONS / name).glob("*")):
            started = time.monotonic()
            targets.TARGETS[name](path.read_bytes())
            seconds = time.monotonic() - started
            if seconds > MAX_SECONDS:
                slow.append(f"{name}/{path.name}: {seconds:.1f} s")
            print(f"[fuzz] replayed {name}/{path.name} in {seconds:.2f} s", file=sys.stderr)
    megabytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"[fuzz] peak memory {megabytes:.0f} MB", file=sys.stderr)
    if slow or megabytes > MAX_MEGABYTES:
        print(f"[fuzz] over the bounds: {slow} {megabytes:.0f} MB", file=sys.stderr)
        return 1
    return 0


def _fuzz(name: str, corpus: Path, options: list[str]) -> None:
    import atheris  # type: ignore[import-untyped]

    with atheris.instrument_imports(include=["psbtbridge", "cold", "hot"]):
        from fuzz import targets

        seeds = targets.seeds(name)
        for seed in seeds:  # imports what the target needs, inside the instrumentation
            targets.TARGETS[name](seed)
    corpus.mkdir(parents=True, exist_ok=True)
    for number, seed in enumerate(seeds):
        (corpus / f"seed-{number:03}").write_bytes(seed)
    atheris.Setup([sys.argv[0], *options, str(corpus)], targets.TARGETS[name])
    atheris.Fuzz()


def main() -> int:
    sys.setrecursionlimit(10_000)  # deep inputs must be refused by our bounds, not by luck
    if sys.argv[1:2] == ["--replay"]:
        return _replay()
    if sys.argv[1:2] == ["--list"]:
        from fuzz import targets

        print("\n".join(sorted(targets.TARGETS)))
        return 0
    _fuzz(sys.argv[1], Path(sys.argv[2]), sys.argv[3:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
