//! Password hashing with argon2id at the OWASP-recommended parameters
//! (19 MiB memory, 2 iterations, 1 lane).
//!
//! Each hash needs 19 MiB. Run on the blocking pool, a burst of logins
//! allocated that much per call in parallel and the allocator kept it (a
//! thousand logins left gigabytes resident). The server therefore hashes on a
//! [`Hasher`]: a fixed set of worker threads, one per core, each reusing its
//! own block memory, behind a short admission queue. A caller that finds the
//! queue full is told to retry instead of waiting without bound.

use std::sync::{Arc, LazyLock, Mutex, mpsc};

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const OUTPUT_LEN: usize = 32;

/// A stored hash asking for more memory than this is refused rather than
/// allocated (the database is trusted, but not to the point of 4 GiB).
const MAX_MEMORY_KIB: u32 = 256 * 1024;

fn params() -> Params {
    Params::new(MEMORY_KIB, ITERATIONS, 1, Some(OUTPUT_LEN))
        .expect("static argon2 parameters are valid")
}

/// One worker's block memory, grown only when a stored hash needs more.
#[derive(Default)]
struct Memory(Vec<Block>);

impl Memory {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let count = params.block_count();
        if self.0.len() < count {
            self.0.resize(count, Block::default());
        }
        &mut self.0[..count]
    }

    fn hash(&mut self, password: &str) -> String {
        let mut salt = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
        let params = params();
        let mut out = [0u8; OUTPUT_LEN];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(
                password.as_bytes(),
                &salt,
                &mut out,
                self.blocks(&params),
            )
            .expect("argon2 hashing cannot fail with valid parameters");
        let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt length");
        let output = Output::new(&out).expect("32 bytes is a valid output length");
        format!(
            "$argon2id$v=19$m={},t={},p=1${}${}",
            MEMORY_KIB,
            ITERATIONS,
            salt.as_str(),
            output.b64_encode(&mut [0u8; 64]).expect("fits")
        )
    }

    /// Checks a password against a stored PHC string; `None` (unknown user)
    /// burns the same time and fails.
    fn verify(&mut self, password: &str, stored: Option<&str>) -> bool {
        let (stored, known) = match stored {
            Some(s) => (s, true),
            None => (DUMMY_HASH.as_str(), false),
        };
        let Some((algorithm, version, params, salt, expected)) = parse(stored) else {
            return false;
        };
        let mut out = vec![0u8; expected.len()];
        let ok = Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(
                password.as_bytes(),
                &salt,
                &mut out,
                self.blocks(&params),
            )
            .is_ok()
            // Output's equality is constant-time.
            && Output::new(&out).is_ok_and(|o| o == expected);
        ok && known
    }
}

type Parsed = (Algorithm, Version, Params, Vec<u8>, Output);

fn parse(stored: &str) -> Option<Parsed> {
    let hash = PasswordHash::new(stored).ok()?;
    let algorithm = Algorithm::try_from(hash.algorithm).ok()?;
    let version = hash
        .version
        .map_or(Ok(Version::V0x13), Version::try_from)
        .ok()?;
    let params = Params::try_from(&hash).ok()?;
    if params.m_cost() > MAX_MEMORY_KIB {
        return None;
    }
    let mut salt = [0u8; 64];
    let salt = hash.salt?.decode_b64(&mut salt).ok()?.to_vec();
    Some((algorithm, version, params, salt, hash.hash?))
}

/// A hash of nothing in particular, verified against when the username is
/// unknown so that a wrong username takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| Memory::default().hash("credit-desk timing equaliser"));

/// Hashes on the calling thread with fresh memory: for the command line,
/// which hashes once and exits.
pub fn hash(password: &str) -> String {
    Memory::default().hash(password)
}

/// Verifies on the calling thread with fresh memory (command line, tests).
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    Memory::default().verify(password, stored)
}

/// [`hash`] on the blocking pool, for set-up commands outside a server.
pub async fn hash_blocking(password: String) -> String {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .expect("hashing task panicked")
}

enum Work {
    Hash(String),
    Verify(String, Option<String>),
}

enum Done {
    Hashed(String),
    Verified(bool),
}

struct Job {
    work: Work,
    reply: oneshot::Sender<Done>,
    _slot: OwnedSemaphorePermit,
}

/// The queue is full: the caller should try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    pub retry_after_ms: u64,
}

/// The bounded hashing pool. Cloning shares it; the workers stop when the
/// last clone is dropped.
#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    slots: Arc<Semaphore>,
    workers: usize,
    places: usize,
}

