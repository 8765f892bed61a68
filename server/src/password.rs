//! Password hashing with argon2id at the OWASP-recommended parameters
//! (19 MiB memory, 2 iterations, 1 lane). Hashing is CPU-heavy, so callers run
//! it on the blocking pool.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::LazyLock;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt length");
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing cannot fail with valid parameters")
        .to_string()
}

/// A hash of nothing in particular, verified against when the username is
/// unknown so that a wrong username takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash("credit-desk timing equaliser"));

/// Checks a password against a stored hash; `None` (unknown user) burns the
/// same time and fails.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let stored = stored.unwrap_or(DUMMY_HASH.as_str());
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

pub async fn hash_blocking(password: String) -> String {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .expect("hashing task panicked")
}

pub async fn verify_blocking(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, stored.as_deref()))
        .await
        .expect("verification task panicked")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("lantern42");
        let b = hash("lantern42");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "every hash has its own salt");
        assert!(verify("lantern42", Some(&a)));
        assert!(!verify("lantern43", Some(&a)));
        assert!(!verify("lantern42", None));
        assert!(!verify("lantern42", Some("not a hash")));
    }
}
