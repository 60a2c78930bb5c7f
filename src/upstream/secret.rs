//! A provider's key, read once at start from the environment variable or
//! the file its configuration names. Errors name the key at fault and never
//! contain the secret.

use crate::config::ProviderConfig;

/// The key of provider `i`, or `None` when it is configured without one.
pub(super) fn read_secret(i: usize, p: &ProviderConfig) -> Result<Option<String>, String> {
    let key = |k: &str| format!("providers[{i}] ({}).{k}", p.name);
    let secret = if !p.api_key_env.is_empty() {
        std::env::var(&p.api_key_env).map_err(|_| {
            format!(
                "{}: the environment variable {} is not set",
                key("api_key_env"),
                p.api_key_env
            )
        })?
    } else if !p.api_key_file.is_empty() {
        std::fs::read_to_string(&p.api_key_file).map_err(|e| {
            format!(
                "{}: cannot read {}: {e}",
                key("api_key_file"),
                p.api_key_file
            )
        })?
    } else {
        return Ok(None);
    };
    let secret = secret.trim().to_string();
    if secret.is_empty() {
        return Err(format!(
            "{}: the key is empty",
            key(if p.api_key_env.is_empty() {
                "api_key_file"
            } else {
                "api_key_env"
            })
        ));
    }
    Ok(Some(secret))
}
