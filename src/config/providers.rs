//! `[[providers]]` (model servers other than our engine: a GPU box on the
//! LAN, a cloud API) and `[routing]` (which of them answer each role, in
//! order). None are configured by default: nothing leaves the machine.

use serde::{Deserialize, Serialize};

/// The API an upstream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    /// `POST {base_url}/chat/completions`: OpenAI, Azure OpenAI, vLLM, TGI,
    /// llama.cpp's server, Ollama, LocalAI, another BA Copilot.
    OpenaiCompatible,
    /// `POST {base_url}/messages`: Anthropic's Messages API.
    Anthropic,
}

/// One upstream model server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Used in model ids (`name/model`), headers, audit rows and metrics.
    pub name: String,
    pub kind: ProviderKind,
    /// Where its API lives, e.g. `http://gpu-box.corp:8000/v1`.
    pub base_url: String,
    /// The environment variable holding its key (never the key itself).
    #[serde(default)]
    pub api_key_env: String,
    /// Or a file holding its key.
    #[serde(default)]
    pub api_key_file: String,
    /// The header the key goes in: `authorization` (sent as `Bearer <key>`),
    /// or a header that takes the bare key, e.g. Azure's `api-key`.
    #[serde(default = "default_key_header")]
    pub key_header: String,
    /// Azure OpenAI's `api-version` query parameter, when set.
    #[serde(default)]
    pub api_version: String,
    /// Model names it serves; empty means ask its `GET /models`.
    #[serde(default)]
    pub models: Vec<String>,
    /// True for anything outside the organisation: redaction is on for it,
    /// and it is never called for a project that keeps its data local.
    #[serde(default)]
    pub external: bool,
    /// Longest prompt plus answer it takes, in tokens; 0 means unknown (no
    /// limit is assumed).
    #[serde(default)]
    pub context_length: usize,
    /// One attempt's limit, from connecting to the last byte.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
}

fn default_key_header() -> String {
    "authorization".into()
}

fn default_timeout() -> u64 {
    120
}

fn default_connect_timeout() -> u64 {
    5
}

/// Which targets answer each role, in order: `local` (our engine), a
/// provider's name (its first model), or `provider/model`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingConfig {
    /// The chat feature, and `/v1` requests for a local model when our own
    /// engine cannot take them (queue full, model not loaded).
    pub chat: Vec<String>,
    pub srs: Vec<String>,
    pub wireframes: Vec<String>,
    /// Attempts on one upstream target before moving to the next.
    pub attempts: u32,
    /// The wait before the second attempt; doubled for each one after.
    pub backoff_ms: u64,
    /// Consecutive failed calls that take a target out of the chain.
    pub breaker_failures: u32,
    /// How often each upstream is probed (`GET {base_url}/models`).
    pub probe_interval_secs: u64,
    /// Successful probes in a row that bring a target back.
    pub probe_successes: u32,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        Self {
            chat: vec!["local".into()],
            srs: vec!["local".into()],
            wireframes: vec!["local".into()],
            attempts: 2,
            backoff_ms: 200,
            breaker_failures: 3,
            probe_interval_secs: 10,
            probe_successes: 1,
        }
    }
}

/// What is hidden from providers marked `external = true`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedactionConfig {
    /// Replace e-mail addresses, phone numbers, IBANs, card numbers and IP
    /// addresses with placeholders before an external call, and put them back
    /// in the answer.
    pub enabled: bool,
    /// More patterns (regular expressions) to hide, e.g. `EMP-[0-9]{6}`.
    pub patterns: Vec<String>,
}

impl Default for RedactionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            patterns: Vec::new(),
        }
    }
}

impl ProviderConfig {
    /// The first thing wrong with this provider's settings, naming the key
    /// (`providers[i].base_url`); secrets are checked when they are read.
    pub fn check(&self, i: usize) -> Result<(), String> {
        let key = |k: &str| format!("providers[{i}] ({}).{k}", self.name);
        let valid_name = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid_name {
            return Err(format!(
                "providers[{i}].name: `{}` must be letters, digits, `-`, `_` or `.`",
                self.name
            ));
        }
        if self.name == "local" {
            return Err(format!(
                "providers[{i}].name: `local` names our own engine; choose another name"
            ));
        }
        let url = reqwest::Url::parse(&self.base_url)
            .map_err(|e| format!("{}: `{}` is not a URL: {e}", key("base_url"), self.base_url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "{}: the scheme must be http or https, not `{}`",
                key("base_url"),
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("{}: the URL has no host", key("base_url")));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "{}: the URL carries credentials; put the key in api_key_env or api_key_file",
                key("base_url")
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "{}: the URL must have no query or fragment (Azure's api-version goes in api_version)",
                key("base_url")
            ));
        }
        if !self.api_key_env.is_empty() && !self.api_key_file.is_empty() {
            return Err(format!(
                "{}: set api_key_env or api_key_file, not both",
                key("api_key_env")
            ));
        }
        let header_ok = !self.key_header.is_empty()
            && self
                .key_header
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !header_ok {
            return Err(format!(
                "{}: `{}` is not a header name",
                key("key_header"),
                self.key_header
            ));
        }
        if self.timeout_secs == 0 || self.connect_timeout_secs == 0 {
            return Err(format!("{}: must be at least 1", key("timeout_secs")));
        }
        Ok(())
    }
}

