//! The bench's figures: the console's value next to the reference's, the ratio, the budget and
//! a verdict, as a table for people and as JSON for comparing runs.

use super::json::{self, Value};
use crate::sizes::{format_size, Asset};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    Ms,
    MiB,
    Bytes,
    Count,
    Percent,
}

impl Unit {
    fn key(self) -> &'static str {
        match self {
            Unit::Ms => "ms",
            Unit::MiB => "MiB",
            Unit::Bytes => "bytes",
            Unit::Count => "count",
            Unit::Percent => "%",
        }
    }

    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Ms if v >= 100.0 => format!("{v:.0} ms"),
            Unit::Ms => format!("{v:.1} ms"),
            Unit::MiB => format!("{v:.1} MiB"),
            Unit::Bytes => format_size(v.max(0.0) as u64),
            Unit::Count => format!("{v:.0}"),
            Unit::Percent => format!("{v:.1} %"),
        }
    }
}

/// What the console must stay within.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Budget {
    /// Measured for context; no verdict.
    None,
    /// At most this, in the figure's unit.
    AtMost(f64),
    /// At most this multiple of the reference.
    Ratio(f64),
    /// Nothing at all (events or frames lost).
    Zero,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Miss,
    /// A budget, but no figure to judge (the measurement failed).
    NoData,
    Info,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Miss => "MISS",
            Verdict::NoData => "no data",
            Verdict::Info => "",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub name: String,
    pub unit: Unit,
    pub console: Option<f64>,
    /// `None` with `compared` set: the reference's measurement failed.
    pub reference: Option<f64>,
    /// Whether the reference does this too (the simulator's figures have no counterpart).
    pub compared: bool,
    pub budget: Budget,
}

impl Figure {
    pub fn ratio(&self) -> Option<f64> {
        match (self.console, self.reference) {
            (Some(c), Some(r)) if r > 0.0 => Some(c / r),
            _ => None,
        }
    }

    pub fn verdict(&self) -> Verdict {
        let within = match (self.budget, self.console) {
            (Budget::None, _) => return Verdict::Info,
            (_, None) => return Verdict::NoData,
            (Budget::AtMost(limit), Some(c)) => c <= limit,
            (Budget::Zero, Some(c)) => c == 0.0,
            (Budget::Ratio(limit), Some(_)) => match self.ratio() {
                Some(r) => r <= limit,
                None => return Verdict::NoData,
            },
        };
        if within {
            Verdict::Ok
        } else {
            Verdict::Miss
        }
    }

    fn budget_text(&self) -> String {
        match self.budget {
            Budget::None => String::new(),
            // Sizes and memory are budgeted in decimal units; the table counts in binary ones.
            Budget::AtMost(v) => match self.unit {
                Unit::Bytes => format!("≤ {:.0} KB ({})", v / 1e3, self.unit.format(v)),
                Unit::MiB => format!("≤ {:.0} MB ({})", v * MIB / 1e6, self.unit.format(v)),
                _ => format!("≤ {}", self.unit.format(v)),
            },
            Budget::Ratio(r) => format!("≤ {r}× reference"),
            Budget::Zero => "none".into(),
        }
    }
}

/// How per-run values become one figure.
#[derive(Clone, Copy)]
enum Over {
    Median,
    /// The worst run: for what must hold in every run (nothing lost, rows bounded).
    Max,
    /// Over all runs: for counts of bad runs.
    Sum,
    /// The value at this percentile (nearest rank): for how far a noisy figure spreads.
    Percentile(f64),
}

/// The finite values in ascending order; `None` when there are none.
fn sorted_finite(values: &[f64]) -> Option<Vec<f64>> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    (!sorted.is_empty()).then_some(sorted)
}

