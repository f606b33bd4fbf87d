//! The release build's second step: the thread pane's code leaves the first download.
//!
//! Trunk has no wasm splitter, so Trunk builds the app with the split points marked
//! (`--cfg voicebip_split`, see `src/pages/thread_chunk.rs`) and with relocations kept, and this
//! step then does what Trunk's wasm step would have done, on split output: `wasm-split-cli` cuts
//! the linked wasm at the split points into a main module and chunks,
//! `wasm-bindgen` makes the main module's JS, `wasm-opt -Oz` shrinks every module (its functions then ordered for gzip, `code_order.rs`), the main
//! module's imports from its JS take short names (`import_names.rs`), and the files replace
//! Trunk's under content-hashed names with subresource integrity, chunks included.
//! A build without split points (the bench's Leptos floor) goes the same way and comes out as
//! one module (with the few exports `--keep-lld-exports` keeps).

use crate::csp::{content_hash, integrity, url_prefix};
use crate::{cmd, code_order, import_names, Result};
use std::fs;
use std::path::Path;
use std::process::Command;

/// Added by Cargo to `.cargo/config.toml`'s rustflags for the wasm target: the split points
/// become real imports, and wasm-split needs the linker's relocations to move code.
pub const RUSTFLAGS_VAR: &str = "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS";
pub const RUSTFLAGS: &str = "--cfg voicebip_split -C link-arg=--emit-relocs";

/// The loader wasm-split writes, as the main module's JS imports it.
const LINK_MODULE: &str = "__wasm_split.js";
/// How wasm-bindgen names the main module; every other wasm file is a chunk ([`is_chunk`]).
const MAIN_WASM_SUFFIX: &str = "_bg.wasm";

/// Whether a built file is a chunk loaded when first needed: wasm-split names one per split
/// point (`split_<point>.wasm`) and one per set of code several points share (`chunk_<n>.wasm`),
/// while the main module is wasm-bindgen's `<bin>_bg.wasm`.
pub fn is_chunk(path: &str) -> bool {
    path.ends_with(".wasm") && !path.ends_with(MAIN_WASM_SUFFIX)
}

