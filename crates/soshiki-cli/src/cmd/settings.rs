//! The settings of `soshiki serve`, from four layers, each overriding the one before:
//!
//! 1. built-in defaults;
//! 2. the TOML file given with `--config FILE` (unknown keys are refused);
//! 3. `SOSHIKI_*` environment variables (`SOSHIKI_BIND`, `SOSHIKI_DATABASE_URL`, …; the log
//!    filter also from `RUST_LOG`, below `SOSHIKI_LOG_FILTER`);
//! 4. command-line flags.
//!
//! Secrets never have to be on the command line: the database and blob-store URLs (which may
//! carry a password or an S3 secret key) can come from the file, the environment, or a file of
//! their own (`database_url_file`, `blobs_url_file`, e.g. a systemd credential); the TLS key is a
//! file. `soshiki config check FILE` prints the effective settings with secrets masked and the
//! layer each value came from.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use serde::Deserialize;

use crate::cli::{ConfigCheckArgs, ServeArgs, StoreArgs};
use crate::i18n::{tr, M};

/// One layer: every setting, `None` where this layer says nothing.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// Data directory (SQLite database, body files, demo keys).
    pub data: Option<PathBuf>,
    /// Address to bind.
    pub bind: Option<String>,
    /// The origin clients dial.
    pub origin: Option<String>,
    /// Database URL (secret: may carry a password).
    pub database_url: Option<String>,
    /// A file holding the database URL.
    pub database_url_file: Option<PathBuf>,
    /// Blob store URL (secret: may carry an S3 secret key).
    pub blobs_url: Option<String>,
    /// A file holding the blob store URL.
    pub blobs_url_file: Option<PathBuf>,
    /// HTTPS certificate chain (PEM).
    pub tls_cert: Option<PathBuf>,
    /// HTTPS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Where `/metrics` is served (default: on the main address).
    pub metrics_bind: Option<String>,
    /// Requests per minute and address on the unauthenticated endpoints (0: off).
    pub rate_limit: Option<u32>,
    /// Requests an address may make at once before the rate limit applies.
    pub rate_burst: Option<u32>,
    /// Unfinished uploads one member may have at once.
    pub max_pending_uploads: Option<u32>,
    /// `open` or `closed`.
    pub registration: Option<String>,
    /// The operator's registration token (with `registration = "closed"`).
    pub registration_token_file: Option<PathBuf>,
    /// Seed the demo organizations.
    pub demo: Option<bool>,
    /// `text` (readable lines) or `json` (one JSON object per line).
    pub log_format: Option<String>,
    /// A `RUST_LOG`-style filter, e.g. `info` or `info,soshiki_server=debug`.
    pub log_filter: Option<String>,
}

/// The names of the settings, in the order they are printed; each is also `SOSHIKI_<NAME>`.
pub const KEYS: &[&str] = &[
    "data",
    "bind",
    "origin",
    "database_url",
    "database_url_file",
    "blobs_url",
    "blobs_url_file",
    "tls_cert",
    "tls_key",
    "metrics_bind",
    "rate_limit",
    "rate_burst",
    "max_pending_uploads",
    "registration",
    "registration_token_file",
    "demo",
    "log_format",
    "log_filter",
];

/// Where a value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Built in.
    Default,
    /// The `--config` file.
    File,
    /// A `SOSHIKI_*` (or `RUST_LOG`) environment variable.
    Env,
    /// A command-line flag.
    Flag,
}

impl Source {
    fn word(self) -> &'static str {
        match self {
            Source::Default => "default",
            Source::File => "file",
            Source::Env => "environment",
            Source::Flag => "flag",
        }
    }
}