pub fn median(values: &[f64]) -> Option<f64> {
    let sorted = sorted_finite(values)?;
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

/// Nearest-rank percentile of the finite values: the smallest value with at least `p` % of
/// them at or below it (of 15, the 4th for p25 and the 12th for p75).
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let sorted = sorted_finite(values)?;
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn aggregate(values: &[f64], over: Over) -> Option<f64> {
    match over {
        Over::Median => median(values),
        Over::Max => values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .reduce(f64::max),
        Over::Sum => (!values.is_empty()).then(|| values.iter().sum()),
        Over::Percentile(p) => percentile(values, p),
    }
}

/// Row elements the virtualised list may keep in the DOM: a screenful plus overscan is about
/// 25; this leaves room for taller windows and still catches a list that renders what it loads.
const ROWS_BOUND: f64 = 100.0;

/// A browser figure: (metric in bench_browser's JSON, name, unit, budget, aggregation).
type BrowserFigure = (&'static str, &'static str, Unit, Budget, Over);

/// The cold load's figures.
const COLD_LOAD: &[BrowserFigure] = &[
    (
        "cold_load_ms",
        "cold load: navigation to first conversation row painted",
        Unit::Ms,
        Budget::Ratio(1.5),
        Over::Median,
    ),
    (
        "cold_load_ms",
        "  a quarter of the cold loads were faster than",
        Unit::Ms,
        Budget::None,
        Over::Percentile(25.0),
    ),
    (
        "cold_load_ms",
        "  a quarter of the cold loads were slower than",
        Unit::Ms,
        Budget::None,
        Over::Percentile(75.0),
    ),
    (
        "cold_dom_parsed_ms",
        "  the document parsed and its scripts run (DOMContentLoaded)",
        Unit::Ms,
        Budget::None,
        Over::Median,
    ),
    (
        "cold_list_requested_ms",
        "  first page of conversations asked for",
        Unit::Ms,
        Budget::None,
        Over::Median,
    ),
    (
        "cold_list_answered_ms",
        "  first page of conversations answered",
        Unit::Ms,
        Budget::None,
        Over::Median,
    ),
];

/// The size budget, 250 KB: decimal, as the issue writes it (244.1 KiB). It is the whole
/// console's: the thread pane's chunk (`xtask/src/split.rs`) is not needed to start, but every
/// cold visit that shows the inbox's rows or opens on a conversation fetches it. What the start
/// needs is shown beside it, without a verdict of its own: one budget, one verdict.
const SIZE_BUDGET: f64 = 250_000.0;
const WHOLE_SIZE: &str = "transfer size of the console (wasm+js+css, thread chunk included), gzip";
const WHOLE_BROTLI: &str = "  the whole console, brotli -q 11";
const START_SIZE: &str = "  to start (without the thread chunk), gzip";
const START_BROTLI: &str = "  to start, brotli -q 11";
/// The memory budget, 50 MB (decimal), in the table's MiB.
const HEAP_BUDGET: f64 = 50_000_000.0 / MIB;
const MIB: f64 = 1024.0 * 1024.0;
/// The Leptos floor's rows: the floor's value in the console's column, for context.
const FLOOR_SIZE: &str = "  a minimal Leptos app (tests/bench/floor), gzip";
const FLOOR_COLD_LOAD: &str = "  a minimal Leptos app (tests/bench/floor): first row painted";
/// How far away the API is in the cold load's second pass (`mod.rs`), and its row.
pub const REMOTE_API_MS: u64 = 100;
const REMOTE_COLD_LOAD: &str = "  cold load with the API 100 ms away (each first page held back)";
/// The console's first render against the floor's (the floor in the reference's column): both
/// from their `main` returning to their first row, so neither's download or compile counts.
const START_TO_ROW: &str = "  from the app's start to the first row, against the Leptos floor";

/// Every scenario after the cold load.
const SCENARIOS: &[BrowserFigure] = &[
    (
        "page_in_ms",
        "10,000 conversations paged in (infinite scroll)",
        Unit::Ms,
        Budget::None,
        Over::Median,
    ),
    (
        "rows_in_dom_max",
        "  row elements in the DOM (most, any run)",
        Unit::Count,
        Budget::AtMost(ROWS_BOUND),
        Over::Max,
    ),
    (
        "frame_work_p95_ms",
        "  frame work while scrolling, p95",
        Unit::Ms,
        Budget::AtMost(16.0),
        Over::Median,
    ),
    (
        "frame_interval_p95_ms",
        "  frame interval while scrolling, p95",
        Unit::Ms,
        Budget::None,
        Over::Median,
    ),
    (
        "frames_dropped_pct",
        "  frames dropped while scrolling",
        Unit::Percent,
        Budget::None,
        Over::Median,
    ),
    (
        "thread_open_ms",
        "thread with 5,000 messages: open (first page painted)",
        Unit::Ms,
        Budget::Ratio(1.5),
        Over::Median,
    ),
    (
        "thread_prepend_ms",
        "  prepend an older page (painted)",
        Unit::Ms,
        Budget::Ratio(1.5),
        Over::Median,
    ),
    (
        "burst_p50_ms",
        "SSE burst into the open thread: event-to-paint p50",
        Unit::Ms,
        Budget::None,
        Over::Median,
    ),
    (
        "burst_p95_ms",
        "  event-to-paint p95",
        Unit::Ms,
        Budget::None,
        Over::Median,
    ),
    (
        "burst_p99_ms",
        "  event-to-paint p99",
        Unit::Ms,
        Budget::AtMost(50.0),
        Over::Median,
    ),
    (
        "burst_lost",
        "  events lost (most, any run)",
        Unit::Count,
        Budget::Zero,
        Over::Max,
    ),
    (
        "burst_page_unresponsive",
        "  runs in which the page stopped answering",
        Unit::Count,
        Budget::None,
        Over::Sum,
    ),
    (
        "heap_js_mb",
        "JS heap after the list and thread scenarios (V8, after GC)",
        Unit::MiB,
        Budget::AtMost(HEAP_BUDGET),
        Over::Median,
    ),
    (
        "heap_total_mb",
        "  V8 heap + ArrayBuffers + wasm memory",
        Unit::MiB,
        Budget::AtMost(HEAP_BUDGET),
        Over::Median,
    ),
    (
        "wasm_memory_mb",
        "  of which wasm linear memory",
        Unit::MiB,
        Budget::None,
        Over::Median,
    ),
    (
        "heap_total_after_burst_mb",
        "  V8 heap + ArrayBuffers + wasm memory, after the burst",
        Unit::MiB,
        Budget::None,
        Over::Median,
    ),
];

/// What each app downloads.
pub struct Assets<'a> {
    pub console: &'a [Asset],
    /// Empty when the floor was not built.
    pub floor: &'a [Asset],
    pub reference: &'a [Asset],
}

