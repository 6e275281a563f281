#!/usr/bin/env python3
"""Summarise bench/apply.sh's results (s1.json .. s8.json in DIR) as Markdown tables.

    summarize.py DIR                 # print the tables
    summarize.py --merge DIR N       # merge the per-run hyperfine files sN.<cmd>.<round>.json into sN.json
"""

import glob
import json
import os
import statistics
import sys


def merge(d: str, n: str) -> None:
    by_cmd: dict = {}
    order: dict = {}
    paths = glob.glob(os.path.join(d, f"s{n}.*.*.json"))
    # Times are kept in round order, so rounds can be paired across commands.
    paths.sort(key=lambda p: int(p.rsplit(".", 2)[1]))
    for path in paths:
        idx = int(path.rsplit(".", 3)[1])
        with open(path) as f:
            for r in json.load(f)["results"]:
                by_cmd.setdefault(r["command"], []).append(r)
                order[r["command"]] = idx
    results = []
    for cmd in sorted(by_cmd, key=order.get):
        runs = by_cmd[cmd]
        times = [t for r in runs for t in r["times"]]
        codes = [c for r in runs for c in r["exit_codes"]]
        results.append(
            {
                "command": cmd,
                "mean": statistics.fmean(times),
                "stddev": statistics.stdev(times) if len(times) > 1 else None,
                "median": statistics.median(times),
                "user": statistics.fmean(r["user"] for r in runs),
                "system": statistics.fmean(r["system"] for r in runs),
                "min": min(times),
                "max": max(times),
                "times": times,
                "exit_codes": codes,
            }
        )
    with open(os.path.join(d, f"s{n}.json"), "w") as f:
        json.dump({"results": results}, f, indent=1)
    for path in glob.glob(os.path.join(d, f"s{n}.*.*.json")):
        os.remove(path)

TITLES = {
    1: "PostgreSQL: 1,000 trivial migrations, tx per file",
    2: "PostgreSQL: 1,000 trivial migrations, one tx",
    3: "PostgreSQL: no-op re-run, 1,000 applied",
    4: "PostgreSQL: 300 × CREATE TABLE + CREATE INDEX",
    5: "MariaDB: 300 × CREATE TABLE + CREATE INDEX",
    6: "MariaDB: 1,000 trivial migrations",
    7: "SQLite: 1,000 trivial migrations",
    8: "SQLite: 300 × CREATE TABLE + CREATE INDEX",
}
PEERS = ("refinery", "sqlx", "dbmate")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def load(d: str, n: int):
    path = os.path.join(d, f"s{n}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return {r["command"]: r for r in json.load(f)["results"]}


def target(n: int, res: dict):
    """(strata, [references], limit, formatted target) for scenario n. With several references (the peers) the
    target is against the fastest: the paired ratio reported is the largest of the per-peer paired ratios."""
    if n == 1:
        return res.get("strata"), [res.get("refinery")], 0.8, "≤ 0.8 × refinery"
    if n == 2:
        return res.get("strata-all"), [res.get("psql-1")], 1.3, "≤ 1.3 × psql -1"
    limit = {3: 0.5, 4: 1.05}.get(n, 0.9)
    return res.get("strata"), [res[p] for p in PEERS if p in res], limit, f"≤ {limit} × fastest peer"


def paired(s: dict, ref: dict) -> float:
    # Median of the per-round ratios: each round ran both back to back, so a burst of load elsewhere on the
    # machine mostly cancels out.
    pairs = [a / b for a, b in zip(s["times"], ref["times"])]
    return statistics.median(pairs) if pairs else float("nan")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--merge":
        merge(sys.argv[2], sys.argv[3])
        return
    d = sys.argv[1] if len(sys.argv) > 1 else "bench/results"
    detail = ["| # | scenario | tool | median ms | min ms | max ms | σ ms | runs |", "|---|---|---|---:|---:|---:|---:|---:|"]
    goals = [
        "| # | scenario | Strata median | reference (fastest, paired) | ratio of medians | paired ratio | target (paired) | met |",
        "|---|---|---:|---|---:|---:|---|---|",
    ]
    floors = []
    for n in sorted(TITLES):
        res = load(d, n)
        if res is None:
            continue
        for name, r in res.items():
            if any(c != 0 for c in r.get("exit_codes", [])):
                name += " (**failed runs**)"
            detail.append(
                f"| {n} | {TITLES[n]} | {name} | {ms(r['median'])} | {ms(r['min'])} | {ms(r['max'])} "
                f"| {ms(r['stddev'] or 0.0)} | {len(r['times'])} |"
            )
        s, refs, limit, text = target(n, res)
        refs = [r for r in refs if r is not None]
        if s is None or not refs:
            goals.append(f"| {n} | {TITLES[n]} | – | – | – | – | {text} | n/a |")
            continue
        # The reference is the one Strata compares worst against, round by round.
        ref = max(refs, key=lambda r: paired(s, r))
        ratio = s["median"] / ref["median"]
        p = paired(s, ref)
        met = p <= limit
        goals.append(
            f"| {n} | {TITLES[n]} | {ms(s['median'])} | {ref['command']}: {ms(ref['median'])} | {ratio:.2f} "
            f"| {p:.2f} | {text} | {'yes' if met else 'no'} |"
        )
        floor = res.get("statements-only")
        if floor is not None:
            # What the statements alone cost against the same reference: no tool can go below it.
            floors.append(
                f"| {n} | {TITLES[n]} | {ms(floor['median'])} | {ref['command']}: {ms(ref['median'])} "
                f"| {paired(floor, ref):.2f} | {text} |"
            )
    print("### Targets\n")
    print("\n".join(goals))
    if floors:
        print("\n### Floors (the statements alone in one round trip, no history: no tool can be faster)\n")
        print("| # | scenario | statements-only median | reference (as above) | paired ratio | target |")
        print("|---|---|---:|---|---:|---|")
        print("\n".join(floors))
    print("\n### All measurements (wall clock of the whole process)\n")
    print("\n".join(detail))


if __name__ == "__main__":
    main()
