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
    from crm_tui.logic.dates import parse_day

    return parse_day(text) if text else None


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
    from crm_tui.logic.money import format_amount
    from crm_tui.logic.sales_report import sales_report

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