/// One app's values of `metric`, a run each, from bench_browser's JSON.
fn runs_of(browser: &Value, app: &str, metric: &str) -> Vec<f64> {
    let runs = browser.get("apps").get(app).get(metric);
    runs.as_array().iter().filter_map(Value::as_f64).collect()
}

/// Every figure of the report, in table order. Missing inputs (`Value::Null`, no assets) give
/// figures without values, shown as "n/a".
/// `remote` is the cold-load pass with the API [`REMOTE_API_MS`] away.
pub fn figures(assets: &Assets, browser: &Value, remote: &Value, load: &Value) -> Vec<Figure> {
    let console = crate::sizes::code_total(assets.console);
    let console_start = crate::sizes::start_total(assets.console);
    let floor = crate::sizes::code_total(assets.floor);
    // The reference's html + js, gzip and brotli; `None` when they could not be measured.
    let reference = (!assets.reference.is_empty()).then(|| {
        assets.reference.iter().fold((0.0, 0.0), |(g, b), a| {
            (g + a.gzip as f64, b + a.brotli as f64)
        })
    });
    // A size row; no value when the app's files could not be measured.
    let size = |name: &str, app: &[Asset], bytes: u64, reference: Option<f64>, budget| Figure {
        name: name.into(),
        unit: Unit::Bytes,
        console: (!app.is_empty()).then_some(bytes as f64),
        reference,
        compared: true,
        budget,
    };
    let (gzip, brotli) = (reference.map(|r| r.0), reference.map(|r| r.1));
    let sized = Budget::AtMost(SIZE_BUDGET);
    let mut out = vec![
        size(WHOLE_SIZE, assets.console, console.gzip, gzip, sized),
        size(
            WHOLE_BROTLI,
            assets.console,
            console.brotli,
            brotli,
            Budget::None,
        ),
        size(
            START_SIZE,
            assets.console,
            console_start.gzip,
            gzip,
            Budget::None,
        ),
        size(
            START_BROTLI,
            assets.console,
            console_start.brotli,
            brotli,
            Budget::None,
        ),
        size(FLOOR_SIZE, assets.floor, floor.gzip, gzip, Budget::None),
    ];
    let per_run = |app: &str, metric: &str| runs_of(browser, app, metric);
    let browser_figure = |&(metric, name, unit, budget, over): &BrowserFigure| Figure {
        name: name.into(),
        unit,
        console: aggregate(&per_run("console", metric), over),
        reference: aggregate(&per_run("reference", metric), over),
        compared: true,
        budget,
    };
    out.extend(COLD_LOAD.iter().map(browser_figure));
    let remote_load = |app: &str| median(&runs_of(remote, app, "cold_load_ms"));
    out.push(Figure {
        name: REMOTE_COLD_LOAD.into(),
        unit: Unit::Ms,
        console: remote_load("console"),
        reference: remote_load("reference"),
        compared: true,
        budget: Budget::None,
    });
    // The floor's rows: a median of one app's runs beside another's, for context.
    let beside =
        |name: &str, (app, metric): (&str, &str), (other, other_metric): (&str, &str)| Figure {
            name: name.into(),
            unit: Unit::Ms,
            console: median(&per_run(app, metric)),
            reference: median(&per_run(other, other_metric)),
            compared: true,
            budget: Budget::None,
        };
    out.extend([
        beside(
            FLOOR_COLD_LOAD,
            ("floor", "cold_load_ms"),
            ("reference", "cold_load_ms"),
        ),
        beside(
            START_TO_ROW,
            ("console", "cold_start_to_row_ms"),
            ("floor", "cold_start_to_row_ms"),
        ),
    ]);
    out.extend(SCENARIOS.iter().map(browser_figure));
    let expected = load.get("expected").as_f64();
    let delivered = load.get("delivered").as_f64();
    out.extend([
        Figure {
            name: "simulator: 1,000 stream subscribers, 500 events/s for 10 s: frames delivered"
                .into(),
            unit: Unit::Count,
            console: delivered,
            reference: None,
            compared: false,
            budget: Budget::None,
        },
        Figure {
            name: "  frames lost (of those expected)".into(),
            unit: Unit::Count,
            console: expected.zip(delivered).map(|(e, d)| (e - d).max(0.0)),
            reference: None,
            compared: false,
            budget: Budget::Zero,
        },
        Figure {
            name: "  publish-to-receive p99".into(),
            unit: Unit::Ms,
            console: load.get("p99_ms").as_f64(),
            reference: None,
            compared: false,
            budget: Budget::None,
        },
    ]);
    out
}