/// Roughly what one hash costs in a release build, for the retry hint.
const HASH_MS: u64 = 60;

impl Hasher {
    /// `workers` threads, each keeping 19 MiB; at most `queue` more requests
    /// wait for them.
    pub fn start(workers: usize, queue: usize) -> Hasher {
        let workers = workers.max(1);
        let (jobs, inbox) = mpsc::channel::<Job>();
        let inbox = Arc::new(Mutex::new(inbox));
        for n in 0..workers {
            let inbox = inbox.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&inbox))
                .expect("starting a hashing thread");
        }
        Hasher {
            jobs,
            slots: Arc::new(Semaphore::new(workers + queue)),
            workers,
            places: workers + queue,
        }
    }

    /// One worker per core and a queue of four per worker.
    pub fn per_core() -> Hasher {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Hasher::start(cores, 4 * cores)
    }

    /// Takes a place in the queue now (so a refusal comes before any other
    /// work of the request), to be used by one hash or verification.
    pub fn reserve(&self) -> Result<Slot, Busy> {
        match self.slots.clone().try_acquire_owned() {
            Ok(permit) => Ok(Slot {
                hasher: self.clone(),
                permit,
            }),
            // A full queue drains in about this long.
            Err(_) => Err(Busy {
                retry_after_ms: HASH_MS * self.places.div_ceil(self.workers) as u64,
            }),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, Busy> {
        Ok(self.reserve()?.hash(password).await)
    }

    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, Busy> {
        Ok(self.reserve()?.verify(password, stored).await)
    }
}

/// A reserved place in the hashing queue.
pub struct Slot {
    hasher: Hasher,
    permit: OwnedSemaphorePermit,
}

impl Slot {
    async fn run(self, work: Work) -> Done {
        let (reply, done) = oneshot::channel();
        let job = Job {
            work,
            reply,
            _slot: self.permit,
        };
        self.hasher
            .jobs
            .send(job)
            .expect("hashing workers live as long as the hasher");
        done.await.expect("a hashing worker answers every job")
    }

    pub async fn hash(self, password: String) -> String {
        match self.run(Work::Hash(password)).await {
            Done::Hashed(h) => h,
            Done::Verified(_) => unreachable!("a hash job answers with a hash"),
        }
    }

    pub async fn verify(self, password: String, stored: Option<String>) -> bool {
        match self.run(Work::Verify(password, stored)).await {
            Done::Verified(ok) => ok,
            Done::Hashed(_) => unreachable!("a verify job answers with a verdict"),
        }
    }
}

fn work(inbox: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory = Memory::default();
    loop {
        // The lock is held only while waiting for the next job.
        let job = match inbox.lock().map(|rx| rx.recv()) {
            Ok(Ok(job)) => job,
            _ => return,
        };
        let Job { work, reply, _slot } = job;
        let done = match work {
            Work::Hash(password) => Done::Hashed(memory.hash(&password)),
            Work::Verify(password, stored) => {
                Done::Verified(memory.verify(&password, stored.as_deref()))
            }
        };
        // The place is free before the caller hears back, so its next
        // request finds it free.
        drop(_slot);
        // The caller may have gone (its connection closed); nothing to do.
        let _ = reply.send(done);
    }
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

    #[test]
    fn hashes_from_the_standard_encoder_verify() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let standard = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password(b"lantern42", &salt)
            .unwrap()
            .to_string();
        assert!(verify("lantern42", Some(&standard)));
        assert!(!verify("lantern4", Some(&standard)));
        // And ours parse with the standard parser.
        assert!(PasswordHash::new(&hash("x")).is_ok());
    }

    #[test]
    fn absurd_memory_in_a_stored_hash_is_refused_not_allocated() {
        let huge = "$argon2id$v=19$m=4194304,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$\
                    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(!verify("x", Some(huge)));
    }

    #[tokio::test]
    async fn a_full_queue_refuses_with_a_retry_hint_and_frees_its_places() {
        let hasher = Hasher::start(1, 1);
        let stored = hasher.hash("lantern42".into()).await.unwrap();
        let first = hasher.reserve().unwrap();
        let second = hasher.reserve().unwrap();
        let busy = hasher.reserve().err().expect("two places only");
        assert!(busy.retry_after_ms > 0);
        assert!(first.verify("lantern42".into(), Some(stored.clone())).await);
        assert!(!second.verify("wrong".into(), Some(stored.clone())).await);
        // Both places are free again.
        assert!(
            hasher
                .verify("lantern42".into(), Some(stored))
                .await
                .unwrap()
        );
    }
}
