//! Short names for the imports the main module takes from its own JS.
//!
//! wasm-bindgen names every import after what it binds plus a hash of it
//! (`__wbg_createElement_de4a31ed2fb252be`), under the module `./<bin>_bg.js`, and writes each
//! name twice: in the wasm's import section and as a key of the object its JS hands to the
//! instantiation. Nothing else reads them, and the hashes do not compress, so the release build
//! renames them (one or two letters each) in both files after `wasm-opt`.
//!
//! Only what is understood is touched: the import section is read in full (any descriptor this
//! does not know stops the build), the other sections are copied as they are, and a name must
//! appear in the JS exactly once, as an object key, or the build stops, as the split build
//! does for any generated code it does not recognise.

use crate::split::replace_once;
use crate::Result;

/// The import section's id in the binary format.
const IMPORT_SECTION: u8 = 2;
const MAGIC_AND_VERSION: &[u8] = b"\0asm\x01\0\0\0";
/// What the module `./<bin>_bg.js` is called instead; the link module keeps its name, which is
/// also the path the main JS imports it from.
const SHORT_MODULE: &str = "a";

/// `wasm` with the imports from `module` renamed, and `js` with the keys that supply them.
pub fn shorten(wasm: &[u8], js: &str, module: &str) -> Result<(Vec<u8>, String)> {
    let mut names = ShortNames::avoiding(js);
    let mut renames: Vec<(String, String)> = Vec::new();
    let mut reader = Reader::new(wasm);
    if reader.take(MAGIC_AND_VERSION.len())? != MAGIC_AND_VERSION {
        return Err("the main module is not a wasm module of version 1".into());
    }
    let mut out = MAGIC_AND_VERSION.to_vec();
    while !reader.done() {
        let id = reader.byte()?;
        let size = reader.len()?;
        let body = reader.take(size)?;
        let body = match id {
            IMPORT_SECTION => rename_imports(body, module, &mut names, &mut renames)?,
            _ => body.to_vec(),
        };
        out.push(id);
        write_len(&mut out, body.len());
        out.extend_from_slice(&body);
    }
    let mut js = replace_once(
        js,
        &format!("\"{module}\":"),
        &format!("\"{SHORT_MODULE}\":"),
    )?;
    for (old, new) in &renames {
        js = rename_key(&js, old, new)?;
    }
    Ok((out, js))
}

/// The import section with every import from `module` under a short name; an import named
/// twice (the same JS function at two types) keeps one name.
fn rename_imports(
    body: &[u8],
    module: &str,
    names: &mut ShortNames,
    renames: &mut Vec<(String, String)>,
) -> Result<Vec<u8>> {
    let mut reader = Reader::new(body);
    let mut out = Vec::with_capacity(body.len());
    let count = reader.len()?;
    write_len(&mut out, count);
    for _ in 0..count {
        let (from, name) = (reader.name()?, reader.name()?);
        let start = reader.pos;
        skip_descriptor(&mut reader)?;
        let descriptor = &body[start..reader.pos];
        if from == module {
            let short = match renames.iter().find(|(old, _)| old == name) {
                Some((_, short)) => short.clone(),
                None => {
                    let short = names.next_name();
                    renames.push((name.to_string(), short.clone()));
                    short
                }
            };
            write_name(&mut out, SHORT_MODULE);
            write_name(&mut out, &short);
        } else {
            write_name(&mut out, from);
            write_name(&mut out, name);
        }
        out.extend_from_slice(descriptor);
    }
    match reader.done() {
        true => Ok(out),
        false => Err("the main module's import section has bytes after its last import".into()),
    }
}

/// `old` as the one object key it must be in `js`, renamed `new`.
fn rename_key(js: &str, old: &str, new: &str) -> Result<String> {
    let found = word_positions(js, old);
    let keys: Vec<usize> = found
        .iter()
        .copied()
        .filter(|at| js[at + old.len()..].starts_with(':'))
        .collect();
    match (found.len(), keys.as_slice()) {
        (1, [at]) => Ok(format!("{}{new}{}", &js[..*at], &js[at + old.len()..])),
        (n, keys) => Err(format!(
            "the main JS was expected to name the import `{old}` once, as an object key; it \
             names it {n} times, {} as a key",
            keys.len()
        )),
    }
}

/// Where `word` stands in `text` as a whole JS identifier.
fn word_positions(text: &str, word: &str) -> Vec<usize> {
    let is_ident =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    text.match_indices(word)
        .map(|(at, _)| at)
        .filter(|&at| {
            !is_ident(text[..at].chars().next_back())
                && !is_ident(text[at + word.len()..].chars().next())
        })
        .collect()
}

