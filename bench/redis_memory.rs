//! Measures Redis memory per session: `used_memory` from `INFO memory` before and after
//! creating sessions through the real Redis store, then removes what it wrote.
//!
//! cargo run --release --example redis_memory -- [redis://127.0.0.1:6379/0] [100000]
//!
//! Sessions are spread three per user (30M sessions for 10M users is the planning case),
//! with a typical desktop User-Agent. Results are recorded in docs/deployment.md.

use futures_util::{StreamExt, stream};
use sessiond::domain::session::Session;
use sessiond::domain::time::{Clock, SystemClock, Timestamp};
use sessiond::domain::token::{SecretToken, new_public_id};
use sessiond::domain::user_agent::DeviceType;
use sessiond::store::{CreateOutcome, SessionLimit};
use std::time::{Duration, Instant};

const USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                          (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

async fn used_memory(conn: &mut redis::aio::MultiplexedConnection) -> i64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|line| line.strip_prefix("used_memory:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("INFO memory has used_memory")
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379/0".into());
    let count: i64 = args.next().map_or(100_000, |n| n.parse().unwrap());
    let prefix = format!("bench{}", new_public_id().replace(['-', '_'], ""));
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let store = sessiond::store::redis::open(&format!("{url}?prefix={prefix}"))
        .await
        .unwrap();
    let limit = SessionLimit {
        max_per_user: 10,
        evict_oldest: false,
    };
    let now = SystemClock.now();
    let before = used_memory(&mut conn).await;
    let started = Instant::now();
    stream::iter(0..count)
        .for_each_concurrent(64, |i| {
            let store = store.clone();
            async move {
                let ip_address = format!("203.0.{}.{}", (i / 256) % 256, i % 256);
                let session = Session {
                    id: new_public_id(),
                    token_hash: SecretToken::generate().hash(),
                    user_id: 1_000_000 + i / 3,
                    username: format!("user{:07}", i / 3),
                    last_ip_address: ip_address.clone(),
                    ip_address,
                    user_agent: USER_AGENT.into(),
                    browser: "Chrome".into(),
                    os: "Windows 10".into(),
                    device_type: DeviceType::Desktop,
                    created_at: now,
                    last_active_at: Timestamp(now.0 + i),
                    expires_at: now.plus(Duration::from_secs(3600)),
                    absolute_expires_at: now.plus(Duration::from_secs(86_400)),
                    remember_me: i % 2 == 0,
                };
                let outcome = store.create(&session, limit, now).await.unwrap();
                assert!(matches!(outcome, CreateOutcome::Created { .. }));
            }
        })
        .await;
    let elapsed = started.elapsed();
    let after = used_memory(&mut conn).await;
    let per_session = (after - before) as f64 / count as f64;
    println!("sessions:            {count} ({} users)", (count + 2) / 3);
    println!("used_memory before:  {before} bytes");
    println!("used_memory after:   {after} bytes");
    println!("per session:         {per_session:.0} bytes");
    println!(
        "created in:          {elapsed:.1?} ({:.0}/s, 64 concurrent)",
        count as f64 / elapsed.as_secs_f64()
    );

    // A cursor, not `KEYS`: one `KEYS` over half a million keys outlasts the reply timeout.
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*"))
            .arg("COUNT")
            .arg(10_000)
            .query_async(&mut conn)
            .await
            .unwrap();
        if !keys.is_empty() {
            let _: () = redis::cmd("UNLINK")
                .arg(keys)
                .query_async(&mut conn)
                .await
                .unwrap();
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
}
