//! The directory checks: each takes a fresh directory of one backend, through the traits only.

use super::{HOUR, MINUTE, now};
use sessiond::domain::audit::{AuditEvent, AuditFilter, AuditKind, Outcome};
use sessiond::domain::group::{GroupPath, NewGroup};
use sessiond::domain::time::Timestamp;
use sessiond::domain::token::SecretToken;
use sessiond::domain::user::{Email, NewUser, UserKind, UserState, UserUpdate, Username};
use sessiond::store::{
    Directory, DirectoryImport, LockoutPolicy, RememberToken, StoreError, TakenRememberToken,
};
use std::time::Duration;

pub(super) async fn ping(d: &dyn Directory) {
    d.ping().await.unwrap();
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: Username::parse(name).unwrap(),
        name: format!("{name} Example"),
        email: Email::parse(&format!("{name}@Example.com")).unwrap(),
        kind: UserKind::Human,
        is_admin: false,
        is_owner: false,
        password_hash: Some("$argon2id$stub".into()),
        must_change_password: false,
    }
}

fn new_group(path: &str) -> NewGroup {
    let path = GroupPath::parse(path).unwrap();
    NewGroup {
        name: path.as_str().rsplit('/').next().unwrap().to_owned(),
        path,
    }
}

pub(super) async fn groups(d: &dyn Directory) {
    let base = now();
    let carol = d.create_user(&new_user("carol"), base).await.unwrap();
    let dave = d.create_user(&new_user("dave"), base).await.unwrap();
    let acme = d.create_group(&new_group("acme"), base).await.unwrap();
    let platform = d
        .create_group(&new_group("acme/platform"), base)
        .await
        .unwrap();
    let outside = d.create_group(&new_group("42"), base).await.unwrap();
    assert_eq!(platform.parent_id, Some(acme.id));
    assert_eq!(acme.parent_id, None);
    for bad in ["acme", "nowhere/child"] {
        assert!(
            matches!(
                d.create_group(&new_group(bad), base).await,
                Err(StoreError::Conflict(_))
            ),
            "{bad}"
        );
    }
    assert!(d.add_member(platform.id, carol.id).await.unwrap());
    assert!(
        !d.add_member(platform.id, carol.id).await.unwrap(),
        "already a member"
    );
    assert!(d.add_member(acme.id, dave.id).await.unwrap());
    assert!(d.add_member(outside.id, dave.id).await.unwrap());
    assert!(d.share_group(platform.id, outside.id).await.unwrap());
    assert!(!d.share_group(platform.id, outside.id).await.unwrap());
    let graph = d.group_graph().await.unwrap();
    let paths: Vec<&str> = graph.groups.iter().map(|g| g.path.as_str()).collect();
    assert_eq!(paths, ["42", "acme", "acme/platform"]);
    assert_eq!(graph.shares.len(), 1);
    assert_eq!(
        (graph.shares[0].group_id, graph.shares[0].shared_with_id),
        (platform.id, outside.id)
    );
    let members = d.direct_members(&[platform.id, outside.id]).await.unwrap();
    let pairs: Vec<(i64, &str)> = members
        .iter()
        .map(|(g, u)| (*g, u.username.as_str()))
        .collect();
    let mut expected = vec![(platform.id, "carol"), (outside.id, "dave")];
    expected.sort();
    let mut pairs = pairs;
    pairs.sort();
    assert_eq!(pairs, expected);
    assert!(d.direct_members(&[]).await.unwrap().is_empty());
}