/// A fixed-width table: figure | console | reference | ratio | budget | verdict.
pub fn table(figures: &[Figure]) -> String {
    let rows: Vec<[String; 6]> = figures
        .iter()
        .map(|f| {
            let value = |v: Option<f64>, applies: bool| match v {
                Some(v) => f.unit.format(v),
                None if applies => "n/a".into(),
                None => String::new(),
            };
            [
                f.name.clone(),
                value(f.console, true),
                value(f.reference, f.compared),
                f.ratio().map(|r| format!("{r:.2}×")).unwrap_or_default(),
                f.budget_text(),
                f.verdict().label().to_string(),
            ]
        })
        .collect();
    let header = [
        "figure",
        "console",
        "reference",
        "ratio",
        "budget",
        "verdict",
    ]
    .map(String::from);
    let mut widths = [0usize; 6];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |row: &[String; 6]| {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                let pad = w - cell.chars().count();
                // Names read left to right; numbers line up on the right.
                if i == 0 || i >= 4 {
                    format!("{cell}{}", " ".repeat(pad))
                } else {
                    format!("{}{cell}", " ".repeat(pad))
                }
            })
            .collect();
        format!("| {} |", cells.join(" | "))
    };
    let mut out = vec![line(&header)];
    out.push(format!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    ));
    out.extend(rows.iter().map(line));
    out.join("\n")
}

