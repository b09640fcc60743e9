//! The core's module structure (issue 11): no two modules import each other, directly or through
//! others. A module's dependencies are the `crate::a` / `crate::a::b` paths and, inside a module
//! directory, the `super::b` paths its code names (comments excluded); a module does not depend
//! on its own parent here (the parent only declares and re-exports it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`envelope::hops`) -> source file, for every file under `src/` but `lib.rs`.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("read src") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            if p.extension().and_then(|x| x.to_str()) != Some("rs") {
                continue;
            }
            let rel = p.strip_prefix(src).expect("under src");
            let mut parts: Vec<String> = rel
                .with_extension("")
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            if parts == ["lib"] {
                continue;
            }
            if parts.last().map(String::as_str) == Some("mod") {
                parts.pop();
            }
            out.insert(parts.join("::"), std::fs::read_to_string(&p).expect("read"));
        }
    }
    out
}

/// The identifiers that follow each occurrence of `prefix` (`crate::` or `super::`), with the
/// one after them when there is one: `crate::a::b::C` gives `("a", Some("b"))`.
fn paths_after(code: &str, prefix: &str) -> Vec<(String, Option<String>)> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (i, _) in code.match_indices(prefix) {
        // `$crate::` in macros and identifiers ending in "crate"/"super" do not count.
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[i + prefix.len()..];
        let a = ident(rest);
        if a.is_empty() {
            continue;
        }
        let b = rest[a.len()..].strip_prefix("::").map(ident);
        out.push((a, b.filter(|b| !b.is_empty())));
    }
    out
}

fn dependency_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mods = modules(&src);
    let mut graph = BTreeMap::new();
    for (m, text) in &mods {
        let code: String = text
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        let mut deps = BTreeSet::new();
        let mut add = |t: String| {
            if mods.contains_key(&t) && &t != m && !m.starts_with(&format!("{t}::")) {
                deps.insert(t);
            }
        };
        for (a, b) in paths_after(&code, "crate::") {
            match b.map(|b| format!("{a}::{b}")) {
                Some(ab) if mods.contains_key(&ab) => add(ab),
                _ => add(a),
            }
        }
        if let Some((parent, _)) = m.rsplit_once("::") {
            for (a, _) in paths_after(&code, "super::") {
                add(format!("{parent}::{a}"));
            }
        }
        graph.insert(m.clone(), deps);
    }
    graph
}

/// Every cycle found by a depth-first search, as `a -> b -> a`.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    fn visit(
        u: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        out: &mut Vec<String>,
    ) {
        state.insert(u.to_owned(), 1);
        stack.push(u.to_owned());
        for v in g.get(u).into_iter().flatten() {
            match state.get(v.as_str()) {
                Some(1) => {
                    let from = stack.iter().position(|x| x == v).unwrap_or(0);
                    let mut c = stack[from..].to_vec();
                    c.push(v.clone());
                    out.push(c.join(" -> "));
                }
                None => visit(v, g, state, stack, out),
                _ => {}
            }
        }
        stack.pop();
        state.insert(u.to_owned(), 2);
    }
    let (mut state, mut stack, mut out) = (BTreeMap::new(), Vec::new(), Vec::new());
    for u in graph.keys() {
        if !state.contains_key(u.as_str()) {
            visit(u, graph, &mut state, &mut stack, &mut out);
        }
    }
    out
}

#[test]
fn no_two_core_modules_import_each_other() {
    let graph = dependency_graph();
    // The stages of the envelope are separate modules (a sanity check that the scan sees them).
    for m in [
        "envelope::header",
        "envelope::verify",
        "envelope::hops",
        "envelope::model2",
    ] {
        assert!(graph.contains_key(m), "{m} is not a module of the core");
    }
    assert!(
        graph["envelope::model2"].contains("envelope::hops"),
        "the scan does not see super:: imports"
    );
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "import cycles in soshiki-core: {found:#?}"
    );
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut g = BTreeMap::new();
    g.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    g.insert("b".to_owned(), BTreeSet::from(["c".to_owned()]));
    g.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(cycles(&g), vec!["a -> b -> c -> a".to_owned()]);
    g.insert("c".to_owned(), BTreeSet::new());
    assert!(cycles(&g).is_empty());
}
