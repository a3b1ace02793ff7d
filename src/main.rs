//! The `outpost` command: parses the command line and calls the library.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use outpost::config::{Config, ConfigError, HttpListen, Overrides};
use outpost::telemetry::priority_prefix as prefix;
use tracing::Level;

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
    /// The agency's directory ([ldap] in the configuration)
    #[command(subcommand)]
    Ldap(LdapCommand),
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
    /// Move this one-box site's database into PostgreSQL (cluster mode; stop the server first)
    Migrate {
        /// The empty PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// A site on several machines: give new nodes the site's CA (docs/cluster.md)
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Links to other Outpost sites: shared channels across appliances (docs/links.md)
    #[command(subcommand)]
    Link(LinkCommand),
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
    /// Check a release file (package, binary or SHA256SUMS) against the release signing key, offline
    VerifyUpdate {
        /// The file to check
        file: PathBuf,
        /// Its minisign signature [default: FILE.minisig]
        #[arg(long, value_name = "FILE")]
        signature: Option<PathBuf>,
        /// The trusted minisign public key
        #[arg(long, value_name = "KEY", default_value = outpost::release::DEFAULT_PUBLIC_KEY)]
        public_key: PathBuf,
    },
    /// Write the manual pages or shell completions into a directory, for packaging
    #[command(hide = true, subcommand)]
    Generate(GenerateCommand),
    /// Print the outpost(1) manual page (roff); `generate man DIR` writes every page
    #[command(hide = true)]
    Manpage,
}

