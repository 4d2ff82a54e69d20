//! Results: rows of the summary table with their verdict, per-run details, medians.

use std::fmt::Write as _;

/// Whether a row meets its target.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Met.
    Met,
    /// Missed, with by how much.
    Missed(String),
    /// Informational (no target), or a quick run that does not judge timings.
    Info,
}

/// One line of the summary table.
#[derive(Clone, Debug)]
pub struct Row {
    /// Scenario and subject, e.g. `PING — kalcord api-gateway`.
    pub what: String,
    /// Result (medians).
    pub result: String,
    /// Target, or `—`.
    pub target: String,
    /// Verdict.
    pub verdict: Verdict,
}

/// A scenario's output.
#[derive(Clone, Debug, Default)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// How it was run (exact setup), one paragraph.
    pub method: String,
    /// Summary rows.
    pub rows: Vec<Row>,
    /// Every run's line.
    pub runs: Vec<String>,
    /// Correctness failures (lost events, wrong calls): always fail the benchmark.
    pub failures: Vec<String>,
}

impl Section {
    /// An empty section.
    #[must_use]
    pub fn new(title: &str, method: String) -> Self {
        Self { title: title.to_owned(), method, ..Self::default() }
    }

    /// Adds a row judged against a lower bound (`higher is better`).
    pub fn at_least(&mut self, what: String, result: String, value: f64, target: f64, unit: &str, judge: bool) {
        let verdict = if !judge {
            Verdict::Info
        } else if value >= target {
            Verdict::Met
        } else {
            Verdict::Missed(format!("{:.1}% short", (1.0 - value / target) * 100.0))
        };
        self.rows.push(Row { what, result, target: format!("≥ {}{unit}", thousands(target)), verdict });
    }

    /// Adds a row judged against an upper bound (`lower is better`).
    pub fn at_most(&mut self, what: String, result: String, value: f64, target: f64, unit: &str, judge: bool) {
        let verdict = if !judge {
            Verdict::Info
        } else if value <= target {
            Verdict::Met
        } else {
            Verdict::Missed(format!("{:.1}% over", (value / target - 1.0) * 100.0))
        };
        self.rows.push(Row { what, result, target: format!("≤ {}{unit}", thousands(target)), verdict });
    }

    /// Adds a row without a target.
    pub fn info(&mut self, what: String, result: String) {
        self.rows.push(Row { what, result, target: "—".to_owned(), verdict: Verdict::Info });
    }

    /// Records a correctness check.
    pub fn check(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.failures.push(what.into());
        }
    }
}

/// The median (mean of the middle two for an even count); 0 when empty.
#[must_use]
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) { f64::midpoint(sorted[middle - 1], sorted[middle]) } else { sorted[middle] }
}

/// `12,345` for 12345.4; decimals kept under 10.
#[must_use]
pub fn thousands(value: f64) -> String {
    if value.abs() < 10.0 && value.fract() != 0.0 {
        return format!("{value:.2}");
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if value < 0.0 { format!("-{out}") } else { out }
}

/// `1.9 ms` style latency.
#[must_use]
pub fn ms(value: f64) -> String {
    if value < 10.0 { format!("{value:.2} ms") } else { format!("{value:.1} ms") }
}

/// Markdown for a verdict.
#[must_use]
pub fn verdict_cell(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Met => "met".to_owned(),
        Verdict::Missed(by) => format!("**missed** ({by})"),
        Verdict::Info => "—".to_owned(),
    }
}

/// A markdown table of `rows`.
#[must_use]
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from("| benchmark | result (median) | target | verdict |\n|---|---|---|---|\n");
    for row in rows {
        let _ = writeln!(out, "| {} | {} | {} | {} |", row.what, row.result, row.target, verdict_cell(&row.verdict));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_verdicts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(thousands(21_600.4), "21,600");
        assert_eq!(thousands(999.0), "999");
        let mut section = Section::new("t", String::new());
        section.at_least("a".into(), "r".into(), 90.0, 100.0, "", true);
        section.at_most("b".into(), "r".into(), 120.0, 100.0, " ms", true);
        section.at_most("c".into(), "r".into(), 120.0, 100.0, " ms", false);
        assert_eq!(section.rows[0].verdict, Verdict::Missed("10.0% short".into()));
        assert_eq!(section.rows[1].verdict, Verdict::Missed("20.0% over".into()));
        assert_eq!(section.rows[2].verdict, Verdict::Info);
    }
}