/// Ending a direct membership and a share: each once, the rest left as it was.
pub(super) async fn group_removals(d: &dyn Directory) {
    let base = now();
    let carol = d.create_user(&new_user("carol"), base).await.unwrap();
    let dave = d.create_user(&new_user("dave"), base).await.unwrap();
    let ops = d.create_group(&new_group("ops"), base).await.unwrap();
    let audit = d.create_group(&new_group("audit"), base).await.unwrap();
    for user in [&carol, &dave] {
        assert!(d.add_member(ops.id, user.id).await.unwrap());
    }
    assert!(d.share_group(ops.id, audit.id).await.unwrap());
    assert!(d.share_group(audit.id, ops.id).await.unwrap());

    assert!(d.remove_member(ops.id, carol.id).await.unwrap());
    assert!(!d.remove_member(ops.id, carol.id).await.unwrap(), "gone");
    assert!(
        !d.remove_member(audit.id, dave.id).await.unwrap(),
        "never was"
    );
    let members = d.direct_members(&[ops.id]).await.unwrap();
    let names: Vec<&str> = members.iter().map(|(_, u)| u.username.as_str()).collect();
    assert_eq!(names, ["dave"]);

    assert!(d.unshare_group(ops.id, audit.id).await.unwrap());
    assert!(!d.unshare_group(ops.id, audit.id).await.unwrap(), "gone");
    let shares: Vec<(i64, i64)> = d
        .group_graph()
        .await
        .unwrap()
        .shares
        .iter()
        .map(|share| (share.group_id, share.shared_with_id))
        .collect();
    assert_eq!(shares, [(audit.id, ops.id)], "the other direction stays");
    // Removing the last member again can be undone.
    assert!(d.add_member(ops.id, carol.id).await.unwrap());
}

pub(super) async fn import(d: &dyn Directory) {
    let base = now();
    let before = d.count_users().await.unwrap();
    let good = DirectoryImport {
        users: vec![new_user("erin"), new_user("frank")],
        groups: vec![new_group("beta"), new_group("beta/ops")],
        memberships: vec![(
            GroupPath::parse("beta/ops").unwrap(),
            Username::parse("erin").unwrap(),
        )],
        shares: vec![],
    };
    let imported = d.import(&good, base).await.unwrap();
    assert_eq!(imported.users.len(), 2);
    assert_eq!(d.count_users().await.unwrap(), before + 2);
    let paths: Vec<&str> = imported.groups.iter().map(|g| g.path.as_str()).collect();
    assert_eq!(paths, ["beta", "beta/ops"]);
    let erin = &imported.users[0];
    assert_eq!(
        imported.memberships,
        [(
            good.memberships[0].0.clone(),
            erin.id,
            erin.username.clone()
        )]
    );
    assert!(imported.shares.is_empty());
    // What an import adds is reported; a membership that already existed is not.
    let again = DirectoryImport {
        shares: vec![(
            GroupPath::parse("beta/ops").unwrap(),
            GroupPath::parse("beta").unwrap(),
        )],
        ..DirectoryImport {
            users: vec![],
            groups: vec![],
            ..good.clone()
        }
    };
    let imported = d.import(&again, base).await.unwrap();
    assert!(imported.users.is_empty() && imported.groups.is_empty());
    assert!(imported.memberships.is_empty());
    assert_eq!(imported.shares, again.shares);
    // A later error (an unknown member) takes the whole import back.
    let bad = DirectoryImport {
        users: vec![new_user("grace")],
        groups: vec![new_group("gamma")],
        memberships: vec![(
            GroupPath::parse("gamma").unwrap(),
            Username::parse("nobody").unwrap(),
        )],
        shares: vec![],
    };
    assert!(d.import(&bad, base).await.is_err());
    assert_eq!(d.count_users().await.unwrap(), before + 2);
    assert!(d.user_by_username("grace").await.unwrap().is_none());
    let graph = d.group_graph().await.unwrap();
    assert!(!graph.groups.iter().any(|g| g.path.as_str() == "gamma"));
}

