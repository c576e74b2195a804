"""`dmarc report --html`: one self-contained page (inline CSS and SVG, nothing fetched) with
the daily pass rate and the failing sources. Every value from a report is escaped: reports
come from anyone."""

from __future__ import annotations

from datetime import datetime
from html import escape

from ses_feedback.rules.dmarc import DmarcSummary

_WIDTH, _HEIGHT, _PAD = 760, 220, 36

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 820px; color: #1d232a; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } .muted { color: #5b6670; }
.verdict { padding: .8rem 1rem; border-radius: 6px; background: #eef4fb; border-left: 5px solid #2f6fb2; }
.verdict.none { background: #fff6e5; border-color: #c98300; }
table { border-collapse: collapse; width: 100%; margin-top: .5rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e3e6e8; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.fail { color: #b3261e; font-weight: 600; } .pass { color: #1e7b34; }
svg text { font: 11px system-ui, sans-serif; fill: #5b6670; }
"""


def _chart(summary: DmarcSummary) -> str:
    days = summary.daily
    if not days:
        return '<p class="muted">No reports in this period.</p>'
    inner_w, inner_h = _WIDTH - 2 * _PAD, _HEIGHT - 2 * _PAD
    step = inner_w / len(days)
    bar = max(2.0, step * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="Daily DMARC pass rate">'
    ]
    for percent in (0, 50, 100):
        y = _PAD + inner_h * (1 - percent / 100)
        parts.append(
            f'<line x1="{_PAD}" y1="{y:.1f}" x2="{_WIDTH - _PAD}" y2="{y:.1f}" stroke="#e3e6e8"/>'
            f'<text x="4" y="{y + 4:.1f}">{percent}%</text>'
        )
    for index, day in enumerate(days):
        rate = day.passed / day.messages if day.messages else 0.0
        height = inner_h * rate
        x = _PAD + index * step + (step - bar) / 2
        colour = "#1e7b34" if rate >= 0.95 else "#c98300" if rate >= 0.5 else "#b3261e"
        parts.append(
            f'<rect class="day" x="{x:.1f}" y="{_PAD + inner_h - height:.1f}" width="{bar:.1f}" '
            f'height="{max(height, 1):.1f}" fill="{colour}"><title>{day.day.isoformat()}: '
            f"{day.passed} of {day.messages} passed ({rate:.1%})</title></rect>"
        )
    first, last = days[0].day.isoformat(), days[-1].day.isoformat()
    parts.append(f'<text x="{_PAD}" y="{_HEIGHT - 8}">{first}</text>')
    parts.append(f'<text x="{_WIDTH - _PAD}" y="{_HEIGHT - 8}" text-anchor="end">{last}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render(summary: DmarcSummary, since: datetime | None, now: datetime) -> str:
    rate = f"{summary.pass_rate:.1%}" if summary.pass_rate is not None else "no data"
    verdict = summary.verdict
    failing = [source for source in summary.sources if source.failed]
    rows = "".join(
        "<tr>"
        f"<td>{escape(source.source_ip)}</td>"
        f'<td class="n">{source.messages}</td>'
        f'<td class="n fail">{source.failed}</td>'
        f"<td>{'this stack' if source.own else 'unknown'}</td>"
        f"<td>{escape(', '.join(sorted(source.spf_domains)) or '-')}</td>"
        f"<td>{escape(', '.join(sorted(source.dkim_domains)) or '-')}</td>"
        f"<td>{escape(', '.join(sorted(source.reporters)))}</td>"
        "</tr>"
        for source in failing
    )
    table = (
        "<table><thead><tr><th>source IP</th><th>messages</th><th>failed</th><th>sender</th>"
        f"<th>SPF domains</th><th>DKIM domains</th><th>seen by</th></tr></thead><tbody>{rows}</tbody></table>"
        if failing
        else '<p class="pass">Every source passed DMARC.</p>'
    )
    period = f"since {since:%Y-%m-%d}" if since else "all stored reports"
    fix = f"<p>Fix first: {escape(', '.join(verdict.fix_first))}</p>" if verdict.fix_first else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>DMARC report: {escape(summary.domain)}</title><style>{_STYLE}</style></head>
<body>
<h1>DMARC report: {escape(summary.domain)}</h1>
<p class="muted">{period}; made {now:%Y-%m-%d %H:%M} UTC by ses-feedback</p>
<p><strong id="messages">{summary.messages}</strong> message(s) in <strong>{summary.reports}</strong>
report(s), <strong id="pass-rate">{rate}</strong> passed DMARC; published policy
p={escape(summary.published_policy or "-")}.</p>
<div class="verdict {escape(verdict.policy)}"><strong>The data supports p={escape(verdict.policy)}</strong>:
{escape(verdict.reason)}{fix}</div>
<h2>Daily pass rate</h2>
{_chart(summary)}
<h2>Failing sources</h2>
{table}
</body></html>
"""
