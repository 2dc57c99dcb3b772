"""Section: the import-weighted US tariff rate on the partner and on all partners at each timeline date."""

from __future__ import annotations

import polars as pl

from ... import api
from ..context import RunContext
from ..result import FigureSpec, SectionResult, TableView


def etr_section(ctx: RunContext) -> SectionResult:
    """ETR on the partner and on all partners at each timeline date (policy layer, 2024 import weights).

    One ``etr(schedule, dates, by="partner", decompose="authority")`` call per schedule; the
    all-partner rate is the import-weighted mean of the partner rates (same 2024 weights).
    Each step's label is generated from the schedule: the measures that start or end
    between the previous timeline date and this one, and the change of the all-imports
    and partner ETR by authority (MFN, S232, IEEPA, ...), in percentage points. The
    scenario's own label is kept beside it.
    """
    pol = ctx.scenario.policy
    if not pol.timeline:
        return SectionResult.skipped("etr", "", "The scenario has no policy timeline.")
    by_sched: dict[str, list[int]] = {}
    for k, e in enumerate(pol.timeline):
        by_sched.setdefault(e.schedule, []).append(k)
    rates: dict[int, dict[str, float]] = {}
    scheds = {}
    auths: list[str] = []
    for name, idx in by_sched.items():
        sch = scheds[name] = ctx.schedule(name, ("policy", "timeline", idx[0], "schedule"))
        dates = [pol.timeline[k].date for k in idx]
        t = api.etr(sch, dates, by="partner", decompose="authority")
        cols = ["etr"] + [c for c in t.columns if c.startswith("etr_")]
        auths = auths or [c[4:] for c in cols[1:]]
        w = pl.col("value_usd")
        agg = t.group_by("date").agg(
            *[((pl.col(c) * w).sum() / w.sum()).alias(f"all_{c}") for c in cols],
            *[pl.col(c).filter(pl.col("partner") == pol.partner).first().alias(f"p_{c}") for c in cols])
        got = {r["date"]: r for r in agg.to_dicts()}
        for k in idx:
            r = got.get(pol.timeline[k].date, {})
            rates[k] = {key: float("nan") if r.get(key) is None else float(r[key]) for key in
                        [f"{pre}_{c}" for pre in ("all", "p") for c in cols]}
    rows, steps = [], []
    order = sorted(range(len(pol.timeline)), key=lambda k: pol.timeline[k].date)
    prev = None
    for k in order:
        e = pol.timeline[k]
        step = timeline_step(scheds[e.schedule], None if prev is None else pol.timeline[prev].date, e.date,
                             rates[k], None if prev is None else rates[prev], auths, pol.partner)
        rows.append({"date": e.date, "label": step["label"], "scenario_label": e.label or e.schedule, "schedule": e.schedule,
                     "etr_partner_pct": 100 * rates[k]["p_etr"], "etr_all_pct": 100 * rates[k]["all_etr"],
                     **{f"etr_all_{a}_pct": 100 * rates[k][f"all_etr_{a}"] for a in auths}})
        steps.append(step)
        prev = k
    df = pl.DataFrame(rows)
    last = rows[-1]
    shown = df.select(pl.col("date").cast(pl.Utf8).alias("date"), pl.col("label").alias("what changed (generated from the schedule)"),
                      pl.col("etr_partner_pct").alias(f"ETR on {pol.partner} (%)"), pl.col("etr_all_pct").alias("ETR, all imports (%)"),
                      pl.col("scenario_label").alias("scenario's label"))
    note = ruling_note(pol.timeline[0].date, last["date"])
    return SectionResult(
        "etr", "", note=note,
        figures=[FigureSpec("fig-etr-timeline", "ETR timeline", "etr_timeline", df,
                            {"partner": pol.partner, "marks": [{"date": RULING_DATE, "label": "Supreme Court: IEEPA void"}]
                             if note else []},
                            f"Import-weighted (2024 import values, pre-substitution) US tariff rate on {pol.partner} "
                            "and on all partners; hover a step for the measures that start or end there."),
                 FigureSpec("fig-etr-authority", "ETR by authority", "etr_by_authority", df, {"authorities": auths},
                            "The all-imports ETR at each timeline date split by legal authority (stacked, percent).")],
        tables={"etr_timeline": df},
        views=[TableView(shown, digits=1)],
        data={"partner": pol.partner, "steps": steps, "ieepa_refunds": refund_facts(),
              "latest": {"date": last["date"], "etr_partner_pct": last["etr_partner_pct"],
                         "etr_all_pct": last["etr_all_pct"]}})


