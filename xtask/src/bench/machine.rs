//! What the figures were measured on: the README quotes each table with its date and machine,
//! and milliseconds from different machines (or days) do not compare.

use super::json;
use crate::tools::{self, CHROMIUM};

pub struct Machine {
    /// The CPUs this process may use (affinity and cgroup limits included), which is what the
    /// browser and the simulator had.
    cpus: Option<usize>,
    os: Option<String>,
    browser: Option<String>,
}

impl Machine {
    pub fn probe() -> Self {
        Machine {
            cpus: std::thread::available_parallelism().ok().map(usize::from),
            os: std::fs::read_to_string("/etc/os-release")
                .ok()
                .and_then(|text| os_name(&text)),
            // Debian's `chromium --version`: "Chromium 156.0.8078.114 built on Debian …".
            browser: tools::version_of(CHROMIUM).map(|v| format!("Chromium {v}")),
        }
    }

    /// One line for the report, e.g. "2 CPUs, Debian GNU/Linux 12 (bookworm), Chromium 156.0".
    pub fn describe(&self) -> String {
        let cpus = match self.cpus {
            Some(1) => "1 CPU".to_string(),
            Some(n) => format!("{n} CPUs"),
            None => "CPUs unknown".to_string(),
        };
        format!(
            "{cpus}, {}, {}",
            self.os.as_deref().unwrap_or("OS unknown"),
            self.browser.as_deref().unwrap_or("browser unknown"),
        )
    }

    pub fn json(&self) -> String {
        let text = |v: &Option<String>| v.as_deref().map_or("null".into(), json::string);
        format!(
            "{{\"cpus\": {}, \"os\": {}, \"browser\": {}}}",
            self.cpus.map_or("null".into(), |n| n.to_string()),
            text(&self.os),
            text(&self.browser),
        )
    }
}

/// `PRETTY_NAME` of an os-release file, unquoted.
fn os_name(os_release: &str) -> Option<String> {
    os_release.lines().find_map(|line| {
        let value = line.strip_prefix("PRETTY_NAME=")?.trim();
        let value = value.trim_matches('"');
        (!value.is_empty()).then(|| value.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_os_is_its_pretty_name_unquoted() {
        let text = "NAME=\"Debian GNU/Linux\"\n\
                    PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n\
                    ID=debian\n";
        assert_eq!(
            os_name(text).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(os_name("PRETTY_NAME=Alpine\n").as_deref(), Some("Alpine"));
        assert_eq!(os_name("NAME=x\nPRETTY_NAME=\"\"\n"), None);
    }

    #[test]
    fn an_unknown_machine_still_describes_and_serialises() {
        let m = Machine {
            cpus: None,
            os: None,
            browser: None,
        };
        assert_eq!(m.describe(), "CPUs unknown, OS unknown, browser unknown");
        let unknown = json::parse(&m.json()).expect("JSON");
        assert_eq!(unknown.get("cpus").as_f64(), None);
        assert_eq!(unknown.get("os").as_str(), None);
        let m = Machine {
            cpus: Some(2),
            os: Some("Debian \"12\"".into()),
            browser: Some("Chromium 156".into()),
        };
        assert_eq!(m.describe(), "2 CPUs, Debian \"12\", Chromium 156");
        let known = json::parse(&m.json()).expect("JSON");
        assert_eq!(known.get("cpus").as_f64(), Some(2.0));
        assert_eq!(known.get("os").as_str(), Some("Debian \"12\""));
        assert_eq!(known.get("browser").as_str(), Some("Chromium 156"));
        let one = Machine {
            cpus: Some(1),
            os: None,
            browser: None,
        };
        assert!(one.describe().starts_with("1 CPU,"), "{}", one.describe());
    }
}
