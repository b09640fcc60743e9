//! Embeds the web UI (`web/`) into the server binary.
//!
//! Writes `$OUT_DIR/web_assets.rs`: one `include_bytes!` per file of `web/` (except the
//! end-to-end tests in `web/e2e/` and hidden files), with its content type and an ETag.
//! `web/pkg/` is a build product of `scripts/build-web.sh` (the browser crypto module); its
//! JavaScript and WebAssembly files are embedded only when `web/pkg/soshiki_wasm_bg.wasm` exists,
//! and then `cfg(soshiki_web_pkg)` is set.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn content_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?;
    Some(match ext {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

/// FNV-1a, 64 bits: a content tag for the ETag header (not a security property).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn walk(dir: &Path, rel: &str, with_pkg: bool, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = e.path();
        let url = format!("{rel}/{name}");
        if path.is_dir() {
            if rel.is_empty() && (name == "e2e" || name == "node_modules") {
                continue;
            }
            if rel.is_empty() && name == "pkg" && !with_pkg {
                continue;
            }
            walk(&path, &url, with_pkg, out);
        } else if rel == "/pkg" {
            // Only the module and its WebAssembly (not typings or package metadata).
            if name.ends_with(".js") || name.ends_with(".wasm") {
                out.push((url, path));
            }
        } else if content_type(&path).is_some() {
            out.push((url, path));
        }
    }
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(soshiki_web_pkg)");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let web = manifest.join("../../web");
    let pkg = web.join("pkg");
    println!("cargo::rerun-if-changed={}", web.display());
    let with_pkg = pkg.join("soshiki_wasm_bg.wasm").is_file();
    if with_pkg {
        println!("cargo::rerun-if-changed={}", pkg.display());
        println!("cargo::rustc-cfg=soshiki_web_pkg");
    }
    let mut files = Vec::new();
    walk(&web, "", with_pkg, &mut files);
    let mut code =
        String::from("/// Every embedded file of `web/`: URL path, content type, ETag, bytes.\n");
    code.push_str("pub(crate) static ASSETS: &[Asset] = &[\n");
    for (url, path) in &files {
        let bytes = std::fs::read(path).unwrap_or_default();
        let ct = content_type(path).unwrap_or("application/octet-stream");
        let abs = path.canonicalize().unwrap_or_else(|_| path.clone());
        let _ = writeln!(
            code,
            "    Asset {{ path: {url:?}, content_type: {ct:?}, etag: \"\\\"{:016x}\\\"\", body: include_bytes!({:?}) }},",
            fnv1a(&bytes),
            abs.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("web_assets.rs");
    std::fs::write(&out, code).expect("OUT_DIR is writable");
}
