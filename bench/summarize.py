#!/usr/bin/env python3
"""Summarise bench/apply.sh's results (s1.json .. s4.json in DIR) as Markdown tables.

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
    1: "1,000 trivial migrations, tx per file",
    2: "1,000 trivial migrations, one tx",
    3: "no-op re-run, 1,000 applied",
    4: "300 × CREATE TABLE + CREATE INDEX",
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
    """(strata median, reference label, reference median or None, limit, formatted target) for scenario n."""
    if n == 1:
        s, ref = res.get("strata"), res.get("refinery")
        return s, "refinery", ref, 0.8, "≤ 0.8 × refinery"
    if n == 2:
        s, ref = res.get("strata-all"), res.get("psql-1")
        return s, "psql -1", ref, 1.5, "≤ 1.5 × psql -1"
    if n == 3:
        return res.get("strata"), "10 ms", None, 0.010, "≤ 10 ms"
    peers = [res[p] for p in PEERS if p in res]
    best = min(peers, key=lambda r: r["median"]) if peers else None
    label = f"fastest peer ({best['command']})" if best else "fastest peer"
    return res.get("strata"), label, best, 1.05, "≤ 1.05 × fastest peer"


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--merge":
        merge(sys.argv[2], sys.argv[3])
        return
    d = sys.argv[1] if len(sys.argv) > 1 else "bench/results"
    detail = ["| # | scenario | tool | median ms | min ms | max ms | σ ms | runs |", "|---|---|---|---:|---:|---:|---:|---:|"]
    goals = [
        "| # | scenario | Strata median | reference | ratio of medians | paired ratio | target | met |",
        "|---|---|---:|---|---:|---:|---|---|",
    ]
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
        s, label, ref, limit, text = target(n, res)
        if s is None or (ref is None and n != 3):
            goals.append(f"| {n} | {TITLES[n]} | – | {label} | – | – | {text} | n/a |")
            continue
        if n == 3:
            ratio, refms = s["median"] / limit, "10"
            met = s["median"] <= limit
            goals.append(
                f"| {n} | {TITLES[n]} | {ms(s['median'])} | {refms} ms | {ratio:.2f} × budget | – | {text} "
                f"| {'yes' if met else 'no'} |"
            )
        else:
            ratio = s["median"] / ref["median"]
            # Median of the per-round ratios: each round ran both back to back, so a burst of load elsewhere on
            # the machine mostly cancels out.
            pairs = [a / b for a, b in zip(s["times"], ref["times"])]
            paired = statistics.median(pairs) if pairs else float("nan")
            met = ratio <= limit
            goals.append(
                f"| {n} | {TITLES[n]} | {ms(s['median'])} | {label}: {ms(ref['median'])} | {ratio:.2f} | {paired:.2f} "
                f"| {text} | {'yes' if met else 'no'} |"
            )
    print("### Targets\n")
    print("\n".join(goals))
    print("\n### All measurements (wall clock of the whole process)\n")
    print("\n".join(detail))


if __name__ == "__main__":
    main()
