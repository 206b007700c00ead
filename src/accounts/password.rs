//! Password hashing with argon2id (OWASP parameters). Hashing and verifying are slow on
//! purpose (19 MiB and tens of milliseconds of a core each), so the server runs them with
//! [`off_thread`], on threads of their own.

use std::sync::{Mutex, OnceLock, mpsc};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

/// OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;

fn hasher() -> Argon2<'static> {
    // The parameters are constants within the documented ranges, so `Params::new` cannot fail.
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(password: &str) -> anyhow::Result<String> {
    let hashed = hasher().hash_password(password.as_bytes()).map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    Ok(hashed.to_string())
}

/// The result of checking a password.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    /// Wrong password (or an unusable stored hash).
    No,
    /// Right password, stored with the current parameters.
    Yes,
    /// Right password, but stored with old parameters: store this new hash.
    YesRehashed(String),
}

/// Checks `password` against `stored`; when there is no stored hash (unknown user, or an
/// invitation not yet accepted) a dummy hash is verified so the answer takes as long.
pub fn verify(password: &str, stored: Option<&str>) -> Verified {
    let Some(stored) = stored else {
        let _ = hasher().verify_password(password.as_bytes(), dummy_hash());
        return Verified::No;
    };
    if hasher().verify_password(password.as_bytes(), stored).is_err() {
        return Verified::No;
    }
    if needs_rehash(stored) {
        match hash(password) {
            Ok(new) => Verified::YesRehashed(new),
            Err(_) => Verified::Yes,
        }
    } else {
        Verified::Yes
    }
}

fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return true };
    let Ok(params) = Params::try_from(&parsed) else { return true };
    parsed.algorithm.as_str() != "argon2id"
        || params.m_cost() != MEMORY_KIB
        || params.t_cost() != ITERATIONS
        || params.p_cost() != LANES
}

type Job = Box<dyn FnOnce() + Send>;

/// How many hashing threads run: half as many as the machine has cores, at least one. At 20
/// sign-ins a second (35-45 ms of a core each here) one thread keeps up, and requests always
/// have the other cores: with a thread per core, sign-ins took both cores of this machine in
/// turn and doubled the p99 of agenda reads answered from memory beside them; at a lower CPU
/// priority instead (nice 5), a machine saturated by reads starved them (1.5 s and growing).
pub fn hashing_threads() -> usize {
    (std::thread::available_parallelism().map_or(1, usize::from) / 2).max(1)
}

/// Runs `work` (argon2 hashing or verifying) on the hashing threads and waits for it without
/// holding an async thread. There are [`hashing_threads`], started on first use: however many
/// people sign in at once, at most that many hashes (19 MiB each) are in memory and at most
/// that many cores hash, so that a wave of sign-ins cannot take every core from the requests of
/// those already in (a delegate following the agenda is not held up by a colleague signing
/// in). Never call it from inside a database transaction.
pub async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    static JOBS: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let jobs = JOBS.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        for i in 0..hashing_threads() {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("plenum-hashing-{i}")).spawn(move || {
                loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            if let Err(err) = spawned {
                tracing::error!(error = %err, "cannot start a password-hashing thread");
            }
        }
        Mutex::new(tx)
    });
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    jobs.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .send(job)
        .map_err(|_| anyhow::anyhow!("the password-hashing threads are gone"))?;
    result.await.map_err(|_| anyhow::anyhow!("password hashing did not finish (no hashing thread could start)"))
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash("plenum dummy password for timing").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_owasp_parameters() {
        let h = hash("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert_eq!(verify("correct horse battery", Some(&h)), Verified::Yes);
        assert_eq!(verify("wrong horse battery", Some(&h)), Verified::No);
        assert_eq!(verify("anything", None), Verified::No);
    }

    /// The hashing threads run every job, never more at once than there are of them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashing_runs_on_its_own_bounded_threads() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let threads = hashing_threads();
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs: Vec<_> = (0..threads * 4)
            .map(|i| {
                let (running, most) = (running.clone(), most.clone());
                off_thread(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    let h = hash(&format!("password number {i}")).expect("hash");
                    running.fetch_sub(1, Ordering::SeqCst);
                    let name = std::thread::current().name().map(str::to_string);
                    (verify(&format!("password number {i}"), Some(&h)), name)
                })
            })
            .collect();
        for job in jobs {
            let (verified, thread) = job.await.expect("done");
            assert_eq!(verified, Verified::Yes);
            assert!(thread.is_some_and(|n| n.starts_with("plenum-hashing-")));
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=threads).contains(&most), "{most} hashes at once on {threads} threads");
    }

    #[test]
    fn old_parameters_are_upgraded_on_login() {
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8 * 1024, 1, 1, None).expect("params"));
        let old = weak.hash_password(b"correct horse battery").expect("hash").to_string();
        match verify("correct horse battery", Some(&old)) {
            Verified::YesRehashed(new) => assert!(new.contains("m=19456,t=2,p=1"), "{new}"),
            other => panic!("expected a rehash, got {other:?}"),
        }
    }
}
