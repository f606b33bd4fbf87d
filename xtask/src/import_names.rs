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
//! appear in the JS exactly once, as a key of the imports object, or the build stops, as the
//! split build does for any generated code it does not recognise.

use crate::wasm_binary::{
    sections, skip_descriptor, write_len, write_name, write_section, Reader, CUSTOM_SECTION,
    IMPORT_SECTION, MAGIC_AND_VERSION,
};
use crate::Result;

/// What the module `./<bin>_bg.js` is called instead; the link module keeps its name, which is
/// also the path the main JS imports it from.
const SHORT_MODULE: &str = "a";
/// Where wasm-bindgen's JS builds the object of the glue's imports.
const IMPORTS_OBJECT: &str = "const import0 = {";

/// `wasm` with the imports from `module` renamed, and `js` with the keys that supply them.
pub fn shorten(wasm: &[u8], js: &str, module: &str) -> Result<(Vec<u8>, String)> {
    rename(wasm, js, module)
        .map_err(|e| format!("giving the main module's imports short names: {e}"))
}

fn rename(wasm: &[u8], js: &str, module: &str) -> Result<(Vec<u8>, String)> {
    let mut names = ShortNames::avoiding(js);
    let mut renames: Vec<(String, String)> = Vec::new();
    let mut out = MAGIC_AND_VERSION.to_vec();
    for (id, body) in sections(wasm)? {
        let body = match id {
            IMPORT_SECTION => rename_imports(body, module, &mut names, &mut renames)?,
            // Renaming shortens the module, which would move every offset a source map holds.
            CUSTOM_SECTION if Reader::new(body).name()? == "sourceMappingURL" => {
                return Err("it has a source map, whose offsets the renaming would move".into())
            }
            _ => body.to_vec(),
        };
        write_section(&mut out, id, &body);
    }
    Ok((out, rename_keys(js, module, &renames)?))
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
    let count = reader.u32()?;
    write_len(&mut out, count);
    for _ in 0..count {
        let (from, name) = (reader.name()?, reader.name()?);
        let start = reader.pos;
        skip_descriptor(&mut reader)
            .map_err(|e| format!("its import `{name}` from `{from}` is {e}"))?;
        let descriptor = &body[start..reader.pos];
        if from == SHORT_MODULE {
            return Err(format!(
                "it already imports from a module called `{SHORT_MODULE}`"
            ));
        }
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
        false => Err("its import section has bytes after its last import".into()),
    }
}

