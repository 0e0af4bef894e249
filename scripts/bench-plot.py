#!/usr/bin/python3
"""Plot xvs-bench --json output: Mpps against workers and against flows (docs/performance.md).

    sudo ./build-bench/bench/xvs-bench --json > bench.json
    ./scripts/bench-plot.py bench.json docs/bench-scaling.png

Uses the rows of the worker and driver sections: NAT client->server over prebuilt mbufs
("logic") and behind net_ring ports ("driver"), the io-forwarding limit of the driver runs,
and NAT replies of which a share reaches a worker that does not own them.

On a machine shared with other work, give several runs' files and --min-cpu: the runs of
each figure are pooled, those whose threads had less than that share of their CPUs
(runs_on_cpu) are left out, and the medians and shares of the io-forwarding limit are taken
again; the ratio over one worker is the median of run-by-run ratios (the bench runs worker
counts in turns); --merged writes the result in --json's format.

    ./scripts/bench-plot.py --min-cpu 0.95 --merged merged.json run*.json out.png

Needs python3-matplotlib (scripts/install-deps.sh).
"""
import argparse
import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

# (figure, mode) -> how it is drawn
SERIES = [
    ("nat-cs", "logic", "NAT c->s, prebuilt mbufs (logic)", "-", "o"),
    ("nat-sc-ho", "logic", "NAT s->c, a share handed over (logic)", "-.", "^"),
    ("nat-cs", "driver", "NAT c->s, net_ring ports (driver)", "--", "s"),
    ("io-fwd", "driver", "io forwarding, net_ring (the limit)", ":", "x"),
]


