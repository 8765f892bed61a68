//! Personal data at rest. Identity numbers, phones and addresses are sealed
//! with SM4 (GB/T 32907) in GCM mode under a key from the operator's key
//! file, and identity numbers are found by a keyed blind index (HMAC-SM3),
//! so a copy of the database file alone reveals none of them.
//!
//! The key file holds one key per line, `<id> <64 hex digits>`; the last
//! line is the current key (new values are sealed under it), earlier lines
//! open what was sealed before a rotation. `keys new` appends a key, `keys
//! rotate` reseals every value under the current one; then the old lines
//! can go.
//!
//! The key set is installed once per process, as rustls installs its
//! crypto provider: every server process of a center loads the same file,
//! and the storage layer seals and opens at its edge without threading the
//! keys through every call.

use std::sync::OnceLock;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{AesGcm, Nonce};
use anyhow::{Context as _, bail};
use base64::Engine as _;
use hmac::Mac;
use sm3::Sm3;
use sm4::Sm4;

type Sm4Gcm = AesGcm<Sm4, aes_gcm::aead::consts::U12>;
type HmacSm3 = hmac::Hmac<Sm3>;

/// Sealed values start with this, then the key's id and the base64 of
/// nonce ‖ ciphertext ‖ tag.
const PREFIX: &str = "sm4:";
const NONCE_LEN: usize = 12;
/// Key ids are short and plain (they are stored with every value).
const ID_MAX: usize = 16;
/// More keys than this in one file is a mistake (lookups try each).
pub const KEYS_MAX: usize = 8;

struct Key {
    id: String,
    cipher: Sm4Gcm,
    index_key: [u8; 32],
    /// SM3 of the secret, to tell key sets apart without showing them.
    fingerprint: [u8; 32],
}

/// A center's keys, the current one last.
pub struct Vault {
    keys: Vec<Key>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("Vault").field("keys", &ids).finish()
    }
}

fn derive(secret: &[u8], purpose: &str) -> [u8; 32] {
    let mut mac = <HmacSm3 as hmac::KeyInit>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

impl Key {
    fn new(id: &str, secret: &[u8; 32]) -> Key {
        use sm3::Digest;
        let enc = derive(secret, "credit-desk sm4-gcm");
        Key {
            id: id.to_string(),
            cipher: Sm4Gcm::new_from_slice(&enc[..16]).expect("SM4 takes 16 bytes"),
            index_key: derive(secret, "credit-desk blind index"),
            fingerprint: Sm3::digest(secret).into(),
        }
    }

    fn index(&self, text: &str) -> String {
        let mut mac = <HmacSm3 as hmac::KeyInit>::new_from_slice(&self.index_key).expect("any key");
        mac.update(text.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

impl Vault {
    /// Reads a key file's text: `<id> <64 hex digits>` per line, `#`
    /// comments and blank lines ignored.
    pub fn parse(text: &str) -> anyhow::Result<Vault> {
        let mut keys: Vec<Key> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, hex_secret) = line
                .split_once(char::is_whitespace)
                .with_context(|| format!("line {}: expected `<id> <64 hex digits>`", n + 1))?;
            if id.is_empty()
                || id.len() > ID_MAX
                || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                bail!(
                    "line {}: a key id is 1–{ID_MAX} letters, digits or -",
                    n + 1
                );
            }
            let mut secret = [0u8; 32];
            hex::decode_to_slice(hex_secret.trim(), &mut secret)
                .with_context(|| format!("line {}: the secret is 64 hex digits", n + 1))?;
            if keys.iter().any(|k| k.id == id) {
                bail!("line {}: key id {id} appears twice", n + 1);
            }
            keys.push(Key::new(id, &secret));
        }
        if keys.is_empty() {
            bail!("the key file holds no key");
        }
        if keys.len() > KEYS_MAX {
            bail!("the key file holds more than {KEYS_MAX} keys: rotate and remove old ones");
        }
        Ok(Vault { keys })
    }

    /// A fresh key line with a random secret, named after the keys before
    /// it (k1, k2, …).
    pub fn new_key_line(existing: Option<&Vault>) -> String {
        let n = existing.map_or(0, |v| {
            v.keys
                .iter()
                .filter_map(|k| k.id.strip_prefix('k')?.parse::<u32>().ok())
                .max()
                .unwrap_or(0)
        });
        let secret: [u8; 32] = rand::random();
        format!("k{} {}\n", n + 1, hex::encode(secret))
    }

    fn current(&self) -> &Key {
        self.keys.last().expect("a vault has a key")
    }

    pub fn current_id(&self) -> &str {
        &self.current().id
    }

    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.id.as_str())
    }

    /// Seals `plain` under the current key; empty stays empty (nothing to
    /// hide, and "no phone" reads the same after a rotation).
    pub fn seal(&self, plain: &str) -> String {
        self.seal_bytes(plain.as_bytes())
    }

    /// Opens a sealed value (under any key of the file).
    pub fn open(&self, sealed: &str) -> Result<String, VaultError> {
        String::from_utf8(self.open_bytes(sealed)?).map_err(|_| VaultError::Damaged)
    }

    /// Seals bytes (a compressed document) as text.
    pub fn seal_bytes(&self, plain: &[u8]) -> String {
        if plain.is_empty() {
            return String::new();
        }
        let key = self.current();
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = key
            .cipher
            .encrypt(&Nonce::<aes_gcm::aead::consts::U12>::from(nonce), plain)
            .expect("GCM seals any length a database holds");
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        format!(
            "{PREFIX}{}:{}",
            key.id,
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
        )
    }

    pub fn open_bytes(&self, sealed: &str) -> Result<Vec<u8>, VaultError> {
        if sealed.is_empty() {
            return Ok(Vec::new());
        }
        let (id, body) = sealed
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .ok_or(VaultError::NotSealed)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or_else(|| VaultError::UnknownKey(id.to_string()))?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(body)
            .map_err(|_| VaultError::Damaged)?;
        if bytes.len() < NONCE_LEN {
            return Err(VaultError::Damaged);
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| VaultError::Damaged)?;
        key.cipher
            .decrypt(&Nonce::<aes_gcm::aead::consts::U12>::from(nonce), body)
            .map_err(|_| VaultError::Damaged)
    }

    /// Whether `value` is sealed under the current key (empty counts).
    pub fn is_current(&self, value: &str) -> bool {
        value.is_empty()
            || value
                .strip_prefix(PREFIX)
                .and_then(|rest| rest.split_once(':'))
                .is_some_and(|(id, _)| id == self.current_id())
    }

    /// The blind index of a normalised identity number under the current
    /// key: what is stored.
    pub fn index(&self, normalised: &str) -> String {
        self.current().index(normalised)
    }

    /// Its index under every key, the current first: what a lookup tries,
    /// so rows not yet resealed after a rotation are found too.
    pub fn indexes(&self, normalised: &str) -> Vec<String> {
        self.keys
            .iter()
            .rev()
            .map(|k| k.index(normalised))
            .collect()
    }

    fn same_keys(&self, other: &Vault) -> bool {
        self.keys.len() == other.keys.len()
            && self
                .keys
                .iter()
                .zip(&other.keys)
                .all(|(a, b)| a.id == b.id && a.fingerprint == b.fingerprint)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    #[error("a value that should be sealed is stored in the clear")]
    NotSealed,
    #[error("sealed under key {0}, which the key file no longer holds")]
    UnknownKey(String),
    #[error("a sealed value is damaged or was altered")]
    Damaged,
    #[error("no key file is loaded")]
    NotInstalled,
}

