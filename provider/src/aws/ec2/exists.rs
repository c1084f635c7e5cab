//! Whether launch templates still exist, asked for many at once.
//!
//! Every refresh of a node group checks that its launch template is still
//! there (a template deleted outside Terraform is otherwise never noticed),
//! and Terraform refreshes up to ten resources at a time. A refresh says it
//! is coming ([`TemplateChecks::expect`]) before it reads its node group;
//! the first check then waits (up to [`MAX_WAIT`]) until every refresh
//! under way has queued its own, and they share one DescribeLaunchTemplates
//! call naming all their IDs. EC2 fails such a call as a whole
//! (`InvalidLaunchTemplateId.NotFound`) when any one of them is gone; only
//! then is each ID asked alone, so the extra calls are paid when a template
//! was deleted, never on a clean refresh.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, oneshot};

use crate::aws::{AwsClients, AwsError, Call, api_error};

/// Longest a check waits for the refreshes under way to queue theirs.
const MAX_WAIT: Duration = Duration::from_millis(200);
/// Most IDs named in one call.
const MAX_IDS: usize = 100;

type Answer = Result<bool, AwsError>;

/// The checks waiting for the next call (one queue per provider process).
#[derive(Default)]
pub struct TemplateChecks {
    queue: Mutex<Queue>,
    /// Refreshes under way that have not queued their check yet.
    expected: AtomicUsize,
    /// Told when `expected` falls to zero.
    all_in: Notify,
}

/// A refresh on its way to a check: counted until it queues the check or
/// drops the ticket (it needed none).
pub struct Ticket {
    checks: Arc<TemplateChecks>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.checks.expected.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.checks.all_in.notify_waiters();
        }
    }
}

#[derive(Default)]
struct Queue {
    waiting: Vec<(String, oneshot::Sender<Answer>)>,
    /// A task is due to take the queue.
    scheduled: bool,
}

impl TemplateChecks {
    /// A refresh is coming: its check is waited for (see [`Ticket`]).
    pub fn expect(self: &Arc<Self>) -> Ticket {
        self.expected.fetch_add(1, Ordering::SeqCst);
        Ticket {
            checks: Arc::clone(self),
        }
    }

    /// Queue a check; `true` when no task is due to take the queue yet (the
    /// caller starts one).
    fn enqueue(&self, id: &str, reply: oneshot::Sender<Answer>) -> bool {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        q.waiting.push((id.to_string(), reply));
        !std::mem::replace(&mut q.scheduled, true)
    }

    /// Everything queued; the next check starts a new batch.
    fn take(&self) -> Vec<(String, oneshot::Sender<Answer>)> {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        q.scheduled = false;
        std::mem::take(&mut q.waiting)
    }

    /// Until no refresh under way is still to queue its check, or
    /// [`MAX_WAIT`] (a refresh held up by retries holds up no other long).
    async fn all_in(&self) {
        let deadline = tokio::time::Instant::now() + MAX_WAIT;
        loop {
            let told = self.all_in.notified();
            tokio::pin!(told);
            told.as_mut().enable();
            if self.expected.load(Ordering::SeqCst) == 0 {
                return;
            }
            tokio::select! {
                () = &mut told => {}
                () = tokio::time::sleep_until(deadline) => return,
            }
        }
    }

    /// Whether template `id` exists, answered with the checks queued beside
    /// it; `ticket` (this refresh's, if it announced itself) is handed in
    /// with the check. The batch runs in its own task, so a caller that goes
    /// away (Terraform cancelled its call) never leaves the others waiting.
    async fn check(
        self: &Arc<Self>,
        id: &str,
        ticket: Option<Ticket>,
        lookup: Arc<dyn Lookup>,
    ) -> Answer {
        let (reply, answer) = oneshot::channel();
        let start = self.enqueue(id, reply);
        drop(ticket);
        if start {
            let checks = Arc::clone(self);
            tokio::spawn(async move {
                // Let the other refreshes of the moment queue theirs.
                tokio::task::yield_now().await;
                checks.all_in().await;
                let batch = checks.take();
                settle(lookup.as_ref(), batch).await;
            });
        }
        answer.await.unwrap_or_else(|_| {
            Err(AwsError::Failed {
                what: format!("EC2 Launch Template ({id})"),
                detail: "the check ended without an answer".into(),
            })
        })
    }
}

