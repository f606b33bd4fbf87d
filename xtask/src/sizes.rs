//! What the console costs to download: each built asset raw, gzipped and brotli-compressed, at
//! the highest settings a CDN would use for static files.

use crate::{compress, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// One file, its path relative to the measured folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asset {
    pub path: String,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

/// The kinds of asset the size budget is about: the console's code and style, wasm chunks included.
const CODE_EXTENSIONS: [&str; 3] = ["wasm", "js", "css"];

/// Every file under `dir`, sorted by path, without the precompressed copies (`compress.rs`):
/// those are what the gzip and brotli columns measure. A file without its copy (one not
/// compressed by the build, or too small to gain) is compressed here at the same settings.
pub fn measure(dir: &Path) -> Result<Vec<Asset>> {
    let mut assets = Vec::new();
    for file in files(dir)? {
        if compress::is_copy(&file) {
            continue;
        }
        let bytes = fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
        let size = |suffix: &str, compress: compress::Compressor| -> Result<u64> {
            match fs::metadata(compress::copy_of(&file, suffix)) {
                Ok(copy) => Ok(copy.len()),
                Err(_) => Ok(compress(&bytes)?.len() as u64),
            }
        };
        let path = file.strip_prefix(dir).unwrap_or(&file);
        assets.push(Asset {
            path: path.to_string_lossy().into_owned(),
            raw: bytes.len() as u64,
            gzip: size("gz", compress::gzip)?,
            brotli: size("br", compress::brotli)?,
        });
    }
    Ok(assets)
}

/// Every file under `dir`, its subfolders' included, sorted.
pub fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    walk(dir, &mut files).map_err(|e| format!("listing {}: {e}", dir.display()))?;
    files.sort();
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// The sum of the wasm, js and css assets, the chunks loaded later included.
pub fn code_total(assets: &[Asset]) -> Asset {
    sum(
        &format!("total ({})", CODE_EXTENSIONS.join("+")),
        assets.iter().filter(|a| is_code(&a.path)),
    )
}

/// What the browser fetches before the console can start: the code without the wasm chunks
/// that load when first needed (`split.rs`).
pub fn start_total(assets: &[Asset]) -> Asset {
    sum(
        "to start (without chunks)",
        assets
            .iter()
            .filter(|a| is_code(&a.path) && !crate::split::is_chunk(&a.path)),
    )
}

fn sum<'a>(name: &str, assets: impl Iterator<Item = &'a Asset>) -> Asset {
    let mut total = Asset {
        path: name.to_string(),
        raw: 0,
        gzip: 0,
        brotli: 0,
    };
    for asset in assets {
        total.raw += asset.raw;
        total.gzip += asset.gzip;
        total.brotli += asset.brotli;
    }
    total
}

fn is_code(path: &str) -> bool {
    Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| CODE_EXTENSIONS.contains(&e))
}

/// A fixed-width table, one row per asset, the total and what the start needs of it.
pub fn table(assets: &[Asset]) -> String {
    let totals = [code_total(assets), start_total(assets)];
    let rows: Vec<&Asset> = assets.iter().chain(&totals).collect();
    let width = rows.iter().map(|a| a.path.len()).max().unwrap_or(0).max(5);
    let line = |name: &str, raw: &str, gzip: &str, brotli: &str| {
        format!("{name:<width$}  {raw:>10}  {gzip:>10}  {brotli:>10}\n")
    };
    let mut out = line("asset", "raw", "gzip", "brotli");
    for (i, asset) in rows.iter().enumerate() {
        if i == assets.len() {
            out.push_str(&"-".repeat(width + 36));
            out.push('\n');
        }
        out.push_str(&line(
            &asset.path,
            &format_size(asset.raw),
            &format_size(asset.gzip),
            &format_size(asset.brotli),
        ));
    }
    out.truncate(out.trim_end().len());
    out
}

/// Bytes below 1 KiB, then KiB with one decimal, then MiB with two: short enough for a table,
/// precise enough to see a few hundred bytes of growth.
pub fn format_size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{:.2} MiB", b / (KIB * KIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(path: &str, raw: u64, gzip: u64, brotli: u64) -> Asset {
        Asset {
            path: path.to_string(),
            raw,
            gzip,
            brotli,
        }
    }

    #[test]
    fn sizes_are_formatted_for_people() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(1023), "1023 B");
        assert_eq!(format_size(1024), "1.0 KiB");
        assert_eq!(format_size(195_584), "191.0 KiB");
        assert_eq!(format_size(3 * 1024 * 1024 / 2), "1.50 MiB");
    }

    #[test]
    fn totals_count_only_code() {
        let assets = [
            asset("app_bg.wasm", 1000, 400, 300),
            asset("app.js", 100, 40, 30),
            asset("style.css", 10, 5, 4),
            asset("index.html", 50, 30, 20),
            asset("config.json", 7, 7, 7),
            asset("split_pane-01.wasm", 500, 200, 150),
        ];
        let total = code_total(&assets);
        assert_eq!((total.raw, total.gzip, total.brotli), (1610, 645, 484));
        let start = start_total(&assets);
        assert_eq!((start.raw, start.gzip, start.brotli), (1110, 445, 334));
        let table = table(&assets);
        let last: Vec<&str> = table.lines().rev().take(2).collect();
        assert!(last[1].starts_with("total (wasm+js+css)"), "{table}");
        assert!(last[0].starts_with("to start (without chunks)"), "{table}");
        assert_eq!(table.lines().count(), 1 + assets.len() + 3);
    }

    #[test]
    fn measures_a_folder_by_its_copies_or_real_compressors() {
        let dir = std::env::temp_dir().join(format!("xtask-sizes-{}", std::process::id()));
        fs::create_dir_all(dir.join("snippets")).unwrap();
        let text = "the same line again and again\n".repeat(200);
        fs::write(dir.join("app.js"), &text).unwrap();
        fs::write(dir.join("snippets").join("x.css"), "a{}").unwrap();
        compress::precompress(&dir).unwrap();
        // Copies of lengths no compressor would give: measured, they prove they were read.
        let copy = |suffix| compress::copy_of(&dir.join("app.js"), suffix);
        fs::write(copy("gz"), [0; 7]).unwrap();
        fs::write(copy("br"), [0; 5]).unwrap();
        let assets = measure(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();

        let paths: Vec<&str> = assets.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(paths, ["app.js", "snippets/x.css"]);
        let js = &assets[0];
        assert_eq!(js.raw, text.len() as u64);
        assert_eq!(
            (js.gzip, js.brotli),
            (7, 5),
            "the build's copies are what is measured"
        );
        // Too small for copies: compressed here, and larger than it is.
        let css = &assets[1];
        assert!(css.raw == 3 && css.gzip > 3 && css.brotli > 3, "{css:?}");
    }
}
