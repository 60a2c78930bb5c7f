//! The `bacopilot` command: serve, manage models, benchmark.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use bacopilot::auth::cli;
use bacopilot::auth::users::UserChanges;
use bacopilot::auth::{Role, Scope};
use bacopilot::config::Config;

#[derive(Parser)]
#[command(
    name = "bacopilot",
    version,
    about = "BA Copilot: local-inference appliance for business analysts"
)]
struct Cli {
    /// Configuration file (default: ./config.toml when present).
    #[arg(long, global = true, env = "BACOPILOT_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (overrides server.data_dir).
    #[arg(long, global = true, env = "BACOPILOT_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Models directory (overrides models.dir).
    #[arg(long, global = true, env = "BACOPILOT_MODELS_DIR")]
    models_dir: Option<PathBuf>,
    /// Log format: `text` for people, `json` for log collectors.
    #[arg(
        long,
        global = true,
        env = "BACOPILOT_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the UI, the OpenAI-compatible API and the BA features.
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080 for the LAN (overrides server.listen).
        #[arg(long, env = "BACOPILOT_LISTEN")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Manage user accounts (works while the server runs).
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Manage API keys (works while the server runs).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Copy the data directory (database, vectors, files) into DIR with a
    /// manifest; safe while the server runs. `--verify` checks a backup.
    Backup {
        /// A new directory for the backup (or, with --verify, an existing backup).
        dir: PathBuf,
        /// Check DIR against its manifest instead of writing a backup.
        #[arg(long)]
        verify: bool,
    },
    /// Restore the backup in DIR into an empty data directory (--data-dir).
    Restore { dir: PathBuf },
    /// List or download models.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Measure prefill, decode, time to first token and embedding throughput.
    Bench {
        /// Chat model id (default: models.chat).
        #[arg(long)]
        model: Option<String>,
        #[arg(long, default_value_t = 256)]
        prompt_tokens: usize,
        #[arg(long, default_value_t = 128)]
        gen_tokens: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Concurrent stream counts for aggregate decode throughput, e.g. 1,4,8 (32-token prompts).
        #[arg(long, value_delimiter = ',')]
        concurrency: Vec<usize>,
        /// Also time each run under a JSON schema (cost of structured output).
        #[arg(long)]
        json_schema: bool,
    },
    /// Reads one document from standard input for the server, in a process
    /// of its own (see retrieval::extract::sandbox).
    #[command(hide = true, name = bacopilot::retrieval::extract::sandbox::SUBCOMMAND)]
    ExtractWorker {
        /// Limits, as JSON.
        #[arg(long)]
        settings: String,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create a user; the password is read from standard input.
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from standard input (one line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable a user: their sessions and API keys stop working at once.
    Disable {
        name: String,
    },
    /// Enable a disabled user.
    Enable {
        name: String,
    },
    /// Change a user's role.
    SetRole {
        name: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// Set a new password (from standard input); ends the user's sessions.
    Passwd {
        name: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    List,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create an API key; the key is printed alone on the last line.
    Create {
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        /// Days until the key expires (default: never).
        #[arg(long)]
        expires: Option<u32>,
        /// `inference` (/v1 only), `local` (/v1, our engine only), `full`, or `metrics` (GET /metrics only).
        #[arg(long, default_value = "inference", value_parser = parse_scope)]
        scope: Scope,
    },
    /// Revoke a key by its id.
    Revoke {
        id: String,
    },
    List,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain (from its last checkpoint, up to its anchor);
    /// exits non-zero naming the first altered row.
    Verify {
        /// Check an archive file written by `audit archive` instead.
        #[arg(long)]
        archive: Option<PathBuf>,
    },
    /// Move rows older than N days into an archive file that verifies on its
    /// own; the live chain goes on from a checkpoint.
    Archive {
        #[arg(long)]
        older_than_days: u32,
        /// Where the archive goes (default: [retention] audit_archive_dir).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "expected admin, analyst or viewer".into())
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    Scope::parse(s).ok_or_else(|| "expected inference, local, full or metrics".into())
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Every model in the models directory, validated.
    List,
    /// Download a GGUF from a Hugging Face hub repository into the models directory.
    Pull {
        /// Repository, e.g. bartowski/Qwen2.5-0.5B-Instruct-GGUF
        repo: String,
        /// File in the repository (default: its first Q4_K_M GGUF, else its first GGUF).
        #[arg(long)]
        file: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The worker reads no configuration and logs nothing: its parent does.
    if let Command::ExtractWorker { settings } = &cli.command {
        std::process::exit(bacopilot::retrieval::extract::worker::run(settings));
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tower_http=warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(dir) = cli.models_dir {
        config.models.dir = dir;
    }
    if let Some(d) = cli.data_dir {
        config.server.data_dir = d;
    }
    let data = config.server.data_dir.clone();
    let changes = |role, disabled, password| UserChanges {
        role,
        disabled,
        password,
    };
    match cli.command {
        Command::Serve { listen } => {
            if let Some(l) = listen {
                config.server.listen = l;
            }
            run(bacopilot::server::serve(config))
        }
        Command::Users { command } => match command {
            UsersCommand::Add { name, role, .. } => {
                let password = cli::password_from_stdin()?;
                run(cli::add_user(&data, &name, role, password))
            }
            UsersCommand::Disable { name } => run(cli::set_user(
                &data,
                &name,
                changes(None, Some(true), None),
                "user.disable",
            )),
            UsersCommand::Enable { name } => run(cli::set_user(
                &data,
                &name,
                changes(None, Some(false), None),
                "user.enable",
            )),
            UsersCommand::SetRole { name, role } => run(cli::set_user(
                &data,
                &name,
                changes(Some(role), None, None),
                "user.role_change",
            )),
            UsersCommand::Passwd { name, .. } => {
                let password = cli::password_from_stdin()?;
                run(cli::set_user(
                    &data,
                    &name,
                    changes(None, None, Some(password)),
                    "user.password_change",
                ))
            }
            UsersCommand::List => run(cli::list_users(&data)),
        },
        Command::Keys { command } => match command {
            KeysCommand::Create {
                user,
                name,
                expires,
                scope,
            } => run(cli::create_key(&data, &user, &name, scope, expires)),
            KeysCommand::Revoke { id } => run(cli::revoke_key(&data, &id)),
            KeysCommand::List => run(cli::list_keys(&data)),
        },
        Command::Audit {
            command: AuditCommand::Verify { archive: None },
        } => run(cli::verify_audit(&data)),
        Command::Audit {
            command: AuditCommand::Verify {
                archive: Some(file),
            },
        } => {
            let (rows, last) = bacopilot::audit::archive::verify_archive(&file)?;
            println!("audit archive intact: {rows} rows, every hash and link checks out; its last hash is {last}");
            Ok(())
        }
        Command::Audit {
            command:
                AuditCommand::Archive {
                    older_than_days,
                    dir,
                },
        } => {
            let dir = dir
                .or_else(|| {
                    Some(config.retention.audit_archive_dir.clone())
                        .filter(|d| !d.as_os_str().is_empty())
                })
                .unwrap_or_else(|| data.join("audit-archive"));
            run(cli::archive_audit(&data, older_than_days, &dir))
        }
        Command::Backup { dir, verify } => run(bacopilot::backup::cli::run(&data, &dir, verify)),
        Command::Restore { dir } => run(bacopilot::backup::restore::run_cli(&dir, &data)),
        Command::Models {
            command: ModelsCommand::List,
        } => bacopilot::inference::catalog::print_list(&config),
        Command::Models {
            command: ModelsCommand::Pull { repo, file },
        } => bacopilot::inference::catalog::pull(&config, &repo, file.as_deref())
            .context("models pull failed"),
        Command::Bench {
            model,
            prompt_tokens,
            gen_tokens,
            runs,
            concurrency,
            json_schema,
        } => bacopilot::bench::run(
            &config,
            &bacopilot::bench::BenchOptions {
                model,
                prompt_tokens,
                gen_tokens,
                runs,
                concurrency,
                json_schema,
            },
        ),
        Command::ExtractWorker { .. } => unreachable!("handled before the configuration"),
    }
}

fn run(f: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(f)
}