/// Identifiers in order of length (`b` … `Z`, then `aa` …), skipping every one the JS
/// already uses, so that a renamed key cannot meet another key or a name of the glue's own.
struct ShortNames<'a> {
    js: &'a str,
    next: usize,
}

impl<'a> ShortNames<'a> {
    fn avoiding(js: &'a str) -> Self {
        ShortNames { js, next: 0 }
    }

    fn next_name(&mut self) -> String {
        loop {
            let name = Self::nth(self.next);
            self.next += 1;
            if name != SHORT_MODULE && word_positions(self.js, &name).is_empty() {
                return name;
            }
        }
    }

    /// The `n`th identifier of letters and digits that starts with a letter.
    fn nth(mut n: usize) -> String {
        const FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        const REST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut name = vec![FIRST[n % FIRST.len()]];
        n /= FIRST.len();
        while n > 0 {
            n -= 1;
            name.push(REST[n % REST.len()]);
            n /= REST.len();
        }
        String::from_utf8(name).expect("ASCII")
    }
}

/// Reads an import's descriptor (what kind of thing it is, and its type) to know its length.
fn skip_descriptor(reader: &mut Reader) -> Result<()> {
    match reader.byte()? {
        0x00 => reader.leb().map(drop), // a function: its type's index
        0x01 => {
            reference_type(reader)?; // a table: its element type and limits
            limits(reader)
        }
        0x02 => limits(reader), // a memory
        0x03 => {
            match reader.byte()? {
                0x7f | 0x7e | 0x7d | 0x7c | 0x7b | 0x70 | 0x6f => {}
                other => return Err(format!("an imported global of value type {other:#x}")),
            }
            reader.byte().map(drop) // its mutability
        }
        0x04 => {
            reader.byte()?; // a tag: its attribute and type's index
            reader.leb().map(drop)
        }
        other => Err(format!(
            "an import of kind {other:#x}, which this build does not know"
        )),
    }
}

fn reference_type(reader: &mut Reader) -> Result<()> {
    match reader.byte()? {
        0x70 | 0x6f => Ok(()),
        other => Err(format!("an imported table of element type {other:#x}")),
    }
}

/// Minimum, and maximum when flagged; shared and 64-bit memories have the same layout.
fn limits(reader: &mut Reader) -> Result<()> {
    let flags = reader.byte()?;
    if flags & !0x07 != 0 {
        return Err(format!("an import's limits with flags {flags:#x}"));
    }
    reader.leb()?;
    if flags & 0x01 != 0 {
        reader.leb()?;
    }
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    fn done(&self) -> bool {
        self.pos == self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or("the main module ends in the middle of a section")?;
        let taken = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    /// An unsigned LEB128 number of up to 64 bits.
    fn leb(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("the main module has a number longer than 64 bits".into())
    }

    fn len(&mut self) -> Result<usize> {
        usize::try_from(self.leb()?).map_err(|_| "the main module has a length too large".into())
    }

    fn name(&mut self) -> Result<&'a str> {
        let len = self.len()?;
        std::str::from_utf8(self.take(len)?)
            .map_err(|_| "the main module has an import name that is not UTF-8".into())
    }
}