impl From<VaultError> for sqlx::Error {
    fn from(e: VaultError) -> Self {
        sqlx::Error::Decode(Box::new(e))
    }
}

static INSTALLED: OnceLock<Vault> = OnceLock::new();

/// Installs the process's key set. Installing the same keys again is a
/// no-op; different keys are refused (one process, one center).
pub fn install(vault: Vault) -> anyhow::Result<&'static Vault> {
    if let Err(vault) = INSTALLED.set(vault) {
        let installed = INSTALLED.get().expect("set above");
        if !installed.same_keys(&vault) {
            bail!("another key set is already loaded in this process");
        }
    }
    Ok(INSTALLED.get().expect("set above"))
}

/// For tests and benchmarks: the installed key set, or a fresh random
/// key (gone with the process) installed now.
pub fn install_ephemeral() -> &'static Vault {
    INSTALLED.get_or_init(|| Vault::parse(&Vault::new_key_line(None)).expect("a fresh key parses"))
}

/// The installed key set.
pub fn installed() -> Result<&'static Vault, VaultError> {
    INSTALLED.get().ok_or(VaultError::NotInstalled)
}

/// Where a key file lives when none is named: next to a SQLite database,
/// else in the working folder.
pub fn default_key_file(db_url: &str) -> std::path::PathBuf {
    match db_url.strip_prefix("sqlite://") {
        Some(path) => {
            let path = path.split('?').next().unwrap_or(path);
            std::path::PathBuf::from(format!("{path}.keys"))
        }
        None => std::path::PathBuf::from("credit-desk.keys"),
    }
}