/// One DescribeLaunchTemplates by ID.
#[async_trait]
trait Lookup: Send + Sync {
    /// The IDs among `ids` that exist. EC2 fails the call with a not-found
    /// error when any of them does not.
    async fn present(&self, ids: &[String]) -> Result<BTreeSet<String>, AwsError>;
}

struct Ec2Lookup {
    ec2: aws_sdk_ec2::Client,
    call: Call,
}

#[async_trait]
impl Lookup for Ec2Lookup {
    async fn present(&self, ids: &[String]) -> Result<BTreeSet<String>, AwsError> {
        let out = self
            .ec2
            .describe_launch_templates()
            .set_launch_template_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|e| {
                api_error(
                    self.call.clone(),
                    format!("EC2 Launch Templates ({})", ids.join(", ")),
                    e,
                )
            })?;
        Ok(out
            .launch_templates()
            .iter()
            .filter_map(|t| t.launch_template_id().map(String::from))
            .collect())
    }
}

/// Answer every check of `batch`: one call per [`MAX_IDS`] IDs; where EC2
/// says one of them is gone, or an ID is missing from the answer, each of
/// them alone.
async fn settle(lookup: &dyn Lookup, batch: Vec<(String, oneshot::Sender<Answer>)>) {
    let ids: BTreeSet<String> = batch.iter().map(|(id, _)| id.clone()).collect();
    let ids: Vec<String> = ids.into_iter().collect();
    let mut answers: HashMap<String, Answer> = HashMap::new();
    let mut alone = Vec::new();
    for chunk in ids.chunks(MAX_IDS) {
        match lookup.present(chunk).await {
            Ok(found) => {
                for id in chunk {
                    if found.contains(id) {
                        answers.insert(id.clone(), Ok(true));
                    } else {
                        alone.push(id.clone());
                    }
                }
            }
            Err(e) if e.is_not_found() && chunk.len() > 1 => alone.extend_from_slice(chunk),
            Err(e) if e.is_not_found() => {
                answers.insert(chunk[0].clone(), Ok(false));
            }
            Err(e) => {
                for id in chunk {
                    answers.insert(id.clone(), Err(e.clone()));
                }
            }
        }
    }
    for id in alone {
        let answer = match lookup.present(std::slice::from_ref(&id)).await {
            Ok(found) => Ok(found.contains(&id)),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        };
        answers.insert(id, answer);
    }
    for (id, reply) in batch {
        let answer = answers.get(&id).cloned().unwrap_or(Ok(false));
        // A caller that went away needs no answer.
        let _ = reply.send(answer);
    }
}

impl AwsClients {
    /// A refresh that will check its launch template is under way: the
    /// checks of the moment wait for it (hand the ticket to
    /// [`Self::launch_template_exists`], or drop it).
    pub fn expect_template_check(&self) -> Ticket {
        self.template_checks.expect()
    }

    /// Whether launch template `id` exists (DescribeLaunchTemplates, shared
    /// with the other checks of the moment).
    pub async fn launch_template_exists(
        &self,
        id: &str,
        ticket: Option<Ticket>,
    ) -> Result<bool, AwsError> {
        let lookup = Arc::new(Ec2Lookup {
            ec2: self.ec2.clone(),
            call: self.call("ec2", "DescribeLaunchTemplates"),
        });
        self.template_checks.check(id, ticket, lookup).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// EC2 as its API answers: templates `existing`; a call naming one that
    /// does not exist fails as a whole.
    struct Fake {
        existing: BTreeSet<String>,
        calls: AtomicUsize,
        fail: Option<AwsError>,
    }

    impl Fake {
        fn new(existing: &[&str]) -> Fake {
            Fake {
                existing: existing.iter().map(|s| s.to_string()).collect(),
                calls: AtomicUsize::new(0),
                fail: None,
            }
        }
    }

    #[async_trait]
    impl Lookup for Fake {
        async fn present(&self, ids: &[String]) -> Result<BTreeSet<String>, AwsError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some(e) = &self.fail {
                return Err(e.clone());
            }
            if ids.iter().any(|id| !self.existing.contains(id)) {
                return Err(AwsError::NotFound {
                    what: "EC2 Launch Templates".into(),
                });
            }
            Ok(ids.iter().cloned().collect())
        }
    }