pub(super) async fn api_tokens(d: &dyn Directory) {
    let base = now();
    let secret = SecretToken::generate();
    let token = d
        .create_api_token("ci", &secret.hash(), base)
        .await
        .unwrap();
    assert_eq!((token.name.as_str(), token.last_used_at), ("ci", None));
    let again = d
        .create_api_token("ci", &SecretToken::generate().hash(), base)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    let used = d
        .use_api_token(&secret.hash(), base)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.id, token.id);
    let listed = d.list_api_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(base), "the first use is noted");
    let soon = Timestamp(base.0 + 1000);
    d.use_api_token(&secret.hash(), soon).await.unwrap();
    assert_eq!(
        d.list_api_tokens().await.unwrap()[0].last_used_at,
        Some(base),
        "not every use writes"
    );
    assert!(
        d.use_api_token(&SecretToken::generate().hash(), base)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        d.delete_api_token(token.id).await.unwrap().map(|t| t.id),
        Some(token.id)
    );
    assert!(d.delete_api_token(token.id).await.unwrap().is_none());
    assert!(
        d.use_api_token(&secret.hash(), base)
            .await
            .unwrap()
            .is_none()
    );
}

pub(super) async fn alarms(d: &dyn Directory) {
    let base = now();
    let ips = |n: usize| (1..=n).map(|i| format!("192.0.2.{i}")).collect::<Vec<_>>();
    let (alarm, raised) = d.record_ip_spread(7, "user7", &ips(4), base).await.unwrap();
    assert!(raised);
    assert_eq!(alarm.ip_addresses, ips(4));
    let later = Timestamp(base.0 + 1000);
    let (same, raised) = d
        .record_ip_spread(7, "user7", &ips(5), later)
        .await
        .unwrap();
    assert!(!raised, "one open alarm per user");
    assert_eq!(
        (same.id, same.first_seen_at, same.last_seen_at),
        (alarm.id, base, later)
    );
    assert_eq!(same.ip_addresses, ips(5));
    d.record_ip_spread(8, "user8", &ips(4), base).await.unwrap();
    assert_eq!(d.list_alarms(true, 10, 0).await.unwrap().total, 2);
    let acknowledged = d
        .acknowledge_alarm(alarm.id, "user:root", later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(acknowledged.acknowledged_by.as_deref(), Some("user:root"));
    assert!(
        d.acknowledge_alarm(alarm.id, "user:root", later)
            .await
            .unwrap()
            .is_none()
    );
    let open = d.list_alarms(true, 10, 0).await.unwrap();
    assert_eq!(open.total, 1);
    assert_eq!(open.items[0].user_id, 8);
    let (fresh, raised) = d
        .record_ip_spread(7, "user7", &ips(4), later)
        .await
        .unwrap();
    assert!(
        raised && fresh.id != alarm.id,
        "a later spread raises a new alarm"
    );
    let all = d.list_alarms(false, 10, 0).await.unwrap();
    assert_eq!(all.total, 3);
    assert_eq!(all.items[0].id, fresh.id, "newest first");
    assert_eq!(d.list_alarms(false, 1, 1).await.unwrap().items.len(), 1);
}

pub(super) async fn users(d: &dyn Directory) {
    let base = now();
    assert_eq!(d.count_users().await.unwrap(), 0);
    let alice = d.create_user(&new_user("alice"), base).await.unwrap();
    let bob = d.create_user(&new_user("bob"), base).await.unwrap();
    assert_eq!(alice.email.as_str(), "alice@example.com");
    assert_eq!(
        (alice.state, alice.failed_logins, alice.locked_until),
        (UserState::Active, 0, None)
    );
    assert_eq!(alice.password_hash.as_deref(), Some("$argon2id$stub"));
    assert_eq!(alice.created_at, base);
    assert!(matches!(
        d.create_user(&new_user("alice"), base).await,
        Err(StoreError::Conflict(_))
    ));
    let mut same_email = new_user("alice2");
    same_email.email = alice.email.clone();
    assert!(matches!(
        d.create_user(&same_email, base).await,
        Err(StoreError::Conflict(_))
    ));
    let by_id = d.user_by_id(alice.id).await.unwrap().unwrap();
    assert_eq!(by_id.username.as_str(), "alice");
    let by_name = d.user_by_username("bob").await.unwrap().unwrap();
    assert_eq!(by_name.id, bob.id);
    let by_email = d.user_by_email("ALICE@example.com").await.unwrap().unwrap();
    assert_eq!(by_email.id, alice.id);
    assert!(d.user_by_username("carol").await.unwrap().is_none());
    let names: Vec<String> = d
        .list_users()
        .await
        .unwrap()
        .iter()
        .map(|u| u.username.to_string())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(d.count_users().await.unwrap(), 2);

    d.set_user_state(alice.id, UserState::Blocked)
        .await
        .unwrap();
    d.set_password_hash(alice.id, "$argon2id$new", false)
        .await
        .unwrap();
    let alice = d.user_by_id(alice.id).await.unwrap().unwrap();
    assert_eq!(alice.state, UserState::Blocked);
    assert_eq!(alice.password_hash.as_deref(), Some("$argon2id$new"));
}

pub(super) async fn user_edits_and_deletion(d: &dyn Directory) {
    let base = now();
    let alice = d.create_user(&new_user("alice"), base).await.unwrap();
    let bob = d.create_user(&new_user("bob"), base).await.unwrap();
    assert!(!alice.must_change_password);
    let mut must_change = new_user("carol");
    must_change.must_change_password = true;
    let carol = d.create_user(&must_change, base).await.unwrap();
    assert!(carol.must_change_password);

    // A reset sets the flag with the hash; a change clears it.
    d.set_password_hash(alice.id, "$argon2id$reset", true)
        .await
        .unwrap();
    let reset = d.user_by_id(alice.id).await.unwrap().unwrap();
    assert_eq!(
        (reset.password_hash.as_deref(), reset.must_change_password),
        (Some("$argon2id$reset"), true)
    );
    d.set_password_hash(alice.id, "$argon2id$mine", false)
        .await
        .unwrap();
    assert!(
        !d.user_by_id(alice.id)
            .await
            .unwrap()
            .unwrap()
            .must_change_password
    );

    // An edit changes what it names and nothing else; a taken address is a conflict.
    let update = UserUpdate {
        email: Some(Email::parse("Alice.New@Example.com").unwrap()),
        name: None,
        is_admin: Some(true),
    };
    let edited = d.update_user(alice.id, &update).await.unwrap().unwrap();
    assert_eq!(edited.email.as_str(), "alice.new@example.com");
    assert_eq!(edited.name, "alice Example");
    assert!(edited.is_admin);
    let renamed = UserUpdate {
        name: Some("Alice Renamed".into()),
        ..UserUpdate::default()
    };
    let edited = d.update_user(alice.id, &renamed).await.unwrap().unwrap();
    assert_eq!(
        (edited.name.as_str(), edited.email.as_str(), edited.is_admin),
        ("Alice Renamed", "alice.new@example.com", true)
    );
    let taken = UserUpdate {
        email: Some(bob.email.clone()),
        ..UserUpdate::default()
    };
    assert!(matches!(
        d.update_user(alice.id, &taken).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(d.update_user(9999, &renamed).await.unwrap().is_none());

    // Search: a prefix of the username, the address or the name, in any case; `%` and `_`
    // match only themselves.
    let found = async |prefix: &str| -> Vec<String> {
        d.search_users(prefix)
            .await
            .unwrap()
            .iter()
            .map(|u| u.username.to_string())
            .collect()
    };
    assert_eq!(found("AL").await, ["alice"]);
    assert_eq!(found("alice.new@").await, ["alice"]);
    assert_eq!(found("alice renamed").await, ["alice"]);
    assert_eq!(found("b").await, ["bob"]);
    assert_eq!(
        found("EXAMPLE").await,
        Vec::<String>::new(),
        "a prefix only"
    );
    assert_eq!(found("%").await, Vec::<String>::new());
    assert_eq!(found("_").await, Vec::<String>::new());
    assert_eq!(found("c").await, ["carol"]);

    // Deleting takes the user, their remember-me tokens and memberships, and remembers the
    // username; the audit trail keeps the user's events.
    let event = AuditEvent::new(base, AuditKind::LoginSuccess, "user:bob", Outcome::Success)
        .subject(bob.id, "bob");
    d.append_audit(&[event]).await.unwrap();
    let token = remember_token(
        bob.id,
        "family-bob",
        "session-bob",
        Timestamp(base.0 + HOUR),
    );
    d.record_login(Some(&token), &[]).await.unwrap();
    let group = d.create_group(&new_group("acme"), base).await.unwrap();
    assert!(d.add_member(group.id, bob.id).await.unwrap());
    assert!(!d.username_was_deleted("bob").await.unwrap());
    let deleted = d.delete_user(bob.id, base).await.unwrap().unwrap();
    assert_eq!(deleted.username.as_str(), "bob");
    assert!(d.user_by_id(bob.id).await.unwrap().is_none());
    assert!(d.delete_user(bob.id, base).await.unwrap().is_none());
    assert!(d.username_was_deleted("bob").await.unwrap());
    assert!(!d.username_was_deleted("alice").await.unwrap());
    assert!(
        d.take_remember_token(&token.hash, base)
            .await
            .unwrap()
            .is_none()
    );
    assert!(d.direct_members(&[group.id]).await.unwrap().is_empty());
    let filter = AuditFilter {
        user_id: Some(bob.id),
        kind: None,
    };
    let trail = d.list_audit(&filter, 10, 0).await.unwrap();
    assert_eq!(trail.items.len(), 1);
    assert_eq!(trail.items[0].subject_username.as_deref(), Some("bob"));
    // The name can be given again, and deleted again.
    let again = d.create_user(&new_user("bob"), base).await.unwrap();
    assert!(d.delete_user(again.id, base).await.unwrap().is_some());
    assert!(d.username_was_deleted("bob").await.unwrap());
}

pub(super) async fn user_locale(d: &dyn Directory) {
    let user = d.create_user(&new_user("polyglot"), now()).await.unwrap();
    assert_eq!(user.locale, None);
    let locale = async || d.user_by_id(user.id).await.unwrap().unwrap().locale;
    d.set_user_locale(user.id, Some("ja")).await.unwrap();
    assert_eq!(locale().await.as_deref(), Some("ja"));
    d.set_user_locale(user.id, Some("ko")).await.unwrap();
    assert_eq!(locale().await.as_deref(), Some("ko"));
    d.set_user_locale(user.id, None).await.unwrap();
    assert_eq!(locale().await, None);
}

pub(super) async fn lockout(d: &dyn Directory) {
    let base = now();
    let user = d.create_user(&new_user("locky"), base).await.unwrap();
    let policy = LockoutPolicy {
        threshold: 3,
        duration: Duration::from_secs(60),
    };
    for expected in 1..=2 {
        let record = d.record_login_failure(user.id, policy, base).await.unwrap();
        assert_eq!(
            (record.failed_logins, record.locked_until),
            (expected, None)
        );
    }
    let third = d.record_login_failure(user.id, policy, base).await.unwrap();
    let until = Timestamp(base.0 + MINUTE);
    assert_eq!(third.locked_until, Some(until));
    let stored = d.user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.failed_logins, stored.locked_until),
        (3, Some(until))
    );
    // After the lock ran out, counting starts again.
    let later = Timestamp(until.0 + 1);
    let again = d
        .record_login_failure(user.id, policy, later)
        .await
        .unwrap();
    assert_eq!((again.failed_logins, again.locked_until), (1, None));
    d.clear_login_failures(user.id).await.unwrap();
    let cleared = d.user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!((cleared.failed_logins, cleared.locked_until), (0, None));
}

/// A remember-me token of `user` in `family`, opened with `session`, until `expires_at`.
fn remember_token(user: i64, family: &str, session: &str, expires_at: Timestamp) -> RememberToken {
    RememberToken {
        hash: SecretToken::generate().hash(),
        user_id: user,
        family_id: family.into(),
        session_id: session.into(),
        expires_at,
    }
}

pub(super) async fn remember_tokens(d: &dyn Directory) {
    let base = now();
    let user = d.create_user(&new_user("remy"), base).await.unwrap();
    let expires = Timestamp(base.0 + HOUR);
    let remember = async |family: &str, expires_at| {
        let token = remember_token(user.id, family, "s", expires_at);
        d.record_login(Some(&token), &[]).await.unwrap();
        token.hash
    };
    let (a, b) = (remember("fa", expires).await, remember("fb", expires).await);
    let stale = remember("fs", Timestamp(base.0 - 1)).await;
    let taken = |used_at| {
        Some(TakenRememberToken {
            user_id: user.id,
            family_id: "fa".into(),
            used_at,
        })
    };
    assert_eq!(d.take_remember_token(&a, base).await.unwrap(), taken(None));
    let later = Timestamp(base.0 + MINUTE);
    assert_eq!(
        d.take_remember_token(&a, later).await.unwrap(),
        taken(Some(base)),
        "single use: taken again, it is known as used, and when"
    );
    assert_eq!(d.purge_expired_remember_tokens(base).await.unwrap(), 1);
    assert_eq!(d.take_remember_token(&stale, base).await.unwrap(), None);
    assert_eq!(
        d.revoke_remember_tokens(&[user.id]).await.unwrap(),
        2,
        "the used token goes too"
    );
    assert_eq!(d.take_remember_token(&a, base).await.unwrap(), None);
    assert_eq!(d.take_remember_token(&b, base).await.unwrap(), None);
    // An expired token is refused even before it is purged.
    let late = remember("fl", expires).await;
    let after = Timestamp(expires.0 + 1);
    assert_eq!(d.take_remember_token(&late, after).await.unwrap(), None);
}

/// A family: the tokens of one sign-in and its renewals, kept (used ones marked) until the
/// last renewal's expiry, and deleted together with the sessions they opened named.
pub(super) async fn remember_token_families(d: &dyn Directory) {
    let base = now();
    let user = d.create_user(&new_user("fay"), base).await.unwrap();
    let first = remember_token(user.id, "family", "s1", Timestamp(base.0 + HOUR));
    let other = remember_token(user.id, "other", "s9", Timestamp(base.0 + HOUR));
    for token in [&first, &other] {
        d.record_login(Some(token), &[]).await.unwrap();
    }
    let taken = d.take_remember_token(&first.hash, base).await.unwrap();
    assert_eq!(taken.unwrap().used_at, None);
    // The renewal's token joins the family and extends it, the used token included.
    let second = remember_token(user.id, "family", "s2", Timestamp(base.0 + 2 * HOUR));
    d.record_login(Some(&second), &[]).await.unwrap();
    let past_first = Timestamp(base.0 + HOUR + MINUTE);
    assert_eq!(
        d.purge_expired_remember_tokens(past_first).await.unwrap(),
        1,
        "other only"
    );
    let replayed = d
        .take_remember_token(&first.hash, past_first)
        .await
        .unwrap();
    assert_eq!(
        replayed,
        Some(TakenRememberToken {
            user_id: user.id,
            family_id: "family".into(),
            used_at: Some(base),
        })
    );
    let mut opened = d.delete_remember_family("family").await.unwrap();
    opened.sort();
    assert_eq!(opened, ["s1", "s2"]);
    assert_eq!(
        d.take_remember_token(&second.hash, base).await.unwrap(),
        None
    );
    assert_eq!(
        d.take_remember_token(&first.hash, base).await.unwrap(),
        None
    );
    assert!(d.delete_remember_family("family").await.unwrap().is_empty());
    // The purge takes a whole expired family, used tokens and all.
    let third = remember_token(user.id, "third", "s3", Timestamp(base.0 + HOUR));
    d.record_login(Some(&third), &[]).await.unwrap();
    d.take_remember_token(&third.hash, base).await.unwrap();
    let past = Timestamp(base.0 + HOUR);
    assert_eq!(d.purge_expired_remember_tokens(past).await.unwrap(), 1);
    assert!(d.delete_remember_family("third").await.unwrap().is_empty());
}

/// A login's token and audit events are written together, or neither is.
pub(super) async fn login_record(d: &dyn Directory) {
    let base = now();
    let user = d.create_user(&new_user("logan"), base).await.unwrap();
    let events = |n: i64| -> Vec<AuditEvent> {
        (0..n)
            .map(|i| {
                AuditEvent::new(
                    Timestamp(base.0 + i),
                    AuditKind::LoginSuccess,
                    "user:logan",
                    Outcome::Success,
                )
                .subject(user.id, "logan")
            })
            .collect()
    };
    let logged = async || {
        let mine = AuditFilter {
            user_id: Some(user.id),
            ..AuditFilter::default()
        };
        d.list_audit(&mine, 0, 0).await.unwrap().total
    };
    let token = remember_token(user.id, "login", "s", Timestamp(base.0 + HOUR));
    d.record_login(Some(&token), &events(2)).await.unwrap();
    assert_eq!(logged().await, 2);
    d.record_login(None, &events(1)).await.unwrap();
    assert_eq!(logged().await, 3);
    // The same token hash again is refused, and the events with it are not written.
    assert!(d.record_login(Some(&token), &events(1)).await.is_err());
    assert_eq!(logged().await, 3);
    let taken = d.take_remember_token(&token.hash, base).await.unwrap();
    assert_eq!(taken.map(|t| (t.user_id, t.used_at)), Some((user.id, None)));
}

pub(super) async fn audit(d: &dyn Directory) {
    let base = now();
    let event = |i: i64, kind, user: i64| {
        AuditEvent::new(Timestamp(base.0 + i), kind, "cli:test", Outcome::Success)
            .subject(user, &format!("user{user}"))
    };
    d.append_audit(&[event(0, AuditKind::LoginFailure, 1)
        .session("sid")
        .reason("wrong password")
        .count(2)])
        .await
        .unwrap();
    // Several at once, in order.
    d.append_audit(&[
        event(1, AuditKind::LoginSuccess, 2),
        event(2, AuditKind::Logout, 1),
    ])
    .await
    .unwrap();
    let all = d.list_audit(&AuditFilter::default(), 10, 0).await.unwrap();
    assert_eq!(all.total, 3);
    let kinds: Vec<AuditKind> = all.items.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            AuditKind::Logout,
            AuditKind::LoginSuccess,
            AuditKind::LoginFailure
        ]
    );
    let first = &all.items[2];
    assert_eq!(first.at, base);
    assert_eq!(first.actor, "cli:test");
    assert_eq!(first.subject_username.as_deref(), Some("user1"));
    assert_eq!(first.session_id.as_deref(), Some("sid"));
    assert_eq!(first.reason.as_deref(), Some("wrong password"));
    assert_eq!(first.session_count, Some(2));
    assert_eq!(first.ip_address, None);
    let of_user = AuditFilter {
        user_id: Some(1),
        ..AuditFilter::default()
    };
    let page = d.list_audit(&of_user, 1, 1).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0].kind, AuditKind::LoginFailure);
    let of_kind = AuditFilter {
        kind: Some(AuditKind::LoginSuccess),
        ..AuditFilter::default()
    };
    assert_eq!(d.list_audit(&of_kind, 10, 0).await.unwrap().total, 1);
}