impl Layer {
    /// Read and parse a TOML file (unknown keys and wrong types are errors naming the line).
    pub fn from_file(path: &Path) -> Result<Layer> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!(tr(M::FileUnreadable, &[&path.display(), &"TOML", &e])))?;
        toml::from_str(&text).map_err(|e| anyhow!(tr(M::ConfigInvalid, &[&path.display(), &e])))
    }

    /// The `SOSHIKI_*` variables of `env` (and `RUST_LOG` for the log filter).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Layer> {
        let get = |k: &str| env(&format!("SOSHIKI_{}", k.to_ascii_uppercase()));
        let num = |k: &str| -> Result<Option<u32>> {
            get(k)
                .map(|v| {
                    v.trim().parse::<u32>().map_err(|_| {
                        anyhow!(tr(
                            M::ConfigBadValue,
                            &[&format!("SOSHIKI_{}", k.to_ascii_uppercase()), &v]
                        ))
                    })
                })
                .transpose()
        };
        let flag = |k: &str| -> Result<Option<bool>> {
            get(k)
                .map(|v| match v.trim() {
                    "1" | "true" | "yes" => Ok(true),
                    "0" | "false" | "no" | "" => Ok(false),
                    other => Err(anyhow!(tr(
                        M::ConfigBadValue,
                        &[&format!("SOSHIKI_{}", k.to_ascii_uppercase()), &other]
                    ))),
                })
                .transpose()
        };
        Ok(Layer {
            data: get("data").map(PathBuf::from),
            bind: get("bind"),
            origin: get("origin"),
            database_url: get("database_url"),
            database_url_file: get("database_url_file").map(PathBuf::from),
            blobs_url: get("blobs_url"),
            blobs_url_file: get("blobs_url_file").map(PathBuf::from),
            tls_cert: get("tls_cert").map(PathBuf::from),
            tls_key: get("tls_key").map(PathBuf::from),
            metrics_bind: get("metrics_bind"),
            rate_limit: num("rate_limit")?,
            rate_burst: num("rate_burst")?,
            max_pending_uploads: num("max_pending_uploads")?,
            registration: get("registration"),
            registration_token_file: get("registration_token_file").map(PathBuf::from),
            demo: flag("demo")?,
            log_format: get("log_format"),
            log_filter: get("log_filter").or_else(|| env("RUST_LOG")),
        })
    }
}

/// Every setting resolved, with where each came from.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Data directory.
    pub data: PathBuf,
    /// Address to bind.
    pub bind: SocketAddr,
    /// The origin clients dial.
    pub origin: Option<String>,
    /// Database URL (`None`: SQLite in the data directory).
    pub database_url: Option<String>,
    /// Blob store URL (`None`: `DATA/blobs`).
    pub blobs_url: Option<String>,
    /// HTTPS certificate and key.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Metrics on their own address.
    pub metrics_bind: Option<SocketAddr>,
    /// Rate limit per minute.
    pub rate_limit: u32,
    /// Rate burst.
    pub rate_burst: u32,
    /// Unfinished uploads per member.
    pub max_pending_uploads: u32,
    /// Closed registration: the token file.
    pub registration_token_file: Option<PathBuf>,
    /// Seed the demo.
    pub demo: bool,
    /// JSON log lines.
    pub log_json: bool,
    /// The log filter.
    pub log_filter: String,
    /// Where each key's value came from.
    pub sources: BTreeMap<&'static str, Source>,
}

/// The `SOSHIKI_*` environment as a layer.
fn env_layer() -> Result<Layer> {
    Layer::from_env(&|k| std::env::var(k).ok())
}

impl ServeArgs {
    /// The settings of `serve`: the `--config` file, the environment, then these flags.
    pub fn settings(&self) -> Result<Settings> {
        let mut layers = Vec::new();
        if let Some(f) = &self.config {
            layers.push((Source::File, Layer::from_file(f)?));
        }
        layers.push((Source::Env, env_layer()?));
        layers.push((Source::Flag, self.layer()));
        resolve(&layers)
    }

    /// The flags as a settings layer (only what was given).
    fn layer(&self) -> Layer {
        Layer {
            data: self.data.clone(),
            bind: self.bind.clone(),
            origin: self.origin.clone(),
            database_url: self.database.clone(),
            blobs_url: self.blobs.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            metrics_bind: self.metrics_bind.clone(),
            rate_limit: self.rate_limit,
            rate_burst: self.rate_burst,
            max_pending_uploads: self.max_pending_uploads,
            registration: self.registration.clone(),
            registration_token_file: self.registration_token_file.clone(),
            demo: self.demo.then_some(true),
            log_format: self.log_format.clone(),
            log_filter: self.log_filter.clone(),
            ..Default::default()
        }
    }
}