def flows_label(n):
    if n >= 1000000 and n % 1000000 == 0:
        return "%dM" % (n // 1000000)
    if n >= 1000 and n % 1000 == 0:
        return "%dk" % (n // 1000)
    return str(n)


def key(r):
    return (r["section"], r["figure"], r["mode"], r["workers"], r["flows"])


def load(paths):
    rows = []
    for n, path in enumerate(paths):
        with (sys.stdin if path == "-" else open(path)) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:  # a run that failed or was stopped prints none
                print("bench-plot: %s: not a figure list (%s), left out" % (path, e), file=sys.stderr)
                continue
        rows += [dict(r, file=n) for r in data if r.get("section") in ("workers", "driver")]
    return rows


# What a merged row keeps of its first file's row; the rest is taken again or left out.
KEEP = ("section", "figure", "label", "mode", "workers", "flows", "unit", "conn_max")


def merge(rows, min_cpu):
    """One row per figure from the runs of all rows, those below min_cpu left out."""
    pooled = {}
    for r in rows:
        shares = r.get("runs_on_cpu", [1.0] * len(r["runs"]))
        first = {k: r[k] for k in KEEP if k in r}
        m = pooled.setdefault(key(r), dict(first, runs=[], runs_on_cpu=[], trials=0))
        m["trials"] += 1
        for v, c in zip(r["runs"], shares):
            if c >= min_cpu:
                m["runs"].append(v)
                m["runs_on_cpu"].append(c)
    out = []
    for k, m in pooled.items():
        if not m["runs"]:
            print("bench-plot: %s %s, %d worker(s), %s flows: no run at %.0f%% CPU or more" %
                  (k[1], k[2], k[3], flows_label(k[4]), 100 * min_cpu), file=sys.stderr)
            continue
        m.update(median=round(statistics.median(m["runs"]), 4), min=min(m["runs"]),
                 max=max(m["runs"]), ns_per_unit=round(1e3 / statistics.median(m["runs"]), 2))
        out.append(m)
    ratios(out, rows, min_cpu)
    return out


def paired(rows, k, base, min_cpu):
    """Ratios of run r of figure k over run r of figure base in the same file, both clean:
    the bench runs worker counts in turns (docs/performance.md), so these are seconds apart."""
    by_file = {}
    for r in rows:
        if key(r) in (k, base):
            by_file.setdefault(r["file"], {})[key(r)] = r
    out = []
    for pair in by_file.values():
        if k not in pair or base not in pair:
            continue
        a, b = pair[k], pair[base]
        sa = a.get("runs_on_cpu", [1.0] * len(a["runs"]))
        sb = b.get("runs_on_cpu", [1.0] * len(b["runs"]))
        out += [x / y for x, y, cx, cy in zip(a["runs"], b["runs"], sa, sb)
                if cx >= min_cpu and cy >= min_cpu and y > 0]
    return out


def ratios(out, rows, min_cpu):
    """share_of_limit from the merged medians; speedup_vs_1_worker from paired runs."""
    med = {key(r): r["median"] for r in out}
    for r in out:
        sec, fig, mode, workers, flows = key(r)
        for field in ("share_of_limit", "limit_mpps", "speedup_vs_1_worker"):
            r.pop(field, None)
        limit = med.get((sec, "io-fwd", mode, workers, flows))
        if mode == "driver" and limit:
            r["share_of_limit"] = round(r["median"] / limit, 4)
            r["limit_mpps"] = limit
        base = (sec, "nat-sc" if fig == "nat-sc-ho" else fig, mode, 1, flows)
        pairs = paired(rows, key(r), base, min_cpu) if workers > 1 else []
        if pairs:
            r["speedup_vs_1_worker"] = round(statistics.median(pairs), 4)
            r["speedup_pairs"] = len(pairs)


def points(rows, fig, mode, key_name, fixed_key, fixed):
    pts = sorted((r[key_name], r["median"]) for r in rows
                 if r["figure"] == fig and r["mode"] == mode and r[fixed_key] == fixed)
    return [p[0] for p in pts], [p[1] for p in pts]


def legends(ax, groups, group_label):
    """One legend for the series (line style), one for the groups (colour)."""
    styles = [Line2D([], [], color="black", linestyle=st, marker=mk, label=lb)
              for _, _, lb, st, mk in SERIES]
    colours = [Line2D([], [], color="C%d" % i, linewidth=3, label=group_label(g))
               for i, g in enumerate(groups)]
    first = ax.legend(handles=styles, fontsize=7, loc="upper left")
    ax.add_artist(first)
    ax.legend(handles=colours, fontsize=7, loc="upper right")


def plot_series(ax, rows, key_name, fixed_key, groups):
    for i, g in enumerate(groups):
        for fig, mode, _, style, marker in SERIES:
            x, y = points(rows, fig, mode, key_name, fixed_key, g)
            if x:
                ax.plot(x, y, style, marker=marker, color="C%d" % i)


def finish(ax, xlabel, title):
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Mpps")
    ax.set_title(title)
    ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.35)  # room for the legends
    ax.grid(True, alpha=0.3)


def plot_vs_workers(ax, rows):
    flows = sorted({r["flows"] for r in rows})
    plot_series(ax, rows, "workers", "flows", flows)
    ax.set_xticks(sorted({r["workers"] for r in rows}))
    finish(ax, "workers (one CPU each)", "against workers")
    legends(ax, flows, lambda f: "%s flows" % flows_label(f))


def plot_vs_flows(ax, rows):
    workers = sorted({r["workers"] for r in rows})
    plot_series(ax, rows, "flows", "workers", workers)
    ax.set_xscale("log")
    flows = sorted({r["flows"] for r in rows})
    ax.set_xticks(flows)
    ax.set_xticklabels([flows_label(f) for f in flows])
    ax.minorticks_off()
    finish(ax, "flows (connections in all tables)", "against flows")
    legends(ax, workers, lambda w: "%d worker%s" % (w, "" if w == 1 else "s"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", nargs="+", help="xvs-bench --json output(s), or - for stdin")
    ap.add_argument("png", help="image to write")
    ap.add_argument("--title", default="xvs-bench: NAT, medians")
    ap.add_argument("--min-cpu", type=float, default=0.0,
                    help="leave out runs whose threads had less of their CPUs (0..1)")
    ap.add_argument("--merged", help="write the merged rows here, as --json does")
    a = ap.parse_args()
    rows = load(a.json)
    if len(a.json) > 1 or a.min_cpu > 0 or a.merged:
        rows = merge(rows, a.min_cpu)
    if not rows:
        sys.exit("bench-plot: no worker or driver rows in %s" % " ".join(a.json))
    if a.merged:
        with open(a.merged, "w") as f:
            f.write("[\n%s\n]\n" % ",\n".join("  " + json.dumps(r) for r in sorted(rows, key=key)))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    plot_vs_workers(left, rows)
    plot_vs_flows(right, rows)
    fig.suptitle(a.title)
    fig.tight_layout()
    fig.savefig(a.png, dpi=110)


if __name__ == "__main__":
    main()
