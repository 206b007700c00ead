//! Password hashing with argon2id (OWASP parameters). Hashing and verifying are slow on
//! purpose, so callers run them on the blocking pool.

use std::sync::OnceLock;

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
