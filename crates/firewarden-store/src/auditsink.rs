//! Audit records of reads, written by group commit. A read does not change case data, so it
//! need not hold the audit chain's lock while it reads: it reads on its own, then hands its
//! record here and waits until it is committed; only then is the answer released. One
//! writer appends whatever records are waiting in one transaction, so under load many reads
//! share one commit (and one fsync) instead of queueing for one each.

use super::*;
use tokio::sync::{mpsc, oneshot};

/// Records written per transaction at most.
const BATCH: usize = 512;

struct Pending {
    record: NewRecord,
    done: oneshot::Sender<std::result::Result<(), String>>,
}

/// The handle reads send their records to.
#[derive(Debug, Clone)]
pub(crate) struct AuditSink {
    tx: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending")
    }
}

impl AuditSink {
    /// Starts the writer for `store` (it ends when the last handle is dropped).
    pub(crate) fn start(store: Store) -> AuditSink {
        let (tx, mut rx) = mpsc::channel::<Pending>(4096);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(p) => batch.push(p),
                        Err(_) => break,
                    }
                }
                let records: Arc<Vec<NewRecord>> =
                    Arc::new(batch.iter().map(|p| p.record.clone()).collect());
                let written = store
                    .with_audit(move |tx| {
                        let records = Arc::clone(&records);
                        Box::pin(async move {
                            Store::audit_all(tx, &records).await?;
                            Ok(())
                        })
                    })
                    .await
                    .map_err(|e| e.to_string());
                for p in batch {
                    let _ = p.done.send(written.clone());
                }
            }
        });
        AuditSink { tx }
    }

    /// Appends `record` and returns once it is committed.
    pub(crate) async fn record(&self, record: NewRecord) -> Result<()> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Pending { record, done })
            .await
            .map_err(|_| StoreError::Invalid("the audit writer stopped".into()))?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Invalid(format!(
                "the audit record was not written: {e}"
            ))),
            Err(_) => Err(StoreError::Invalid("the audit writer stopped".into())),
        }
    }
}
