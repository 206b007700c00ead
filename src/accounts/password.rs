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

/// How much lower than the server's other threads the hashing threads run (a nice value):
/// requests come first under load, and sign-ins still get a share of a busy machine (a nice 5
/// thread weighs a third of a nice 0 one) and all of an idle one.
pub const HASHING_NICENESS: i32 = 5;

type Job = Box<dyn FnOnce() + Send>;

/// Runs `work` (argon2 hashing or verifying) on the hashing threads and waits for it without
/// holding an async thread. There are as many as the machine has cores, started on first use:
/// however many people sign in at once, at most that many hashes (19 MiB each) are in memory,
/// and each thread runs at [`HASHING_NICENESS`], so that a wave of sign-ins takes the cycles
/// requests leave rather than the cores they need (a delegate following the agenda is not held
/// up by a colleague signing in). Never call it from inside a database transaction.
pub async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    static JOBS: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let jobs = JOBS.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        for i in 0..std::thread::available_parallelism().map_or(1, usize::from) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("plenum-hashing-{i}")).spawn(move || {
                lower_priority();
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

/// Lowers the calling thread's CPU priority to [`HASHING_NICENESS`] (Linux sets it per thread).
fn lower_priority() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: gettid and setpriority only read and set the calling thread's scheduling value.
        let failed = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, HASHING_NICENESS) != 0
        };
        if failed {
            tracing::warn!("cannot lower the password-hashing thread's priority; it runs at the server's");
        }
    }
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

    /// The hashing threads run every job, never more at once than the machine has cores, at the
    /// lower priority.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashing_runs_on_its_own_bounded_lower_priority_threads() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs: Vec<_> = (0..cores * 3)
            .map(|i| {
                let (running, most) = (running.clone(), most.clone());
                off_thread(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    let h = hash(&format!("password number {i}")).expect("hash");
                    running.fetch_sub(1, Ordering::SeqCst);
                    let name = std::thread::current().name().map(str::to_string);
                    (verify(&format!("password number {i}"), Some(&h)), name, niceness())
                })
            })
            .collect();
        for job in jobs {
            let (verified, thread, nice) = job.await.expect("done");
            assert_eq!(verified, Verified::Yes);
            assert!(thread.is_some_and(|n| n.starts_with("plenum-hashing-")));
            assert!(nice >= HASHING_NICENESS, "hashing at nice {nice}");
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=cores).contains(&most), "{most} hashes at once on {cores} cores");
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn niceness() -> i32 {
        // SAFETY: reads the calling thread's scheduling value.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
    }

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    fn niceness() -> i32 {
        HASHING_NICENESS
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
