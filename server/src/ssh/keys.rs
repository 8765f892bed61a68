//! Operators' public keys as an administrator registers them: one OpenSSH
//! `.pub` line, checked and reduced to what is stored.

use crate::db::WriteTx;
use credit_desk_proto::validate::{FieldError, Rule, field};
use russh::keys::{HashAlg, PublicKey};

use crate::db::audit;
use crate::db::ssh_keys::{self, NewKey, SshKeyRow};
use crate::errors::ApiResult;

/// A `.pub` line is a few hundred bytes (an RSA-4096 key under 1 KB).
const MAX_LINE: usize = 16 * 1024;
const MAX_COMMENT: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedKey {
    /// `SHA256:…`, as OpenSSH prints it.
    pub fingerprint: String,
    /// The key without its comment, as OpenSSH writes it.
    pub public_key: String,
    pub comment: String,
}

/// Reads one OpenSSH public key line (`ssh-ed25519 AAAA… comment`).
pub fn parse(line: &str) -> Result<ParsedKey, FieldError> {
    let not_a_key = || FieldError::new(field::SSH_KEY, Rule::NotAnSshKey);
    let line = line.trim();
    if line.is_empty() {
        return Err(FieldError::new(field::SSH_KEY, Rule::Required));
    }
    if line.len() > MAX_LINE || line.contains(['\n', '\r']) {
        return Err(not_a_key());
    }
    let key = PublicKey::from_openssh(line).map_err(|_| not_a_key())?;
    let comment: String = credit_desk_proto::validate::printable(key.comment().as_ref())
        .chars()
        .take(MAX_COMMENT)
        .collect();
    let mut bare = key.clone();
    bare.set_comment("");
    Ok(ParsedKey {
        fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
        public_key: bare
            .to_openssh()
            .map_err(|_| not_a_key())?
            .trim()
            .to_string(),
        comment: comment.trim().to_string(),
    })
}

/// Registers `key` for the operator, in the caller's transaction. The same
/// key registered again for the same operator is the key already there (a
/// retried request); for another operator it is refused.
pub async fn register(
    tx: &mut WriteTx,
    operator_id: &str,
    key: &ParsedKey,
    added_by: Option<&str>,
    now_ms: i64,
) -> ApiResult<SshKeyRow> {
    if let Some(owner) = ssh_keys::owner(tx, &key.fingerprint).await? {
        if owner != operator_id {
            return Err(FieldError::new(field::SSH_KEY, Rule::SshKeyTaken).into());
        }
        let existing = ssh_keys::of_operator(tx, operator_id)
            .await?
            .into_iter()
            .find(|k| k.fingerprint == key.fingerprint)
            .ok_or_else(|| anyhow::anyhow!("SSH key {} vanished", key.fingerprint))?;
        return Ok(existing);
    }
    let row = ssh_keys::insert(
        tx,
        NewKey {
            operator_id,
            fingerprint: &key.fingerprint,
            public_key: &key.public_key,
            comment: &key.comment,
            added_by,
            now_ms,
        },
    )
    .await?;
    audit::record(
        tx,
        added_by,
        "operator.ssh_key_added",
        operator_id,
        &key.fingerprint,
        now_ms,
    );
    Ok(row)
}

/// Removes the operator's key and ends their sessions; whether it was
/// there.
pub async fn unregister(
    tx: &mut WriteTx,
    operator_id: &str,
    fingerprint: &str,
    removed_by: Option<&str>,
    now_ms: i64,
) -> ApiResult<bool> {
    let removed = ssh_keys::remove(tx, operator_id, fingerprint).await?;
    if removed {
        // A session opened with the key ends with it.
        crate::db::sessions::revoke_all(tx, operator_id, None, now_ms).await?;
        audit::record(
            tx,
            removed_by,
            "operator.ssh_key_removed",
            operator_id,
            fingerprint,
            now_ms,
        );
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPK9nccoHbUnl6D54abZkw1GJBMY5M0Zdfp25ZP0vMQD wang@township";

    #[test]
    fn a_pub_line_gives_its_fingerprint_and_comment() {
        let key = parse(&format!("  {ED25519}\n")).unwrap();
        assert!(key.fingerprint.starts_with("SHA256:"), "{key:?}");
        assert_eq!(key.comment, "wang@township");
        assert!(key.public_key.starts_with("ssh-ed25519 AAAA"));
        assert!(!key.public_key.contains("wang"));
        // The same key with another comment is the same key.
        let other = parse(&ED25519.replace("wang@township", "x")).unwrap();
        assert_eq!(other.fingerprint, key.fingerprint);
    }

    #[test]
    fn what_is_no_key_is_refused_with_the_rule() {
        for line in [
            "",
            "   ",
            "ssh-ed25519",
            "ssh-ed25519 not-base64!",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "hello world",
            &format!("{ED25519}\nssh-ed25519 AAAA"),
            &"A".repeat(MAX_LINE + 1),
        ] {
            let error = parse(line).unwrap_err();
            assert_eq!(error.field, field::SSH_KEY, "{line:?}");
            assert!(
                matches!(error.rule, Rule::NotAnSshKey | Rule::Required),
                "{line:?}: {error:?}"
            );
        }
    }
}