/// `js` with each renamed import's key in the imports object, and the module's key, renamed.
///
/// Every position is found in the JS as wasm-bindgen wrote it, and the edits are made in one
/// pass, so that a name given out earlier cannot pass for an old one.
fn rename_keys(js: &str, module: &str, renames: &[(String, String)]) -> Result<String> {
    let module_key = format!("\"{module}\": import0");
    let objects: Vec<usize> = js.match_indices(IMPORTS_OBJECT).map(|(at, _)| at).collect();
    let ends: Vec<usize> = js.match_indices(&module_key).map(|(at, _)| at).collect();
    let (object, object_end) = match (objects.as_slice(), ends.as_slice()) {
        ([object], [end]) if object < end => (*object, *end),
        _ => {
            return Err(format!(
                "the main JS was expected to build `{IMPORTS_OBJECT} … }}` once and then hand it \
                 over as `{module_key}`, once"
            ))
        }
    };
    let mut edits = vec![(object_end + 1, module.len(), SHORT_MODULE)];
    for (old, new) in renames {
        let found = word_positions(js, old);
        let keys: Vec<usize> = found
            .iter()
            .copied()
            .filter(|&at| (object..object_end).contains(&at))
            .filter(|&at| js[at + old.len()..].starts_with(':'))
            .collect();
        match (found.len(), keys.as_slice()) {
            (1, [at]) => edits.push((*at, old.len(), new)),
            (n, keys) => {
                return Err(format!(
                    "the main JS names the import `{old}` {n} time(s), {} of them as a key of the \
                     imports object; it was expected once, as that key",
                    keys.len()
                ))
            }
        }
    }
    edits.sort_unstable();
    let mut out = String::with_capacity(js.len());
    let mut copied = 0;
    for (at, len, new) in edits {
        out.push_str(&js[copied..at]);
        out.push_str(new);
        copied = at + len;
    }
    out.push_str(&js[copied..]);
    Ok(out)
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

/// Identifiers in order of length (`a` … `Z`, then `aa` …), skipping every one the JS
/// already uses, so that a renamed key cannot meet another key or a name of the glue's own.
/// Letters and digits only: never `__proto__`, and short keywords (`if`, `do`) are valid keys.
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
            if word_positions(self.js, &name).is_empty() {
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

#[cfg(test)]
mod tests {
    use super::*;

    const BG: &str = "./app_bg.js";
    const LINK: &str = "./__wasm_split.js";
    const FUNCTION: &[u8] = &[0x00, 0x00];

    /// A module with a type section, the given imports, an export section and `extra` sections.
    fn module_with(imports: &[(&str, &str, &[u8])], extra: &[u8]) -> Vec<u8> {
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
        wasm.extend_from_slice(extra);
        wasm
    }

    fn module(imports: &[(&str, &str, &[u8])]) -> Vec<u8> {
        module_with(imports, &[])
    }

    /// wasm-bindgen's JS in miniature: `a` and `b` are taken, so the first new name is `c`.
    const JS: &str = "function g() {\n    const import0 = {\n        __proto__: null,\n        \
        __wbg_now_0123: function() { return Date.now(); },\n        \
        __wbg_log_4567: function(a) { console.log(a); },\n    };\n    return {\n        \
        __proto__: null,\n        \"./app_bg.js\": import0,\n        \"./__wasm_split.js\": \
        import1,\n    };\n}\nconst b = wasm.memory;\n";

    fn refusal(wasm: &[u8], js: &str) -> String {
        match shorten(wasm, js, BG) {
            Ok(_) => panic!("shortened what it should have refused"),
            Err(error) => error,
        }
    }

    #[test]
    fn the_imports_from_the_glue_take_short_names_in_both_files() {
        let wasm = module(&[
            (BG, "__wbg_now_0123", FUNCTION),
            (LINK, "__wasm_split_load_x", FUNCTION),
            (BG, "__wbg_log_4567", FUNCTION),
            (BG, "__wbg_now_0123", &[0x00, 0x80, 0x01]), // the same function at another type
        ]);
        let (wasm_out, js_out) = shorten(&wasm, JS, BG).unwrap();
        let expected = module(&[
            ("a", "c", FUNCTION),
            (LINK, "__wasm_split_load_x", FUNCTION),
            ("a", "d", FUNCTION),
            ("a", "c", &[0x00, 0x80, 0x01]),
        ]);
        assert_eq!(wasm_out, expected);
        let expected_js = JS
            .replace("__wbg_now_0123:", "c:")
            .replace("__wbg_log_4567:", "d:")
            .replace("\"./app_bg.js\": import0", "\"a\": import0");
        assert_eq!(js_out, expected_js);
    }

    #[test]
    fn every_kind_of_import_keeps_its_descriptor() {
        let descriptors: &[&[u8]] = &[
            &[0x00, 0xff, 0x01],                                     // a function of type 255
            &[0x01, 0x70, 0x00, 0x01],                               // a table of functions
            &[0x01, 0x6f, 0x01, 0x04, 0x80, 0x08],                   // of externrefs, at most 1024
            &[0x02, 0x00, 0x11],                                     // a memory
            &[0x02, 0x03, 0x01, 0x80, 0x80, 0x04],                   // shared, at most 65536 pages
            &[0x02, 0x05, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // 64-bit
            &[0x03, 0x7f, 0x01],                                     // a mutable i32 global
            &[0x03, 0x6f, 0x00],                                     // an externref global
            &[0x04, 0x00, 0x00],                                     // a tag
        ];
        for descriptor in descriptors {
            let wasm = module(&[(BG, "__wbg_now_0123", descriptor)]);
            let (wasm_out, _) = shorten(&wasm, JS, BG).unwrap();
            assert_eq!(
                wasm_out,
                module(&[("a", "c", descriptor)]),
                "{descriptor:x?}"
            );
        }
    }

    #[test]
    fn what_it_does_not_know_stops_the_build() {
        let descriptors: &[(&[u8], &str)] = &[
            (&[0x09, 0x00], "kind 0x9"),
            (&[0x02, 0x08, 0x01, 0x10], "flags 0x8"),
            (&[0x01, 0x63, 0x70, 0x00, 0x01], "element type 0x63"),
            (&[0x03, 0x63, 0x70, 0x00], "value type 0x63"),
            (&[0x03, 0x7f, 0x02], "mutability 0x2"),
            (&[0x04, 0x01, 0x00], "attribute 0x1"),
            (&[0x00, 0x80, 0x80, 0x80, 0x80, 0x10], "over 32 bits"),
            (
                &[0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
                "longer than 32 bits",
            ),
        ];
        for (descriptor, why) in descriptors {
            let error = refusal(&module(&[(BG, "__wbg_now_0123", descriptor)]), JS);
            assert!(
                error.contains("import `__wbg_now_0123` from `./app_bg.js`"),
                "{error}"
            );
            assert!(error.contains(why), "{error}");
        }
        let wasm = module(&[(BG, "__wbg_now_0123", FUNCTION)]);
        let error = refusal(&wasm[..wasm.len() - 3], JS);
        assert!(error.contains("ends in the middle of a section"), "{error}");
        assert!(refusal(b"\0asm", JS).contains("not a wasm module"));
        let mut trailing = module(&[(BG, "__wbg_now_0123", &[0x00, 0x00, 0x00])]);
        trailing[6 + 8 + 2] -= 1; // one import fewer counted than written (the count's byte)
        assert!(refusal(&trailing, JS).contains("bytes after its last import"));
        let already = module(&[(BG, "__wbg_now_0123", FUNCTION), ("a", "x", FUNCTION)]);
        assert!(refusal(&already, JS).contains("a module called `a`"));
        let mut source_map = vec![0, 23, 16];
        source_map.extend_from_slice(b"sourceMappingURL\x05a.map");
        let mapped = module_with(&[(BG, "__wbg_now_0123", FUNCTION)], &source_map);
        assert!(refusal(&mapped, JS).contains("source map"));
    }

    #[test]
    fn an_import_the_js_does_not_supply_once_as_its_key_stops_the_build() {
        let wasm = module(&[(BG, "__wbg_now_0123", FUNCTION)]);
        let used_again = format!("{JS}import0.__wbg_now_0123();\n");
        assert!(refusal(&wasm, &used_again).contains("`__wbg_now_0123` 2 time(s), 1 of them"));
        let assigned = JS.replace("__wbg_now_0123: function", "__wbg_now_0123 = function");
        assert!(refusal(&wasm, &assigned).contains("`__wbg_now_0123` 1 time(s), 0 of them"));
        let elsewhere = JS
            .replace("__wbg_now_0123: function", "__wbg_other: function")
            .replace("const b = wasm.memory;", "const b = { __wbg_now_0123: 1 };");
        assert!(refusal(&wasm, &elsewhere).contains("`__wbg_now_0123` 1 time(s), 0 of them"));
        let gone = module(&[(BG, "__wbg_gone_abcd", FUNCTION)]);
        assert!(refusal(&gone, JS).contains("`__wbg_gone_abcd` 0 time(s)"));
        // `c` is given to the first import before the second, called `c`, is looked for: it
        // must be found in the JS as wasm-bindgen wrote it, where it is not.
        let taken = module(&[(BG, "__wbg_now_0123", FUNCTION), (BG, "c", FUNCTION)]);
        assert!(refusal(&taken, JS).contains("`c` 0 time(s)"));
        let no_object = JS.replace("const import0 = {", "const imports = {");
        assert!(refusal(&wasm, &no_object).contains("`const import0 = {"));
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