#[derive(Subcommand)]
enum GenerateCommand {
    /// One page per command: outpost.1, outpost-serve.1, outpost-user-add.1, …
    Man { dir: PathBuf },
    /// outpost.bash, _outpost (zsh) and outpost.fish
    Completions { dir: PathBuf },
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
    /// Turn a user's two-step sign-in off (they set it up again if the site requires it)
    ResetTwoFactor { name: String },
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
enum LinkCommand {
    /// Make a one-time invitation for another site: prints the code to hand to its administrator
    Invite {
        /// How long the invitation may be used, in hours (1 to 720)
        #[arg(long, default_value_t = 24)]
        hours: u64,
        /// Also write the code to this file
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write the code as a QR code (SVG) to this file
        #[arg(long)]
        qr: Option<PathBuf>,
    },
    /// Accept another site's invitation (the code, or --file); shows the other site's name and CA
    /// fingerprint and asks before pairing
    Accept {
        code: Option<String>,
        /// Read the code from this file
        #[arg(long)]
        file: Option<PathBuf>,
        /// Do not ask: the fingerprint was compared already
        #[arg(long)]
        yes: bool,
    },
    /// List links with their state and backlog each way
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Stop exchanging with a linked site until resumed
    Pause { id: i64 },
    /// Exchange with a paused linked site again
    Resume { id: i64 },
    /// Remove a link: the other site is refused at once
    Remove { id: i64 },
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// Seal this node's CA with a passphrase into the cluster's database, for new nodes to join
    /// with (passphrase from OUTPOST_CLUSTER_PASSPHRASE or standard input; 12 characters or more)
    ShareCa,
    /// Install the site's CA on this node from the cluster's database (passphrase as for share-ca);
    /// then start the node, which issues its own certificate from it
    Join,
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
    // These read no configuration: they must work on a machine without one.
    let early = match &cli.command {
        Command::Manpage => Some(docs::manpage_to_stdout()),
        Command::Generate(GenerateCommand::Man { dir }) => Some(docs::man_pages(dir)),
        Command::Generate(GenerateCommand::Completions { dir }) => Some(docs::completions(dir)),
        Command::VerifyUpdate {
            file,
            signature,
            public_key,
        } => Some(verify_update(file, signature.as_deref(), public_key)),
        _ => None,
    };
    if let Some(result) = early {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
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
                eprintln!("{}warning: {w}", prefix(Level::WARN));
            }
            config
        }
        Err(e) => {
            eprintln!("{}error: {e}", prefix(Level::ERROR));
            return ExitCode::from(2);
        }
    };
    match run(cli.command, config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.downcast_ref::<ConfigError>().is_some() {
                eprintln!("{}error: {}", prefix(Level::ERROR), error_text(&e));
                return ExitCode::from(2);
            }
            eprintln!("{}error: {}", prefix(Level::ERROR), error_text(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes in one line, leaving out a cause whose text the message before it
/// already carries (our errors name their cause in their own sentence).
fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

fn verify_update(
    file: &std::path::Path,
    signature: Option<&std::path::Path>,
    public_key: &std::path::Path,
) -> anyhow::Result<()> {
    use outpost::release;
    let signature = signature
        .map(PathBuf::from)
        .unwrap_or_else(|| release::default_signature_path(file));
    let verified = release::verify_file(file, &signature, public_key)?;
    println!(
        "{}: good signature by release key {} ({})",
        file.display(),
        verified.key_id,
        public_key.display()
    );
    println!("trusted comment: {}", verified.trusted_comment);
    Ok(())
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

async fn link_command(config: &Config, cmd: LinkCommand) -> anyhow::Result<()> {
    use outpost::admin;
    match cmd {
        LinkCommand::Invite { hours, out, qr } => {
            if !(1..=720).contains(&hours) {
                anyhow::bail!("--hours is 1 to 720");
            }
            let inv = admin::link_invite(config, hours).await?;
            let code = inv.code();
            if let Some(path) = out {
                std::fs::write(&path, format!("{code}\n"))
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            if let Some(path) = qr {
                std::fs::write(&path, inv.qr_svg()?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            println!("site:        {}", inv.name);
            println!("fingerprint: {}", inv.fingerprint);
            println!("addresses:   {}", inv.addresses.join(", "));
            println!("valid for:   {hours} h, once");
            println!();
            println!("{code}");
        }
        LinkCommand::Accept { code, file, yes } => {
            let code = match (code, file) {
                (Some(c), None) => c,
                (None, Some(path)) => std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
                _ => anyhow::bail!("give the code or --file, one of them"),
            };
            let inv = outpost::links::Invitation::parse(&code)?;
            println!("site:        {}", inv.name);
            println!("fingerprint: {}", inv.fingerprint);
            println!("addresses:   {}", inv.addresses.join(", "));
            if !yes {
                println!(
                    "Compare the fingerprint with the one the other administrator reads out. \
                     Type yes to link:"
                );
                let mut answer = String::new();
                std::io::stdin()
                    .read_line(&mut answer)
                    .context("cannot read the answer")?;
                if answer.trim() != "yes" {
                    anyhow::bail!("not linked");
                }
            }
            let row = admin::link_accept(config, &code).await?;
            println!(
                "linked to {} (link {}); the running server connects within a second",
                row.name, row.id
            );
        }
        LinkCommand::List { json } => {
            let links = admin::link_list(config).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&links)?);
            } else if links.is_empty() {
                println!("no links");
            } else {
                println!(
                    "{:<4} {:<24} {:<13} {:>9} {:>9}  last contact",
                    "id", "site", "state", "to send", "to get"
                );
                for l in links {
                    let state = if l.state == "paused" {
                        "paused"
                    } else {
                        "active"
                    };
                    let contact = l
                        .last_contact_at
                        .map(|ms| format!("{} s ago", (now_ms() - ms).max(0) / 1000))
                        .unwrap_or_else(|| "never".into());
                    println!(
                        "{:<4} {:<24} {:<13} {:>9} {:>9}  {contact}",
                        l.id, l.name, state, l.backlog_out, l.backlog_in
                    );
                }
            }
        }
        LinkCommand::Pause { id } => {
            admin::link_set_paused(config, id, true).await?;
            println!("link {id} paused");
        }
        LinkCommand::Resume { id } => {
            admin::link_set_paused(config, id, false).await?;
            println!("link {id} resumed");
        }
        LinkCommand::Remove { id } => {
            admin::link_remove(config, id).await?;
            println!("link {id} removed: the other site is refused from now on");
        }
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn read_cluster_passphrase() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("OUTPOST_CLUSTER_PASSPHRASE") {
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

#[derive(Subcommand)]
enum LdapCommand {
    /// Connect, bind as the service account and search for people; say plainly what failed
    Test,
    /// Compare directory accounts with the directory now: disable people it no longer lists,
    /// update names, profiles, photos and administrators
    Sync,
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
        Command::Ldap(LdapCommand::Test) => {
            let Some(dir) = outpost::directory::Directory::from_config(&config.ldap)? else {
                anyhow::bail!("no directory is configured: set ldap.urls in the configuration");
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the runtime")?;
            let report = runtime.block_on(dir.test())?;
            println!("connected:     {}", report.url);
            println!("bound as:      {}", report.service_bind);
            println!("people found:  {}", report.people);
            for p in &report.sample {
                println!("  {} ({}) {}", p.username, p.display_name, p.dn);
            }
            if let Some(groups) = report.groups {
                println!("groups found:  {groups}");
            }
            for g in &report.missing_groups {
                println!("PROBLEM: no group named {g} (ldap.admin_groups or ldap.channel_groups)");
            }
            if report.people == 0 {
                anyhow::bail!("the search found nobody: check ldap.user_base and ldap.user_filter");
            }
        }
        Command::Ldap(LdapCommand::Sync) => {
            let Some(dir) = outpost::directory::Directory::from_config(&config.ldap)? else {
                anyhow::bail!("no directory is configured: set ldap.urls in the configuration");
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the runtime")?;
            let report = runtime.block_on(outpost::admin::ldap_sync(&config, &dir))?;
            println!("people listed by the directory: {}", report.listed);
            for name in &report.disabled {
                println!("disabled {name} (sessions ended)");
            }
            for (name, changes) in &report.updated {
                println!("updated {name}: {}", changes.join("; "));
            }
            if report.channels_skipped {
                println!(
                    "channel memberships (ldap.channel_groups) are left to the running server, \
                     which applies them every ldap.sync_interval_secs and at each sign-in"
                );
            }
            for channel in &report.missing_channels {
                println!("no channel named {channel} (ldap.channel_groups): create it, or fix the mapping");
            }
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
        Command::Migrate { to } => {
            let moved = outpost::admin::migrate(&config, &to, |table, rows| {
                println!("{table}: {rows} rows");
            })?;
            println!(
                "moved {} rows of {} tables into PostgreSQL in {:.1} s; this data dir now serves \
                 the cluster: set [cluster] database in the configuration of every node and start them",
                moved.rows,
                moved.tables,
                moved.took.as_secs_f64()
            );
        }
        Command::Link(cmd) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the runtime")?;
            runtime.block_on(link_command(&config, cmd))?;
        }
        Command::Cluster(ClusterCommand::ShareCa) => {
            let fingerprint =
                outpost::admin::cluster_share_ca(&config, &read_cluster_passphrase()?)?;
            println!(
                "the site's CA (SHA-256 {fingerprint}) is sealed in the cluster's database; on each \
                 new node run `outpost cluster join` with the same passphrase"
            );
        }
        Command::Cluster(ClusterCommand::Join) => {
            let (fingerprint, changed) =
                outpost::admin::cluster_join(&config, &read_cluster_passphrase()?)?;
            if changed {
                println!(
                    "installed the site's CA (SHA-256 {fingerprint}); start this node: it issues \
                     its own certificate from it"
                );
            } else {
                println!("this node already holds the site's CA (SHA-256 {fingerprint})");
            }
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
        Command::Manpage | Command::Generate(_) | Command::VerifyUpdate { .. } => {
            unreachable!("handled before the configuration is loaded")
        }
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
        UserCommand::ResetTwoFactor { name } => {
            let u = admin::user_reset_two_factor(config, &name)?;
            println!("two-step sign-in is off for {}", u.username);
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

/// Manual pages and shell completions, generated from the clap definition above so they cannot
/// drift from the real options. `packaging/build` runs `outpost generate man|completions DIR`.
mod docs {
    use std::path::Path;

    use anyhow::Context;
    use clap::CommandFactory;
    use clap_mangen::roff::{bold, italic, roman, Roff};

    /// Every setting reachable from the environment and its key in the TOML file. A test below
    /// checks this against `src/config.rs`.
    pub const SETTINGS_ENV: &[(&str, &str)] = &[
        ("OUTPOST_SITE_NAME", "site_name"),
        ("OUTPOST_DATA_DIR", "data_dir"),
        ("OUTPOST_LISTEN", "listen"),
        ("OUTPOST_HTTP_LISTEN", "http_listen"),
        ("OUTPOST_DISCOVERY", "discovery"),
        ("OUTPOST_DISCOVERY_INTERFACES", "discovery_interfaces"),
        ("OUTPOST_TLS_PROFILE", "tls.profile"),
        ("OUTPOST_TLS_NAMES", "tls.names"),
        ("OUTPOST_TLS_ADDRESSES", "tls.addresses"),
        ("OUTPOST_TLS_CERT_FILE", "tls.cert_file"),
        ("OUTPOST_TLS_KEY_FILE", "tls.key_file"),
        ("OUTPOST_TLS_CHECK_INTERVAL_SECS", "tls.check_interval_secs"),
        ("OUTPOST_TLS_HSTS", "tls.hsts"),
        ("OUTPOST_AUTH_SESSION_IDLE_DAYS", "auth.session_idle_days"),
        (
            "OUTPOST_AUTH_FREE_LOGIN_ATTEMPTS",
            "auth.free_login_attempts",
        ),
        ("OUTPOST_AUTH_MAX_LOCKOUT_SECS", "auth.max_lockout_secs"),
        ("OUTPOST_AUTH_INVITE_HOURS", "auth.invite_hours"),
        ("OUTPOST_LIMITS_MAX_JSON_BODY", "limits.max_json_body"),
        ("OUTPOST_LIMITS_MAX_CONNECTIONS", "limits.max_connections"),
        (
            "OUTPOST_LIMITS_MAX_CONNECTIONS_PER_ADDRESS",
            "limits.max_connections_per_address",
        ),
        (
            "OUTPOST_LIMITS_HTTP_MAX_CONNECTIONS",
            "limits.http_max_connections",
        ),
        (
            "OUTPOST_LIMITS_FIRST_REQUEST_SECS",
            "limits.first_request_secs",
        ),
        (
            "OUTPOST_LIMITS_IDLE_CONNECTION_SECS",
            "limits.idle_connection_secs",
        ),
        (
            "OUTPOST_LIMITS_MAX_MESSAGE_BYTES",
            "limits.max_message_bytes",
        ),
        (
            "OUTPOST_LIMITS_MESSAGES_PER_SECOND",
            "limits.messages_per_second",
        ),
        ("OUTPOST_LIMITS_MESSAGE_BURST", "limits.message_burst"),
        ("OUTPOST_LIMITS_MAX_WS_FRAME", "limits.max_ws_frame"),
        ("OUTPOST_METRICS_ALLOW_LOOPBACK", "metrics.allow_loopback"),
        ("OUTPOST_AUDIT_KEEP_DAYS", "audit.keep_days"),
        ("OUTPOST_BACKUP_TIME", "backup.time"),
        ("OUTPOST_BACKUP_INTERVAL_SECS", "backup.interval_secs"),
        ("OUTPOST_BACKUP_FOLDER", "backup.folder"),
        ("OUTPOST_BACKUP_RECIPIENTS", "backup.recipients"),
        ("OUTPOST_BACKUP_KEEP", "backup.keep"),
        ("OUTPOST_RETENTION_DAYS", "retention.days"),
        (
            "OUTPOST_RETENTION_CHECK_INTERVAL_SECS",
            "retention.check_interval_secs",
        ),
        ("OUTPOST_MEDIA_MAX_FILE_BYTES", "media.max_file_bytes"),
        ("OUTPOST_MEDIA_USER_QUOTA_BYTES", "media.user_quota_bytes"),
        (
            "OUTPOST_MEDIA_KEEP_PHOTO_METADATA",
            "media.keep_photo_metadata",
        ),
        (
            "OUTPOST_MEDIA_ABANDONED_UPLOAD_HOURS",
            "media.abandoned_upload_hours",
        ),
        (
            "OUTPOST_MEDIA_SWEEP_INTERVAL_SECS",
            "media.sweep_interval_secs",
        ),
        ("OUTPOST_CALLS_ENABLED", "calls.enabled"),
        ("OUTPOST_CALLS_UDP_PORT", "calls.udp_port"),
        ("OUTPOST_CALLS_TCP_PORT", "calls.tcp_port"),
        ("OUTPOST_CALLS_ADDRESSES", "calls.addresses"),
        ("OUTPOST_CALLS_MAX_PARTICIPANTS", "calls.max_participants"),
        ("OUTPOST_CALLS_RING_SECS", "calls.ring_secs"),
        ("OUTPOST_CALLS_AUDIO_FRAME_MS", "calls.audio_frame_ms"),
        ("OUTPOST_LOG_FORMAT", "log.format"),
        ("OUTPOST_LOG_LEVEL", "log.level"),
        ("OUTPOST_CLUSTER_DATABASE", "cluster.database"),
        ("OUTPOST_CLUSTER_NATS", "cluster.nats"),
        ("OUTPOST_CLUSTER_NODE_NAME", "cluster.node_name"),
        ("OUTPOST_CLUSTER_CA_FILE", "cluster.ca_file"),
        ("OUTPOST_CLUSTER_ALLOW_PLAIN", "cluster.allow_plain"),
        ("OUTPOST_LINKS_LISTEN", "links.listen"),
        ("OUTPOST_LINKS_ADDRESSES", "links.addresses"),
    ];

    /// The command tree as the pages and completions see it: no `help` subcommand.
    fn command() -> clap::Command {
        let mut cmd = super::Cli::command().disable_help_subcommand(true);
        cmd.build();
        cmd
    }

    pub fn manpage_to_stdout() -> anyhow::Result<()> {
        use std::io::Write;
        let page = render(&command())?;
        std::io::stdout().write_all(page.as_bytes())?;
        Ok(())
    }

    /// Writes one page per visible command, named as clap_mangen's SEE ALSO references name them:
    /// `outpost.1`, `outpost-user.1`, `outpost-user-add.1`, …
    pub fn man_pages(dir: &Path) -> anyhow::Result<()> {
        fn walk(cmd: &clap::Command, dir: &Path) -> anyhow::Result<()> {
            let name = page_name(cmd);
            let path = dir.join(format!("{name}.1"));
            std::fs::write(&path, render(cmd)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                walk(sub, dir)?;
            }
            Ok(())
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        walk(&command(), dir)
    }

    pub fn completions(dir: &Path) -> anyhow::Result<()> {
        use clap_complete::Shell;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            clap_complete::generate_to(shell, &mut command(), "outpost", dir)
                .with_context(|| format!("cannot write the {shell} completions"))?;
        }
        Ok(())
    }

    fn page_name(cmd: &clap::Command) -> String {
        cmd.get_display_name()
            .unwrap_or_else(|| cmd.get_name())
            .to_string()
    }

    /// clap_mangen's page (name, synopsis, description, options, subcommands, version) with
    /// the sections an administrator needs added before VERSION.
    fn render(cmd: &clap::Command) -> anyhow::Result<String> {
        let man = clap_mangen::Man::new(cmd.clone())
            .manual("Outpost Manual")
            .source(format!("outpost {}", env!("CARGO_PKG_VERSION")));
        let mut page = Vec::new();
        man.render(&mut page)?;
        let page = String::from_utf8(page)?;
        let extra = extra_sections(&page_name(cmd)).render();
        let preamble = Roff::new().render();
        let extra = extra.strip_prefix(&preamble).unwrap_or(&extra);
        Ok(match page.find("\n.SH VERSION") {
            Some(at) => format!("{}\n{}{}", &page[..at], extra, &page[at + 1..]),
            None => format!("{page}{extra}"),
        })
    }

    /// `$ command` and what it does.
    fn examples(name: &str) -> &'static [(&'static str, &'static str)] {
        match name {
            "outpost" => &[
                ("outpost serve", "Run the server with the embedded defaults: HTTPS on port 8443 and onboarding on plain-HTTP port 8080, on every IPv6 and IPv4 address; data in ./outpost-data."),
                ("outpost user add alice --admin", "Create an administrator from the shell instead of the setup link; the generated password is printed once."),
                ("outpost doctor --config /etc/outpost/outpost.toml", "Check permissions, the database, certificates and the call ports of an installed server."),
                ("outpost verify-update outpost_0.2.0-1_amd64.deb", "Check a new package against the release key before installing it."),
            ],
            "outpost-serve" => &[
                ("outpost serve", "Defaults: HTTPS on [::]:8443 and onboarding on [::]:8080 (IPv6 and IPv4), data in ./outpost-data."),
                ("outpost serve --config /etc/outpost/outpost.toml", "What the packaged service (outpost.service) runs."),
                ("OUTPOST_LISTEN=192.168.1.10:443 outpost serve --http-listen off --no-discovery", "One address, no plain-HTTP onboarding site, no mDNS."),
            ],
            "outpost-user" | "outpost-user-add" => &[
                ("outpost user add alice --admin", "Create an administrator; the generated password is printed once."),
                ("printf '%s' \"$PASSWORD\" | outpost user add bob --password-stdin --display-name 'Bob B.'", "Create a user with a chosen password."),
            ],
            "outpost-user-list" => &[("outpost user list --json", "All accounts as JSON.")],
            "outpost-user-disable" => &[("outpost user disable bob", "Lock bob out and end all of his sessions at once.")],
            "outpost-user-enable" => &[("outpost user enable bob", "Let bob sign in again.")],
            "outpost-user-reset-password" => &[("outpost user reset-password bob", "Print a new generated password and end all of his sessions.")],
            "outpost-user-reset-two-factor" => &[("outpost user reset-two-factor bob", "Bob lost his phone and his recovery codes: turn his two-step sign-in off (he sets it up again if the site requires it).")],
            "outpost-ldap" | "outpost-ldap-test" => &[("outpost ldap test --config /etc/outpost/outpost.toml", "Check the [ldap] settings: connect, bind as the service account, search for people.")],
            "outpost-ldap-sync" => &[("outpost ldap sync --config /etc/outpost/outpost.toml", "Bring directory accounts in step now: disable people the directory no longer lists, update names, profiles, photos and administrators (the server also does this every ldap.sync_interval_secs, and applies ldap.channel_groups).")],
            "outpost-user-promote" => &[
                ("outpost user promote alice", "Make alice an administrator."),
                ("outpost user promote alice --revoke", "Take it away again."),
            ],
            "outpost-ca" | "outpost-ca-export" => &[
                ("outpost ca export > outpost-ca.pem", "The CA certificate devices must trust (PEM)."),
                ("outpost ca export --der > outpost-ca.cer", "The same in DER, for devices that want it."),
            ],
            "outpost-ca-fingerprint" => &[("outpost ca fingerprint", "Compare with the fingerprint the onboarding page and devices show.")],
            "outpost-doctor" => &[("sudo -u outpost outpost doctor --config /etc/outpost/outpost.toml", "Check an installed server as its service user.")],
            "outpost-backup" => &[
                ("outpost backup --out /media/usb/outpost.age --recipient age1...", "Encrypted backup to an age public key, safe while the server runs."),
                ("OUTPOST_BACKUP_PASSPHRASE=... outpost backup --out outpost.age --passphrase", "Encrypted with a passphrase instead."),
            ],
            "outpost-backup-verify" => &[("outpost backup verify outpost.age --identity key.txt", "Decrypt and check every entry without restoring.")],
            "outpost-restore" => &[("outpost restore outpost.age --identity key.txt --data-dir /var/lib/outpost", "Restore into an empty data directory (stop the service first).")],
            "outpost-migrate" => &[("outpost migrate --to postgres://outpost@10.0.0.30/outpost --config /etc/outpost/outpost.toml", "Move a one-box site into an empty PostgreSQL database (stop the service first); then set [cluster] database on every node (docs/cluster.md).")],
            "outpost-cluster" | "outpost-cluster-share-ca" => &[("sudo -u outpost outpost cluster share-ca --config /etc/outpost/outpost.toml", "On the first node: seal its CA into the cluster's database with a passphrase typed on standard input (or OUTPOST_CLUSTER_PASSPHRASE).")],
            "outpost-cluster-join" => &[("sudo -u outpost outpost cluster join --config /etc/outpost/outpost.toml && systemctl start outpost", "On a new node with [cluster] set: install the site's CA (same passphrase), then start it; it issues its own certificate from that CA.")],
            "outpost-link" | "outpost-link-invite" => &[("sudo -u outpost outpost link invite --config /etc/outpost/outpost.toml --qr invite.svg", "At headquarters: a one-time code (and a QR code) for a field office's administrator; read the fingerprint out to them by phone.")],
            "outpost-link-accept" => &[("sudo -u outpost outpost link accept --config /etc/outpost/outpost.toml 'outpost-link:…'", "At the field office: shows headquarters' name and CA fingerprint, asks, and links the two sites.")],
            "outpost-link-list" => &[("outpost link list --config /etc/outpost/outpost.toml", "Each link, paused or not, with what is left to send and to get, and the last contact.")],
            "outpost-link-pause" | "outpost-link-resume" => &[("outpost link pause 2 --config /etc/outpost/outpost.toml", "Stop exchanging with site 2 (a metered link, say); resume catches up.")],
            "outpost-link-remove" => &[("outpost link remove 2 --config /etc/outpost/outpost.toml", "The other site is refused at once; what it shared stays readable here.")],
            "outpost-status" => &[("outpost status --config /etc/outpost/outpost.toml", "Uptime, connections, messages, calls, storage, last backup, certificate expiry.")],
            "outpost-discover" => &[("outpost discover --timeout 5", "List the Outpost servers answering on the LAN.")],
            "outpost-config" | "outpost-config-example" => &[("outpost config example > outpost.toml", "A fully commented configuration to start from.")],
            "outpost-config-show" => &[("outpost config show --config /etc/outpost/outpost.toml", "The effective settings after file, environment and flags.")],
            "outpost-verify-update" => &[
                ("outpost verify-update outpost_0.2.0-1_amd64.deb", "Check against /usr/share/outpost/release-key.pub and outpost_0.2.0-1_amd64.deb.minisig."),
                ("outpost verify-update SHA256SUMS --public-key agency.pub && sha256sum -c SHA256SUMS", "Check the checksum list with an agency key, then every file it names."),
            ],
            _ => &[],
        }
    }

    fn extra_sections(name: &str) -> Roff {
        let mut r = Roff::new();
        if name == "outpost" || name == "outpost-serve" {
            r.control("SH", ["FIRST RUN"]);
            r.text([roman("Installed from the .deb or .rpm, the service starts at once as the "), bold("outpost"), roman(" user with "), bold("/etc/outpost/outpost.toml"), roman(" (HTTPS on port 443, onboarding on port 80). The first administrator is created from a one-time setup link, valid 24 hours, that the server logs on its first start:")]);
            r.control("IP", [])
                .text([bold("journalctl -u outpost | grep -i setup")]);
            r.control("PP", []);
            r.text([roman("Open it in a browser and choose a name and password. People then visit the plain-HTTP onboarding page, "), italic("http://SERVER/"), roman(", which offers the local CA and its fingerprint (compare with "), bold("outpost ca fingerprint"), roman("), and move on to sign-in once their device trusts it. "), bold("outpost doctor"), roman(" checks the installation; "), bold("journalctl -u outpost -p err"), roman(" shows why a service did not start.")]);
            r.control("PP", []);
            r.text([
                roman("Without the packages, "),
                bold("outpost serve"),
                roman(
                    " runs with the embedded defaults and prints the setup link on the terminal; ",
                ),
                bold("outpost user add NAME --admin"),
                roman(" creates an administrator without it."),
            ]);
        }
        let ex = examples(name);
        if !ex.is_empty() {
            r.control("SH", ["EXAMPLES"]);
            for (cmd, what) in ex {
                r.control("TP", []);
                r.text([bold(*cmd)]);
                r.text([roman(*what)]);
            }
        }
        r.control("SH", ["EXIT STATUS"]);
        r.text([roman("0 on success, 2 for a configuration error (bad file, variable or flag; the packaged service is not restarted after it), 1 for any other failure. "), bold("verify-update"), roman(" exits 1 for a missing or bad signature or key.")]);

        r.control("SH", ["ENVIRONMENT"]);
        r.control("TP", []).text([bold("OUTPOST_CONFIG")]);
        r.text([
            roman("Configuration file, when "),
            bold("--config"),
            roman(" is not given."),
        ]);
        r.control("TP", []).text([bold("OUTPOST_DATA_DIR")]);
        r.text([
            roman("Data directory (database, certificates, files), when "),
            bold("--data-dir"),
            roman(" is not given."),
        ]);
        r.control("TP", [])
            .text([bold("OUTPOST_BACKUP_PASSPHRASE")]);
        r.text([
            roman("Passphrase for "),
            bold("backup --passphrase"),
            roman(", "),
            bold("backup verify --passphrase"),
            roman(" and "),
            bold("restore --passphrase"),
            roman("; read from standard input when unset."),
        ]);
        r.control("TP", [])
            .text([bold("OUTPOST_CLUSTER_PASSPHRASE")]);
        r.text([
            roman("Passphrase for "),
            bold("cluster share-ca"),
            roman(" and "),
            bold("cluster join"),
            roman("; read from standard input when unset."),
        ]);
        r.control("TP", []).text([bold("RUST_LOG")]);
        r.text([
            roman("Log filter, as "),
            bold("OUTPOST_LOG_LEVEL"),
            roman("."),
        ]);
        let full = matches!(
            name,
            "outpost" | "outpost-serve" | "outpost-config" | "outpost-config-show"
        );
        if full {
            r.control("PP", []);
            r.text([roman("Every setting of the configuration file can also be given as a variable; it overrides the file, and a flag overrides both. Lists are comma-separated.")]);
            for (var, key) in SETTINGS_ENV
                .iter()
                .filter(|(v, _)| *v != "OUTPOST_DATA_DIR")
            {
                r.control("TP", []).text([bold(*var)]);
                r.text([roman("Setting "), italic(*key), roman(".")]);
            }
        } else {
            r.control("PP", []);
            r.text([
                roman("Every setting of the configuration file can also be given as an "),
                bold("OUTPOST_*"),
                roman(" variable (e.g. "),
                bold("OUTPOST_LISTEN"),
                roman(" for "),
                italic("listen"),
                roman("); "),
                bold("outpost"),
                roman("(1) lists them."),
            ]);
        }

        r.control("SH", ["FILES"]);
        let files: &[(&str, &str)] = &[
            ("/etc/outpost/outpost.toml", "The configuration the packaged service reads (root:outpost, 0640; upgrades keep local edits). outpost config example prints a commented one."),
            ("/var/lib/outpost", "The packaged service's data directory (outpost, 0700): the SQLite database, the CA and server certificate, uploaded files. Without the packages the default is ./outpost-data."),
            ("/usr/share/outpost/release-key.pub", "The minisign public key verify-update trusts by default."),
            ("/usr/lib/systemd/system/outpost.service", "The service unit."),
            ("/usr/share/doc/outpost/THIRD-PARTY-LICENSES", "Licences of everything linked into the binary."),
        ];
        for (path, what) in files {
            r.control("TP", []).text([bold(*path)]);
            r.text([roman(*what)]);
        }

        r.control("SH", ["SEE ALSO"]);
        let mut see = vec![];
        if name != "outpost" {
            see.push(bold("outpost"));
            see.push(roman("(1), "));
        }
        see.extend([
            bold("systemctl"),
            roman("(1), "),
            bold("journalctl"),
            roman("(1), "),
            bold("minisign"),
            roman("(1)"),
        ]);
        r.text(see);
        r
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The man pages list every variable `src/config.rs` reads, and nothing it does not.
        #[test]
        fn environment_list_matches_config() {
            let source = include_str!("config.rs");
            let table = &source[source.find("const ENV_VARS").unwrap()..];
            let table = &table[..table.find("];").unwrap()];
            let mut in_config: Vec<&str> = table
                .split('"')
                .filter(|s| s.starts_with("OUTPOST_"))
                .collect();
            let mut documented: Vec<&str> = SETTINGS_ENV.iter().map(|(v, _)| *v).collect();
            in_config.sort_unstable();
            documented.sort_unstable();
            assert_eq!(
                in_config, documented,
                "update docs::SETTINGS_ENV in src/main.rs"
            );
        }

        #[test]
        fn every_page_has_the_admin_sections() {
            let dir = tempfile::tempdir().unwrap();
            man_pages(dir.path()).unwrap();
            let mut names: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            for expected in [
                "outpost.1",
                "outpost-serve.1",
                "outpost-user.1",
                "outpost-user-add.1",
                "outpost-backup-verify.1",
                "outpost-verify-update.1",
            ] {
                assert!(
                    names.iter().any(|n| n == expected),
                    "{expected} in {names:?}"
                );
            }
            assert!(
                !names
                    .iter()
                    .any(|n| n.contains("generate") || n.contains("manpage") || n.contains("help")),
                "{names:?}"
            );
            for n in &names {
                let page = std::fs::read_to_string(dir.path().join(n)).unwrap();
                for section in [
                    ".SH NAME",
                    ".SH SYNOPSIS",
                    ".SH \"EXIT STATUS\"",
                    ".SH ENVIRONMENT",
                    ".SH FILES",
                    ".SH \"SEE ALSO\"",
                ] {
                    assert!(page.contains(section), "{n} lacks {section}");
                }
                assert!(page.contains("OUTPOST_CONFIG"), "{n}");
            }
            let root = std::fs::read_to_string(dir.path().join("outpost.1")).unwrap();
            assert!(root.contains(".SH \"FIRST RUN\""), "{root}");
            assert!(root.contains("OUTPOST_CALLS_AUDIO_FRAME_MS"));
            assert!(root.contains("release\\-key.pub"));
        }

        #[test]
        fn completions_for_three_shells() {
            let dir = tempfile::tempdir().unwrap();
            completions(dir.path()).unwrap();
            for f in ["outpost.bash", "_outpost", "outpost.fish"] {
                let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
                assert!(text.contains("verify-update"), "{f}");
            }
        }
    }
}
