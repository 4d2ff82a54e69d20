//! Ed25519 batch verification of requests that arrive together.
//!
//! Most of the cost of answering an interaction is verifying its signature. Checking `n`
//! signatures at once (one multiscalar multiplication with random coefficients,
//! `ed25519_dalek::verify_batch`) costs about half as much per signature as checking them one by
//! one once `n` reaches a few dozen — which is exactly the situation of an edge under load.
//!
//! How requests meet: each thread has one queue. A request that finds it empty becomes the
//! *leader*: it yields once, so every other request the thread's executor already has ready
//! runs up to its own verification and queues behind it, then the leader takes the queue,
//! verifies it in batches of at most [`MAX_BATCH`] and hands each follower its answer. A
//! request alone (no load) is its own batch of one and is checked with `verify_strict`: the cost
//! at low load is a single yield.
//!
//! Guarantees:
//! - A signature is accepted only if it verifies. A batch that fails is checked again one by
//!   one with `verify_strict`, so one bad signature never fails the good ones beside it; after
//!   a failed batch the thread checks one by one for [`FAILURE_BACKOFF`], so a flood of forged
//!   signatures costs one verification each, not two.
//! - A batch accepts exactly the signatures that satisfy the cofactored Ed25519 equation (RFC
//!   8032 §5.1.7 permits either form); `verify_strict` also refuses the ones whose `R` carries
//!   a small-order component. Only the holder of the private key can make a signature on which
//!   the two differ, so neither a forgery nor a replay with an altered signature gets through.
//! - A leader whose request is dropped (its client went away) releases its followers, which
//!   then verify on their own.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, VerifyingKey};
use parking_lot::Mutex;
use tokio::sync::oneshot;

/// Most signatures verified in one batch.
pub const MAX_BATCH: usize = 64;
/// How long a thread verifies one by one after a batch held a bad signature.
pub const FAILURE_BACKOFF: Duration = Duration::from_secs(1);

/// Signatures accepted by a batch verification since the process started (all threads).
static BATCHED: AtomicU64 = AtomicU64::new(0);

/// How many signatures a batch verification has accepted since the process started.
#[must_use]
pub fn batched_total() -> u64 {
    BATCHED.load(Ordering::Relaxed)
}

struct Pending {
    key: VerifyingKey,
    message: Arc<Vec<u8>>,
    signature: Signature,
    /// `None` for the leader's own request.
    reply: Option<oneshot::Sender<bool>>,
}

#[derive(Default)]
struct Queue {
    pending: Vec<Pending>,
    failed_at: Option<Instant>,
}

type SharedQueue = Arc<Mutex<Queue>>;

thread_local! {
    static QUEUE: RefCell<SharedQueue> = RefCell::new(Arc::default());
}

/// Releases the followers if the leader is dropped before it verified them.
struct LeaderGuard {
    queue: SharedQueue,
    armed: bool,
}

impl Drop for LeaderGuard {
    fn drop(&mut self) {
        if self.armed {
            // NOTE: dropping the senders tells each follower to verify on its own.
            let abandoned = std::mem::take(&mut self.queue.lock().pending);
            drop(abandoned);
        }
    }
}

/// Whether `signature` verifies `message` under `key`, batched with the requests this thread
/// verifies at the same moment.
pub async fn verify(key: VerifyingKey, message: Vec<u8>, signature: Signature) -> bool {
    let queue = QUEUE.with(|queue| Arc::clone(&queue.borrow()));
    let (reply, answer) = oneshot::channel();
    // NOTE: a follower keeps a handle on its message, to verify alone if its leader goes away.
    let message = Arc::new(message);
    let kept = {
        let mut state = queue.lock();
        let leader = state.pending.is_empty();
        let reply = (!leader).then_some(reply);
        state.pending.push(Pending { key, message: Arc::clone(&message), signature, reply });
        (!leader).then_some(message)
    };
    if let Some(message) = kept {
        return match answer.await {
            Ok(valid) => valid,
            // NOTE: the leader went away before verifying this one.
            Err(_) => key.verify_strict(&message, &signature).is_ok(),
        };
    }
    let mut guard = LeaderGuard { queue: Arc::clone(&queue), armed: true };
    tokio::task::yield_now().await;
    let (mut rest, one_by_one) = {
        let mut state = queue.lock();
        let recent_failure = state.failed_at.is_some_and(|at| at.elapsed() < FAILURE_BACKOFF);
        (std::mem::take(&mut state.pending), recent_failure)
    };
    guard.armed = false;
    let mut own = false;
    let mut failed = false;
    while !rest.is_empty() {
        let chunk: Vec<Pending> = rest.drain(..rest.len().min(MAX_BATCH)).collect();
        let (results, batch_failed) = check(&chunk, one_by_one || failed);
        failed |= batch_failed;
        for (item, valid) in chunk.into_iter().zip(results) {
            match item.reply {
                Some(reply) => {
                    let _ = reply.send(valid);
                }
                None => own = valid,
            }
        }
    }
    if failed {
        queue.lock().failed_at = Some(Instant::now());
    }
    own
}