impl StoreArgs {
    /// The store of `backup`, `restore`, `migrate-store` (source): as for `serve`.
    pub fn settings(&self) -> Result<Settings> {
        let mut layers = Vec::new();
        if let Some(f) = &self.config {
            layers.push((Source::File, Layer::from_file(f)?));
        }
        layers.push((Source::Env, env_layer()?));
        layers.push((
            Source::Flag,
            Layer {
                data: self.data.clone(),
                database_url: self.database.clone(),
                blobs_url: self.blobs.clone(),
                ..Default::default()
            },
        ));
        resolve(&layers)
    }
}

/// `config check FILE`: the file with the environment applied, every value checked, printed
/// with secrets masked and each value's source.
pub fn check_command(args: ConfigCheckArgs) -> Result<()> {
    let file = args.file;
    let layers = [
        (Source::File, Layer::from_file(&file)?),
        (Source::Env, env_layer()?),
    ];
    let s = resolve(&layers)?;
    println!("{}", tr(M::ConfigValid, &[&file.display()]));
    print!("{}", describe(&s));
    Ok(())
}

/// The default log filter: the server's events at info, the SQL driver's only when they warn.
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn";

/// Merge `layers` (lowest first) and check every value.
pub fn resolve(layers: &[(Source, Layer)]) -> Result<Settings> {
    let mut sources: BTreeMap<&'static str, Source> =
        KEYS.iter().map(|k| (*k, Source::Default)).collect();
    let mut m = Layer::default();
    for (src, l) in layers {
        macro_rules! take {
            ($($f:ident),*) => {$(
                if l.$f.is_some() {
                    m.$f = l.$f.clone();
                    sources.insert(stringify!($f), *src);
                }
            )*};
        }
        take!(
            data,
            bind,
            origin,
            database_url,
            database_url_file,
            blobs_url,
            blobs_url_file,
            tls_cert,
            tls_key,
            metrics_bind,
            rate_limit,
            rate_burst,
            max_pending_uploads,
            registration,
            registration_token_file,
            demo,
            log_format,
            log_filter
        );
    }
    let addr = |key: &str, v: &str| -> Result<SocketAddr> {
        v.trim()
            .parse()
            .map_err(|_| anyhow!(tr(M::ConfigBadValue, &[&key, &v])))
    };
    let secret_from =
        |inline: Option<String>, file: Option<PathBuf>, key: &str| match (inline, file) {
            (Some(_), Some(_)) => Err(anyhow!(tr(M::ConfigBothGiven, &[&key]))),
            (Some(v), None) => Ok(Some(v)),
            (None, Some(f)) => {
                let v = std::fs::read_to_string(&f)
                    .map_err(|e| anyhow!(tr(M::FileUnreadable, &[&f.display(), &key, &e])))?;
                let v = v.trim().to_owned();
                if v.is_empty() {
                    return Err(anyhow!(tr(M::ConfigBadValue, &[&key, &f.display()])));
                }
                Ok(Some(v))
            }
            (None, None) => Ok(None),
        };
    let registration_token_file = match m.registration.as_deref().map(str::trim) {
        None | Some("open") => None,
        Some("closed") => Some(
            m.registration_token_file
                .clone()
                .ok_or_else(|| anyhow!(tr(M::ConfigClosedNeedsToken, &[])))?,
        ),
        Some(other) => return Err(anyhow!(tr(M::ConfigBadValue, &[&"registration", &other]))),
    };
    let tls = match (m.tls_cert.clone(), m.tls_key.clone()) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => return Err(anyhow!(tr(M::TlsPair, &[]))),
    };
    let log_json = match m.log_format.as_deref().map(str::trim) {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => return Err(anyhow!(tr(M::ConfigBadValue, &[&"log_format", &other]))),
    };
    let log_filter = m
        .log_filter
        .clone()
        .unwrap_or_else(|| DEFAULT_LOG_FILTER.to_owned());
    tracing_subscriber::EnvFilter::try_new(&log_filter)
        .map_err(|e| anyhow!(tr(M::ConfigBadValue, &[&"log_filter", &e])))?;
    Ok(Settings {
        data: m
            .data
            .clone()
            .unwrap_or_else(|| PathBuf::from("soshiki-data")),
        bind: match &m.bind {
            Some(b) => addr("bind", b)?,
            None => SocketAddr::from(([127, 0, 0, 1], soshiki_server::DEFAULT_PORT)),
        },
        origin: m.origin.clone(),
        database_url: secret_from(
            m.database_url.clone(),
            m.database_url_file.clone(),
            "database_url",
        )?,
        blobs_url: secret_from(m.blobs_url.clone(), m.blobs_url_file.clone(), "blobs_url")?,
        tls,
        metrics_bind: m
            .metrics_bind
            .as_deref()
            .map(|b| addr("metrics_bind", b))
            .transpose()?,
        rate_limit: m.rate_limit.unwrap_or(600),
        rate_burst: m.rate_burst.unwrap_or(300),
        max_pending_uploads: match m.max_pending_uploads {
            None => soshiki_server::DEFAULT_MAX_PENDING_UPLOADS,
            Some(0) => {
                return Err(anyhow!(tr(
                    M::ConfigBadValue,
                    &[&"max_pending_uploads", &0]
                )))
            }
            Some(n) => n,
        },
        registration_token_file,
        demo: m.demo.unwrap_or(false),
        log_json,
        log_filter,
        sources,
    })
}

