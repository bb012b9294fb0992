"""Benchmark: precision and recall of the employer join on a labelled brand -> DOL filer set.

The labelled filers, subset-trap distractors (bench/data/dol_filers.csv) and 20,000 synthetic noise filers are
written as an LCA FY2020+ CSV, ingested with the real loader, and every brand is joined with the real index.
Pairs (brand, filer) are scored: a chosen filer in the label set is a true positive, any other chosen filer a
false positive, a labelled filer not chosen a false negative. Negatives (brands absent from DOL) can only add
false positives. Targets: precision >= 0.98, recall >= 0.95. An ablation without the alias table follows.

    python bench/join_accuracy.py [--noise 20000]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dolgen import fein_for, lca_rows, unique_names, write_lca_csv
from crawler import db as dbmod
from matching.ingest import ingest_paths
from matching.join import EntityIndex

DATA = Path(__file__).parent / "data"


def read_csv(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(lines))


def canon(name: str) -> str:
    return " ".join(name.upper().split())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--noise", type=int, default=20_000, help="synthetic filers added around the labelled ones")
    args = ap.parse_args()
    console = Console()
    labels = read_csv(DATA / "join_labels.csv")
    gold: dict[str, set[str]] = {}
    filers: dict[str, str] = {}  # name -> trade name
    for row in labels:
        names = [n for n in row["filers"].split("|") if n.strip()]
        gold[row["brand"]] = {canon(n) for n in names}
        for n in names:
            # A d/b/a brand without "D/B/A" in the legal name arrives in LCA's TRADE_NAME_DBA column.
            trade = row["brand"] if row["kind"] == "dba" and "D/B/A" not in n.upper() else ""
            filers[n] = trade or filers.get(n, "")
    for row in read_csv(DATA / "dol_filers.csv"):
        filers.setdefault(row["name"], row.get("trade_name") or "")
    noise = unique_names(args.noise, seed=11, exclude={n.replace(",", "").replace(".", "") for n in filers})
    all_filers = [(n, fein_for(i), t) for i, (n, t) in enumerate(list(filers.items()) + [(x, "") for x in noise])]

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "LCA_Disclosure_Data_FY2024_Q1.csv"
        write_lca_csv(csv_path, lca_rows(all_filers))
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        ingest_paths(url, [csv_path], progress=False)
        ingest_s = time.perf_counter() - started
        with dbmod.session_scope(url) as session:
            with_alias = EntityIndex.from_session(session)
            no_alias = EntityIndex.from_session(session, aliases={})
        dbmod.get_engine(url).dispose()

    kinds = {row["brand"]: row["kind"] for row in labels}
    results = {}
    for label, index in (("with alias table", with_alias), ("without alias table", no_alias)):
        per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # brands, tp, fp, fn
        errors = []
        started = time.perf_counter()
        for brand, expected in gold.items():
            res = index.match(brand)
            got = {canon(m.name) for m in res.matches}
            tp, fp, fn = len(got & expected), len(got - expected), len(expected - got)
            k = per_kind[kinds[brand]]
            k[0] += 1
            k[1] += tp
            k[2] += fp
            k[3] += fn
            if fp or fn:
                errors.append((brand, kinds[brand], res.outcome, sorted(got - expected), sorted(expected - got)))
        match_s = time.perf_counter() - started
        results[label] = (per_kind, errors, match_s)

    for label, (per_kind, errors, match_s) in results.items():
        table = Table(title=f"join accuracy, {label} ({len(gold)} brands, {len(all_filers):,} filers)")
        for col in ("kind", "brands", "TP", "FP", "FN", "precision", "recall"):
            table.add_column(col, justify="left" if col == "kind" else "right")
        tot = [0, 0, 0, 0]
        for kind in sorted(per_kind):
            b, tp, fp, fn = per_kind[kind]
            tot = [a + x for a, x in zip(tot, per_kind[kind], strict=True)]
            p = tp / (tp + fp) if tp + fp else 1.0
            r = tp / (tp + fn) if tp + fn else float("nan")
            table.add_row(kind, str(b), str(tp), str(fp), str(fn), f"{p:.3f}", f"{r:.3f}")
        b, tp, fp, fn = tot
        precision, recall = tp / (tp + fp), tp / (tp + fn)
        table.add_row("[bold]all", str(b), str(tp), str(fp), str(fn), f"[bold]{precision:.3f}", f"[bold]{recall:.3f}")
        console.print(table)
        console.print(
            f"precision {precision:.3f} (target 0.98: {'met' if precision >= 0.98 else 'NOT met'}), "
            f"recall {recall:.3f} (target 0.95: {'met' if recall >= 0.95 else 'NOT met'}); "
            f"{len(gold)} joins in {match_s:.2f} s; ingest {ingest_s:.1f} s"
        )
        if errors:
            err = Table(title=f"errors, {label}")
            for col in ("brand", "kind", "outcome", "wrongly chosen", "missed"):
                err.add_column(col)
            for brand, kind, outcome, wrong, missed in errors:
                err.add_row(brand, kind, outcome, "\n".join(wrong) or "-", "\n".join(missed) or "-")
            console.print(err)


if __name__ == "__main__":
    main()
