//! The `outpost` command: parses the command line and calls the library.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use outpost::config::{Config, ConfigError, HttpListen, Overrides};

#[derive(Parser)]
#[command(
    name = "outpost",
    version,
    about = "A messaging appliance for networks cut off from the internet"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// Configuration file (TOML) [env: OUTPOST_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory (database, certificates, files)
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server
    Serve {
        /// HTTPS listen address, e.g. 0.0.0.0:8443
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<SocketAddr>,
        /// Plain-HTTP listen address for onboarding and redirects, or "off"
        #[arg(long, value_name = "ADDR:PORT|off")]
        http_listen: Option<HttpListen>,
        /// Do not advertise the server on the LAN over mDNS
        #[arg(long)]
        no_discovery: bool,
    },
    /// Manage user accounts
    #[command(subcommand)]
    User(UserCommand),
    /// The certificate authority clients must trust
    #[command(subcommand)]
    Ca(CaCommand),
    /// Check the data directory, database and certificates
    Doctor,
    /// Take an encrypted backup (safe while the server runs), or check one
    #[command(args_conflicts_with_subcommands = true)]
    Backup {
        #[command(subcommand)]
        check: Option<BackupCommand>,
        /// Where to write the backup
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// age public key (age1…) that can open the backup; repeat for several
        #[arg(long, value_name = "AGE_PUBLIC_KEY")]
        recipient: Vec<String>,
        /// Encrypt with a passphrase instead (read from OUTPOST_BACKUP_PASSPHRASE or standard input)
        #[arg(long)]
        passphrase: bool,
    },
    /// Restore a backup into an empty data directory
    Restore {
        file: PathBuf,
        /// age identity file that opens the backup
        #[arg(long, value_name = "KEYFILE")]
        identity: Option<PathBuf>,
        /// The backup is passphrase-encrypted (read from OUTPOST_BACKUP_PASSPHRASE or standard input)
        #[arg(long)]
        passphrase: bool,
        /// Replace a non-empty data directory (the old one is kept beside it)
        #[arg(long)]
        force: bool,
    },
    /// Show the essentials of the server running on this machine
    Status,
    /// List the Outpost servers answering on the LAN (mDNS)
    Discover {
        /// How long to listen, in seconds
        #[arg(long, default_value_t = 3.0)]
        timeout: f64,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Configuration helpers
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the manual page (roff), for packaging
    #[command(hide = true)]
    Manpage,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (prints a generated password unless --password-stdin)
    Add {
        name: String,
        /// Make the user an administrator
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input
        #[arg(long)]
        password_stdin: bool,
        /// Name shown to others (defaults to NAME)
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List users
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Disable a user and end all of their sessions at once
    Disable { name: String },
    /// Enable a disabled user
    Enable { name: String },
    /// Set a new password (generated unless --password-stdin) and end all sessions
    ResetPassword {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Make a user an administrator (or take it away with --revoke)
    Promote {
        name: String,
        #[arg(long)]
        revoke: bool,
    },
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Decrypt a backup and check every entry, without restoring
    Verify {
        file: PathBuf,
        #[arg(long, value_name = "KEYFILE")]
        identity: Option<PathBuf>,
        #[arg(long)]
        passphrase: bool,
    },
}

#[derive(Subcommand)]
enum CaCommand {
    /// Print the CA certificate (PEM, or DER bytes with --der)
    Export {
        #[arg(long)]
        der: bool,
    },
    /// Print the CA certificate's SHA-256 fingerprint
    Fingerprint,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a fully commented example configuration
    Example,
    /// Print the effective configuration after all layers
    Show,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Manpage = cli.command {
        use clap::CommandFactory;
        let mut out = std::io::stdout();
        return match clap_mangen::Man::new(Cli::command()).render(&mut out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let overrides = match &cli.command {
        Command::Serve {
            listen,
            http_listen,
            no_discovery,
        } => Overrides {
            data_dir: cli.common.data_dir.clone(),
            listen: *listen,
            http_listen: *http_listen,
            no_discovery: *no_discovery,
        },
        _ => Overrides {
            data_dir: cli.common.data_dir.clone(),
            ..Default::default()
        },
    };
    let file = cli
        .common
        .config
        .clone()
        .or_else(|| std::env::var_os("OUTPOST_CONFIG").map(PathBuf::from));
    let config = match Config::load(file.as_deref(), std::env::vars(), &overrides) {
        Ok((config, warnings)) => {
            for w in warnings {
                eprintln!("warning: {w}");
            }
            config
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match run(cli.command, config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.downcast_ref::<ConfigError>().is_some() {
                eprintln!("error: {e:#}");
                return ExitCode::from(2);
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn read_password_stdin() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the password from standard input")?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

fn read_passphrase() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("OUTPOST_BACKUP_PASSPHRASE") {
        return Ok(p);
    }
    let p = read_password_stdin()?;
    anyhow::ensure!(!p.is_empty(), "the passphrase is empty");
    Ok(p)
}

fn backup_key(identity: Option<PathBuf>, passphrase: bool) -> anyhow::Result<outpost::backup::Key> {
    use outpost::backup::Key;
    match (identity, passphrase) {
        (Some(f), false) => Ok(Key::IdentityFile(f)),
        (None, true) => Ok(Key::Passphrase(read_passphrase()?)),
        _ => anyhow::bail!("give either --identity KEYFILE or --passphrase"),
    }
}

fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. } => {
            outpost::telemetry::init(&config.log);
            let runtime = tokio::runtime::Runtime::new().context("cannot start the runtime")?;
            runtime.block_on(outpost::server::run_until_signal(config))?;
        }
        Command::User(cmd) => user(cmd, &config)?,
        Command::Ca(CaCommand::Export { der }) => {
            let pki = outpost::admin::ca(&config)?;
            if der {
                use std::io::Write;
                std::io::stdout().write_all(&pki.ca_der)?;
            } else {
                print!("{}", pki.ca_pem);
            }
        }
        Command::Ca(CaCommand::Fingerprint) => {
            println!("{}", outpost::admin::ca(&config)?.fingerprint());
        }
        Command::Doctor => {
            let findings = outpost::admin::doctor(&config);
            let problems = findings.iter().filter(|f| !f.ok).count();
            for f in &findings {
                println!("{} {}", if f.ok { "ok:     " } else { "PROBLEM:" }, f.text);
            }
            if problems > 0 {
                anyhow::bail!("{problems} problem(s) found");
            }
            println!("everything looks fine");
        }
        Command::Backup {
            check:
                Some(BackupCommand::Verify {
                    file,
                    identity,
                    passphrase,
                }),
            ..
        } => {
            let key = backup_key(identity, passphrase)?;
            let manifest = outpost::backup::verify(&file, &key)?;
            println!(
                "{}: {} entries, schema version {}, every entry matches its SHA-256",
                file.display(),
                manifest.entries.len(),
                manifest.schema_version
            );
        }
        Command::Backup {
            check: None,
            out,
            recipient,
            passphrase,
        } => {
            use outpost::backup::Seal;
            let out = out.ok_or_else(|| anyhow::anyhow!("give --out FILE"))?;
            let seal = match (recipient.is_empty(), passphrase) {
                (false, false) => Seal::Recipients(recipient),
                (true, true) => Seal::Passphrase(read_passphrase()?),
                _ => anyhow::bail!(
                    "give either --recipient AGE_PUBLIC_KEY (one or more) or --passphrase"
                ),
            };
            let summary = outpost::backup::backup(&config, &out, &seal)?;
            println!(
                "backup written to {}: {} rows, {} entries, {} bytes before compression and encryption",
                out.display(),
                summary.rows,
                summary.entries,
                summary.bytes
            );
        }
        Command::Restore {
            file,
            identity,
            passphrase,
            force,
        } => {
            let key = backup_key(identity, passphrase)?;
            let summary = outpost::backup::restore(&file, &key, &config.data_dir, force)?;
            println!(
                "restored {} rows (schema version {}) into {}; start the server to use it",
                summary.rows,
                summary.schema_version,
                config.data_dir.display()
            );
        }
        Command::Status => {
            let figures = outpost::admin::status(&config).map_err(anyhow::Error::msg)?;
            let get = |k: &str| {
                figures
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| "?".into())
            };
            let days = |secs: String| {
                secs.parse::<f64>()
                    .map(|s| format!("{:.1} days", s / 86_400.0))
                    .unwrap_or(secs)
            };
            let backup = match get("outpost_backup_age_seconds").as_str() {
                "-1" => "never".to_string(),
                v => format!("{} ago", days(v.to_string())),
            };
            println!(
                "Outpost on {} is up ({} since start)",
                config.listen,
                days(get("outpost_uptime_seconds"))
            );
            println!(
                "  open connections:     {}",
                get("outpost_open_connections")
            );
            println!(
                "  messages per second:  {} (last minute)",
                get("outpost_messages_per_second")
            );
            println!("  messages since start: {}", get("outpost_messages_total"));
            println!("  active calls:         {}", get("outpost_active_calls"));
            println!("  users:                {}", get("outpost_users"));
            println!(
                "  database:             {} bytes",
                get("outpost_database_bytes")
            );
            println!(
                "  stored files:         {} bytes",
                get("outpost_file_store_bytes")
            );
            println!("  last backup:          {backup}");
            println!(
                "  certificate expires:  in {}",
                days(get("outpost_certificate_expiry_seconds"))
            );
        }
        Command::Discover { timeout, json } => {
            let wait = std::time::Duration::from_secs_f64(timeout.clamp(0.1, 600.0));
            let found = outpost::discovery::discover(wait)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&found)?);
            } else if found.is_empty() {
                println!("no Outpost server answered within {timeout} s");
            } else {
                for f in found {
                    let addrs: Vec<String> = f.addresses.iter().map(|a| a.to_string()).collect();
                    println!("{}\n  url:         {}\n  host:        {} ({})\n  port:        {}\n  fingerprint: {}\n  version:     {}",
                        f.site_name, f.url, f.host, addrs.join(", "), f.port, f.ca_fingerprint, f.version);
                }
            }
        }
        Command::Config(ConfigCommand::Example) => print!("{}", outpost::config::EXAMPLE_CONFIG),
        Command::Manpage => {}
        Command::Config(ConfigCommand::Show) => {
            print!(
                "{}",
                toml::to_string_pretty(&config).context("cannot print the configuration")?
            );
        }
    }
    Ok(())
}

fn user(cmd: UserCommand, config: &Config) -> anyhow::Result<()> {
    use outpost::admin;
    match cmd {
        UserCommand::Add {
            name,
            admin: is_admin,
            password_stdin,
            display_name,
        } => {
            let password = password_stdin.then(read_password_stdin).transpose()?;
            let (user, generated) =
                admin::user_add(config, &name, display_name.as_deref(), is_admin, password)?;
            println!(
                "created {} {}",
                if user.is_admin {
                    "administrator"
                } else {
                    "user"
                },
                user.username
            );
            if let Some(p) = generated {
                println!("password: {p}");
            }
        }
        UserCommand::List { json } => {
            let users = admin::user_list(config)?;
            if json {
                let list: Vec<_> = users
                    .iter()
                    .map(|u| {
                        serde_json::json!({
                            "id": u.id, "username": u.username, "display_name": u.display_name,
                            "is_admin": u.is_admin, "disabled": u.disabled,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!(
                    "{:<24} {:<32} {:<6} STATUS",
                    "USER", "DISPLAY NAME", "ADMIN"
                );
                for u in users {
                    println!(
                        "{:<24} {:<32} {:<6} {}",
                        u.username,
                        u.display_name,
                        if u.is_admin { "yes" } else { "no" },
                        if u.disabled { "disabled" } else { "active" }
                    );
                }
            }
        }
        UserCommand::Disable { name } => {
            let u = admin::user_set_disabled(config, &name, true)?;
            println!("disabled {}; all of their sessions have ended", u.username);
        }
        UserCommand::Enable { name } => {
            let u = admin::user_set_disabled(config, &name, false)?;
            println!("enabled {}", u.username);
        }
        UserCommand::ResetPassword {
            name,
            password_stdin,
        } => {
            let password = password_stdin.then(read_password_stdin).transpose()?;
            let generated = admin::user_reset_password(config, &name, password)?;
            println!("password changed for {name}; all of their sessions have ended");
            if let Some(p) = generated {
                println!("new password: {p}");
            }
        }
        UserCommand::Promote { name, revoke } => {
            let u = admin::user_set_admin(config, &name, !revoke)?;
            println!(
                "{} is {}an administrator",
                u.username,
                if u.is_admin { "now " } else { "no longer " }
            );
        }
    }
    Ok(())
}
