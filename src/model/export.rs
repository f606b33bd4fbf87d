//! Exports: file names and progress counted over a stream of bytes, chunk by chunk, without
//! holding the whole file as text.

use super::ids::AgentId;
use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn as_param(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }

    pub fn from_param(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(ExportFormat::Csv),
            "json" => Some(ExportFormat::Json),
            _ => None,
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv",
            ExportFormat::Json => "application/json",
        }
    }
}

/// `voicebip-agt_x-conversations-2026-05-15.csv`, with anything unsafe in a file name replaced;
/// dated with the operator's `today` (not UTC's, a day off around midnight).
pub fn file_name(agent: &AgentId, format: ExportFormat, today: NaiveDate) -> String {
    let agent: String = agent
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "voicebip-{agent}-conversations-{}.{}",
        crate::model::time::iso_date(today),
        format.as_param()
    )
}

/// Counts bytes and records as chunks arrive. CSV records end at newlines outside quotes (a
/// quoted field may hold a newline); JSON records are the objects directly inside an array (a
/// bare array, or one wrapped in an object such as `{"conversations": [...]}`): the array whose
/// objects name a `conversation_id` (the list item's fields, API.md), else the longest; or, in
/// JSON Lines (one object per line, an obvious alternative to the shape API.md leaves open), the
/// top-level objects. (A file of one line whose object holds an array is read as a document.)
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    format: ExportFormat,
    pub bytes: u64,
    /// The first byte that is not white space (nor a byte-order mark): `<` opens a web page.
    first: Option<u8>,
    records: u64,
    /// Bytes of a CSV record whose line end has not come (yet, or at all: RFC 4180 makes the
    /// last one optional).
    open_record: bool,
    /// The CSV record being received holds something (a blank line is no record).
    record_filled: bool,
    in_quotes: bool,
    /// Fields of the header line, once it has ended, and of the record being received: a last
    /// record with fewer fields than the header was cut mid-record.
    header_fields: Option<u32>,
    fields: u32,
    depth: u32,
    /// Depth of the first array: a document holds one (where JSON Lines need not).
    list_depth: Option<u32>,
    /// Depth of the array of objects open now, whose objects may be the records (not an
    /// array of names: `{"meta": {"columns": [...]}, "conversations": [...]}`).
    record_depth: Option<u32>,
    /// Which of the first 64 depths are arrays (bit `d` for depth `d`).
    arrays: u64,
    /// Objects in the longest array of them closed so far (`records` counts the open one's).
    most_records: u64,
    /// The open array's objects name a `conversation_id`: they are the conversations.
    records_named: bool,
    /// Objects in the closed array whose objects named a `conversation_id`.
    named_records: Option<u64>,
    /// How much of `conversation_id` the string being read has spelt so far, in a record.
    id_key: Option<usize>,
    /// Values closed at the top level: more than one is JSON Lines, each a record.
    top_values: u64,
    in_string: bool,
    escaped: bool,
}

