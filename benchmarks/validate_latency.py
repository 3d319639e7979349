"""Predicted vs measured inference latency for every published table of archs.latency_tables()
(PaddleClas' V100 and T4 measurements: seeds 003 and 004, and its T4 mobile tables).

    python benchmarks/validate_latency.py            # every model and batch, then the summary
    python benchmarks/validate_latency.py --brief    # the per-table summary only

Per table: each (model, batch) predicted by `calc latency`'s estimate with the packaged
constants (calc/latency/model.toml), the measured figure, the signed error and the plain
roofline bound; then the median absolute percentage error (MdAPE) and Spearman's rank
correlation, over the table and per batch size.  The constants were fitted on the tables
marked [calibration] (calc.latency.validate.CALIBRATION); the tables marked [validation]
(seed 003's T4 tables) were never seen by the fit.  The same report: `calc validate-latency`.
Refit and leave-one-table-out: benchmarks/calibrate_latency.py [--loto].
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import archs  # noqa: E402
from calc.latency.validate import load_tables, predict, report  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--brief", action="store_true", help="the per-table summary only")
    ap.add_argument("--tables", default=None, help="another TOML file of tables (the form of archs/data/latency_seeds.toml)")
    ns = ap.parse_args()
    tables = load_tables(ns.tables) if ns.tables else archs.latency_tables()
    print(report(predict(tables, build=archs.build), detail=not ns.brief))


if __name__ == "__main__":
    main()