/// Checks every provider and that each routing target names one.
pub fn check(providers: &[ProviderConfig], routing: &RoutingConfig) -> Result<(), String> {
    for (i, p) in providers.iter().enumerate() {
        p.check(i)?;
        if providers[..i].iter().any(|q| q.name == p.name) {
            return Err(format!("providers[{i}].name: `{}` is used twice", p.name));
        }
    }
    for (role, chain) in [
        ("chat", &routing.chat),
        ("srs", &routing.srs),
        ("wireframes", &routing.wireframes),
    ] {
        if chain.is_empty() {
            return Err(format!(
                "routing.{role}: the chain is empty; use [\"local\"]"
            ));
        }
        for target in chain {
            let provider = target.split('/').next().unwrap_or_default();
            if provider != "local" && !providers.iter().any(|p| p.name == provider) {
                return Err(format!(
                    "routing.{role}: `{target}` names no provider (configured: local{})",
                    providers
                        .iter()
                        .map(|p| format!(", {}", p.name))
                        .collect::<String>()
                ));
            }
        }
    }
    if routing.attempts == 0 {
        return Err("routing.attempts: must be at least 1".into());
    }
    Ok(())
}

/// Answers to identical requests at temperature 0 (`/v1/chat/completions`,
/// not streamed), kept in SQLite.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Keep our engine's answers.
    pub local: bool,
    /// Keep upstream providers' answers (off: their models can change
    /// behind the same name).
    pub upstream: bool,
    pub ttl_secs: u64,
    /// Most answers kept; the oldest go first.
    pub max_entries: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            local: true,
            upstream: false,
            ttl_secs: 24 * 3600,
            max_entries: 10_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn parse(text: &str) -> Result<Config, String> {
        Config::from_toml(text, |_| None).map_err(|e| e.to_string())
    }

    const LAN: &str = "[[providers]]\nname = \"lan\"\nkind = \"openai-compatible\"\nbase_url = \"http://gpu-box:8000/v1\"\n";

    #[test]
    fn none_are_configured_by_default_and_every_route_is_local() {
        let c = parse("").unwrap();
        assert!(c.providers.is_empty());
        assert_eq!(c.routing.chat, ["local"]);
        assert!(c.redaction.enabled);
        assert!(c.cache.local && !c.cache.upstream);
    }

    #[test]
    fn a_provider_and_a_chain_parse() {
        let c = parse(&format!(
            "{LAN}[routing]\nchat = [\"local\", \"lan/qwen\"]\n"
        ))
        .unwrap();
        assert_eq!(c.providers[0].key_header, "authorization");
        assert_eq!(c.routing.chat, ["local", "lan/qwen"]);
    }

    #[test]
    fn mistakes_are_refused_naming_the_key() {
        let cases = [
            (LAN.replace("openai-compatible", "grpc"), "kind"),
            (
                LAN.replace("http://gpu-box", "https://me:pw@gpu-box"),
                "providers[0] (lan).base_url",
            ),
            (
                LAN.replace("http://gpu-box", "ftp://gpu-box"),
                "providers[0] (lan).base_url",
            ),
            (
                LAN.replace("/v1", "/v1?key=1"),
                "providers[0] (lan).base_url",
            ),
            (
                LAN.replace("name = \"lan\"", "name = \"local\""),
                "providers[0].name",
            ),
            (format!("{LAN}{LAN}"), "providers[1].name"),
            (
                format!("{LAN}[routing]\nsrs = [\"cloud\"]\n"),
                "routing.srs",
            ),
            (format!("{LAN}[routing]\nchat = []\n"), "routing.chat"),
        ];
        for (text, key) in cases {
            let e = parse(&text).unwrap_err();
            assert!(e.contains(key), "{key}: {e}");
        }
    }
}
