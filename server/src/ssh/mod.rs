//! The SSH endpoint (`serve --ssh-listen ADDR`): staff who have only an ssh
//! client get the workstation itself, run here per session and talking to
//! the services in-process. Logins go through the same path as gRPC logins
//! (lockout, per-address limit); see [`connection`] for the protocol side
//! and [`session`] for the app.

pub mod connection;
pub mod host_key;
pub mod keys;
pub mod session;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::context::Ctx;
use crate::transport::LocalDialer;

/// What the endpoint offers: every modern client's choices and nothing
/// else (each name offered costs bytes on a township line at every
/// connection). The post-quantum hybrid stays first: OpenSSH 10 picks it,
/// and recorded sessions stay safe from later decryption. Finite-field
/// Diffie-Hellman is left out: slow to compute and kilobytes to send.
fn offered_algorithms() -> russh::Preferred {
    use russh::{cipher, compression, kex, mac};
    use std::borrow::Cow;
    russh::Preferred {
        kex: Cow::Borrowed(&[
            kex::MLKEM768X25519_SHA256,
            kex::CURVE25519,
            kex::CURVE25519_PRE_RFC_8731,
            kex::EXTENSION_SUPPORT_AS_SERVER,
            kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
        ]),
        cipher: Cow::Borrowed(&[
            cipher::CHACHA20_POLY1305,
            cipher::AES_256_GCM,
            cipher::AES_128_CTR,
        ]),
        mac: Cow::Borrowed(&[mac::HMAC_SHA256_ETM, mac::HMAC_SHA512_ETM]),
        compression: Cow::Borrowed(&[
            compression::ZLIB_LEGACY,
            compression::ZLIB,
            compression::NONE,
        ]),
        ..russh::Preferred::default()
    }
}

/// SSH sessions at once; past it new connections are closed on accept.
pub const MAX_SESSIONS: usize = 256;
/// Connections from one address at once (a township behind one NAT has a
/// few dozen terminals at most): one address cannot take every place.
pub const MAX_PER_ADDRESS: usize = 32;

/// SSH sessions of one operator at once: a clerk needs one or two; one
/// account must not be able to take every place (and its memory).
pub const MAX_PER_OPERATOR: usize = 8;

/// Counts of what is held per key (an address, an operator), each bounded.
pub struct Quota<K> {
    limit: usize,
    held: std::sync::Mutex<std::collections::HashMap<K, usize>>,
}

impl<K: std::hash::Hash + Eq + Clone> Quota<K> {
    pub fn new(limit: usize) -> Arc<Quota<K>> {
        Arc::new(Quota {
            limit,
            held: Default::default(),
        })
    }

    /// One place for `key`, or `None` when its places are all taken.
    pub fn take(self: &Arc<Self>, key: K) -> Option<Place<K>> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let n = held.entry(key.clone()).or_default();
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(Place {
            key,
            quota: self.clone(),
        })
    }
}

/// A place in a [`Quota`], given back when dropped.
pub struct Place<K: std::hash::Hash + Eq + Clone> {
    key: K,
    quota: Arc<Quota<K>>,
}

impl<K: std::hash::Hash + Eq + Clone> Drop for Place<K> {
    fn drop(&mut self) {
        let mut held = self.quota.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.key);
            }
        }
    }
}

/// A new connection must finish its handshake and log in within this long.
const LOGIN_GRACE: Duration = Duration::from_secs(60);
/// The server asks a quiet client whether it is there this often, and
/// gives up after `KEEPALIVE_MAX` unanswered asks (a dead link is noticed
/// within two minutes; a live idle one costs a few bytes a minute).
const KEEPALIVE: Duration = Duration::from_secs(30);
const KEEPALIVE_MAX: usize = 3;

/// The endpoint's socket (bound before the server starts, so a test can
/// take port 0 and know it) and its host key (read from its file, or made
/// there on first start).
pub struct SshOptions {
    pub listener: TcpListener,
    pub host_key: russh::keys::PrivateKey,
}

impl SshOptions {
    pub async fn bind(listen: SocketAddr, host_key: &Path) -> anyhow::Result<SshOptions> {
        let key = host_key::load_or_create(host_key)?;
        tracing::info!(
            fingerprint = %host_key::fingerprint(&key),
            file = %host_key.display(),
            "SSH host key"
        );
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("--ssh-listen {listen}: cannot listen"))?;
        Ok(SshOptions {
            listener,
            host_key: key,
        })
    }
}

/// The default place of the host key, beside the working directory's data.
pub fn default_host_key_path() -> PathBuf {
    PathBuf::from("credit-desk-ssh-host-key")
}

/// A listening SSH endpoint.
pub struct Endpoint {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Endpoint {
    /// Binds, loads (or makes) the host key, and serves until `shutdown`;
    /// then every session is ended.
    pub async fn start(
        ctx: Ctx,
        dialer: LocalDialer,
        options: SshOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<Endpoint> {
        // The colours a session uses are decided by its client's terminal;
        // the server's own NO_COLOR (crossterm reads it once, globally)
        // must not take them away from everyone.
        credit_desk::remote::colours_by_theme_only();
        let config = Arc::new(russh::server::Config {
            server_id: russh::SshId::Standard("SSH-2.0-credit-desk".into()),
            methods: russh::MethodSet::from(
                &[russh::MethodKind::Password, russh::MethodKind::PublicKey][..],
            ),
            auth_rejection_time: Duration::from_secs(1),
            // OpenSSH asks with "none" first to learn the methods.
            auth_rejection_time_initial: Some(Duration::ZERO),
            keys: vec![options.host_key],
            max_auth_attempts: 6,
            inactivity_timeout: None,
            keepalive_interval: Some(KEEPALIVE),
            keepalive_max: KEEPALIVE_MAX,
            nodelay: true,
            preferred: offered_algorithms(),
            ..Default::default()
        });
        let listener = options.listener;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let places = Arc::new(Semaphore::new(MAX_SESSIONS));
        let per_address = Quota::new(MAX_PER_ADDRESS);
        let per_operator = Quota::new(MAX_PER_OPERATOR);
        let task = tokio::spawn(async move {
            tokio::pin!(shutdown);
            loop {
                let (stream, peer) = tokio::select! {
                    () = &mut shutdown => break,
                    accepted = listener.accept() => match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::warn!(error = %e, "SSH accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                };
                let Ok(place) = places.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, "SSH connection refused: at the limit");
                    continue;
                };
                let Some(address_place) = per_address.take(peer.ip()) else {
                    tracing::warn!(%peer, "SSH connection refused: too many from this address");
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let connection = connection::Connection::new(
                    ctx.clone(),
                    dialer.clone(),
                    peer,
                    stopped.clone(),
                    per_operator.clone(),
                );
                tokio::spawn(connection::serve(
                    config.clone(),
                    stream,
                    connection,
                    (place, address_place),
                    LOGIN_GRACE,
                ));
            }
            let _ = stop.send(true);
        });
        tracing::info!(%addr, "SSH endpoint listening");
        Ok(Endpoint { addr, task })
    }

    /// Waits until the endpoint has stopped accepting.
    pub async fn stopped(self) {
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_gives_places_back_when_they_are_dropped() {
        let quota = Quota::new(2);
        let a = quota.take("op-1").unwrap();
        let _b = quota.take("op-1").unwrap();
        assert!(quota.take("op-1").is_none(), "two at most");
        assert!(quota.take("op-2").is_some(), "each key its own");
        drop(a);
        assert!(quota.take("op-1").is_some(), "a place came back");
    }
}
