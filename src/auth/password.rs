//! Password hashing with Argon2id at OWASP's recommended minimum (19 MiB of
//! memory, 2 passes, 1 lane), stored as PHC strings so the parameters travel
//! with each hash and can be raised later.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use super::Error;
use crate::store::Invalid;

pub const MIN_CHARS: usize = 10;
pub const MAX_CHARS: usize = 256;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// 400 unless the password is long enough, not too long, and has no control
/// characters.
pub fn check_policy(password: &str) -> Result<(), Invalid> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(Invalid::new(
            "password",
            format!("The password must have at least {MIN_CHARS} characters"),
        ));
    }
    if n > MAX_CHARS {
        return Err(Invalid::new(
            "password",
            format!("The password must have at most {MAX_CHARS} characters"),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(Invalid::new(
            "password",
            "The password contains control characters",
        ));
    }
    Ok(())
}

/// The PHC string for `password` with a fresh random salt (blocking: tens of ms).
pub fn hash(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("argon2: {e}")))
}

/// True when `password` matches `phc` (blocking). A malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A hash no password matches, verified against for unknown user names so a
/// login takes as long whether or not the name exists.
pub static DECOY: LazyLock<String> =
    LazyLock::new(|| hash(&super::keys::random_token()).unwrap_or_default());

pub async fn hash_async(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| Error::Internal(format!("hashing task: {e}")))?
}

/// Runs password checks off the async threads, a bounded number at once:
/// each holds 19 MiB for tens of milliseconds, so an unbounded flood of
/// sign-ins would take gigabytes.
pub struct Verifier {
    permits: Arc<Semaphore>,
    wait: Duration,
}

/// No turn to check a password came up in time.
#[derive(Debug, thiserror::Error)]
#[error("too many passwords are being checked at once")]
pub struct Busy;

impl Verifier {
    /// At most `concurrent` checks at once; a check waits up to `wait` for its turn.
    pub fn new(concurrent: usize, wait: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrent.max(1))),
            wait,
        }
    }

    /// Two per core: the blocking pool keeps every core busy with room to
    /// queue, and the memory stays at a few hundred MiB.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(2 * cores, Duration::from_secs(5))
    }

    /// True when `password` matches `phc`.
    pub async fn verify(&self, password: String, phc: String) -> Result<bool, Busy> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
        // The permit travels with the work: a caller that goes away does not
        // free the turn before the memory is.
        Ok(tokio::task::spawn_blocking(move || {
            let _permit = permit;
            verify(&password, &phc)
        })
        .await
        .unwrap_or(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_at_owasp_parameters_and_verifies_only_its_password() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("anything", "not a phc string"));
        assert_ne!(h, hash("correct horse battery").unwrap(), "salted");
    }

    #[tokio::test]
    async fn a_check_over_the_concurrency_cap_waits_its_turn_then_gives_up() {
        let v = Verifier::new(1, Duration::from_millis(50));
        let held = v.permits.clone().acquire_owned().await.unwrap();
        let h = DECOY.clone();
        assert!(v.verify("x".into(), h.clone()).await.is_err());
        drop(held);
        assert!(!v.verify("x".into(), h).await.unwrap());
    }

    #[test]
    fn the_policy_refuses_short_long_and_control_character_passwords() {
        assert!(check_policy("short").is_err());
        assert!(check_policy(&"x".repeat(MAX_CHARS + 1)).is_err());
        assert!(check_policy("ten chars\u{7}!").is_err());
        assert!(check_policy("a good passphrase").is_ok());
    }
}
