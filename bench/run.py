#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run the benchmark binary in its four modes, then print the table of
throughput and ours/peer ratios, write bench/results.json and draw
bench/throughput.svg (gnuplot) of throughput versus threads.

usage: bench/run.py BINARY       (BENCH_QUICK=1 in the environment: short runs)
"""
import json
import os
import platform
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

BIG = "+256k"   # suffix of the contenders of the build with 262144 buckets

# What is compared with what is not listed here: the bench binary prints
# "P <section> <ours> <peer> <label>" lines, from each registered
# structure's capabilities (bench/plan.h).

WORKLOADS = ["lookup", "update", "delete", "read-mostly", "balanced",
             "write-only", "push+pop", "insert+popmin"]

# Mixed runs (section "mixed"): each side while both run, against that
# side alone measured just before; the total against the sum of the two.
MIXED = [("mixed-user", "user-alone"), ("mixed-kernel", "kernel-alone"),
         ("mixed-total", "user+kernel-alone")]


PAIRS = []    # (section, ours, peer, label, suffix), from the "P" lines


def run_mode(binary, mode, suffix="", env=None):
    """Run one mode; stderr (the progress line) passes through.  Returns
    its figures, and the comparisons it declares (ours carrying @suffix)."""
    p = subprocess.run([binary, mode], stdout=subprocess.PIPE, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"bench: '{binary} {mode}' failed with status {p.returncode}")
    rows = []
    for line in p.stdout.splitlines():
        f = line.split()
        if f and f[0] == "P" and len(f) >= 5:
            PAIRS.append((f[1], f[2] + suffix, f[3], " ".join(f[4:]), suffix))
            continue
        if not f or f[0] != "R":
            continue
        rows.append({
            "section": f[1], "workload": f[2], "keys": int(f[3]),
            "threads": int(f[4]), "contender": f[5] + suffix, "ops_per_sec": float(f[6]),
            "runs": [float(x) for x in f[7:10]],
            "ok_share": float(f[10]),
            "oncpu_share": float(f[11]) if len(f) > 11 else None,
        })
    return rows


def oncpu(c):
    """ours/peer share of wall time their threads had a CPU."""
    a, b = c.get("ours_oncpu"), c.get("peer_oncpu")
    if a is None or b is None:
        return "-"
    return f"{min(a, 9.99):.2f}/{min(b, 9.99):.2f}"


def fmt(x):
    if x >= 1e6:
        return f"{x / 1e6:8.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:8.1f} k"
    return f"{x:8.0f}  "


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/bench/bench"
    quick = os.environ.get("BENCH_QUICK", "0") not in ("", "0")
    t0 = time.time()
    rows = []
    for mode in ("kern", "sa", "peers", "prof", "scale"):
        rows += run_mode(binary, mode)
    if len(sys.argv) > 2:
        env = dict(os.environ, BENCH_LARGE_HASH_ONLY="1")
        for mode in ("kern", "sa"):
            rows += run_mode(sys.argv[2], mode, BIG, env)
    idx = {(r["section"], r["workload"], r["keys"], r["threads"], r["contender"]): r
           for r in rows}

    # A peer of the big build carries its suffix when that build measured
    # it too (the BPF map, the syscalls, malloc'd memory), not otherwise
    # (ck_hs and urcu run once, at both key counts).
    names = {r["contender"] for r in rows}
    pairs = []
    for sec, ours, peer, label, sfx in PAIRS:
        if sfx and peer + sfx in names:
            peer += sfx
        if (sec, ours, peer, label) not in pairs:
            pairs.append((sec, ours, peer, label))
    comps = []
    for sec, ours, peer, label in pairs:
        for wl in WORKLOADS:
            for keys in sorted({r["keys"] for r in rows}):
                for thr in (1, 2):
                    a = idx.get((sec, wl, keys, thr, ours))
                    b = idx.get((sec, wl, keys, thr, peer))
                    if a and b and b["ops_per_sec"] > 0:
                        comps.append({
                            "section": sec, "workload": wl, "keys": keys,
                            "threads": thr, "ours": ours, "peer": peer,
                            "peer_kind": label,
                            "ours_ops": a["ops_per_sec"], "peer_ops": b["ops_per_sec"],
                            "ratio": a["ops_per_sec"] / b["ops_per_sec"],
                            "ours_oncpu": a.get("oncpu_share"),
                            "peer_oncpu": b.get("oncpu_share"),
                        })
    for sfx in ("", BIG):
        for wl in WORKLOADS:
            for keys in sorted({r["keys"] for r in rows}):
                alone = [idx.get(("mixed", wl, keys, 1, n + sfx))
                         for n in ("user-alone", "kernel-alone")]
                if not all(alone):
                    continue
                for ours, peer in MIXED:
                    a = idx.get(("mixed", wl, keys, 2, ours + sfx))
                    b = (alone[0] if peer == "user-alone" else
                         alone[1] if peer == "kernel-alone" else None)
                    peer_ops = (b["ops_per_sec"] if b else
                                alone[0]["ops_per_sec"] + alone[1]["ops_per_sec"])
                    if a and peer_ops > 0:
                        comps.append({
                            "section": "mixed", "workload": wl, "keys": keys,
                            "threads": 2, "ours": ours + sfx, "peer": peer + sfx,
                            "peer_kind": "the same side(s) alone",
                            "ours_ops": a["ops_per_sec"], "peer_ops": peer_ops,
                            "ratio": a["ops_per_sec"] / peer_ops,
                            "ours_oncpu": a.get("oncpu_share"),
                            "peer_oncpu": (b or alone[0]).get("oncpu_share") if b else
                            ((alone[0].get("oncpu_share") or 0) +
                             (alone[1].get("oncpu_share") or 0)) / 2,
                        })
    scaling = []
    for r in rows:
        if r["workload"] == "read-mostly" and r["threads"] == 2 and r["section"] != "mixed":
            one = idx.get((r["section"], "read-mostly", r["keys"], 1, r["contender"]))
            if one and one["ops_per_sec"] > 0:
                scaling.append({"section": r["section"], "contender": r["contender"],
                                "keys": r["keys"],
                                "speedup_2_vs_1": r["ops_per_sec"] / one["ops_per_sec"]})

    wo = max([4] + [len(c["ours"]) for c in comps])
    wp = max([4] + [len(c["peer"]) for c in comps])
    hdr = (f"{'side':6} {'workload':13} {'keys':>6} {'thr':>3}  {'ours':{wo}} {'ops/s':>10}  "
           f"{'peer':{wp}} {'ops/s':>10}  {'ours/peer':>9}  {'on-cpu':>9}")
    print(hdr)
    print("-" * len(hdr))
    for c in comps:
        print(f"{c['section']:6} {c['workload']:13} {c['keys']:>6} {c['threads']:>3}  "
              f"{c['ours']:{wo}} {fmt(c['ours_ops']):>10}  {c['peer']:{wp}} "
              f"{fmt(c['peer_ops']):>10}  {c['ratio']:8.2f}x  {oncpu(c):>9}")
    # How lookup cost grows with the table (bench scale): ns per lookup
    # per thread, and ours/peer, at each size.
    size = []
    srows = [r for r in rows if r["section"] == "scale"]
    if srows:
        print()
        print("lookup cost by table size (bench scale): ns per lookup per thread, ours/peer")
        keys = sorted({r["keys"] for r in srows})
        print(f"  {'contender':22} {'thr':>3} " + " ".join(f"{k:>14}" for k in keys))
        peer_of = {"user-arena": "user-syscall-hash", "arena": "bpf-hash"}
        for name, thr in sorted({(r["contender"], r["threads"]) for r in srows}):
            cells = []
            for k in keys:
                r = idx.get(("scale", "lookup", k, thr, name))
                if not r or not r["ops_per_sec"]:
                    cells.append(f"{'-':>14}")
                    continue
                ns = thr * 1e9 / r["ops_per_sec"]
                peer = next((v for p, v in peer_of.items()
                             if name.startswith(p + "-")), None)
                b = idx.get(("scale", "lookup", k, thr, peer)) if peer else None
                ratio = r["ops_per_sec"] / b["ops_per_sec"] if b and b["ops_per_sec"] else None
                size.append({"contender": name, "threads": thr, "keys": k,
                             "ns_per_lookup": round(ns, 2),
                             "vs_peer": round(ratio, 3) if ratio else None, "peer": peer})
                cells.append(f"{ns:7.1f} ns" + (f" {ratio:4.2f}x" if ratio else "      "))
            print(f"  {name:22} {thr:>3} " + " ".join(f"{c:>14}" for c in cells))

    print()
    print("read-mostly hash, 2 threads / 1 thread:")
    for s in scaling:
        print(f"  {s['section']:6} {s['contender']:20} keys={s['keys']:<7} "
              f"{s['speedup_2_vs_1']:.2f}x")

    # Where a kernel-side arena hash lookup spends its time (bench prof).
    prof_desc = {
        "bpf-hash": "BPF_MAP_TYPE_HASH lookup (the peer)",
        "prof-loop": "loop + key stream, no lookup",
        "prof-ebr": "loop + EBR enter/exit only",
        "prof-count": "loop + ds_count() statistics only",
        "prof-walk": "loop + bucket walk (no EBR, no statistics)",
        "prof-walk+ebr": "loop + walk inside EBR (no statistics)",
        "prof-inline": "ds_hash_search() inlined (EBR + walk + statistics)",
        "prof-dispatch": "ds_hash_search() via bench_dispatch() (= arena-hash)",
        "prof-plain-stats": "walk in EBR + statistics as plain adds (proposal 1)",
        "prof-batch-ebr": "walk + plain statistics, EBR once per batch (1+2+3)",
    }
    prof = [r for r in rows if r["section"] == "profile" and r["workload"] == "lookup"]
    profile = []
    if prof:
        print()
        print("kernel arena-hash lookup, 1024 keys: ns per lookup (1e9 / median ops/s)")
        base = next((r for r in prof if r["contender"] == "prof-loop"), None)
        for r in prof:
            ns = 1e9 / r["ops_per_sec"] if r["ops_per_sec"] else 0
            extra = ns - 1e9 / base["ops_per_sec"] if base and r is not base else None
            profile.append({"variant": r["contender"], "what": prof_desc.get(r["contender"], ""),
                            "ns_per_op": round(ns, 2),
                            "over_loop_ns": round(extra, 2) if extra is not None else None})
            more = f"  (+{extra:5.1f} over the loop)" if extra is not None else ""
            print(f"  {r['contender']:14} {ns:6.1f} ns{more:26}  "
                  f"{prof_desc.get(r['contender'], '')}")

    alloc = idx.get(("profile", "push+pop", 1024, 1, "bpf-obj-new+drop"))
    if alloc and alloc["ops_per_sec"]:
        print(f"\nbpf_obj_new + bpf_obj_drop alone (the kfunc peers' node allocation): "
              f"{1e9 / alloc['ops_per_sec']:.1f} ns per pair")
        profile.append({"variant": "bpf-obj-new+drop",
                        "what": "bpf_obj_new + bpf_obj_drop, no list or tree",
                        "ns_per_op": round(1e9 / alloc["ops_per_sec"], 2),
                        "over_loop_ns": None})

    meta = {
        "command": ("BENCH_QUICK=1 " if quick else "") + "make bench",
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "kernel": platform.release(), "machine": platform.machine(),
        "nproc": os.cpu_count(), "quick": quick,
        "seconds": round(time.time() - t0, 1),
        "method": "each figure: 1 warm-up run discarded, median of 3 runs; "
                  "rate = sum over threads of ops / busy time",
    }
    with open(os.path.join(HERE, "results.json"), "w") as f:
        json.dump({"meta": meta, "figures": rows, "comparisons": comps,
                   "scaling": scaling, "profile": profile,
                   "size": size}, f, indent=1)
    chart(rows)
    print(f"\nwrote bench/results.json and bench/throughput.svg "
          f"({meta['seconds']} s)", file=sys.stderr)


def chart(rows):
    """Throughput vs threads: the small-key read-mostly hash contenders and
    the queue/stack pairs, one panel each."""
    if not shutil.which("gnuplot"):
        print("bench: gnuplot not found, no chart", file=sys.stderr)
        return
    panels = [
        ("hash, read-mostly (90% search), 1024 keys",
         [r for r in rows if r["workload"] == "read-mostly" and r["keys"] == 1024
          and r["section"] != "mixed"]),
        ("queues, stacks, lists: push+pop pairs",
         [r for r in rows if r["workload"] == "push+pop" and r["section"] != "profile"]),
        ("ordered: insert 1024 keys, pop-min all",
         [r for r in rows if r["workload"] == "insert+popmin" and r["keys"] == 1024]),
    ]
    datafile = os.path.join(HERE, ".throughput.dat")
    script = ['set terminal svg size 1650,480 dynamic font "sans,10"',
              f"set output '{os.path.join(HERE, 'throughput.svg')}'",
              "set multiplot layout 1,3",
              "set xlabel 'threads'", "set ylabel 'M ops/s'", "set xtics 1",
              "set xrange [0.8:2.2]", "set yrange [0:*]", "set grid",
              "set key outside right top vertical font ',8'"]
    blocks = []
    for title, sel in panels:
        names = sorted({(r["section"], r["contender"]) for r in sel})
        plots = []
        for sec, name in names:
            pts = sorted((r["threads"], r["ops_per_sec"]) for r in sel
                         if r["contender"] == name and r["section"] == sec)
            blocks.append("\n".join(f"{t} {v / 1e6:.3f}" for t, v in pts))
            style = "dashtype 2" if not name.startswith(("arena", "user-arena")) else ""
            plots.append(f"'{datafile}' index {len(blocks) - 1} with linespoints "
                         f"{style} title '{sec}: {name}' noenhanced")
        script.append(f"set title '{title}'")
        script.append("plot " + ", ".join(plots))
    script.append("unset multiplot")
    with open(datafile, "w") as f:
        f.write("\n\n\n".join(blocks) + "\n")
    subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=False)
    os.unlink(datafile)


if __name__ == "__main__":
    main()