def timeline_step(schedule, prev_date, date, rates: dict[str, float], prev_rates: dict[str, float] | None,
                  authorities: list[str], partner: str) -> dict:
    """What changed between two timeline dates: measures starting/ending, and the ETR change by authority (pp).

    A measure *starts* in the step when it is in force on ``date`` and not on ``prev_date``, and
    *ends* when the reverse holds (measures that start and end in between leave no trace on
    either date). ``rates`` hold ``all_etr_<authority>`` and ``p_etr_<authority>`` fractions.
    """
    if prev_date is None:
        return {"date": date, "starts": [], "ends": [], "pp_all": {}, "pp_partner": {},
                "label": f"Start: ETR all imports {100 * rates['all_etr']:.1f}%, {partner} {100 * rates['p_etr']:.1f}%"}
    ms = list(schedule.measures)
    starts = [m for m in ms if m.active(date) and not m.active(prev_date)]
    ends = [m for m in ms if m.active(prev_date) and not m.active(date)]
    pp_all = {a: 100 * (rates[f"all_etr_{a}"] - prev_rates[f"all_etr_{a}"]) for a in authorities}
    pp_p = {a: 100 * (rates[f"p_etr_{a}"] - prev_rates[f"p_etr_{a}"]) for a in authorities}
    # measures of the authorities that moved the ETR most come first (layer "ieepa_reciprocal" -> authority "ieepa")
    weight = lambda m: -abs(pp_all.get(m.layer.split("_")[0], 0.0))  # noqa: E731
    names = [txt for _, txt in sorted([(weight(m), f"+ {m.authority or m.name}") for m in starts]
                                      + [(weight(m), f"ends: {m.authority or m.name}") for m in ends],
                                      key=lambda x: x[0])]
    shown = names[:5] + ([f"and {len(names) - 5} more"] if len(names) > 5 else [])
    moved = "; ".join(f"{a.upper() if a != 'other' else 'other'} {v:+.1f}" for a, v in
                      sorted(pp_all.items(), key=lambda kv: -abs(kv[1])) if abs(v) >= 0.05) or "no change"
    label = (", ".join(shown) if shown else "no measure starts or ends") + f" | all imports, pp by authority: {moved}"
    return {"date": date, "starts": [m.name for m in starts], "ends": [m.name for m in ends],
            "start_labels": [m.authority or m.name for m in starts], "end_labels": [m.authority or m.name for m in ends],
            "pp_all": pp_all, "pp_partner": pp_p, "label": label}


#: Learning Resources, Inc. v. Trump, 607 U.S. ___ (2026), Nos. 24-1287 and 25-250 (facts table: ieepa_ruling_date)
RULING_DATE = "2026-02-20"


def refund_facts() -> dict:
    """IEEPA ruling and refund facts from ``us_japan_policy_facts_2026`` (each with its source title)."""
    t = api.read_table("us_japan_policy_facts_2026", "facts")
    keys = ("ieepa_ruling_date", "ieepa_collection_end", "ieepa_duties_paid_usd_bn", "ieepa_refunds_cape_open")
    return {r["key"]: {"value": r["value"], "unit": r["unit"], "source": r["source_title"]}
            for r in t.filter(pl.col("key").is_in(keys)).iter_rows(named=True)}


def ruling_note(first, last) -> str:
    """A sentence on the IEEPA ruling and its refunds when the timeline spans the ruling date (facts table)."""
    f = refund_facts()
    ruling = f["ieepa_ruling_date"]["value"]
    if not (str(first) <= ruling <= str(last)):
        return ""
    return (f"On {ruling} the Supreme Court held that IEEPA does not authorize tariffs (Learning Resources, Inc. v. "
            f"Trump); CBP stopped collecting IEEPA duties for entries from {f['ieepa_collection_end']['value']}. "
            f"IEEPA duties paid: about {f['ieepa_duties_paid_usd_bn']['value']} USD bn "
            f"({f['ieepa_duties_paid_usd_bn']['source']}); refunds through CBP's CAPE process from "
            f"{f['ieepa_refunds_cape_open']['value']}. The rates here are statutory rates on 2024 import weights; "
            "refunds do not change them.")
