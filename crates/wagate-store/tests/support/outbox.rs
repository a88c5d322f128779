//! The outbound side of the store over a fresh database: the queue, its
//! enqueuer, the outcome writer and the event outbox, for a session
//! `shop` of the default tenant.

#![allow(dead_code)] // each test file takes what it needs

use std::sync::Arc;
use wagate_core::{SessionId, SessionKey};
use wagate_store::outbound::{Enqueuer, OutcomeWriter};
use wagate_store::testing::{TestBackend, TestDatabase};
use wagate_store::{Committer, Events, Outbound, StateCipher, Store};

pub struct Fixture {
    pub store: Store,
    pub committer: Committer,
    pub events: Events,
    pub queue: Outbound,
    pub enqueuer: Enqueuer,
    pub outcomes: OutcomeWriter,
    pub key: SessionKey,
    pub database: TestDatabase,
}

pub async fn fixture(backend: TestBackend) -> Fixture {
    let database = TestDatabase::create(backend).await;
    let db = database.open().await;
    let store = Store::new(db.clone());
    let tenant = store.default_tenant().await.unwrap();
    let committer = Committer::start(db);
    let (cipher, _) = StateCipher::generate();
    let events = Events::new(committer.clone(), Arc::new(cipher))
        .await
        .unwrap();
    let queue = Outbound::new(committer.clone());
    let enqueuer = Enqueuer::start(queue.clone()).await.unwrap();
    let outcomes = OutcomeWriter::start(queue.clone(), events.clone());
    Fixture {
        store,
        committer,
        events,
        queue,
        enqueuer,
        outcomes,
        key: SessionKey {
            tenant: tenant.id,
            session: SessionId::parse("shop").unwrap(),
        },
        database,
    }
}