/// Reads the key file, or makes one (readable by its owner only) when it
/// is missing and `may_create` — a database that holds nothing sealed yet.
pub fn load_or_create(path: &std::path::Path, may_create: bool) -> anyhow::Result<Vault> {
    match std::fs::read_to_string(path) {
        Ok(text) => Vault::parse(&text).with_context(|| format!("key file {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && may_create => {
            let line = Vault::new_key_line(None);
            write_private(path, &format!("{KEY_FILE_HEADER}{line}"), false)?;
            tracing::warn!(
                key_file = %path.display(),
                "made a new key file for personal data at rest: keep a copy apart from the database backups"
            );
            Vault::parse(&line)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "key file {} is missing, and the database holds personal data sealed with it; \
             restore the key file (or name it with --key-file)",
            path.display()
        ),
        Err(e) => Err(e).with_context(|| format!("reading key file {}", path.display())),
    }
}

pub const KEY_FILE_HEADER: &str = "# credit-desk keys for personal data at rest (SM4-GCM, HMAC-SM3 index).\n\
# One key per line, the current one last. Keep a copy apart from the database backups.\n";

/// Writes (or appends to) a file only its owner can read.
pub fn write_private(path: &std::path::Path, text: &str, append: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.create(true);
    if append {
        options.append(true);
    } else {
        options.write(true).create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("writing key file {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_KEYS: &str = "# test\nk1 0101010101010101010101010101010101010101010101010101010101010101\n\
        k2 0202020202020202020202020202020202020202020202020202020202020202\n";

    #[test]
    fn sealed_values_open_and_reveal_nothing() {
        let v = Vault::parse(TWO_KEYS).unwrap();
        let number = "441284197503120010";
        let a = v.seal(number);
        let b = v.seal(number);
        assert!(a.starts_with("sm4:k2:"), "{a}");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("4412841975"));
        assert_eq!(v.open(&a).unwrap(), number);
        assert_eq!(v.seal(""), "");
        assert_eq!(v.open("").unwrap(), "");
        assert_eq!(v.open(&v.seal("广东省四会市")).unwrap(), "广东省四会市");
    }

    #[test]
    fn tampering_and_wrong_keys_are_refused() {
        let v = Vault::parse(TWO_KEYS).unwrap();
        let sealed = v.seal("13800138000");
        let mut bytes = sealed.clone().into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        assert_eq!(v.open(&altered), Err(VaultError::Damaged));
        assert_eq!(v.open("13800138000"), Err(VaultError::NotSealed));
        let only_k1 = Vault::parse(
            TWO_KEYS
                .lines()
                .take(2)
                .collect::<Vec<_>>()
                .join("\n")
                .as_str(),
        )
        .unwrap();
        assert_eq!(
            only_k1.open(&sealed),
            Err(VaultError::UnknownKey("k2".into()))
        );
        // Another file's k2 is another key.
        let other =
            Vault::parse("k2 0303030303030303030303030303030303030303030303030303030303030303")
                .unwrap();
        assert_eq!(other.open(&sealed), Err(VaultError::Damaged));
    }

    #[test]
    fn blind_indexes_are_keyed_and_stable() {
        let v = Vault::parse(TWO_KEYS).unwrap();
        let n = "441284197503120010";
        assert_eq!(v.index(n), v.index(n));
        assert_ne!(v.index(n), v.index("441284197503120029"));
        assert_eq!(v.index(n).len(), 64);
        let old = Vault::parse(
            TWO_KEYS
                .lines()
                .take(2)
                .collect::<Vec<_>>()
                .join("\n")
                .as_str(),
        )
        .unwrap();
        // After a rotation the old index still finds rows not yet resealed.
        assert_eq!(v.indexes(n), [v.index(n), old.index(n)]);
        assert!(!v.index(n).contains(n));
    }

    #[test]
    fn a_rotation_reseals_under_the_newest_key() {
        let old = Vault::parse(
            TWO_KEYS
                .lines()
                .take(2)
                .collect::<Vec<_>>()
                .join("\n")
                .as_str(),
        )
        .unwrap();
        let sealed = old.seal("x");
        let v = Vault::parse(TWO_KEYS).unwrap();
        assert!(!v.is_current(&sealed));
        let resealed = v.seal(&v.open(&sealed).unwrap());
        assert!(v.is_current(&resealed));
        assert_eq!(v.open(&resealed).unwrap(), "x");
    }

    #[test]
    fn key_files_name_what_is_wrong() {
        for (text, says) in [
            ("", "no key"),
            ("k1", "expected"),
            ("k1 zz", "64 hex"),
            ("k1 0101", "64 hex"),
            (
                "k/1 0101010101010101010101010101010101010101010101010101010101010101",
                "key id",
            ),
            (
                "k1 0101010101010101010101010101010101010101010101010101010101010101\n\
                 k1 0202020202020202020202020202020202020202020202020202020202020202",
                "twice",
            ),
        ] {
            let e = Vault::parse(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text:?}: {e}");
        }
        let first = Vault::new_key_line(None);
        assert!(
            first.starts_with("k1 ") && first.len() == 3 + 64 + 1,
            "{first}"
        );
        let v = Vault::parse(TWO_KEYS).unwrap();
        assert!(Vault::new_key_line(Some(&v)).starts_with("k3 "));
    }

    #[test]
    fn the_default_key_file_sits_next_to_the_database() {
        assert_eq!(
            default_key_file("sqlite://./credit-desk.db?mode=rwc"),
            std::path::PathBuf::from("./credit-desk.db.keys")
        );
        assert_eq!(
            default_key_file("postgres://x@h/db"),
            std::path::PathBuf::from("credit-desk.keys")
        );
    }
}
