//! The `bacopilot` command: serve, manage models, benchmark.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

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
        /// Data directory (overrides server.data_dir).
        #[arg(long, env = "BACOPILOT_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
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
    match cli.command {
        Command::Serve { listen, data_dir } => {
            if let Some(l) = listen {
                config.server.listen = l;
            }
            if let Some(d) = data_dir {
                config.server.data_dir = d;
            }
            tokio::runtime::Runtime::new()?.block_on(bacopilot::server::serve(config))
        }
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
    }
}