impl Progress {
    pub fn new(format: ExportFormat) -> Self {
        Progress {
            format,
            bytes: 0,
            first: None,
            records: 0,
            open_record: false,
            record_filled: false,
            in_quotes: false,
            header_fields: None,
            fields: 1,
            depth: 0,
            list_depth: None,
            record_depth: None,
            arrays: 0,
            most_records: 0,
            records_named: false,
            named_records: None,
            id_key: None,
            top_values: 0,
            in_string: false,
            escaped: false,
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        if self.first.is_none() {
            const BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
            self.first = chunk
                .iter()
                .copied()
                .find(|b| !b.is_ascii_whitespace() && !BOM.contains(b));
        }
        for &b in chunk {
            match self.format {
                ExportFormat::Csv => {
                    self.open_record = b != b'\n' || self.in_quotes;
                    self.record_filled |= !matches!(b, b'\r' | b'\n') || self.in_quotes;
                    match b {
                        b'"' => self.in_quotes = !self.in_quotes,
                        b',' if !self.in_quotes => self.fields += 1,
                        b'\n' if !self.in_quotes => {
                            if self.record_filled {
                                self.records += 1;
                                self.header_fields.get_or_insert(self.fields);
                            }
                            self.fields = 1;
                            self.record_filled = false;
                        }
                        _ => {}
                    }
                }
                ExportFormat::Json => self.feed_json(b),
            }
        }
    }

    fn feed_json(&mut self, b: u8) {
        if self.in_string {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => {
                    self.escaped = true;
                    self.id_key = None;
                }
                (false, b'"') => {
                    self.in_string = false;
                    if self.id_key == Some(ID_KEY.len()) {
                        self.records_named = true;
                    }
                }
                _ => {
                    // Still spelling `conversation_id`?
                    self.id_key = self
                        .id_key
                        .filter(|&n| ID_KEY.get(n) == Some(&b))
                        .map(|n| n + 1);
                }
            }
            return;
        }
        match b {
            b'"' => {
                self.in_string = true;
                // A string in a record (an object of the array of objects open now), which
                // may be its `conversation_id` key.
                let in_record = self.record_depth.is_some_and(|d| d + 1 == self.depth);
                self.id_key = in_record.then_some(0);
            }
            b'{' => {
                if self.record_depth.is_none() && self.is_array(self.depth) {
                    self.record_depth = Some(self.depth);
                }
                self.depth += 1;
                self.mark_array(false);
            }
            b'[' => {
                self.depth += 1;
                self.list_depth.get_or_insert(self.depth);
                self.mark_array(true);
            }
            b'}' | b']' => {
                // An array of objects closing: the records are the longest such (another
                // array of them, of agents say, may come before or after).
                if b == b']' && Some(self.depth) == self.record_depth {
                    if self.records_named {
                        self.named_records = Some(self.records);
                    }
                    self.most_records = self.most_records.max(self.records);
                    self.records = 0;
                    self.records_named = false;
                    self.record_depth = None;
                }
                self.depth = self.depth.saturating_sub(1);
                if b == b'}' && Some(self.depth) == self.record_depth && self.is_array(self.depth) {
                    self.records += 1;
                }
                if self.depth == 0 {
                    self.top_values += 1;
                }
            }
            _ => {}
        }
    }

    fn is_array(&self, depth: u32) -> bool {
        depth > 0 && depth < 64 && self.arrays & (1 << depth) != 0
    }

    /// Marks the container just opened (at `depth`) as an array or not.
    fn mark_array(&mut self, array: bool) {
        if self.depth < 64 {
            let bit = 1 << self.depth;
            self.arrays = if array {
                self.arrays | bit
            } else {
                self.arrays & !bit
            };
        }
    }

    /// Whether what came can be the whole file: a JSON document closed, a CSV not ended inside
    /// a quoted field nor short of fields in its last record. (A CSV cut between records, or in
    /// the last field, cannot be told from a whole one.) A download cut short by a proxy that
    /// closed it as if whole is not to be saved as the export.
    pub fn complete(&self) -> bool {
        match self.format {
            ExportFormat::Csv => {
                let short = self.open_record && self.header_fields.is_some_and(|h| self.fields < h);
                !self.in_quotes && !short && self.bytes > 0
            }
            ExportFormat::Json => {
                (self.list_depth.is_some() || self.lines()) && self.depth == 0 && !self.in_string
            }
        }
    }

    /// Whether what came is a web page, not an export (a proxy's sign-in page that came with a
    /// `200` and no `text/html` type to say so): neither a CSV header nor JSON opens with `<`.
    pub fn is_a_web_page(&self) -> bool {
        self.first == Some(b'<')
    }

    /// Conversations so far (the CSV header line is not one), the one being received included.
    pub fn rows(&self) -> u64 {
        match self.format {
            ExportFormat::Csv => {
                let open = self.open_record && self.record_filled;
                (self.records + u64::from(open)).saturating_sub(1)
            }
            ExportFormat::Json if self.lines() => self.top_values,
            ExportFormat::Json if self.records_named => self.records,
            ExportFormat::Json => self
                .named_records
                .unwrap_or(self.records.max(self.most_records)),
        }
    }

    /// Whether the JSON is JSON Lines: a document has one value, whose array holds the records;
    /// lines of objects have no array of their own (or more than one value).
    fn lines(&self) -> bool {
        self.top_values > 1 || (self.list_depth.is_none() && self.top_values == 1)
    }
}

/// The key that names the conversations' objects in a JSON export.
const ID_KEY: &[u8] = b"conversation_id";

/// The most conversations an export holds (API.md): the agent's most recent.
pub const EXPORT_LIMIT: u64 = 10_000;

