//! The SSH endpoint's host key: made once (Ed25519), kept in a file only
//! the server's user can read, and shown as the SHA-256 fingerprint staff
//! compare with what their ssh client prints on first connection.

use std::path::Path;

use anyhow::Context as _;
use rand::RngCore as _;
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey};

/// The key in `path`, made and saved there first if there is none.
pub fn load_or_create(path: &Path) -> anyhow::Result<PrivateKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => PrivateKey::from_openssh(text.trim()).with_context(|| {
            format!(
                "SSH host key {}: not an OpenSSH private key",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = generate();
            save(path, &key)?;
            tracing::info!(file = %path.display(), "SSH host key made");
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("SSH host key {}", path.display())),
    }
}

fn generate() -> PrivateKey {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    PrivateKey::from(Ed25519Keypair::from_seed(&seed))
}

fn save(path: &Path, key: &PrivateKey) -> anyhow::Result<()> {
    let text = key
        .to_openssh(LineEnding::LF)
        .context("encoding the SSH host key")?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("SSH host key {}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("SSH host key {}", path.display()))?;
    Ok(())
}

/// `SHA256:…`, as OpenSSH prints it.
pub fn fingerprint(key: &PrivateKey) -> String {
    key.public_key().fingerprint(HashAlg::Sha256).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/host");
        let first = load_or_create(&path).unwrap();
        let again = load_or_create(&path).unwrap();
        assert_eq!(fingerprint(&first), fingerprint(&again));
        assert!(fingerprint(&first).starts_with("SHA256:"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "only the server's user reads it");
        }
    }

    #[test]
    fn a_file_that_is_no_key_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host");
        std::fs::write(&path, "hello").unwrap();
        let error = load_or_create(&path).unwrap_err().to_string();
        assert!(error.contains("not an OpenSSH private key"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello");
    }
}