fn write_len(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn write_name(out: &mut Vec<u8>, name: &str) {
    write_len(out, name.len());
    out.extend_from_slice(name.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    const BG: &str = "./app_bg.js";
    const LINK: &str = "./__wasm_split.js";

    /// A module with a type section, the given imports and an export section.
    fn module(imports: &[(&str, &str, &[u8])]) -> Vec<u8> {
        let mut section = Vec::new();
        write_len(&mut section, imports.len());
        for (from, name, descriptor) in imports {
            write_name(&mut section, from);
            write_name(&mut section, name);
            section.extend_from_slice(descriptor);
        }
        let mut wasm = MAGIC_AND_VERSION.to_vec();
        wasm.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]); // one type: () -> ()
        wasm.push(IMPORT_SECTION);
        write_len(&mut wasm, section.len());
        wasm.extend_from_slice(&section);
        wasm.extend_from_slice(&[7, 5, 1, 1, b'm', 2, 0]); // exports memory 0 as "m"
        wasm
    }

    /// Every import as `(module, name)`, read back the way [`shorten`] reads them.
    fn imports(wasm: &[u8]) -> Vec<(String, String)> {
        let mut reader = Reader::new(&wasm[8..]);
        let mut found = Vec::new();
        while !reader.done() {
            let (id, size) = (reader.byte().unwrap(), reader.len().unwrap());
            let body = reader.take(size).unwrap();
            if id == IMPORT_SECTION {
                let mut section = Reader::new(body);
                for _ in 0..section.len().unwrap() {
                    let (from, name) = (section.name().unwrap(), section.name().unwrap());
                    skip_descriptor(&mut section).unwrap();
                    found.push((from.to_string(), name.to_string()));
                }
            }
        }
        found
    }

    const JS: &str = "function g() {\n    const import0 = {\n        __proto__: null,\n        \
        __wbg_now_0123: function() { return Date.now(); },\n        \
        __wbg_log_4567: function(a) { console.log(a); },\n    };\n    return { \"./app_bg.js\": \
        import0, \"./__wasm_split.js\": import1 };\n}\nconst b = wasm.memory;\n";

    #[test]
    fn the_imports_from_the_glue_take_short_names_in_both_files() {
        let wasm = module(&[
            (BG, "__wbg_now_0123", &[0, 0]),
            (LINK, "__wasm_split_load_x", &[0, 0]),
            (BG, "__wbg_log_4567", &[0, 0]),
            (BG, "__wbg_now_0123", &[0, 0]),
            (BG, "__wbg_table_89", &[1, 0x6f, 1, 4, 8]),
        ]);
        let js = JS.replace(
            "        __wbg_log",
            "        __wbg_table_89: 0,\n        __wbg_log",
        );
        let (wasm_out, js_out) = shorten(&wasm, &js, BG).unwrap();
        let named = |m: &str, n: &str| (m.to_string(), n.to_string());
        // `a` is the module, `b` a name the JS already uses; the link module is left alone.
        assert_eq!(
            imports(&wasm_out),
            [
                named("a", "c"),
                named(LINK, "__wasm_split_load_x"),
                named("a", "d"),
                named("a", "c"),
                named("a", "e"),
            ]
        );
        assert!(js_out.contains("        c: function() { return Date.now(); },"));
        assert!(js_out.contains("        d: function(a) { console.log(a); },"));
        assert!(js_out.contains("        e: 0,"));
        assert!(js_out.contains("return { \"a\": import0, \"./__wasm_split.js\": import1 };"));
        assert!(!js_out.contains("__wbg_"));
        // The sections around the imports are copied byte for byte.
        assert_eq!(wasm_out[8..14], wasm[8..14]);
        assert_eq!(wasm_out[wasm_out.len() - 7..], wasm[wasm.len() - 7..]);
        assert!(wasm_out.len() < wasm.len());
    }

    #[test]
    fn a_name_the_js_uses_elsewhere_stops_the_build() {
        let wasm = module(&[(BG, "__wbg_now_0123", &[0, 0])]);
        let js = format!("{JS}import0.__wbg_now_0123();\n");
        let error = shorten(&wasm, &js, BG).unwrap_err();
        assert!(error.contains("it names it 2 times, 1 as a key"), "{error}");
        let js = JS.replace("__wbg_now_0123: function", "__wbg_now_0123 = function");
        let error = shorten(&wasm, &js, BG).unwrap_err();
        assert!(error.contains("names it 1 times, 0 as a key"), "{error}");
    }

    #[test]
    fn an_import_the_js_does_not_supply_stops_the_build() {
        let wasm = module(&[(BG, "__wbg_gone_abcd", &[0, 0])]);
        let error = shorten(&wasm, JS, BG).unwrap_err();
        assert!(
            error.contains("`__wbg_gone_abcd` once, as an object key; it names it 0 times"),
            "{error}"
        );
    }

    #[test]
    fn a_module_it_cannot_read_is_refused_not_mangled() {
        let wasm = module(&[(BG, "__wbg_now_0123", &[0, 0])]);
        assert!(shorten(&wasm[..wasm.len() - 3], JS, BG).is_err());
        assert!(shorten(b"not wasm", JS, BG).is_err());
        let unknown_kind = module(&[(BG, "__wbg_now_0123", &[0x09, 0])]);
        let error = shorten(&unknown_kind, JS, BG).unwrap_err();
        assert!(error.contains("kind 0x9"), "{error}");
    }

    #[test]
    fn short_names_are_identifiers_and_never_repeat() {
        let names: Vec<String> = (0..3000).map(ShortNames::nth).collect();
        assert_eq!(names[..3], ["a", "b", "c"]);
        assert_eq!(names[52], "aa");
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        assert!(names.iter().all(|n| n.as_bytes()[0].is_ascii_alphabetic()));
    }

    #[test]
    fn words_are_whole_identifiers() {
        let text = "ab a $a a_ a: (a)";
        assert_eq!(word_positions(text, "a"), [3, 11, 15]);
    }
}