/// What the panel says once a file is saved. It names the channels, since the export API takes
/// none and a list filtered to one channel shows fewer than the file holds. At the limit, it says
/// the file may not be all of them: a file of exactly 10,000 looks complete, and the older ones
/// are simply not in it.
pub fn saved_message(file: &str, rows: u64) -> String {
    let saved = format!("Saved {file} ({rows} conversations, SMS and WhatsApp)");
    if rows >= EXPORT_LIMIT {
        format!("{saved}. Exports hold the {EXPORT_LIMIT} most recent: older ones are not in it.")
    } else {
        saved
    }
}

/// "1.2 MB", "340 KB", "12 B".
pub fn human_bytes(bytes: u64) -> String {
    match bytes {
        // Integer arithmetic, rounded to the nearest tenth: no float formatting in the wasm.
        b if b >= 1_000_000 => {
            let tenths = (b + 50_000) / 100_000;
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
        b if b >= 1_000 => format!("{} KB", b / 1_000),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_at_the_limit_says_older_ones_are_left_out() {
        assert_eq!(
            saved_message("a.csv", 9_999),
            "Saved a.csv (9999 conversations, SMS and WhatsApp)"
        );
        assert!(saved_message("a.csv", 10_000).contains("older ones are not in it"));
    }

    #[test]
    fn csv_rows_survive_quoted_newlines_across_chunks() {
        let csv = "conversation_id,body\nc1,\"hello\nthere, \"\"friend\"\"\"\nc2,plain\n";
        let mut p = Progress::new(ExportFormat::Csv);
        for chunk in csv.as_bytes().chunks(3) {
            p.feed(chunk);
        }
        assert_eq!(p.rows(), 2);
        assert_eq!(p.bytes, csv.len() as u64);
    }

    #[test]
    fn a_last_csv_record_without_its_line_end_counts() {
        let rows = |csv: &str| {
            let mut p = Progress::new(ExportFormat::Csv);
            p.feed(csv.as_bytes());
            p.rows()
        };
        assert_eq!(rows("id,body\r\nc1,hi"), 1);
        assert_eq!(rows("id,body\r\nc1,hi\r\n"), 1);
        assert_eq!(rows("id,body"), 0);
        assert_eq!(rows(""), 0);
        // Blank lines are no records, at the end or between.
        assert_eq!(rows("id,body\r\nc1,hi\r\n\r\n"), 1);
        assert_eq!(rows("id,body\nc1,hi\n\nc2,yo\n\n"), 2);
        assert_eq!(rows("id,body\nc1,\"\n\n\"\n"), 1, "not in a quoted field");
    }

    #[test]
    fn json_rows_count_top_level_objects_only() {
        let json = r#"[{"a":{"b":1},"s":"}{\"x"},{"a":[{}]}]"#;
        let mut p = Progress::new(ExportFormat::Json);
        for chunk in json.as_bytes().chunks(2) {
            p.feed(chunk);
        }
        assert_eq!(p.rows(), 2);

        let wrapped = r#"{"conversations":[{"id":"c1","tags":[{"x":1}]},{"id":"c2"}],"n":{"k":2}}"#;
        let mut p = Progress::new(ExportFormat::Json);
        p.feed(wrapped.as_bytes());
        assert_eq!(p.rows(), 2);

        // An array of names before the records' own: the records are the objects.
        let described =
            r#"{"meta":{"columns":["id","channel"]},"conversations":[{"id":"c1"},{"id":"c2"}]}"#;
        let mut p = Progress::new(ExportFormat::Json);
        p.feed(described.as_bytes());
        assert_eq!((p.rows(), p.complete()), (2, true));
        // Objects beside the records, at their depth, are not records, nor a shorter array
        // of objects before or after them.
        for beside in [
            r#"{"conversations":[{"id":"c1"},{"id":"c2"}],"meta":{"filters":{"channel":null}},"agents":[{"id":"a"}]}"#,
            r#"{"agents":[{"id":"a"}],"conversations":[{"id":"c1"},{"id":"c2"}]}"#,
            // Longer, but not the conversations, which name their id.
            r#"{"conversations":[{"conversation_id":"c1"},{"conversation_id":"c2"}],"agents":[{"id":"a"},{"id":"b"},{"id":"c"}]}"#,
            r#"{"agents":[{"id":"a"},{"id":"b"},{"id":"c"}],"conversations":[{"x":{"conversation_id":"no"},"conversation_id":"c1"},{"conversation_id":"c2"}]}"#,
        ] {
            let mut p = Progress::new(ExportFormat::Json);
            p.feed(beside.as_bytes());
            assert_eq!((p.rows(), p.complete()), (2, true), "{beside}");
        }
    }

    #[test]
    fn json_lines_count_their_objects_and_a_cut_line_is_told() {
        let progress = |text: &str| {
            let mut p = Progress::new(ExportFormat::Json);
            for chunk in text.as_bytes().chunks(3) {
                p.feed(chunk);
            }
            p
        };
        let lines = "{\"id\":\"c1\",\"tags\":[{\"x\":1}]}\n{\"id\":\"c2\",\"s\":\"}\"}\n";
        let p = progress(lines);
        assert_eq!(p.rows(), 2);
        assert!(p.complete());
        let one = progress("{\"id\":\"c1\"}\n");
        assert_eq!((one.rows(), one.complete()), (1, true));
        let cut = progress(&lines[..lines.len() - 6]);
        assert!(!cut.complete(), "a line cut short");
        // A document is still read as one: its array's objects are the records.
        let wrapped = progress(r#"{"conversations":[{"id":"c1"},{"id":"c2"},{"id":"c3"}]}"#);
        assert_eq!((wrapped.rows(), wrapped.complete()), (3, true));
    }

    #[test]
    fn a_file_cut_short_is_told_from_a_whole_one() {
        let complete = |format, text: &str| {
            let mut p = Progress::new(format);
            p.feed(text.as_bytes());
            p.complete()
        };
        let json = r#"{"conversations":[{"id":"c1","s":"]}"},{"id":"c2"}]}"#;
        assert!(complete(ExportFormat::Json, json));
        assert!(complete(ExportFormat::Json, "[]"));
        for cut in [10, 30, json.len() - 1] {
            assert!(
                !complete(ExportFormat::Json, &json[..cut]),
                "{}",
                &json[..cut]
            );
        }
        assert!(!complete(ExportFormat::Json, ""));
        assert!(complete(ExportFormat::Csv, "id,body\nc1,\"a\nb\"\n"));
        assert!(!complete(ExportFormat::Csv, "id,body\nc1,\"a\n"));
        // A last record without its line end is whole with all its fields, cut without them.
        assert!(complete(ExportFormat::Csv, "id,agent,body\r\nc1,a1,hi"));
        assert!(complete(
            ExportFormat::Csv,
            "id,agent,body\r\nc1,a1,\"x,y\"\r\n"
        ));
        assert!(!complete(
            ExportFormat::Csv,
            "id,agent,body\r\nc1,a1,hi\r\nc2,a"
        ));
        assert!(!complete(
            ExportFormat::Csv,
            "id,agent,body\r\nc1,\"a,b\",c\r\nc2"
        ));
        assert!(!complete(ExportFormat::Csv, ""));
    }

    #[test]
    fn a_web_page_is_told_from_an_export() {
        let page = |format, chunks: &[&str]| {
            let mut p = Progress::new(format);
            for chunk in chunks {
                p.feed(chunk.as_bytes());
            }
            p.is_a_web_page()
        };
        assert!(page(
            ExportFormat::Csv,
            &["\r\n ", "<!doctype html><p>Sign in</p>"]
        ));
        assert!(page(ExportFormat::Json, &["\u{feff}<html>"]));
        assert!(!page(
            ExportFormat::Csv,
            &["\u{feff}id,body\r\n", "c1,<b>hi</b>\r\n"]
        ));
        assert!(!page(ExportFormat::Json, &[r#"[{"body":"<p>"}]"#]));
        assert!(!page(ExportFormat::Csv, &[]));
    }

    #[test]
    fn file_names_are_safe_and_dated() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 15).expect("valid");
        assert_eq!(
            file_name(&AgentId::from("agt_A/../b"), ExportFormat::Csv, today),
            "voicebip-agt_A____b-conversations-2026-05-15.csv"
        );
        assert_eq!(human_bytes(1_234_567), "1.2 MB");
        assert_eq!(human_bytes(1_250_000), "1.3 MB");
        assert_eq!(human_bytes(1_000_000), "1.0 MB");
        assert_eq!(human_bytes(19_960_000), "20.0 MB");
        assert_eq!(human_bytes(34_000), "34 KB");
    }
}
