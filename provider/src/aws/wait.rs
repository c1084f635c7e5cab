//! One waiter for every EKS wait, in the shape of provider-aws's
//! `retry.StateChangeConf`: poll at once, then back off; a status in
//! `target` ends the wait, one in `pending` polls again, anything else is
//! an error; the timeout and Terraform's stop end it too.

use std::future::Future;
use std::time::{Duration, Instant};

use super::AwsError;
use crate::framework::StopToken;

/// Poll intervals: start short, back off to a ceiling.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    next: Duration,
    ceiling: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: Duration::from_millis(500),
            ceiling: Duration::from_secs(15),
        }
    }
}

impl Backoff {
    /// Naps from `first`, doubling up to the default ceiling.
    pub fn starting(first: Duration) -> Self {
        Self {
            next: first,
            ..Self::default()
        }
    }

    pub fn step(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.ceiling);
        d
    }
}

/// What a wait waits for.
pub struct StateChange<'a> {
    /// The object, as errors name it (`EKS Node Group (prod:agents)`).
    pub what: String,
    /// Statuses that mean "not yet".
    pub pending: &'a [&'a str],
    /// Statuses that end the wait.
    pub target: &'a [&'static str],
    pub timeout: Duration,
    pub backoff: Backoff,
}

/// Poll `refresh` (which returns the object and its status, or an error
/// for a failed state) until the status is a target.
pub async fn wait_for<T, F, Fut>(
    conf: &StateChange<'_>,
    stop: &mut StopToken,
    mut refresh: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(T, String), AwsError>>,
{
    let started = Instant::now();
    let mut backoff = conf.backoff;
    let target = conf.target.first().copied().unwrap_or("done");
    loop {
        let (value, status) = refresh().await?;
        if conf.target.contains(&status.as_str()) {
            return Ok(value);
        }
        if !conf.pending.contains(&status.as_str()) {
            return Err(AwsError::Failed {
                what: conf.what.clone(),
                detail: format!(
                    "unexpected status {status} while waiting for {}",
                    conf.target.join(" or ")
                ),
            });
        }
        let waited = started.elapsed();
        if waited >= conf.timeout {
            return Err(AwsError::Timeout {
                what: conf.what.clone(),
                target,
                waited,
                last: status,
            });
        }
        let nap = backoff.step().min(conf.timeout - waited);
        tokio::select! {
            () = tokio::time::sleep(nap) => {}
            () = stop.stopped() => return Err(AwsError::Stopped { what: conf.what.clone() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn conf(timeout: Duration, first_nap: Duration) -> StateChange<'static> {
        StateChange {
            what: "thing".into(),
            pending: &["CREATING"],
            target: &["ACTIVE"],
            timeout,
            backoff: Backoff::starting(first_nap),
        }
    }

    #[tokio::test]
    async fn the_first_poll_does_not_sleep() {
        // A first nap of 30 s would show.
        let c = conf(Duration::from_secs(60), Duration::from_secs(30));
        let started = Instant::now();
        wait_for(&c, &mut StopToken::never(), || async {
            Ok(((), "ACTIVE".to_string()))
        })
        .await
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn pending_statuses_poll_again_with_longer_naps() {
        let polls = AtomicUsize::new(0);
        let c = conf(Duration::from_secs(60), Duration::from_millis(20));
        let started = Instant::now();
        let got = wait_for(&c, &mut StopToken::never(), || async {
            let n = polls.fetch_add(1, Ordering::SeqCst);
            let status = if n < 3 { "CREATING" } else { "ACTIVE" };
            Ok((n, status.to_string()))
        })
        .await
        .unwrap();
        assert_eq!(got, 3, "the fourth poll sees ACTIVE");
        // 20 + 40 + 80 ms of naps before it.
        assert!(started.elapsed() >= Duration::from_millis(140));
    }

    #[tokio::test]
    async fn unexpected_statuses_timeouts_and_stops_end_the_wait() {
        let quick = conf(Duration::from_secs(60), Duration::from_millis(1));
        let e = wait_for(&quick, &mut StopToken::never(), || async {
            Ok(((), "DELETING".to_string()))
        })
        .await
        .unwrap_err();
        assert!(e.to_string().contains("unexpected status DELETING"), "{e}");
        let short = conf(Duration::from_millis(50), Duration::from_millis(1));
        let e = wait_for(&short, &mut StopToken::never(), || async {
            Ok(((), "CREATING".to_string()))
        })
        .await
        .unwrap_err();
        assert!(
            matches!(e, AwsError::Timeout { ref last, .. } if last == "CREATING"),
            "{e}"
        );
        let (tx, rx) = tokio::sync::watch::channel(crate::framework::Halt::Running);
        let mut stop = StopToken::new(rx);
        let long = conf(Duration::from_secs(600), Duration::from_secs(300));
        tx.send(crate::framework::Halt::Stop).unwrap();
        let started = Instant::now();
        let e = wait_for(&long, &mut stop, || async {
            Ok(((), "CREATING".to_string()))
        })
        .await;
        assert!(matches!(e, Err(AwsError::Stopped { .. })));
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