/// Splits `bin`'s wasm, just built by Trunk into `dist` (served under `public_url`), and puts
/// the result in place of Trunk's JS and wasm.
pub fn apply(root: &Path, bin: &str, dist: &Path, public_url: &str) -> Result<()> {
    let target = crate::target_dir(root)?;
    let work = target.join("split").join(bin);
    let _ = fs::remove_dir_all(&work);
    let (split_dir, bindgen_dir) = (work.join("split"), work.join("bindgen"));
    for dir in [&split_dir, &bindgen_dir] {
        fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let linked = target
        .join("wasm32-unknown-unknown")
        .join("release")
        .join(format!("{bin}.wasm"));
    cmd::run(
        "splitting the wasm at its split points",
        Command::new("wasm-split-cli")
            .arg(&linked)
            .arg(&split_dir)
            .args(["--out-name", bin]),
    )?;
    let chunks = chunk_names(&split_dir, bin)?;
    // `--keep-lld-exports`: the chunks import the function table, which wasm-bindgen would
    // otherwise stop exporting.
    cmd::run(
        "generating the main module's bindings",
        Command::new("wasm-bindgen")
            .args(["--target", "web", "--no-typescript", "--keep-lld-exports"])
            .arg("--out-dir")
            .arg(&bindgen_dir)
            .args(["--out-name", bin])
            .arg(split_dir.join(format!("{bin}.wasm"))),
    )?;
    if bindgen_dir.join("snippets").exists() {
        return Err(format!(
            "{bin} has wasm-bindgen snippets, which the split build does not copy yet"
        ));
    }
    let main_wasm = optimize(&bindgen_dir.join(format!("{bin}{MAIN_WASM_SUFFIX}")), &work)?;
    let mut chunk_files = Vec::new();
    for name in &chunks {
        chunk_files.push((name.clone(), optimize(&split_dir.join(name), &work)?));
    }
    let main_js = read_text(&bindgen_dir.join(format!("{bin}.js")))?;
    let (main_wasm, main_js) =
        import_names::shorten(&main_wasm, &main_js, &format!("./{bin}_bg.js"))?;
    // The link module ships when the main module imports it, which it does for any split point.
    let link_js = match main_js.contains(&link_import(LINK_MODULE)) {
        true => Some(read_text(&split_dir.join(LINK_MODULE))?),
        false => None,
    };
    let built = Built {
        main_js,
        link_js,
        main_wasm,
        chunks: chunk_files,
    };
    let files = name_and_link(bin, built)?;
    install(dist, bin, public_url, &files)?;
    println!(
        "    {bin}: a main module and {} chunk(s) loaded when first needed",
        files.chunks.len()
    );
    Ok(())
}

/// Every wasm file wasm-split wrote but the main module.
fn chunk_names(dir: &Path, bin: &str) -> Result<Vec<String>> {
    let main = format!("{bin}.wasm");
    let mut names: Vec<String> = fs::read_dir(dir)
        .map_err(|e| format!("listing {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wasm") && *n != main)
        .collect();
    names.sort();
    Ok(names)
}

/// `wasm-opt -Oz`, as Trunk runs it for `data-wasm-opt="z"`, then the functions ordered for the
/// gzip copy (`code_order.rs`).
fn optimize(input: &Path, work: &Path) -> Result<Vec<u8>> {
    let name = input.file_name().unwrap_or_default().to_string_lossy();
    let output = work.join(format!("opt-{name}"));
    cmd::run(
        &format!("optimizing {name}"),
        Command::new("wasm-opt")
            .arg("-Oz")
            .arg(input)
            .arg("-o")
            .arg(&output),
    )?;
    let optimized = fs::read(&output).map_err(|e| format!("reading {}: {e}", output.display()))?;
    code_order::by_likeness(&optimized, work, &name)
}

fn read_text(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// What the split build made, under the names the tools gave it.
struct Built {
    main_js: String,
    /// The chunks' loader; none without chunks, when nothing imports it.
    link_js: Option<String>,
    main_wasm: Vec<u8>,
    /// `(split_<point>.wasm, optimized bytes)`.
    chunks: Vec<(String, Vec<u8>)>,
}

/// One output file: its hashed name and contents.
#[derive(Debug)]
struct File {
    name: String,
    bytes: Vec<u8>,
}

#[derive(Debug)]
struct Files {
    main_js: File,
    main_wasm: File,
    link_js: Option<File>,
    chunks: Vec<File>,
}

/// Content-hashed names, and every reference between the files rewritten to them.
///
/// The main JS imports the link module and the link module imports the main JS, so neither can
/// be named after its own content: both take one hash of everything built. A chunk is named
/// after its own bytes, and the link module fetches it with its integrity.
fn name_and_link(bin: &str, built: Built) -> Result<Files> {
    let chunks: Vec<File> = built
        .chunks
        .iter()
        .map(|(name, bytes)| File {
            name: hashed(name, ".wasm", &content_hash(bytes)),
            bytes: bytes.clone(),
        })
        .collect();
    let mut everything = built.main_wasm.clone();
    everything.extend_from_slice(built.main_js.as_bytes());
    everything.extend_from_slice(built.link_js.as_deref().unwrap_or_default().as_bytes());
    for (_, bytes) in &built.chunks {
        everything.extend_from_slice(bytes);
    }
    let build = content_hash(&everything);
    let main_js_name = format!("{bin}-{build}.js");
    let (main_js, link_js) = match &built.link_js {
        None => (built.main_js, None),
        Some(link_js) => {
            let link_name = hashed(LINK_MODULE, ".js", &build);
            // Only the import statements: the main JS also names the link module as the key
            // of the wasm's imports, which is the module name compiled into the wasm.
            let main_js = replace_once(
                &built.main_js,
                &link_import(LINK_MODULE),
                &link_import(&link_name),
            )?;
            let mut link_js = replace_once(
                link_js,
                &link_import(&format!("{bin}.js")),
                &link_import(&main_js_name),
            )?;
            for ((original, _), chunk) in built.chunks.iter().zip(&chunks) {
                link_js = replace_once(
                    &link_js,
                    &format!("fetch(new URL(\"./{original}\", import.meta.url))"),
                    &format!(
                        "fetch(new URL(\"./{}\", import.meta.url), {{ integrity: \"{}\" }})",
                        chunk.name,
                        integrity(&chunk.bytes)
                    ),
                )?;
            }
            if link_js.contains(UNPINNED_FETCH) {
                return Err(
                    "the link module fetches a file the split build did not name and pin".into(),
                );
            }
            let link_js = with_mime_fallback(&link_js, built.chunks.len())?;
            let link_js = File {
                name: link_name,
                bytes: link_js.into_bytes(),
            };
            (main_js, Some(link_js))
        }
    };
    Ok(Files {
        main_js: File {
            name: main_js_name,
            bytes: main_js.into_bytes(),
        },
        main_wasm: File {
            name: format!("{bin}-{build}_bg.wasm"),
            bytes: built.main_wasm,
        },
        link_js,
        chunks,
    })
}

/// An import statement's source, as the tools write it.
fn link_import(file: &str) -> String {
    format!("from \"./{file}\"")
}

/// How the link module fetches a chunk before [`name_and_link`] pins it with its integrity.
const UNPINNED_FETCH: &str = ", import.meta.url))";

/// The link module's chunk loading, as wasm-split writes it once per chunk.
const STREAMING: &str = "WebAssembly.instantiateStreaming(src, imports)";
const WITH_FALLBACK: &str = "instantiateChunk(src, imports)";
/// A chunk served without `Content-Type: application/wasm` still loads, as the main module does
/// (wasm-bindgen's loader falls back the same way): streaming compilation refuses it before
/// reading the body, which is then compiled from its bytes.
const FALLBACK_FN: &str = "
async function instantiateChunk(src, imports) {
    const response = await src;
    try {
        return await WebAssembly.instantiateStreaming(response, imports);
    } catch (e) {
        if (!response.ok || response.headers.get(\"Content-Type\") === \"application/wasm\") throw e;
        return WebAssembly.instantiate(await response.arrayBuffer(), imports);
    }
}
";

fn with_mime_fallback(link_js: &str, chunks: usize) -> Result<String> {
    match link_js.matches(STREAMING).count() {
        n if n == chunks => Ok(format!(
            "{}{FALLBACK_FN}",
            link_js.replace(STREAMING, WITH_FALLBACK)
        )),
        n => Err(format!(
            "the split build expected `{STREAMING}` once per chunk ({chunks}), found it {n} times"
        )),
    }
}

/// `split_x.wasm` -> `split_x-<hash>.wasm`.
fn hashed(name: &str, extension: &str, hash: &str) -> String {
    let stem = name.strip_suffix(extension).unwrap_or(name);
    format!("{stem}-{hash}{extension}")
}

/// The tools' output is matched exactly: if a new version writes it differently, the build
/// stops here instead of shipping a page that cannot load its code.
pub(crate) fn replace_once(text: &str, from: &str, to: &str) -> Result<String> {
    match text.matches(from).count() {
        1 => Ok(text.replacen(from, to, 1)),
        n => Err(format!(
            "the split build expected `{from}` once in the generated code, found it {n} times"
        )),
    }
}

/// Swaps Trunk's JS and wasm in `dist` for the split files: the page's loader, module preload
/// and wasm preload point at the new names with their integrity, and the link module gets a
/// module preload of its own, so that its import is checked too.
fn install(dist: &Path, bin: &str, public_url: &str, files: &Files) -> Result<()> {
    let index_path = dist.join("index.html");
    let mut index = read_text(&index_path)?;
    let (old_js, old_wasm) = trunk_files(dist, bin)?;
    for (old, new) in [(&old_js, &files.main_js), (&old_wasm, &files.main_wasm)] {
        let old_bytes = fs::read(dist.join(old)).map_err(|e| format!("reading {old}: {e}"))?;
        index = index.replace(old.as_str(), &new.name);
        index = index.replace(&integrity(&old_bytes), &integrity(&new.bytes));
        fs::remove_file(dist.join(old)).map_err(|e| format!("removing {old}: {e}"))?;
    }
    index = pin_main_wasm(&index, public_url, &files.main_wasm)?;
    if let Some(link_js) = &files.link_js {
        index = add_module_preload(&index, public_url, link_js)?;
    }
    let all = [&files.main_js, &files.main_wasm]
        .into_iter()
        .chain(&files.link_js)
        .chain(&files.chunks);
    for file in all {
        fs::write(dist.join(&file.name), &file.bytes)
            .map_err(|e| format!("writing {}: {e}", file.name))?;
    }
    fs::write(&index_path, index).map_err(|e| format!("writing {}: {e}", index_path.display()))
}

/// Makes the loader fetch the main module with its integrity. Trunk's page has it only on the
/// module's preload, where Chromium ignores it (an `as="fetch"` preload, crbug.com/981419, logged
/// on every load), and wasm-bindgen's init fetches the bare path: a changed module would run.
/// The loader's fetch, with the same URL and mode, still takes the preloaded response, and the
/// browser checks it before the module compiles; the preload loses the attribute it ignored.
fn pin_main_wasm(index: &str, public_url: &str, wasm: &File) -> Result<String> {
    let url = format!("{}{}", url_prefix(public_url), wasm.name);
    let sri = integrity(&wasm.bytes);
    let index = replace_once(index, &format!(" integrity=\"{sri}\""), "")?;
    replace_once(
        &index,
        &format!("module_or_path: '{url}'"),
        &format!("module_or_path: fetch('{url}', {{ integrity: '{sri}' }})"),
    )
}

/// Trunk's `<bin>-<hash>.js` and `<bin>-<hash>_bg.wasm` in `dist`.
fn trunk_files(dist: &Path, bin: &str) -> Result<(String, String)> {
    let names: Vec<String> = fs::read_dir(dist)
        .map_err(|e| format!("listing {}: {e}", dist.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let find = |suffix: &str| {
        let prefix = format!("{bin}-");
        let found: Vec<&String> = names
            .iter()
            .filter(|n| n.starts_with(&prefix) && n.ends_with(suffix))
            .filter(|n| suffix != ".js" || !n.ends_with("_bg.js"))
            .collect();
        match found.as_slice() {
            [one] => Ok((*one).clone()),
            _ => Err(format!(
                "expected one {prefix}*{suffix} from Trunk in {}, found {}",
                dist.display(),
                found.len()
            )),
        }
    };
    Ok((find(".js")?, find("_bg.wasm")?))
}

fn add_module_preload(index: &str, public_url: &str, file: &File) -> Result<String> {
    let prefix = url_prefix(public_url);
    let tag = format!(
        "<link rel=\"modulepreload\" href=\"{prefix}{}\" crossorigin=\"anonymous\" integrity=\"{}\">",
        file.name,
        integrity(&file.bytes)
    );
    let end = index
        .find("</head>")
        .ok_or("the built index.html has no </head>")?;
    Ok(format!("{}{tag}{}", &index[..end], &index[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built() -> Built {
        Built {
            main_js: "import * as import1 from \"./__wasm_split.js\"\n\
                const imports = { \"./__wasm_split.js\": import1 };\n"
                .into(),
            link_js: Some(
                "import { initSync } from \"./app.js\";\n\
                const src = fetch(new URL(\"./split_pane.wasm\", import.meta.url));\n\
                return async (imports) => (WebAssembly.instantiateStreaming(src, imports));\n"
                    .into(),
            ),
            main_wasm: b"\0asm main".to_vec(),
            chunks: vec![("split_pane.wasm".into(), b"\0asm chunk".to_vec())],
        }
    }

    #[test]
    fn names_follow_the_content_and_every_reference_follows_the_names() {
        let files = name_and_link("app", built()).unwrap();
        let build = files
            .main_js
            .name
            .strip_prefix("app-")
            .and_then(|n| n.strip_suffix(".js"))
            .unwrap()
            .to_string();
        assert_eq!(files.main_wasm.name, format!("app-{build}_bg.wasm"));
        let link = files.link_js.as_ref().unwrap();
        assert_eq!(link.name, format!("__wasm_split-{build}.js"));
        let chunk = &files.chunks[0];
        assert_eq!(
            chunk.name,
            format!("split_pane-{}.wasm", content_hash(b"\0asm chunk"))
        );

        let main_js = String::from_utf8(files.main_js.bytes.clone()).unwrap();
        assert!(main_js.contains(&format!("from \"./{}\"", link.name)));
        assert!(
            main_js.contains("{ \"./__wasm_split.js\": import1 }"),
            "{main_js}"
        );
        let link_js = String::from_utf8(link.bytes.clone()).unwrap();
        assert!(link_js.contains(&format!("from \"./{}\"", files.main_js.name)));
        assert!(link_js.contains(&format!(
            "fetch(new URL(\"./{}\", import.meta.url), {{ integrity: \"{}\" }})",
            chunk.name,
            integrity(b"\0asm chunk")
        )));
        // Loaded through the fallback for hosts with the wrong content type.
        assert!(link_js.contains("return async (imports) => (instantiateChunk(src, imports));"));
        assert!(link_js.ends_with(FALLBACK_FN));

        // Any change to what was built renames the files that refer to each other.
        let mut other = built();
        other.chunks[0].1.push(0);
        let renamed = name_and_link("app", other).unwrap();
        assert_ne!(renamed.main_js.name, files.main_js.name);
        assert_ne!(renamed.chunks[0].name, chunk.name);
    }

    #[test]
    fn without_chunks_the_main_module_stands_alone() {
        let mut alone = built();
        alone.link_js = None;
        alone.chunks.clear();
        alone.main_js = "export function initSync() {}\n".into();
        let files = name_and_link("app", alone).unwrap();
        assert!(files.link_js.is_none() && files.chunks.is_empty());
        assert_eq!(files.main_js.bytes, b"export function initSync() {}\n");
        assert!(files.main_js.name.starts_with("app-"));
    }

    #[test]
    fn generated_code_it_does_not_recognise_stops_the_build() {
        let mut moved = built();
        moved.link_js = moved
            .link_js
            .map(|js| js.replace("import.meta.url", "document.baseURI"));
        let error = name_and_link("app", moved).unwrap_err();
        assert!(error.contains("found it 0 times"), "{error}");
        let mut twice = built();
        twice
            .main_js
            .push_str("import x from \"./__wasm_split.js\"\n");
        assert!(name_and_link("app", twice).is_err());
        // A fetch of a file nobody named (a chunk wasm-split added) would load unpinned.
        let mut unknown = built();
        if let Some(js) = unknown.link_js.as_mut() {
            js.push_str("fetch(new URL(\"./chunk_0.wasm\", import.meta.url));\n");
        }
        let error = name_and_link("app", unknown).unwrap_err();
        assert!(error.contains("did not name and pin"), "{error}");
        let mut two_loads = built();
        if let Some(js) = two_loads.link_js.as_mut() {
            js.push_str("WebAssembly.instantiateStreaming(src, imports);\n");
        }
        let error = name_and_link("app", two_loads).unwrap_err();
        assert!(
            error.contains("once per chunk (1), found it 2 times"),
            "{error}"
        );
    }

    #[test]
    fn the_main_module_is_not_a_chunk() {
        assert!(!is_chunk("voicebip-console-0123_bg.wasm"));
        assert!(is_chunk("split_thread_pane-0123.wasm"));
        assert!(is_chunk("chunk_0-0123.wasm"));
        assert!(!is_chunk("voicebip-console-0123.js"));
    }

    #[test]
    fn the_page_loads_the_split_files_with_their_integrity() {
        let dist = std::env::temp_dir().join(format!("xtask-split-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dist);
        fs::create_dir_all(&dist).unwrap();
        let (old_js, old_wasm) = (b"old js".as_slice(), b"old wasm".as_slice());
        fs::write(dist.join("app-0123.js"), old_js).unwrap();
        fs::write(dist.join("app-0123_bg.wasm"), old_wasm).unwrap();
        fs::write(dist.join("other-9.js"), "x").unwrap();
        let index = format!(
            "<head><script type=\"module\">import init from '/c/app-0123.js'; init({{ module_or_path: '/c/app-0123_bg.wasm' }});</script>\
             <link rel=\"modulepreload\" href=\"/c/app-0123.js\" integrity=\"{}\">\
             <link rel=\"preload\" href=\"/c/app-0123_bg.wasm\" integrity=\"{}\"></head>",
            integrity(old_js),
            integrity(old_wasm)
        );
        fs::write(dist.join("index.html"), index).unwrap();

        let files = name_and_link("app", built()).unwrap();
        let link = files.link_js.as_ref().unwrap();
        install(&dist, "app", "/c", &files).unwrap();
        let page = fs::read_to_string(dist.join("index.html")).unwrap();
        let mut names: Vec<String> = fs::read_dir(&dist)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        fs::remove_dir_all(&dist).unwrap();

        assert!(!page.contains("app-0123"), "{page}");
        assert!(!page.contains(&integrity(old_js)) && !page.contains(&integrity(old_wasm)));
        for file in [&files.main_js, &files.main_wasm] {
            assert!(page.contains(&format!("/c/{}", file.name)), "{page}");
            assert!(page.contains(&integrity(&file.bytes)), "{page}");
        }
        // The main module's integrity is checked by the loader's fetch, not on its preload.
        let wasm = &files.main_wasm;
        assert!(page.contains(&format!(
            "init({{ module_or_path: fetch('/c/{}', {{ integrity: '{}' }}) }})",
            wasm.name,
            integrity(&wasm.bytes)
        )));
        assert!(page.contains(&format!("<link rel=\"preload\" href=\"/c/{}\">", wasm.name)));
        assert!(page.ends_with(&format!(
            "<link rel=\"modulepreload\" href=\"/c/{}\" crossorigin=\"anonymous\" integrity=\"{}\"></head>",
            link.name,
            integrity(&link.bytes)
        )));
        let mut expected = vec![
            "index.html".to_string(),
            "other-9.js".into(),
            files.main_js.name.clone(),
            files.main_wasm.name.clone(),
            link.name.clone(),
            files.chunks[0].name.clone(),
        ];
        expected.sort();
        assert_eq!(names, expected);
    }
}
