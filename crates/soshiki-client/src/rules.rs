//! Routing rules, evaluated by a forwarder's agent (never by the server, which cannot read
//! labels).
//!
//! A rule is one line: `CONDITION -> TARGET`.
//! - `CONDITION` is `*` (every part), or one or more `key=value` tests joined by `&`, all of
//!   which must hold. A test holds if the part has the label `key=value`, or if `key` is
//!   `category` and the envelope's category is `value`. Keys and values are compared exactly,
//!   after trimming surrounding whitespace.
//! - `TARGET` is a member's certificate id (64 hex digits).
//!
//! For each part, the first matching rule wins; parts no rule matches stay with the forwarder.
//!
//! ```
//! use soshiki_client::rules::{plan, Rule};
//! use soshiki_core::envelope::{Label, Metadata, PartInfo};
//! let t = "a".repeat(64);
//! let rules = vec![Rule::parse(&format!("district=Omachi -> {t}")).unwrap()];
//! let meta = Metadata { title: "".into(), category: "list".into(), parts: vec![
//!     PartInfo { name: "a.csv".into(), labels: vec![Label::parse("district=Omachi").unwrap()] },
//!     PartInfo { name: "b.csv".into(), labels: vec![Label::parse("district=Yasaka").unwrap()] },
//! ]};
//! let (routes, unmatched) = plan(&meta, &[0, 1], &rules);
//! assert_eq!(routes, vec![(t, vec![0])]);
//! assert_eq!(unmatched, vec![1]);
//! ```

use soshiki_core::envelope::Metadata;

/// A parsed rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// `(key, value)` tests, all required; empty means "every part".
    pub tests: Vec<(String, String)>,
    /// Target certificate id (lower-case hex).
    pub target: String,
}

impl Rule {
    /// Parse `CONDITION -> TARGET`.
    pub fn parse(text: &str) -> Result<Rule, String> {
        let (cond, target) = text
            .split_once("->")
            .ok_or_else(|| format!("rule {text:?}: expected `CONDITION -> TARGET`"))?;
        let target = target.trim().to_ascii_lowercase();
        if target.len() != 64 || !target.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "rule {text:?}: the target must be a certificate id (64 hex digits)"
            ));
        }
        let cond = cond.trim();
        let mut tests = Vec::new();
        if cond != "*" {
            for t in cond.split('&') {
                let (k, v) = t
                    .split_once('=')
                    .ok_or_else(|| format!("rule {text:?}: expected key=value in {t:?}"))?;
                let k = k.trim();
                if k.is_empty() {
                    return Err(format!("rule {text:?}: empty label key"));
                }
                tests.push((k.to_string(), v.trim().to_string()));
            }
        }
        Ok(Rule { tests, target })
    }

    /// Whether the rule matches part `index` of an envelope with this metadata.
    pub fn matches(&self, metadata: &Metadata, index: u32) -> bool {
        let Some(part) = metadata.parts.get(index as usize) else {
            return false;
        };
        self.tests.iter().all(|(k, v)| {
            part.labels.iter().any(|l| &l.key == k && &l.value == v)
                || (k == "category" && &metadata.category == v)
        })
    }
}

/// Route `parts` by `rules`: `(target, parts)` in order of first use, and the unmatched parts.
pub fn plan(
    metadata: &Metadata,
    parts: &[u32],
    rules: &[Rule],
) -> (Vec<(String, Vec<u32>)>, Vec<u32>) {
    let mut routes: Vec<(String, Vec<u32>)> = Vec::new();
    let mut unmatched = Vec::new();
    for p in parts {
        match rules.iter().find(|r| r.matches(metadata, *p)) {
            Some(r) => match routes.iter_mut().find(|(t, _)| *t == r.target) {
                Some((_, v)) => v.push(*p),
                None => routes.push((r.target.clone(), vec![*p])),
            },
            None => unmatched.push(*p),
        }
    }
    (routes, unmatched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use soshiki_core::envelope::{Label, PartInfo};

    #[test]
    fn parse_and_match() {
        let t = "B".repeat(64);
        assert!(Rule::parse("district=A").is_err());
        assert!(Rule::parse("district=A -> xyz").is_err());
        assert!(Rule::parse(&format!("=A -> {t}")).is_err());
        let all = Rule::parse(&format!("* -> {t}")).expect("star");
        assert!(all.tests.is_empty());
        assert_eq!(all.target, "b".repeat(64));
        let r = Rule::parse(&format!(" category = DV & ward=2 -> {t}")).expect("parse");
        let meta = Metadata {
            title: String::new(),
            category: "DV".into(),
            parts: vec![
                PartInfo {
                    name: "x".into(),
                    labels: vec![Label::parse("ward=2").expect("label")],
                },
                PartInfo {
                    name: "y".into(),
                    labels: vec![Label::parse("ward=3").expect("label")],
                },
            ],
        };
        assert!(r.matches(&meta, 0));
        assert!(!r.matches(&meta, 1));
        assert!(!r.matches(&meta, 7));
        let (routes, rest) = plan(&meta, &[0, 1], &[r, all]);
        assert_eq!(routes, vec![("b".repeat(64), vec![0, 1])]);
        assert!(rest.is_empty());
    }
}
