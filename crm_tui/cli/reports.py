"""`crm report ...`"""

from __future__ import annotations

from typing import Annotated

import typer

from crm_tui.cli import output
from crm_tui.cli.output import Format, FormatOption
from crm_tui.cli.state import crm

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.callback()
def report() -> None:
    """Figures: sales performance."""  # a callback keeps `report` a group of commands


def _day(text: str | None):
    from crm_tui.logic.values.dates import parse_relative_day

    return parse_relative_day(text) if text else None


@app.command("sales")
def sales(
    ctx: typer.Context,
    start: Annotated[str | None, typer.Option("--from", help="First day of the period (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day of the period.")] = None,
    owner: Annotated[
        str | None, typer.Option(help="Only this owner's deals and orders (me for yours).")
    ] = None,
    pipeline: Annotated[
        str | None, typer.Option(help="Only this pipeline; default: all (stages: the default).")
    ] = None,
    fmt: Format = FormatOption,
) -> None:
    """Sales figures: pipeline, forecast, win rate, deal size, cycle, conversion, revenue."""
    from crm_tui.logic.reports.sales import sales_report
    from crm_tui.logic.values.money import format_amount

    report = sales_report(crm(ctx), start=_day(start), end=_day(end), owner=owner, pipeline=pipeline)
    if fmt != Format.table:
        output.print_record(report, fmt)
        return

    def amount(field: str):
        return lambda row: format_amount(getattr(row, field), row.currency)

    period = f"{report.period_from or 'the start'} to {report.period_to or 'today'}"
    output.say(
        f"Sales, {period}; pipeline {report.pipeline}" + (f"; owner {report.owner}" if report.owner else "")
    )
    tables = [
        (
            report.pipeline_by_stage,
            "Open pipeline by stage",
            [
                ("stage", "Stage"),
                ("probability", "%"),
                ("deals", "Deals"),
                (amount("amount_minor"), "Amount"),
                (amount("weighted_minor"), "Weighted"),
            ],
        ),
        (
            report.forecast,
            "Forecast by expected close",
            [
                ("month", "Month"),
                ("deals", "Deals"),
                (amount("amount_minor"), "Amount"),
                (amount("weighted_minor"), "Weighted"),
            ],
        ),
        (
            report.win_rates,
            "Win rate (deals closed in the period)",
            [
                (lambda row: row.owner or "team", "Owner"),
                ("won", "Won"),
                ("lost", "Lost"),
                ("win_rate", "Win rate %"),
            ],
        ),
        (
            report.won_deals,
            "Won deals",
            [
                ("won", "Won"),
                (amount("amount_minor"), "Amount"),
                (amount("average_minor"), "Average"),
            ],
        ),
        (
            report.stage_conversion,
            "Stage conversion",
            [
                ("stage", "Stage"),
                ("entered", "Entered"),
                ("advanced", "Moved on"),
                ("conversion", "Conversion %"),
            ],
        ),
        (
            report.revenue_by_month,
            "Order revenue by month",
            [("key", "Month"), ("orders", "Orders"), (amount("net_minor"), "Net")],
        ),
        (
            report.revenue_by_product,
            "Order revenue by product",
            [("key", "Product"), ("orders", "Orders"), (amount("net_minor"), "Net")],
        ),
        (
            report.revenue_by_owner,
            "Order revenue by owner",
            [("key", "Owner"), ("orders", "Orders"), (amount("net_minor"), "Net")],
        ),
    ]
    for rows, title, columns in tables:
        if rows:
            output.print_records(rows, fmt, columns, title)
    cycle = report.average_cycle_days
    output.console().print(
        f"Average sales cycle: {cycle} days" if cycle is not None else "Average sales cycle: no deals won"
    )


@app.command("service")
def service(
    ctx: typer.Context,
    start: Annotated[str | None, typer.Option("--from", help="First day of the period (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day of the period.")] = None,
    agent: Annotated[str | None, typer.Option(help="Only this agent's tickets (me for yours).")] = None,
    fmt: Format = FormatOption,
) -> None:
    """Service figures: volume, response and resolution times, SLA, backlog, satisfaction."""
    from crm_tui.logic.reports.service import service_report
    from crm_tui.logic.values.dates import duration_text

    report = service_report(crm(ctx), start=_day(start), end=_day(end), agent=agent)
    if fmt != Format.table:
        output.print_record(report, fmt)
        return

    def span(minutes: float | None) -> str:
        return duration_text(minutes * 60) if minutes is not None else "-"

    period = f"{report.period_from or 'the start'} to {report.period_to or 'today'}"
    output.say(f"Service, {period}" + (f"; agent {report.agent}" if report.agent else ""))
    rows = [
        ("Tickets opened", report.created),
        ("By type", output.shown(report.by_type)),
        ("By priority", output.shown(report.by_priority)),
        ("By channel", output.shown(report.by_channel)),
        ("By status now", output.shown(report.by_status)),
        (
            "First response, median / 90 %",
            f"{span(report.first_response.median_minutes)} / {span(report.first_response.p90_minutes)}",
        ),
        (
            "Resolution, median / 90 %",
            f"{span(report.resolution.median_minutes)} / {span(report.resolution.p90_minutes)}",
        ),
        ("Resolved", report.resolved),
        ("Within SLA %", report.sla_compliance),
        (
            "Satisfaction (of 5)",
            f"{report.satisfaction} from {report.rated} ratings" if report.rated else "-",
        ),
        ("Waiting now, by age", output.shown(report.backlog)),
    ]
    output.print_records(
        [{"figure": k, "value": v} for k, v in rows],
        fmt,
        [(lambda r: r["figure"], "Figure"), (lambda r: r["value"], "Value")],
    )
    agents = [
        (lambda a: a.agent, "Agent"),
        (lambda a: a.waiting, "Waiting"),
        (lambda a: a.resolved, "Resolved"),
        (lambda a: span(a.resolution.median_minutes), "Median resolution"),
        (lambda a: a.sla_compliance, "Within SLA %"),
        (lambda a: a.satisfaction, "Satisfaction"),
    ]
    if report.agents:
        output.print_records(report.agents, fmt, agents, "Agents")