/// The figures as a JSON array, one object per row.
/// The closing line: the budgets missed, and those that could not be judged (a measurement
/// that failed is not a budget met).
pub fn summary(figures: &[Figure]) -> String {
    let named = |verdict| -> Vec<&str> {
        figures
            .iter()
            .filter(|f| f.verdict() == verdict)
            .map(|f| f.name.trim())
            .collect()
    };
    let (missed, unjudged) = (named(Verdict::Miss), named(Verdict::NoData));
    let mut parts = Vec::new();
    if !missed.is_empty() {
        parts.push(format!(
            "{} budget(s) missed: {}",
            missed.len(),
            missed.join("; ")
        ));
    }
    if !unjudged.is_empty() {
        parts.push(format!(
            "{} budget(s) without a figure to judge: {}",
            unjudged.len(),
            unjudged.join("; ")
        ));
    }
    if parts.is_empty() {
        "every budget met".into()
    } else {
        parts.join("\n")
    }
}

pub fn figures_json(figures: &[Figure]) -> String {
    let rows: Vec<String> = figures
        .iter()
        .map(|f| {
            let (kind, limit) = match f.budget {
                Budget::None => ("none", None),
                Budget::AtMost(v) => ("at_most", Some(v)),
                Budget::Ratio(r) => ("ratio_at_most", Some(r)),
                Budget::Zero => ("zero", Some(0.0)),
            };
            format!(
                "{{\"figure\": {}, \"unit\": {}, \"console\": {}, \"reference\": {}, \"ratio\": {}, \
                 \"budget\": {{\"kind\": {}, \"limit\": {}}}, \"verdict\": {}}}",
                json::string(f.name.trim()),
                json::string(f.unit.key()),
                json::number(f.console),
                json::number(f.reference),
                json::number(f.ratio()),
                json::string(kind),
                json::number(limit),
                json::string(match f.verdict() {
                    Verdict::Ok => "ok",
                    Verdict::Miss => "miss",
                    Verdict::NoData => "no_data",
                    Verdict::Info => "info",
                }),
            )
        })
        .collect();
    format!("[\n    {}\n  ]", rows.join(",\n    "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(console: Option<f64>, reference: Option<f64>, budget: Budget) -> Figure {
        Figure {
            name: "x".into(),
            unit: Unit::Ms,
            console,
            reference,
            compared: true,
            budget,
        }
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 2.0]), Some(2.0));
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let loads = [130.0, 110.0, 170.0, f64::NAN, 120.0, 150.0];
        assert_eq!(percentile(&loads, 25.0), Some(120.0));
        assert_eq!(percentile(&loads, 75.0), Some(150.0));
        assert_eq!(percentile(&loads, 0.0), Some(110.0));
        assert_eq!(percentile(&loads, 100.0), Some(170.0));
        assert_eq!(percentile(&[], 50.0), None);
        // 15 samples, as the cold load has: as many below the lower quartile as above the upper.
        let fifteen: Vec<f64> = (1..=15).rev().map(f64::from).collect();
        assert_eq!(percentile(&fifteen, 25.0), Some(4.0));
        assert_eq!(percentile(&fifteen, 75.0), Some(12.0));
    }

    #[test]
    fn a_budget_without_a_figure_is_not_said_to_be_met() {
        let met = figure(Some(1.0), None, Budget::AtMost(2.0));
        assert_eq!(summary(std::slice::from_ref(&met)), "every budget met");
        let missed = figure(Some(3.0), None, Budget::AtMost(2.0));
        let unmeasured = figure(None, None, Budget::AtMost(2.0));
        let info = figure(None, None, Budget::None);
        assert_eq!(
            summary(&[met, missed, unmeasured, info]),
            "1 budget(s) missed: x\n1 budget(s) without a figure to judge: x"
        );
    }

    #[test]
    fn verdicts() {
        assert_eq!(
            figure(Some(10.0), Some(8.0), Budget::Ratio(1.5)).verdict(),
            Verdict::Ok
        );
        assert_eq!(
            figure(Some(13.0), Some(8.0), Budget::Ratio(1.5)).verdict(),
            Verdict::Miss
        );
        assert_eq!(
            figure(Some(13.0), None, Budget::Ratio(1.5)).verdict(),
            Verdict::NoData
        );
        assert_eq!(
            figure(Some(16.0), None, Budget::AtMost(16.0)).verdict(),
            Verdict::Ok
        );
        assert_eq!(
            figure(Some(16.1), None, Budget::AtMost(16.0)).verdict(),
            Verdict::Miss
        );
        assert_eq!(
            figure(None, None, Budget::AtMost(16.0)).verdict(),
            Verdict::NoData
        );
        assert_eq!(figure(Some(0.0), None, Budget::Zero).verdict(), Verdict::Ok);
        assert_eq!(
            figure(Some(1.0), None, Budget::Zero).verdict(),
            Verdict::Miss
        );
        assert_eq!(
            figure(Some(1.0), Some(1.0), Budget::None).verdict(),
            Verdict::Info
        );
        assert_eq!(
            figure(Some(3.0), Some(2.0), Budget::None).ratio(),
            Some(1.5)
        );
        assert_eq!(figure(Some(3.0), Some(0.0), Budget::None).ratio(), None);
    }

    fn browser_json() -> Value {
        json::parse(
            r#"{"apps": {
                "console": {"cold_load_ms": [900, 800, 1000, 850, 1200], "burst_lost": [0, 3, 0],
                            "rows_in_dom_max": [24, 26, 25], "frame_work_p95_ms": [9, 11, 10],
                            "cold_start_to_row_ms": [300, 200, 250],
                            "cold_dom_parsed_ms": [60, 70, null, 80]},
                "reference": {"cold_load_ms": [400, 500, 600], "burst_lost": [0, 0, 0],
                              "cold_dom_parsed_ms": [50]},
                "floor": {"cold_load_ms": [700, 600, 650], "cold_start_to_row_ms": [90, 110, 100]}
            }}"#,
        )
        .unwrap()
    }

    #[test]
    fn figures_take_medians_and_worst_runs() {
        let assets = [
            Asset {
                path: "app_bg.wasm".into(),
                raw: 1000,
                gzip: 260 * 1024,
                brotli: 200 * 1024,
            },
            Asset {
                path: "split_pane-01.wasm".into(),
                raw: 100,
                gzip: 40 * 1024,
                brotli: 30 * 1024,
            },
        ];
        let load = json::parse(r#"{"expected": 5000, "delivered": 4990, "p99_ms": 2.5}"#).unwrap();
        let floor = [Asset {
            path: "floor_bg.wasm".into(),
            raw: 500,
            gzip: 70 * 1024,
            brotli: 60 * 1024,
        }];
        let all = Assets {
            console: &assets,
            floor: &floor,
            reference: &[],
        };
        let remote = json::parse(
            r#"{"apps": {"console": {"cold_load_ms": [300, 200, 250]},
                         "reference": {"cold_load_ms": [150, 190]}}}"#,
        )
        .unwrap();
        let figures = figures(&all, &browser_json(), &remote, &load);
        let by = |prefix: &str| figures.iter().find(|f| f.name.contains(prefix)).unwrap();

        let whole = by_name(&figures, WHOLE_SIZE);
        assert_eq!(whole.console, Some(300.0 * 1024.0));
        assert_eq!(whole.verdict(), Verdict::Miss);
        assert_eq!(whole.reference, None);
        assert_eq!(
            by_name(&figures, WHOLE_BROTLI).console,
            Some(230.0 * 1024.0)
        );
        let start = by_name(&figures, START_SIZE);
        assert_eq!(start.console, Some(260.0 * 1024.0));
        assert_eq!(start.verdict(), Verdict::Info);
        assert_eq!(
            by_name(&figures, START_BROTLI).console,
            Some(200.0 * 1024.0)
        );
        let cold = by("cold load");
        assert_eq!((cold.console, cold.reference), (Some(900.0), Some(500.0)));
        assert_eq!(cold.verdict(), Verdict::Miss);
        let quartile = |which: &str| {
            let f = by(&format!("cold loads were {which}"));
            (f.console, f.reference, f.verdict())
        };
        assert_eq!(
            quartile("faster"),
            (Some(850.0), Some(400.0), Verdict::Info)
        );
        assert_eq!(
            quartile("slower"),
            (Some(1000.0), Some(600.0), Verdict::Info)
        );
        // The second pass's cold load, from its own JSON, not the first pass's.
        let remote = by_name(&figures, REMOTE_COLD_LOAD);
        assert_eq!(
            (remote.console, remote.reference),
            (Some(250.0), Some(170.0))
        );
        assert_eq!(remote.verdict(), Verdict::Info);
        assert!(REMOTE_COLD_LOAD.contains(&format!(" {REMOTE_API_MS} ms ")));
        // The floor's own figures, in the console's column, beside the reference's, no verdict.
        let floor_size = by("minimal Leptos app (tests/bench/floor), gzip");
        assert_eq!(floor_size.console, Some(70.0 * 1024.0));
        let floor_load = by("minimal Leptos app (tests/bench/floor): first row");
        assert_eq!(
            (floor_load.console, floor_load.reference),
            (Some(650.0), Some(500.0))
        );
        assert_eq!(floor_load.verdict(), Verdict::Info);
        // A run whose page painted before the document was parsed has no figure for it.
        let parsed = by("document parsed");
        assert_eq!((parsed.console, parsed.reference), (Some(70.0), Some(50.0)));
        assert_eq!(parsed.verdict(), Verdict::Info);
        // The console's first render against the floor's, the floor in the reference's column.
        let render = by_name(&figures, START_TO_ROW);
        assert_eq!(
            (render.console, render.reference),
            (Some(250.0), Some(100.0))
        );
        assert_eq!(render.ratio(), Some(2.5));
        assert_eq!(render.verdict(), Verdict::Info);
        assert_eq!(by("events lost").console, Some(3.0));
        assert_eq!(by("events lost").verdict(), Verdict::Miss);
        assert_eq!(by("row elements").console, Some(26.0));
        assert_eq!(by("row elements").verdict(), Verdict::Ok);
        assert_eq!(by("frame work").verdict(), Verdict::Ok);
        assert_eq!(by("open (first page").verdict(), Verdict::NoData);
        assert_eq!(by("frames lost").console, Some(10.0));
        assert_eq!(by("publish-to-receive").console, Some(2.5));
    }

    fn by_name<'a>(figures: &'a [Figure], name: &str) -> &'a Figure {
        figures.iter().find(|f| f.name == name).unwrap()
    }

    #[test]
    fn the_size_budget_is_250_kb_for_the_whole_console_and_the_heap_50_mb() {
        // (whole console's verdict, its budget as printed) for a main module of `main_gzip`
        // bytes and a chunk of 1,000.
        let whole = |main_gzip: u64| {
            let asset = |path: &str, gzip| Asset {
                path: path.into(),
                raw: 0,
                gzip,
                brotli: 0,
            };
            let assets = [
                asset("app_bg.wasm", main_gzip),
                asset("split_pane-01.wasm", 1_000),
            ];
            let all = Assets {
                console: &assets,
                floor: &[],
                reference: &[],
            };
            let figures = figures(&all, &Value::Null, &Value::Null, &Value::Null);
            let whole = by_name(&figures, WHOLE_SIZE);
            (whole.verdict(), whole.budget_text())
        };
        let budget = "≤ 250 KB (244.1 KiB)".to_string();
        // 250 KB is 250,000 bytes, not 250 KiB, and the chunk counts.
        assert_eq!(whole(249_000), (Verdict::Ok, budget.clone()));
        assert_eq!(whole(249_001), (Verdict::Miss, budget.clone()));
        assert_eq!(whole(248 * 1024), (Verdict::Miss, budget));

        let heap = |mib: f64| {
            let browser = json::parse(&format!(
                r#"{{"apps": {{"console": {{"heap_js_mb": [{mib}], "heap_total_mb": [{mib}]}}}}}}"#
            ))
            .unwrap();
            let none = Assets {
                console: &[],
                floor: &[],
                reference: &[],
            };
            let figures = figures(&none, &browser, &Value::Null, &Value::Null);
            let row = |metric: &str| {
                let f = by_name(
                    &figures,
                    SCENARIOS.iter().find(|s| s.0 == metric).unwrap().1,
                );
                (f.verdict(), f.budget_text())
            };
            (row("heap_js_mb"), row("heap_total_mb"))
        };
        // 50 MB is 47.7 MiB: 48 MiB is over it.
        let within = (Verdict::Ok, "≤ 50 MB (47.7 MiB)".to_string());
        let over = (Verdict::Miss, within.1.clone());
        assert_eq!(heap(47.6), (within.clone(), within));
        assert_eq!(heap(48.0), (over.clone(), over));
    }

    #[test]
    fn missing_inputs_give_no_data_not_a_crash() {
        let none = Assets {
            console: &[],
            floor: &[],
            reference: &[],
        };
        let figures = figures(&none, &Value::Null, &Value::Null, &Value::Null);
        assert!(figures
            .iter()
            .filter(|f| f.budget != Budget::None)
            .all(|f| f.verdict() == Verdict::NoData));
        assert_eq!(by_name(&figures, WHOLE_SIZE).console, None);
        assert_eq!(by_name(&figures, START_SIZE).console, None);
        let text = table(&figures);
        assert!(text.contains("n/a"), "{text}");
        assert_eq!(by_name(&figures, FLOOR_SIZE).console, None);
        assert_eq!(by_name(&figures, FLOOR_COLD_LOAD).console, None);
        assert_eq!(by_name(&figures, START_TO_ROW).reference, None);
        assert_eq!(by_name(&figures, REMOTE_COLD_LOAD).console, None);
    }

    #[test]
    fn table_lines_up() {
        let figures = vec![
            Figure {
                name: "cold load".into(),
                unit: Unit::Ms,
                console: Some(900.0),
                reference: Some(450.0),
                compared: true,
                budget: Budget::Ratio(1.5),
            },
            Figure {
                name: "  lost".into(),
                unit: Unit::Count,
                console: Some(0.0),
                reference: Some(0.0),
                compared: true,
                budget: Budget::Zero,
            },
        ];
        let text = table(&figures);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("| figure "), "{text}");
        assert!(
            lines[2].contains(" 900 ms |") && lines[2].contains("2.00×"),
            "{text}"
        );
        assert!(
            lines[2].trim_end_matches(['|', ' ']).ends_with("MISS"),
            "{text}"
        );
        assert!(lines[3].contains("none"), "{text}");
        let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{text}");
        let json = json::parse(&figures_json(&figures)).unwrap();
        assert_eq!(json.as_array()[0].get("ratio").as_f64(), Some(2.0));
        assert_eq!(json.as_array()[0].get("verdict").as_str(), Some("miss"));
        assert_eq!(json.as_array()[1].get("figure").as_str(), Some("lost"));
    }
}
