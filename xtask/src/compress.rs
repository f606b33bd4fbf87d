//! Compression at the highest settings for static files, and the precompressed copies a build
//! ships next to its files: `app.wasm.br` and `app.wasm.gz` beside `app.wasm`, as static hosts
//! serve them (nginx's `gzip_static`/`brotli_static`, Caddy's `precompressed`) and as the
//! simulator does (`tests/sim/src/serve_console.rs`). The host picks one by `Accept-Encoding`.

use crate::Result;
use std::fs;
use std::path::{Path, PathBuf};

/// What gets a compressed copy: the page and the code the browser fetches to start. Not
/// `config.json`: a deployment edits it, and a copy would then send the old one.
const COMPRESSED_EXTENSIONS: [&str; 4] = ["html", "wasm", "js", "css"];

pub type Compressor = fn(&[u8]) -> Result<Vec<u8>>;

/// The copies' suffixes, each with its compressor.
const COPIES: [(&str, Compressor); 2] = [("br", brotli), ("gz", gzip)];

/// gzip by Zopfli: a gzip stream any client reads as it reads `gzip -9`'s, about 4.5 % smaller
/// for the console's wasm, because the copy is made once at build time and can take a second
/// where a server compressing on the fly cannot.
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    zopfli::compress(
        zopfli::Options::default(),
        zopfli::Format::Gzip,
        bytes,
        &mut out,
    )
    .map_err(|e| format!("gzip: {e}"))?;
    Ok(out)
}

pub fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)
        .map_err(|e| format!("brotli: {e}"))?;
    Ok(out)
}

/// A precompressed copy written by [`precompress`], rather than a file of the build.
pub fn is_copy(path: &Path) -> bool {
    extension(path).is_some_and(|ext| COPIES.iter().any(|(suffix, _)| *suffix == ext))
}

/// Writes the compressed copies of every page and code file under `dir`, replacing older ones.
/// Run it last: a file changed after it would no longer match its copies. A copy that would
/// not be smaller than its file is not written (a host then sends the file).
pub fn precompress(dir: &Path) -> Result<()> {
    for file in crate::sizes::files(dir)? {
        if !extension(&file).is_some_and(|ext| COMPRESSED_EXTENSIONS.contains(&ext)) {
            continue;
        }
        let bytes = fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
        for (suffix, compress) in COPIES {
            let path = copy_of(&file, suffix);
            let compressed = compress(&bytes)?;
            let written = if compressed.len() < bytes.len() {
                fs::write(&path, compressed)
            } else {
                fs::remove_file(&path).or_else(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Ok(()),
                    _ => Err(e),
                })
            };
            written.map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// `file`'s compressed copy with `suffix` (`br`, `gz`), whether or not it exists.
pub fn copy_of(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn extension(path: &Path) -> Option<&str> {
    path.extension().and_then(|e| e.to_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn decompressed(gz: &[u8], br: &[u8]) -> (String, String) {
        let (mut from_gz, mut from_br) = (String::new(), String::new());
        flate2::read::GzDecoder::new(gz)
            .read_to_string(&mut from_gz)
            .unwrap();
        brotli::Decompressor::new(br, 4096)
            .read_to_string(&mut from_br)
            .unwrap();
        (from_gz, from_br)
    }

    #[test]
    fn copies_decompress_to_their_file_and_only_code_gets_them() {
        let dir = std::env::temp_dir().join(format!("xtask-compress-{}", std::process::id()));
        fs::create_dir_all(dir.join("snippets")).unwrap();
        let js = dir.join("app-0123abcd.js");
        let first = "export const line = 'the same line again';\n".repeat(100);
        let css = dir.join("snippets").join("x.css");
        fs::write(&js, &first).unwrap();
        fs::write(&css, "a{color:red}\n".repeat(50)).unwrap();
        fs::write(dir.join("config.json"), "{}".repeat(100)).unwrap();
        fs::write(dir.join("favicon.png"), [0x89, b'P', b'N', b'G']).unwrap();
        precompress(&dir).unwrap();
        let (gz, br) = (fs::read(copy_of(&js, "gz")), fs::read(copy_of(&js, "br")));
        let (gz, br) = (gz.unwrap(), br.unwrap());
        assert_eq!(decompressed(&gz, &br), (first.clone(), first.clone()));
        assert!(br.len() < first.len() / 10 && gz.len() < first.len() / 10);

        // A rebuild: changed files get new copies, copies get none, and a file too small to
        // gain from compression loses the copies it had.
        let second = "export const other = 'another line again';\n".repeat(100);
        fs::write(&js, &second).unwrap();
        fs::write(&css, "a{}").unwrap();
        precompress(&dir).unwrap();
        let (gz, br) = (fs::read(copy_of(&js, "gz")), fs::read(copy_of(&js, "br")));
        let (gz, br) = (gz.unwrap(), br.unwrap());
        let mut names: Vec<String> = crate::sizes::files(&dir)
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        fs::remove_dir_all(&dir).unwrap();

        assert_eq!(decompressed(&gz, &br), (second.clone(), second));
        assert_eq!(
            names,
            [
                "app-0123abcd.js",
                "app-0123abcd.js.br",
                "app-0123abcd.js.gz",
                "config.json",
                "favicon.png",
                "snippets/x.css",
            ]
        );
    }

    #[test]
    fn the_gzip_copy_is_smaller_than_gzip_at_its_best_level() {
        use std::io::Write;
        let text = include_bytes!("split.rs");
        let mut level_9 = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        level_9.write_all(text).unwrap();
        let level_9 = level_9.finish().unwrap();
        let copy = gzip(text).unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&copy[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text);
        assert!(
            copy.len() < level_9.len(),
            "{} >= {}",
            copy.len(),
            level_9.len()
        );
    }

    #[test]
    fn copies_are_told_from_files() {
        assert!(is_copy(Path::new("app_bg.wasm.br")));
        assert!(is_copy(Path::new("snippets/x.css.gz")));
        assert!(!is_copy(Path::new("app_bg.wasm")));
        assert!(!is_copy(Path::new("index.html")));
        assert!(!is_copy(Path::new("gz")));
    }
}
