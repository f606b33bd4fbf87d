//! Turning the output of every test layer into one closing line, `N passed, M failed`.
//!
//! libtest and wasm-bindgen-test-runner both end each test binary with
//! `test result: ok. 12 passed; 0 failed; ...`; summing those lines over all layers gives the
//! test counts. Steps that are not tests (fmt, clippy, the release build) and test layers that
//! failed without reporting a failed test (a compile error, a crashed runner) count as one
//! failure each, so the closing line can never say `0 failed` for a red run.

/// Test counts, summed over any number of `test result:` lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Self) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

/// Sums every `test result:` line in a command's output.
pub fn parse(output: &str) -> Counts {
    let mut total = Counts::default();
    for line in output.lines() {
        if let Some(counts) = parse_line(&strip_ansi(line)) {
            total += counts;
        }
    }
    total
}

/// `test result: FAILED. 3 passed; 1 failed; 0 ignored; ...` -> 3 passed, 1 failed.
/// The marker is searched anywhere in the line because output from parallel processes can
/// share a line; fields are looked up by name because the two runners list different ones.
fn parse_line(line: &str) -> Option<Counts> {
    let (_, rest) = line.split_once("test result:")?;
    let mut counts = Counts::default();
    let mut seen = false;
    for field in rest.split([';', '.']) {
        let mut words = field.split_whitespace();
        let (Some(number), Some(label)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(number) = number.parse::<u64>() else {
            continue;
        };
        match label {
            "passed" => counts.passed = number,
            "failed" => counts.failed = number,
            _ => continue,
        }
        seen = true;
    }
    seen.then_some(counts)
}

/// Drops terminal colour codes (`ESC [ ... letter`), which cargo adds when asked to.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

enum Kind {
    /// A step that runs no tests: only its exit status matters.
    Check,
    /// A test layer: its counts, plus its exit status.
    Tests(Counts),
    /// A test layer that ran fewer tests than it holds at least: a test binary that registers
    /// none (a cfg or a runner's upgrade) exits 0 with `0 passed`, and the layer would pass.
    TooFew { counts: Counts, at_least: u64 },
    /// Not run because something it needs failed.
    Skipped(String),
}

struct Layer {
    name: String,
    ok: bool,
    kind: Kind,
}

impl Layer {
    /// Failures this layer adds beyond its counted failed tests.
    fn failed_steps(&self) -> u64 {
        match &self.kind {
            Kind::Check => u64::from(!self.ok),
            Kind::Tests(counts) => u64::from(!self.ok && counts.failed == 0),
            Kind::TooFew { .. } | Kind::Skipped(_) => 1,
        }
    }
}

/// The outcome of every step of `cargo xtask test`, in order.
#[derive(Default)]
pub struct Summary {
    layers: Vec<Layer>,
}

impl Summary {
    pub fn check(&mut self, name: &str, ok: bool) {
        self.push(name, ok, Kind::Check);
    }

    /// A test layer's outcome; `at_least`: how many tests it holds at the fewest.
    pub fn tests(&mut self, name: &str, ok: bool, counts: Counts, at_least: u64) {
        match counts.passed + counts.failed < at_least {
            true => self.push(name, false, Kind::TooFew { counts, at_least }),
            false => self.push(name, ok, Kind::Tests(counts)),
        }
    }

    pub fn skipped(&mut self, name: &str, reason: &str) {
        self.push(name, false, Kind::Skipped(reason.to_string()));
    }

    fn push(&mut self, name: &str, ok: bool, kind: Kind) {
        self.layers.push(Layer {
            name: name.to_string(),
            ok,
            kind,
        });
    }

    pub fn success(&self) -> bool {
        self.layers.iter().all(|l| l.ok)
    }

    /// Passed tests, and failed tests plus failed steps.
    pub fn totals(&self) -> Counts {
        let mut total = Counts::default();
        for layer in &self.layers {
            if let Kind::Tests(counts) | Kind::TooFew { counts, .. } = layer.kind {
                total += counts;
            }
            total.failed += layer.failed_steps();
        }
        total
    }

    /// One line per step, then a note on what the failed count includes, then the closing line
    /// `N passed, M failed` alone (CI reads it).
    pub fn render(&self) -> String {
        let width = self.layers.iter().map(|l| l.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        for layer in &self.layers {
            let status = if layer.ok { "ok" } else { "FAILED" };
            let detail = match &layer.kind {
                Kind::Check if layer.ok => String::new(),
                Kind::Check => "counted as 1 failed".to_string(),
                Kind::Tests(c) if layer.failed_steps() > 0 => format!(
                    "{} passed, {} failed; exited with an error before reporting a failed test, counted as 1 failed",
                    c.passed, c.failed
                ),
                Kind::Tests(c) => format!("{} passed, {} failed", c.passed, c.failed),
                Kind::TooFew { counts: c, at_least } => format!(
                    "{} passed, {} failed; fewer than the {at_least} tests it holds at least ran, counted as 1 failed",
                    c.passed, c.failed
                ),
                Kind::Skipped(reason) => format!("not run: {reason}; counted as 1 failed"),
            };
            out.push_str(&format!("  {status:<6}  {:<width$}  {detail}", layer.name));
            out.truncate(out.trim_end().len());
            out.push('\n');
        }
        let steps: Vec<&str> = self
            .layers
            .iter()
            .filter(|l| l.failed_steps() > 0)
            .map(|l| l.name.as_str())
            .collect();
        if !steps.is_empty() {
            out.push_str(&format!(
                "the failed count includes {} failed step(s) that are not single tests: {}\n",
                steps.len(),
                steps.join(", ")
            ));
        }
        let total = self.totals();
        out.push_str(&format!("{} passed, {} failed", total.passed, total.failed));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libtest_lines() {
        let out = "running 3 tests\n\
                   test a ... ok\n\
                   test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s\n\
                   \n\
                   test result: ok. 5 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 1.20s\n";
        assert_eq!(
            parse(out),
            Counts {
                passed: 7,
                failed: 1
            }
        );
    }

    #[test]
    fn parses_wasm_bindgen_test_runner_lines() {
        let out = "Running headless tests in Chrome on `http://127.0.0.1:41867/`\n\
                   test result: ok. 14 passed; 0 failed; 0 ignored; 0 filtered out; finished in 2.31s\n";
        assert_eq!(
            parse(out),
            Counts {
                passed: 14,
                failed: 0
            }
        );
    }

    #[test]
    fn ignores_colour_codes_and_other_lines() {
        // A counted field coloured too: without the codes taken out it would not parse.
        let out =
            "test result: \u{1b}[32mok\u{1b}[0m. \u{1b}[1m4\u{1b}[0m passed; 0 failed; 0 ignored\n\
                   test something ... FAILED\n\
                   12 passed in a log message; nothing to see\n";
        assert_eq!(
            parse(out),
            Counts {
                passed: 4,
                failed: 0
            }
        );
    }

    #[test]
    fn no_result_lines_means_zero() {
        assert_eq!(parse("error[E0425]: cannot find value"), Counts::default());
        assert_eq!(parse_line("test result: weird"), None);
    }

    #[test]
    fn failed_steps_count_once_and_are_named() {
        let mut s = Summary::default();
        s.check("cargo fmt --all --check", false);
        s.check("clippy (native)", true);
        s.tests(
            "unit tests",
            true,
            Counts {
                passed: 10,
                failed: 0,
            },
            1,
        );
        s.tests(
            "component tests",
            false,
            Counts {
                passed: 3,
                failed: 2,
            },
            1,
        );
        s.tests("e2e tests", false, Counts::default(), 0);
        s.skipped("later", "the build failed");
        assert!(!s.success());
        assert_eq!(
            s.totals(),
            Counts {
                passed: 13,
                failed: 5
            }
        );
        let text = s.render();
        assert!(text.ends_with("\n13 passed, 5 failed"), "{text}");
        assert!(text.contains("3 failed step(s)"), "{text}");
        assert!(
            text.contains("cargo fmt --all --check, e2e tests, later"),
            "{text}"
        );
    }

    #[test]
    fn all_green() {
        let mut s = Summary::default();
        s.check("fmt", true);
        s.tests(
            "unit",
            true,
            Counts {
                passed: 3,
                failed: 0,
            },
            3,
        );
        assert!(s.success());
        assert_eq!(
            s.render(),
            "  ok      fmt\n  ok      unit  3 passed, 0 failed\n3 passed, 0 failed"
        );
    }

    #[test]
    fn a_layer_that_ran_fewer_tests_than_it_holds_fails() {
        let mut s = Summary::default();
        s.tests("component tests", true, Counts::default(), 15);
        assert!(!s.success());
        assert_eq!(
            s.totals(),
            Counts {
                passed: 0,
                failed: 1
            }
        );
        assert!(
            s.render()
                .contains("fewer than the 15 tests it holds at least ran"),
            "{}",
            s.render()
        );
    }
}
