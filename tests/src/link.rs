//! An emulated township link between a workstation and the server: a TCP
//! proxy on loopback with, per direction, a bandwidth, a one-way delay and
//! a jitter, and cuts on demand. It runs in-process, so any test or bench
//! can put it between the real client and the real server (kernel netem is
//! not available on these machines).
//!
//! Each direction is a queue: a chunk leaves when the link has finished
//! sending what came before it (`bytes × 8 ÷ bandwidth`), and arrives one
//! delay (plus jitter, never reordering) later — the way a slow serial
//! link behind a long path behaves.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// One direction's (or both directions') character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkSpec {
    /// Bits per second each way.
    pub bits_per_s: u64,
    /// One-way delay: half the round-trip time.
    pub one_way_delay: Duration,
    /// Up to this much extra delay per chunk (order is kept).
    pub jitter: Duration,
}

impl LinkSpec {
    /// A township on a 64 kbit/s line with a 500 ms round trip.
    pub const TOWNSHIP_64K: LinkSpec = LinkSpec {
        bits_per_s: 64_000,
        one_way_delay: Duration::from_millis(250),
        jitter: Duration::ZERO,
    };

    /// A better township line: 512 kbit/s, 100 ms round trip.
    pub const TOWNSHIP_512K: LinkSpec = LinkSpec {
        bits_per_s: 512_000,
        one_way_delay: Duration::from_millis(50),
        jitter: Duration::ZERO,
    };

    /// How long `bytes` take to leave at this bandwidth.
    pub fn serialisation(&self, bytes: usize) -> Duration {
        let bits = bytes as u64 * 8;
        Duration::from_nanos(bits.saturating_mul(1_000_000_000) / self.bits_per_s.max(1))
    }

    pub fn round_trip(&self) -> Duration {
        self.one_way_delay * 2
    }
}

/// Bytes that crossed the link, each way.
#[derive(Debug, Default)]
pub struct Counters {
    /// Workstation → server.
    pub up: AtomicU64,
    /// Server → workstation.
    pub down: AtomicU64,
    /// Connections the workstation opened.
    pub connections: AtomicU64,
}

/// A running link: connect the workstation to [`Link::url`].
pub struct Link {
    pub addr: SocketAddr,
    pub spec: LinkSpec,
    pub counters: Arc<Counters>,
    /// Bumped by [`Link::cut`]: every open connection is dropped.
    cuts: watch::Sender<u64>,
    accept: tokio::task::JoinHandle<()>,
}

/// The largest chunk moved at once (about one TCP segment), so bandwidth
/// is accounted finely.
const CHUNK: usize = 1460;

impl Link {
    /// Starts a link to `upstream` (the server's address).
    pub async fn start(upstream: SocketAddr, spec: LinkSpec) -> std::io::Result<Link> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let (cuts, _) = watch::channel(0u64);
        let accept = {
            let counters = counters.clone();
            let cuts = cuts.clone();
            tokio::spawn(async move {
                let mut seed = 0u64;
                while let Ok((client, _)) = listener.accept().await {
                    counters.connections.fetch_add(1, Ordering::Relaxed);
                    seed += 1;
                    let counters = counters.clone();
                    let cut = cuts.subscribe();
                    tokio::spawn(async move {
                        let _ = relay(client, upstream, spec, counters, cut, seed).await;
                    });
                }
            })
        };
        Ok(Link {
            addr,
            spec,
            counters,
            cuts,
            accept,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn bytes_up(&self) -> u64 {
        self.counters.up.load(Ordering::Relaxed)
    }

    pub fn bytes_down(&self) -> u64 {
        self.counters.down.load(Ordering::Relaxed)
    }

    /// Drops every open connection at once, as a line that goes down does
    /// (new connections are still accepted).
    pub fn cut(&self) {
        self.cuts.send_modify(|n| *n += 1);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// Carries one connection both ways until either side closes or the link
/// is cut.
async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    spec: LinkSpec,
    counters: Arc<Counters>,
    mut cut: watch::Receiver<u64>,
    seed: u64,
) -> std::io::Result<()> {
    let server = TcpStream::connect(upstream).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = direction(
        client_read,
        server_write,
        spec,
        counters.clone(),
        seed * 2,
        true,
    );
    let down = direction(
        server_read,
        client_write,
        spec,
        counters,
        seed * 2 + 1,
        false,
    );
    tokio::select! {
        _ = async { tokio::join!(up, down) } => {}
        _ = cut.changed() => {}
    }
    Ok(())
}

/// One direction: read as it comes, deliver after the link's time.
async fn direction(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    spec: LinkSpec,
    counters: Arc<Counters>,
    seed: u64,
    up: bool,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut buf = vec![0u8; CHUNK];
        let mut line_free = Instant::now();
        let mut last_arrival = Instant::now();
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let counter = if up { &counters.up } else { &counters.down };
            counter.fetch_add(n as u64, Ordering::Relaxed);
            let sent = line_free.max(Instant::now()) + spec.serialisation(n);
            line_free = sent;
            let jitter = match spec.jitter.as_micros() as u64 {
                0 => Duration::ZERO,
                max => Duration::from_micros(rng.random_range(0..=max)),
            };
            let arrival = (sent + spec.one_way_delay + jitter).max(last_arrival);
            last_arrival = arrival;
            if tx.send((arrival, buf[..n].to_vec())).is_err() {
                break;
            }
        }
    };
    let writer = async move {
        while let Some((arrival, bytes)) = rx.recv().await {
            tokio::time::sleep_until(arrival).await;
            if to.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server: what comes in goes back.
    async fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    // Only lower bounds on time are asserted: a busy machine can make a
    // link slower, never faster.
    #[tokio::test]
    async fn a_round_trip_takes_the_delay_and_the_bandwidth() {
        let spec = LinkSpec {
            bits_per_s: 80_000,
            one_way_delay: Duration::from_millis(100),
            jitter: Duration::from_millis(20),
        };
        let link = Link::start(echo().await, spec).await.unwrap();
        let mut s = TcpStream::connect(link.addr).await.unwrap();
        let started = std::time::Instant::now();
        s.write_all(&[7u8; 1000]).await.unwrap();
        let mut back = vec![0u8; 1000];
        s.read_exact(&mut back).await.unwrap();
        let took = started.elapsed();
        // 2 × 100 ms, plus 1000 bytes at 10 KB/s each way (2 × 100 ms).
        assert!(took >= Duration::from_millis(400), "{took:?}");
        assert_eq!(back, vec![7u8; 1000], "the bytes arrive whole and in order");
        assert_eq!((link.bytes_up(), link.bytes_down()), (1000, 1000));
        assert_eq!(spec.serialisation(1000), Duration::from_millis(100));
    }

    #[tokio::test]
    async fn a_cut_drops_open_connections_and_new_ones_still_connect() {
        let link = Link::start(echo().await, LinkSpec::TOWNSHIP_512K)
            .await
            .unwrap();
        let mut s = TcpStream::connect(link.addr).await.unwrap();
        s.write_all(b"x").await.unwrap();
        let mut one = [0u8; 1];
        s.read_exact(&mut one).await.unwrap();
        link.cut();
        let mut rest = Vec::new();
        // The connection ends (EOF or reset), it does not hang.
        let ended = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut rest)).await;
        assert!(ended.is_ok(), "the cut connection ends");
        let mut again = TcpStream::connect(link.addr).await.unwrap();
        again.write_all(b"y").await.unwrap();
        again.read_exact(&mut one).await.unwrap();
        assert_eq!(&one, b"y");
        assert_eq!(link.counters.connections.load(Ordering::Relaxed), 2);
    }
}
