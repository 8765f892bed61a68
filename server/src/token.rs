//! Session tokens: 32 random bytes, handed to the client once in base64url;
//! the database keeps only their SHA-256, so a stolen copy of the database
//! does not hold live sessions.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The session token a request carries: `authorization: Bearer …`, else
/// the workstation's `session` header.
pub fn from_headers(headers: &http::HeaderMap) -> Option<String> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match text(http::header::AUTHORIZATION.as_str()) {
        Some(header) => bearer(header).map(str::to_owned),
        None => text(credit_desk_proto::SESSION_METADATA_KEY)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
    }
}

/// Extracts the token from an `authorization` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&new_token()));
    }

    #[test]
    fn token_from_either_header() {
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = http::HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap());
            }
            h
        };
        assert_eq!(
            from_headers(&headers(&[("authorization", "Bearer abc")])),
            Some("abc".into())
        );
        assert_eq!(
            from_headers(&headers(&[("session", "abc")])),
            Some("abc".into())
        );
        // A malformed authorization is not rescued by the other header.
        assert_eq!(
            from_headers(&headers(&[
                ("authorization", "Basic x"),
                ("session", "abc")
            ])),
            None
        );
        assert_eq!(from_headers(&headers(&[("session", " ")])), None);
        assert_eq!(from_headers(&headers(&[])), None);
    }

    #[test]
    fn bearer_header() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }
}
