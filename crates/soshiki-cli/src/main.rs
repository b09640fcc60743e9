//! `soshiki`: organizational cryptography for files (offline file mode).
//!
//! A sender encrypts a document to another organization's representative; inside that
//! organization each forwarder re-encrypts it to the next member without producing the
//! plaintext; the staff member in charge decrypts. Every command verifies signatures,
//! certificates and hops before it trusts anything, and never leaves partial plaintext behind.
//!
//! This file is the startup only: parse the command line (crates/soshiki-cli/src/cli/), set the
//! message language, build the shared context, dispatch to a command in
//! crates/soshiki-cli/src/cmd/ with its argument struct, and print an error in the chosen
//! language. The server's logging is set up by `serve` from its settings
//! (crates/soshiki-cli/src/cmd/serve.rs).

mod cli;
mod cmd;
mod ctx;
mod files;
mod i18n;
mod progress;
mod size;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{
    AuditCommand, Cli, Command, ConfigCommand, KeygenCommand, LangArg, MemberCommand, OrgCommand,
    PartnersCommand,
};
use crate::ctx::{Ctx, PassSource};
use crate::i18n::{Lang, M};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let lang = match cli.lang {
        Some(LangArg::Ja) => Lang::Ja,
        Some(LangArg::En) => Lang::En,
        None => i18n::detect(),
    };
    i18n::set_lang(lang);
    let ctx = Ctx::new(
        PassSource::from_env_or_file(cli.passphrase_file),
        cli.kdf_min,
    );
    match run(&ctx, cli.cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", i18n::tr(M::ErrorPrefix, &[&format!("{e:#}")]));
            ExitCode::FAILURE
        }
    }
}

/// One command, with its arguments.
fn run(ctx: &Ctx, cmd: Command) -> anyhow::Result<()> {
    use cmd::{backup, client, decrypt, demo, encrypt, forward, inspect, keygen, manpage};
    use cmd::{serve, settings};
    match cmd {
        // File mode.
        Command::Keygen(KeygenCommand::Org(a)) => keygen::org_command(ctx, a),
        Command::Keygen(KeygenCommand::Member(a)) => keygen::member_command(ctx, a),
        Command::Encrypt(a) => encrypt::command(ctx, a),
        Command::Forward(a) => forward::command(ctx, a),
        Command::Decrypt(a) => decrypt::command(ctx, a),
        Command::Inspect(a) => inspect::inspect_command(ctx, a),
        Command::Verify(a) => inspect::verify_command(a),
        Command::Demo(a) => demo::command(a),
        // The server.
        Command::Serve(a) => serve::command(a),
        Command::Config(ConfigCommand::Check(a)) => settings::check_command(a),
        Command::Backup(a) => backup::backup_command(a),
        Command::Restore(a) => backup::restore_command(a),
        Command::MigrateStore(a) => backup::migrate_store_command(a),
        Command::Manpage(a) => manpage::command(a),
        // A member talking to the server.
        Command::Org(OrgCommand::Create(a)) => client::org_create(ctx, a),
        Command::Org(OrgCommand::Show(a)) => client::org_show(a),
        Command::Org(OrgCommand::Policy(a)) => client::org_policy(ctx, a),
        Command::Org(OrgCommand::Fingerprint(a)) => client::org_fingerprint(ctx, a),
        Command::Org(OrgCommand::Partners(PartnersCommand::Add(a))) => client::partners_add(ctx, a),
        Command::Org(OrgCommand::Partners(PartnersCommand::Remove(a))) => {
            client::partners_remove(ctx, a)
        }
        Command::Org(OrgCommand::Partners(PartnersCommand::List(a))) => {
            client::partners_list(ctx, a)
        }
        Command::Member(MemberCommand::Enroll(a)) => client::member_enroll(ctx, a),
        Command::Member(MemberCommand::Approve(a)) => client::member_approve(ctx, a),
        Command::Member(MemberCommand::Revoke(a)) => client::member_revoke(ctx, a),
        Command::Member(MemberCommand::Revocations(a)) => client::member_revocations(ctx, a),
        Command::Member(MemberCommand::List(a)) => client::member_list(ctx, a),
        Command::Login(a) => client::login(ctx, a),
        Command::Send(a) => client::send(ctx, a),
        Command::Inbox(a) => client::inbox(ctx, a),
        Command::Recall(a) => client::recall(ctx, a),
        Command::Open(a) => client::open(ctx, a),
        Command::Receipts(a) => client::receipts(ctx, a),
        Command::Audit(AuditCommand::Show(a)) => client::audit(ctx, a, true),
        Command::Audit(AuditCommand::Verify(a)) => client::audit(ctx, a, false),
        Command::Audit(AuditCommand::Checkpoint(a)) => client::audit_checkpoint(ctx, a),
        Command::Rules(a) => client::rules(ctx, a),
        Command::Agent(a) => client::agent(ctx, a),
    }
}
