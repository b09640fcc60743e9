//! Progress bars for long copies: shown only on a terminal and for more than 1 MiB.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const THRESHOLD: u64 = 1 << 20;

/// A byte-count progress bar, hidden when not useful.
#[derive(Debug)]
pub struct Progress(ProgressBar);

impl Progress {
    /// A bar for `total` bytes labelled `msg`; hidden unless `enabled`, stderr is a terminal and
    /// `total` is over 1 MiB.
    pub fn new(enabled: bool, total: u64, msg: String) -> Self {
        if !(enabled && total > THRESHOLD && std::io::stderr().is_terminal()) {
            return Progress(ProgressBar::hidden());
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(msg);
        Progress(bar)
    }

    /// A byte counter for a transfer of unknown length (a download); hidden unless `enabled`
    /// and stderr is a terminal.
    pub fn unknown(enabled: bool, msg: String) -> Self {
        if !(enabled && std::io::stderr().is_terminal()) {
            return Progress(ProgressBar::hidden());
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {msg} {bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_message(msg);
        Progress(bar)
    }

    /// Set the number of bytes done.
    pub fn set(&self, done: u64) {
        self.0.set_position(done);
    }

    /// Remove the bar.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
