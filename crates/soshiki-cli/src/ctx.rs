//! What every command shares: where passphrases come from and how new keys are protected.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Result;
use soshiki_core::keyfile::KdfParams;
use zeroize::Zeroizing;

use crate::i18n::{err, tr, M};

/// The environment variable that supplies passphrases to scripts.
pub const PASSPHRASE_ENV: &str = "SOSHIKI_PASSPHRASE";

/// Where passphrases come from: `--passphrase-file` wins over `SOSHIKI_PASSPHRASE`, which wins
/// over a prompt on the terminal.
pub enum PassSource {
    /// The first line of this file.
    File(PathBuf),
    /// A fixed value (the environment variable, or the demo's built-in passphrase).
    Fixed(Zeroizing<String>),
    /// Ask on the terminal, without echo.
    Prompt,
}

impl std::fmt::Debug for PassSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PassSource::File(p) => f.debug_tuple("File").field(p).finish(),
            PassSource::Fixed(_) => f.write_str("Fixed(..)"),
            PassSource::Prompt => f.write_str("Prompt"),
        }
    }
}

impl PassSource {
    /// From the command line and the environment.
    pub fn from_env_or_file(file: Option<PathBuf>) -> Self {
        if let Some(f) = file {
            return PassSource::File(f);
        }
        match std::env::var(PASSPHRASE_ENV) {
            Ok(v) => PassSource::Fixed(Zeroizing::new(v)),
            Err(_) => PassSource::Prompt,
        }
    }
}

/// Shared settings of one run.
#[derive(Debug)]
pub struct Ctx {
    /// Passphrase source.
    pub pass: PassSource,
    /// Protection of new key files.
    pub kdf: KdfParams,
    /// Whether progress bars may be shown (still only on a terminal and for large data).
    pub progress: bool,
}

impl Ctx {
    /// The context of a command-line run.
    pub fn new(pass: PassSource, kdf_min: bool) -> Self {
        let kdf = if kdf_min {
            KdfParams::MINIMUM
        } else {
            KdfParams::DEFAULT
        };
        Ctx {
            pass,
            kdf,
            progress: true,
        }
    }

    /// The passphrase of an existing key file.
    pub fn existing_passphrase(&self, key_path: &Path) -> Result<Zeroizing<String>> {
        match &self.pass {
            PassSource::File(f) => read_pass_file(f),
            PassSource::Fixed(p) => Ok(p.clone()),
            PassSource::Prompt => prompt(&tr(M::PromptPassphrase, &[&key_path.display()])),
        }
    }

    /// A passphrase for a new key file: asked twice on a terminal; never empty.
    pub fn new_passphrase(&self, key_path: &Path) -> Result<Zeroizing<String>> {
        let p = match &self.pass {
            PassSource::File(f) => read_pass_file(f)?,
            PassSource::Fixed(p) => p.clone(),
            PassSource::Prompt => {
                let a = prompt(&tr(M::PromptNewPassphrase, &[&key_path.display()]))?;
                let b = prompt(&tr(M::PromptRepeatPassphrase, &[]))?;
                if a != b {
                    return Err(err(M::PassphraseMismatch, &[]));
                }
                a
            }
        };
        if p.is_empty() {
            return Err(err(M::PassphraseEmpty, &[&key_path.display()]));
        }
        Ok(p)
    }
}

fn read_pass_file(f: &Path) -> Result<Zeroizing<String>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(f)
            .map_err(|e| err(M::PassphraseFileUnreadable, &[&f.display(), &e]))?,
    );
    let line = text.lines().next().unwrap_or("");
    Ok(Zeroizing::new(line.to_string()))
}

fn prompt(text: &str) -> Result<Zeroizing<String>> {
    if !std::io::stdin().is_terminal() && !std::io::stderr().is_terminal() {
        return Err(err(M::NoPassphraseSource, &[&PASSPHRASE_ENV]));
    }
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .map_err(|_| err(M::NoPassphraseSource, &[&PASSPHRASE_ENV]))
}
