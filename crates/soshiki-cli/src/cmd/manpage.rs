//! `soshiki manpage --out DIR` (hidden): the manual pages (roff) of `soshiki` and of every
//! subcommand, generated from the command line itself (crates/soshiki-cli/src/cli/), so they
//! never drift from `--help`; scripts/package-deb.sh installs them with the Debian package.

use std::path::Path;

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, ManpageArgs};
use crate::i18n::{self, M};

/// `manpage --out DIR`.
pub fn command(args: ManpageArgs) -> Result<()> {
    let n = write_manpages(&args.out)?;
    println!(
        "{}",
        i18n::tr(M::ManpagesWritten, &[&n, &args.out.display()])
    );
    Ok(())
}

/// Write `soshiki.1` and one page per visible subcommand into `dir`; returns how many.
fn write_manpages(dir: &Path) -> Result<usize> {
    let fail = |e: std::io::Error| i18n::err(M::CannotWriteIn, &[&dir.display(), &e]);
    std::fs::create_dir_all(dir).map_err(fail)?;
    clap_mangen::generate_to(Cli::command(), dir).map_err(fail)?;
    let n = std::fs::read_dir(dir)
        .map_err(fail)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".1"))
        .count();
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manpages_cover_every_visible_command_and_its_options() {
        let dir = tempfile::tempdir().expect("dir");
        let n = write_manpages(dir.path()).expect("manpages");
        let page = |name: &str| {
            std::fs::read_to_string(dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        let main = page("soshiki.1");
        assert!(main.contains(".TH soshiki 1"), "{main}");
        assert!(main.contains("serve") && main.contains("config"), "{main}");
        // The hidden commands are not documented.
        assert!(!main.contains("manpage"), "{main}");
        assert!(!dir.path().join("soshiki-manpage.1").exists());
        // Each subcommand's options are on its own page.
        let serve = page("soshiki-serve.1");
        for flag in ["config", "bind", "database", "registration", "log\\-format"] {
            let flag = format!("\\fB\\-\\-{flag}\\fR");
            assert!(serve.contains(&flag), "soshiki-serve.1 lacks {flag}");
        }
        assert!(page("soshiki-config-check.1").contains("secrets masked"));
        assert!(page("soshiki-org-partners-add.1").contains("fingerprint"));
        // One page per command that is not hidden, at every level.
        fn pages(c: &clap::Command) -> usize {
            1 + c
                .get_subcommands()
                .filter(|s| !s.is_hide_set() && s.get_name() != "help")
                .map(pages)
                .sum::<usize>()
        }
        let cmd = Cli::command();
        assert!(pages(&cmd) > 30);
        assert_eq!(n, pages(&cmd));
    }
}
