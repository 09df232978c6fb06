//! Build script: rebuild when the embedded migrations change, and name the
//! test template database after a hash of their text.

use std::fs;
use std::path::Path;

fn main() {
    let dir = Path::new("../../migrations/postgres");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort();
    // FNV-1a over each file's relative path and contents.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in files {
        let bytes = fs::read(&path).unwrap_or_default();
        for b in path.to_string_lossy().bytes().chain(bytes) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=TRIGLOT_MIGRATIONS_HASH={:012x}", hash >> 16);
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(&path, out);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
            out.push(path);
        }
    }
}
