//! The simulator's stream fan-out under load: `sim-load` with a fixed load, so runs compare.

use super::json::{self, Value};
use crate::{cmd, Result};
use std::path::Path;

/// 1,000 stream subscribers, 500 events/s, 10 s.
const LOAD_ARGS: [&str; 6] = ["--subscribers", "1000", "--rate", "500", "--seconds", "10"];

pub struct Load {
    command: String,
    success: bool,
    output: String,
    /// sim-load's closing JSON line; `Null` when there is none.
    pub result: Value,
}

/// Runs sim-load with its output streamed. Its failing (frames lost) is a figure, not an error.
pub fn run(root: &Path) -> Result<Load> {
    let mut load = cmd::cargo_run_native(root, "voicebip-sim", "sim-load");
    load.args(LOAD_ARGS);
    let out = cmd::tee("load-testing the simulator's stream fan-out", &mut load)?;
    Ok(Load {
        command: cmd::describe(&load),
        success: out.success,
        result: last_json_line(&out.output),
        output: out.output,
    })
}

/// The last line that is a JSON object: sim-load prints its summary for machines last.
fn last_json_line(output: &str) -> Value {
    output
        .lines()
        .rev()
        .map(str::trim)
        .filter(|l| l.starts_with('{'))
        .find_map(|l| json::parse(l).ok())
        .unwrap_or(Value::Null)
}

impl Load {
    pub fn json(&self) -> String {
        let lines: Vec<String> = self.output.lines().map(json::string).collect();
        let result = match &self.result {
            Value::Null => "null".to_string(),
            // Re-read from the output rather than re-serialised: the line is already JSON.
            _ => self
                .output
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| l.starts_with('{') && json::parse(l).is_ok())
                .unwrap_or("null")
                .to_string(),
        };
        format!(
            "{{\"command\": {}, \"success\": {}, \"result\": {result}, \"output\": [{}]}}",
            json::string(&self.command),
            self.success,
            lines.join(", ")
        )
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.result == Value::Null {
            out.push(format!(
                "`{}` printed no JSON summary (see its output above)",
                self.command
            ));
        } else if self.result.get("ok").as_bool() != Some(true) || !self.success {
            out.push("sim-load reported a failure: frames lost or subscribers missing".into());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_summary_line() {
        let output = "   Compiling voicebip-sim\n1000 subscribers on 1 conversation(s)\n\
                      {\"expected\": 5000, \"delivered\": 5000, \"p99_ms\": 1.5}\n";
        let v = last_json_line(output);
        assert_eq!(v.get("delivered").as_f64(), Some(5000.0));
        assert_eq!(
            last_json_line("error: could not compile\n{broken"),
            Value::Null
        );
    }
}