/// The effective settings as `key = value  # source` lines, secrets masked.
pub fn describe(s: &Settings) -> String {
    let path = |p: &Path| p.display().to_string();
    let opt = |v: Option<String>| v.unwrap_or_else(|| "(none)".into());
    let rows: Vec<(&str, String)> = vec![
        ("data", path(&s.data)),
        ("bind", s.bind.to_string()),
        ("origin", opt(s.origin.clone())),
        (
            "database_url",
            s.database_url
                .as_deref()
                .map_or_else(|| "(SQLite in the data directory)".into(), mask_url),
        ),
        (
            "blobs_url",
            s.blobs_url
                .as_deref()
                .map_or_else(|| "(files in DATA/blobs)".into(), mask_url),
        ),
        ("tls_cert", opt(s.tls.as_ref().map(|(c, _)| path(c)))),
        ("tls_key", opt(s.tls.as_ref().map(|(_, k)| path(k)))),
        (
            "metrics_bind",
            s.metrics_bind
                .map_or_else(|| "(on the main address)".into(), |a| a.to_string()),
        ),
        ("rate_limit", s.rate_limit.to_string()),
        ("rate_burst", s.rate_burst.to_string()),
        ("max_pending_uploads", s.max_pending_uploads.to_string()),
        (
            "registration",
            if s.registration_token_file.is_some() {
                "closed".into()
            } else {
                "open".into()
            },
        ),
        (
            "registration_token_file",
            opt(s.registration_token_file.as_deref().map(path)),
        ),
        ("demo", s.demo.to_string()),
        (
            "log_format",
            if s.log_json { "json" } else { "text" }.into(),
        ),
        ("log_filter", s.log_filter.clone()),
    ];
    let mut out = String::new();
    for (k, v) in rows {
        // A value read from a file of its own names that source.
        let src = match k {
            "database_url" | "blobs_url" => {
                let f = if k == "database_url" {
                    "database_url_file"
                } else {
                    "blobs_url_file"
                };
                match (s.sources[k], s.sources[f]) {
                    (Source::Default, Source::Default) => Source::Default,
                    (Source::Default, fs) => fs,
                    (src, _) => src,
                }
            }
            "tls_cert" | "tls_key" | "registration_token_file" | "registration" => s.sources[k],
            _ => s.sources.get(k).copied().unwrap_or(Source::Default),
        };
        out.push_str(&format!("{k} = {v}  # {}\n", src.word()));
    }
    out
}