    fn queued(checks: &TemplateChecks, ids: &[&str]) -> Vec<oneshot::Receiver<Answer>> {
        ids.iter()
            .map(|id| {
                let (tx, rx) = oneshot::channel();
                checks.enqueue(id, tx);
                rx
            })
            .collect()
    }

    async fn answers(rxs: Vec<oneshot::Receiver<Answer>>) -> Vec<Option<bool>> {
        let mut out = Vec::new();
        for rx in rxs {
            out.push(rx.await.unwrap().ok());
        }
        out
    }

    #[tokio::test]
    async fn checks_queued_together_share_one_call() {
        let checks = TemplateChecks::default();
        let (tx, _rx) = oneshot::channel();
        assert!(checks.enqueue("lt-1", tx), "the first check starts a batch");
        let (tx, _rx2) = oneshot::channel();
        assert!(!checks.enqueue("lt-2", tx), "the second joins it");
        let fake = Fake::new(&["lt-1", "lt-2", "lt-3"]);
        let batch = checks.take();
        assert_eq!(batch.len(), 2);
        let rxs = queued(&checks, &["lt-1", "lt-2", "lt-3", "lt-3"]);
        settle(&fake, checks.take()).await;
        assert_eq!(answers(rxs).await, vec![Some(true); 4]);
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_deleted_template_is_found_among_many() {
        let checks = TemplateChecks::default();
        let fake = Fake::new(&["lt-1", "lt-3"]);
        let rxs = queued(&checks, &["lt-1", "lt-2", "lt-3"]);
        settle(&fake, checks.take()).await;
        assert_eq!(
            answers(rxs).await,
            vec![Some(true), Some(false), Some(true)]
        );
        // The failed call, then each ID alone.
        assert_eq!(fake.calls.load(Ordering::SeqCst), 4);
        // One ID alone: its not-found is the answer, no second call.
        let fake = Fake::new(&[]);
        let rxs = queued(&checks, &["lt-9"]);
        settle(&fake, checks.take()).await;
        assert_eq!(answers(rxs).await, vec![Some(false)]);
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_call_is_every_checks_error_never_a_deleted_template() {
        let checks = TemplateChecks::default();
        let mut fake = Fake::new(&["lt-1", "lt-2"]);
        fake.fail = Some(AwsError::Api {
            operation: "DescribeLaunchTemplates",
            code: Some("UnauthorizedOperation".into()),
            message: "no".into(),
        });
        let rxs = queued(&checks, &["lt-1", "lt-2"]);
        settle(&fake, checks.take()).await;
        for rx in rxs {
            assert!(rx.await.unwrap().is_err());
        }
    }

    #[tokio::test]
    async fn a_check_gets_its_answer_through_the_task() {
        let checks = Arc::new(TemplateChecks::default());
        let fake: Arc<dyn Lookup> = Arc::new(Fake::new(&["lt-1"]));
        let (a, b) = tokio::join!(
            checks.check("lt-1", None, Arc::clone(&fake)),
            checks.check("lt-2", None, Arc::clone(&fake))
        );
        assert!(a.unwrap());
        assert!(!b.unwrap());
    }

    /// Three refreshes announce themselves; the first check waits for the
    /// other two (held back until it is queued), and one call answers all.
    #[tokio::test]
    async fn the_first_check_waits_for_the_refreshes_under_way() {
        let checks = Arc::new(TemplateChecks::default());
        let fake = Arc::new(Fake::new(&["lt-1", "lt-2", "lt-3"]));
        let lookup: Arc<dyn Lookup> = fake.clone();
        let tickets: Vec<Ticket> = (0..3).map(|_| checks.expect()).collect();
        let mut tickets = tickets.into_iter();
        let first = checks.check("lt-1", tickets.next(), Arc::clone(&lookup));
        let others = async {
            // The first check is queued before these two arrive.
            tokio::task::yield_now().await;
            tokio::join!(
                checks.check("lt-2", tickets.next(), Arc::clone(&lookup)),
                checks.check("lt-3", tickets.next(), Arc::clone(&lookup))
            )
        };
        let (a, (b, c)) = tokio::join!(first, others);
        assert!(a.unwrap() && b.unwrap() && c.unwrap());
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
        assert_eq!(checks.expected.load(Ordering::SeqCst), 0);
    }
}
