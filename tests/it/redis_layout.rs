//! The Redis key layout's version, `PREFIX:layout`: written where none is stored (a fresh
//! prefix, or one written before the key existed), and any other version refused at open.
//! Each check runs on standalone Redis and on the test Cluster.

use crate::services::{Backend, Isolated, redis_cli, redis_cluster, shared_redis_cli};
use sessiond::domain::session::Session;
use sessiond::domain::time::{Clock, SystemClock, Timestamp};
use sessiond::domain::token::{SecretToken, new_public_id};
use sessiond::domain::user_agent::DeviceType;
use sessiond::store::SessionLimit;
use sessiond::store::redis::open;

/// Runs `redis-cli` on the backend's Redis, following Cluster redirections.
fn cli(backend: Backend, args: &[&str]) -> String {
    let output = match backend {
        Backend::RedisCluster => {
            let port = redis_cluster().expect("the test Cluster runs")[0];
            redis_cli(port, &[&["-c"], args].concat())
        }
        _ => shared_redis_cli(args),
    };
    output.trim().to_owned()
}

/// The layout key of an isolated store.
fn layout_key(isolated: &Isolated) -> String {
    format!("{}:layout", prefix(isolated))
}

fn prefix(isolated: &Isolated) -> &str {
    isolated.url.rsplit_once("prefix=").unwrap().1
}

async fn fresh_prefix_gets_the_layout_key(backend: Backend) {
    let Some(isolated) = backend.isolated() else {
        return;
    };
    let key = layout_key(&isolated);
    assert_eq!(cli(backend, &["EXISTS", &key]), "0");
    open(&isolated.url).await.unwrap();
    assert_eq!(cli(backend, &["GET", &key]), "1");
    open(&isolated.url)
        .await
        .expect("its own layout opens again");
}

/// What opening a fresh store whose layout key holds `layout` says, and its prefix; the key
/// is left as it was.
async fn refusal(backend: Backend, layout: &str) -> Option<(String, String)> {
    let isolated = backend.isolated()?;
    let key = layout_key(&isolated);
    assert_eq!(cli(backend, &["SET", &key, layout]), "OK");
    let Err(refused) = open(&isolated.url).await else {
        panic!("a store in key layout {layout:?} opened");
    };
    assert_eq!(cli(backend, &["GET", &key]), layout, "left as it was");
    Some((refused, prefix(&isolated).to_owned()))
}

async fn newer_layout_is_refused(backend: Backend) {
    let Some((refused, prefix)) = refusal(backend, "2").await else {
        return;
    };
    assert_eq!(
        refused,
        format!(
            "Redis prefix {prefix:?} holds key layout 2, newer than layout 1 of this sessiond: \
             run a release that knows layout 2"
        )
    );
}

async fn unreadable_layout_is_refused(backend: Backend) {
    let Some((refused, prefix)) = refusal(backend, "one").await else {
        return;
    };
    assert!(refused.contains(&format!("{prefix:?}")), "{refused}");
    assert!(refused.contains("\"one\""), "{refused}");
    assert!(!refused.contains('\n'), "one line: {refused}");
}

async fn todays_keys_without_the_layout_key_open_as_layout_1(backend: Backend) {
    let Some(isolated) = backend.isolated() else {
        return;
    };
    let now = SystemClock.now();
    let session = Session {
        id: new_public_id(),
        token_hash: SecretToken::generate().hash(),
        user_id: 7,
        username: "written-before-the-layout-key".into(),
        ip_address: "192.0.2.7".into(),
        last_ip_address: "192.0.2.7".into(),
        user_agent: String::new(),
        browser: String::new(),
        os: String::new(),
        device_type: DeviceType::Desktop,
        created_at: now,
        last_active_at: now,
        expires_at: Timestamp(now.0 + 3_600_000),
        absolute_expires_at: Timestamp(now.0 + 3_600_000),
        remember_me: false,
    };
    let limit = SessionLimit {
        max_per_user: 10,
        evict_oldest: false,
    };
    let store = open(&isolated.url).await.unwrap();
    store.create(&session, limit, now).await.unwrap();
    let key = layout_key(&isolated);
    assert_eq!(cli(backend, &["DEL", &key]), "1");

    let reopened = open(&isolated.url).await.unwrap();
    assert_eq!(cli(backend, &["GET", &key]), "1");
    let found = reopened.get_by_token_hash(&session.token_hash).await;
    assert_eq!(found.unwrap().map(|s| s.id), Some(session.id));
}

/// One test per check per backend, named after both.
macro_rules! on_redis_and_cluster {
    ($($check:ident),* $(,)?) => {
        mod standalone {
            use crate::services::Backend;
            $(#[tokio::test]
            async fn $check() {
                super::$check(Backend::Redis).await;
            })*
        }
        mod cluster {
            use crate::services::Backend;
            $(#[tokio::test]
            async fn $check() {
                super::$check(Backend::RedisCluster).await;
            })*
        }
    };
}

on_redis_and_cluster!(
    fresh_prefix_gets_the_layout_key,
    newer_layout_is_refused,
    unreadable_layout_is_refused,
    todays_keys_without_the_layout_key_open_as_layout_1,
);