/// A URL with its secrets masked: the password of `user:password@`, and the query parameters
/// that carry S3 credentials or passwords.
pub fn mask_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (auth, host) = match rest.split_once('@') {
                Some((a, h)) if !a.contains('/') => (Some(a), h),
                _ => (None, rest),
            };
            match auth {
                Some(a) => match a.split_once(':') {
                    Some((user, _)) => format!("{scheme}://{user}:****@{host}"),
                    None => format!("{scheme}://{a}@{host}"),
                },
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    match query {
        None => base,
        Some(q) => {
            let q: Vec<String> = q
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _))
                        if matches!(
                            k.to_ascii_lowercase().as_str(),
                            "secret_key"
                                | "secret_access_key"
                                | "token"
                                | "session_token"
                                | "password"
                        ) =>
                    {
                        format!("{k}=****")
                    }
                    _ => kv.to_owned(),
                })
                .collect();
            format!("{base}?{}", q.join("&"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| m.get(k).cloned()
    }

    #[test]
    fn flags_override_the_environment_which_overrides_the_file() {
        let file: Layer = toml::from_str(
            "bind = \"0.0.0.0:7000\"\nrate_limit = 100\norigin = \"https://file.example\"\nlog_format = \"json\"\n",
        )
        .expect("toml");
        let env = Layer::from_env(&env_of(&[
            ("SOSHIKI_BIND", "0.0.0.0:8000"),
            ("SOSHIKI_RATE_LIMIT", "200"),
            ("RUST_LOG", "debug"),
        ]))
        .expect("env");
        let flags = Layer {
            bind: Some("127.0.0.1:9000".into()),
            ..Layer::default()
        };
        let s = resolve(&[
            (Source::File, file),
            (Source::Env, env),
            (Source::Flag, flags),
        ])
        .expect("settings");
        assert_eq!(s.bind.to_string(), "127.0.0.1:9000");
        assert_eq!(s.sources["bind"], Source::Flag);
        assert_eq!(s.rate_limit, 200);
        assert_eq!(s.sources["rate_limit"], Source::Env);
        assert_eq!(s.origin.as_deref(), Some("https://file.example"));
        assert_eq!(s.sources["origin"], Source::File);
        assert!(s.log_json);
        assert_eq!(s.log_filter, "debug");
        assert_eq!(s.rate_burst, 300);
        assert_eq!(s.sources["rate_burst"], Source::Default);
        assert_eq!(s.max_pending_uploads, 8);
    }

    #[test]
    fn secrets_come_from_files_and_are_masked() {
        let dir = tempfile::tempdir().expect("dir");
        let f = dir.path().join("db");
        std::fs::write(&f, "postgres://soshiki:s3cr3t-pw@db.internal/soshiki\n").expect("write");
        let file = Layer {
            database_url_file: Some(f),
            blobs_url: Some(
                "s3://bucket?endpoint=http://127.0.0.1:9000&access_key=AK&secret_key=SK-secret"
                    .into(),
            ),
            ..Layer::default()
        };
        let s = resolve(&[(Source::File, file)]).expect("settings");
        assert_eq!(
            s.database_url.as_deref(),
            Some("postgres://soshiki:s3cr3t-pw@db.internal/soshiki")
        );
        let text = describe(&s);
        assert!(
            !text.contains("s3cr3t-pw") && !text.contains("SK-secret"),
            "{text}"
        );
        assert!(
            text.contains("postgres://soshiki:****@db.internal/soshiki"),
            "{text}"
        );
        assert!(
            text.contains("secret_key=****") && text.contains("access_key=AK"),
            "{text}"
        );
    }

    #[test]
    fn bad_settings_are_refused_with_their_name() {
        let unknown = toml::from_str::<Layer>("bnid = \"x\"\n").expect_err("unknown key");
        assert!(unknown.to_string().contains("bnid"), "{unknown}");
        for (layer, word) in [
            (
                Layer {
                    bind: Some("not an address".into()),
                    ..Layer::default()
                },
                "bind",
            ),
            (
                Layer {
                    registration: Some("closed".into()),
                    ..Layer::default()
                },
                "registration",
            ),
            (
                Layer {
                    log_format: Some("xml".into()),
                    ..Layer::default()
                },
                "log_format",
            ),
            (
                Layer {
                    database_url: Some("postgres://a".into()),
                    database_url_file: Some("/nonexistent".into()),
                    ..Layer::default()
                },
                "database_url",
            ),
        ] {
            let e = resolve(&[(Source::File, layer)]).expect_err(word);
            assert!(e.to_string().contains(word), "{word}: {e}");
        }
        let e = Layer::from_env(&env_of(&[("SOSHIKI_RATE_LIMIT", "many")])).expect_err("number");
        assert!(e.to_string().contains("SOSHIKI_RATE_LIMIT"), "{e}");
    }
}
