//! Regenerate the JSON test vectors in `crates/soshiki-core/tests/vectors/` (SPEC.md §11).
//!
//! ```text
//! cargo run -p soshiki-core --example generate_vectors            # writes tests/vectors/
//! cargo run -p soshiki-core --example generate_vectors -- OUT_DIR # writes elsewhere
//! ```
//!
//! The output is deterministic (seeded ChaCha20, fixed times). `tests/vectors.rs` regenerates
//! every file in memory and fails if a checked-in file differs.

#[path = "../tests/common/vectors_gen.rs"]
mod vectors_gen;
#[path = "../tests/common/vectors_gen_more.rs"]
mod vectors_gen_more;

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = match std::env::args_os().nth(1) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join("vectors"),
    };
    std::fs::create_dir_all(&dir)?;
    let mut files = vectors_gen::generate_all()?;
    files.extend(vectors_gen_more::generate_more()?);
    for (name, json) in &files {
        let path = dir.join(name);
        let unchanged = std::fs::read_to_string(&path).is_ok_and(|old| old == *json);
        if !unchanged {
            std::fs::write(&path, json)?;
        }
        println!(
            "{} {}",
            if unchanged { "unchanged" } else { "wrote    " },
            path.display()
        );
    }
    println!("{} vector files in {}", files.len(), dir.display());
    Ok(())
}