/// Each item's validity, and whether a batch attempt failed.
fn check(items: &[Pending], one_by_one: bool) -> (Vec<bool>, bool) {
    let single = |item: &Pending| item.key.verify_strict(&item.message, &item.signature).is_ok();
    if one_by_one || items.len() < 2 {
        return (items.iter().map(single).collect(), false);
    }
    let messages: Vec<&[u8]> = items.iter().map(|item| item.message.as_slice()).collect();
    let signatures: Vec<Signature> = items.iter().map(|item| item.signature).collect();
    let keys: Vec<VerifyingKey> = items.iter().map(|item| item.key).collect();
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        BATCHED.fetch_add(items.len() as u64, Ordering::Relaxed);
        return (vec![true; items.len()], false);
    }
    (items.iter().map(single).collect(), true)
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer as _, SigningKey};

    use super::*;

    fn signed(key: &SigningKey, n: u32) -> (Vec<u8>, Signature) {
        let message = format!("1700000000{{\"type\":1,\"n\":{n}}}").into_bytes();
        let signature = key.sign(&message);
        (message, signature)
    }

    /// Runs `count` verifications concurrently on one thread, every `bad_every`-th forged.
    async fn together(count: u32, bad_every: Option<u32>) -> Vec<bool> {
        let key = SigningKey::from_bytes(&[4; 32]);
        let other = SigningKey::from_bytes(&[5; 32]);
        let tasks = (0..count).map(|n| {
            let forged = bad_every.is_some_and(|every| n % every == every - 1);
            let (message, signature) = signed(if forged { &other } else { &key }, n);
            verify(key.verifying_key(), message, signature)
        });
        futures::future::join_all(tasks).await
    }

    #[tokio::test(flavor = "current_thread")]
    async fn requests_verified_together_all_pass_in_batches() {
        let before = batched_total();
        assert!(together(200, None).await.into_iter().all(|valid| valid));
        assert!(batched_total() >= before + 200, "all 200 went through a batch verification");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_forged_signature_fails_alone_and_its_batch_neighbours_pass() {
        let results = together(100, Some(10)).await;
        for (n, valid) in results.into_iter().enumerate() {
            assert_eq!(valid, n % 10 != 9, "request {n}");
        }
        // Right after a failed batch the thread verifies one by one, with the same answers.
        let again = together(20, Some(4)).await;
        assert_eq!(again.iter().filter(|valid| !**valid).count(), 5);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_lone_request_is_checked_strictly() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let (message, signature) = signed(&key, 1);
        assert!(verify(key.verifying_key(), message.clone(), signature).await);
        let mut tampered = message;
        tampered[0] ^= 1;
        assert!(!verify(key.verifying_key(), tampered, signature).await);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn followers_of_a_dropped_leader_verify_on_their_own() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let (message, signature) = signed(&key, 1);
        let leader = verify(key.verifying_key(), message.clone(), signature);
        let follower = verify(key.verifying_key(), message, signature);
        let mut leader = Box::pin(leader);
        let mut follower = Box::pin(follower);
        // The leader queues itself and yields; the follower queues behind it.
        assert!(futures::poll!(leader.as_mut()).is_pending());
        assert!(futures::poll!(follower.as_mut()).is_pending());
        drop(leader);
        assert!(follower.await, "the follower verified its own signature");
    }
}
