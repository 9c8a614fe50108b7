//! Service tokens, their SHA-256 digests, their fingerprints and the constant-time match.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, CtOption};

/// Token length, in characters, below which start-up logs a warning.
pub(crate) const RECOMMENDED_MIN_TOKEN_LEN: usize = 32;

/// A shared secret that the gate accepts.
///
/// `Debug` prints `ServiceToken(<redacted>)` and there is no `Display`, so formatting cannot put
/// a token into a log line. Tokens are built only by [`GateConfig`](crate::GateConfig), which
/// checks that each one is non-empty visible ASCII.
pub struct ServiceToken(String);

impl ServiceToken {
    /// Wraps a value that the caller has already validated.
    pub(crate) fn from_validated(value: String) -> Self {
        Self(value)
    }

    /// Returns the fingerprint of this token: the first 8 hex digits of its SHA-256 digest.
    pub fn fingerprint(&self) -> TokenFingerprint {
        TokenFingerprint::from_digest(&self.digest())
    }

    /// Returns whether the token is shorter than 32 characters, the length below which
    /// start-up logs a warning.
    pub fn is_shorter_than_recommended(&self) -> bool {
        self.0.len() < RECOMMENDED_MIN_TOKEN_LEN
    }

    pub(crate) fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

impl fmt::Debug for ServiceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServiceToken(<redacted>)")
    }
}

/// Short public label of a configured token: the first 32 bits of its SHA-256 digest.
///
/// `Display` prints 8 lowercase hex digits, for example `3b4c1a9e`. The label distinguishes
/// tokens in logs and during a rotation. It is not secret: 32 bits of a hash cannot recover a
/// random token, but they can confirm a guess of a short or predictable one.
///
/// The gate inserts the fingerprint of the matching token into the extensions of each request
/// it accepts. Read it with `req.extensions().get::<TokenFingerprint>()`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenFingerprint(u32);

impl TokenFingerprint {
    fn from_digest(digest: &[u8; 32]) -> Self {
        Self(u32::from_be_bytes([
            digest[0], digest[1], digest[2], digest[3],
        ]))
    }

    /// Returns the fingerprint as a number whose big-endian bytes are the first four bytes of
    /// the digest.
    pub fn as_u32(self) -> u32 {
        self.0
    }
}

impl fmt::Display for TokenFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

impl fmt::Debug for TokenFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenFingerprint({self})")
    }
}

/// Precomputed SHA-256 digest of one configured token.
#[derive(Clone)]
pub(crate) struct TokenDigest {
    digest: [u8; 32],
    fingerprint: TokenFingerprint,
}

impl TokenDigest {
    pub(crate) fn new(token: &ServiceToken) -> Self {
        let digest = token.digest();
        let fingerprint = TokenFingerprint::from_digest(&digest);
        Self {
            digest,
            fingerprint,
        }
    }

    pub(crate) fn fingerprint(&self) -> TokenFingerprint {
        self.fingerprint
    }
}

/// Returns the fingerprint of the configured token equal to `presented`, if any.
///
/// Comparing fixed-length digests makes a length mismatch take the same path as any other
/// mismatch. The loop compares every digest and selects the fingerprint without branching, so
/// the time does not depend on which token matches or on whether one does. Selecting an index
/// and then reading the token at it made accepted calls about 0.5 ns slower than rejected ones
/// in the decision-level part of `benches/timing`. Hashing `presented` takes time that grows
/// with its length, which reveals nothing about the configured tokens.
///
/// NOTE: subtle converts the final `CtOption` to an `Option` with an `if`. The x86-64 release
/// build of rustc 1.95 turns it into a `sete` without a jump, but no compiler promises that.
pub(crate) fn find_matching_token(
    tokens: &[TokenDigest],
    presented: &[u8],
) -> Option<TokenFingerprint> {
    let presented: [u8; 32] = Sha256::digest(presented).into();

    let mut matched = Choice::from(0);
    let mut fingerprint = 0u32;
    for token in tokens {
        let equal = digests_equal(&token.digest, &presented);
        fingerprint.conditional_assign(&token.fingerprint.0, equal);
        matched |= equal;
    }

    Option::from(CtOption::new(TokenFingerprint(fingerprint), matched))
}

/// Compares two digests in constant time.
///
/// The digests are folded into one word of differing bits with XOR and OR, which take the
/// same time for any input, so only the final test against zero needs `subtle`. Comparing
/// byte by byte with `subtle` costs one optimization barrier per byte.
fn digests_equal(left: &[u8; 32], right: &[u8; 32]) -> Choice {
    let (left_words, _) = left.as_chunks::<8>();
    let (right_words, _) = right.as_chunks::<8>();

    let mut difference = 0u64;
    for (left, right) in left_words.iter().zip(right_words) {
        difference |= u64::from_ne_bytes(*left) ^ u64::from_ne_bytes(*right);
    }

    difference.ct_eq(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests(values: &[&str]) -> Vec<TokenDigest> {
        values
            .iter()
            .map(|value| TokenDigest::new(&ServiceToken::from_validated((*value).to_owned())))
            .collect()
    }

    #[test]
    fn fingerprint_is_first_eight_hex_digits_of_sha256() {
        // SHA-256("abc") is ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.
        let token = ServiceToken::from_validated("abc".to_owned());

        assert_eq!(token.fingerprint().to_string(), "ba7816bf");
        assert_eq!(token.fingerprint().as_u32(), 0xba78_16bf);
    }

    #[test]
    fn token_debug_is_redacted() {
        let token = ServiceToken::from_validated("secret-value".to_owned());

        let printed = format!("{token:?}");

        assert_eq!(printed, "ServiceToken(<redacted>)");
    }

    #[test]
    fn find_matching_token_selects_each_token() {
        let tokens = digests(&["first-token", "second-token", "third-token"]);

        for (index, value) in ["first-token", "second-token", "third-token"]
            .iter()
            .enumerate()
        {
            let found = find_matching_token(&tokens, value.as_bytes());
            assert_eq!(
                found,
                Some(tokens[index].fingerprint()),
                "token {index} ({value}) should match itself"
            );
        }
    }

    #[test]
    fn find_matching_token_rejects_near_misses() {
        let tokens = digests(&["first-token", "second-token"]);

        let cases: &[(&str, &[u8])] = &[
            ("empty", b""),
            ("prefix", b"first-tok"),
            ("longer", b"first-token-and-more"),
            ("case changed", b"FIRST-TOKEN"),
            ("two tokens joined", b"first-token,second-token"),
        ];
        for (case, presented) in cases {
            assert_eq!(
                find_matching_token(&tokens, presented),
                None,
                "{case} should match no token"
            );
        }
    }

    #[test]
    fn digests_equal_only_when_every_byte_is() {
        let digest = [0x5a_u8; 32];

        assert!(bool::from(digests_equal(&digest, &digest)));
        for position in 0..32 {
            for flipped_bit in [0x01, 0x80] {
                let mut other = digest;
                other[position] ^= flipped_bit;
                assert!(
                    !bool::from(digests_equal(&digest, &other)),
                    "byte {position} with bit {flipped_bit:#04x} flipped should differ"
                );
            }
        }
    }

    #[test]
    fn find_matching_token_with_no_tokens() {
        assert_eq!(find_matching_token(&[], b"anything"), None);
    }
}
