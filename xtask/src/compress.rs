//! Compression at the settings a CDN uses for static files, and the precompressed copies a build
//! ships next to its files: `app.wasm.br` and `app.wasm.gz` beside `app.wasm`, as static hosts
//! serve them (nginx's `gzip_static`/`brotli_static`, Caddy's `precompressed`) and as the
//! simulator does (`tests/sim/src/serve_console.rs`). The host picks one by `Accept-Encoding`.

use crate::Result;
use std::fs;
use std::io::Write;
use std::path::Path;

/// What gets a compressed copy: the page and the code the browser fetches to start.
const COMPRESSED_EXTENSIONS: [&str; 4] = ["html", "wasm", "js", "css"];

type Compressor = fn(&[u8]) -> Result<Vec<u8>>;

/// The copies' suffixes, each with its compressor.
const COPIES: [(&str, Compressor); 2] = [("br", brotli), ("gz", gzip)];

pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .map_err(|e| format!("gzip: {e}"))
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
/// Run it last: a file changed after it would no longer match its copies.
pub fn precompress(dir: &Path) -> Result<()> {
    for file in crate::sizes::files(dir)? {
        if !extension(&file).is_some_and(|ext| COMPRESSED_EXTENSIONS.contains(&ext)) {
            continue;
        }
        let bytes = fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
        for (suffix, compress) in COPIES {
            let mut name = file.clone().into_os_string();
            name.push(".");
            name.push(suffix);
            fs::write(&name, compress(&bytes)?)
                .map_err(|e| format!("writing {}: {e}", Path::new(&name).display()))?;
        }
    }
    Ok(())
}

fn extension(path: &Path) -> Option<&str> {
    path.extension().and_then(|e| e.to_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn copies_decompress_to_their_file_and_only_code_gets_them() {
        let dir = std::env::temp_dir().join(format!("xtask-compress-{}", std::process::id()));
        fs::create_dir_all(dir.join("snippets")).unwrap();
        let js = "export const line = 'the same line again';\n".repeat(100);
        fs::write(dir.join("app-0123abcd.js"), &js).unwrap();
        fs::write(dir.join("snippets").join("x.css"), "a{}").unwrap();
        fs::write(dir.join("config.json"), "{}").unwrap();
        fs::write(dir.join("favicon.png"), [0x89, b'P', b'N', b'G']).unwrap();
        precompress(&dir).unwrap();
        // Run again (a rebuild): the copies are replaced, not copied in turn.
        precompress(&dir).unwrap();
        let mut names: Vec<String> = crate::sizes::files(&dir)
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let gz = fs::read(dir.join("app-0123abcd.js.gz")).unwrap();
        let br = fs::read(dir.join("app-0123abcd.js.br")).unwrap();
        fs::remove_dir_all(&dir).unwrap();

        assert_eq!(
            names,
            [
                "app-0123abcd.js",
                "app-0123abcd.js.br",
                "app-0123abcd.js.gz",
                "config.json",
                "favicon.png",
                "snippets/x.css",
                "snippets/x.css.br",
                "snippets/x.css.gz",
            ]
        );
        let mut from_gz = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut from_gz)
            .unwrap();
        assert_eq!(from_gz, js);
        let mut from_br = String::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_string(&mut from_br)
            .unwrap();
        assert_eq!(from_br, js);
        assert!(br.len() < js.len() / 10 && gz.len() < js.len() / 10);
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
