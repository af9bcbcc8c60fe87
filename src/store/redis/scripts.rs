//! The store's Lua scripts, each in its own file under `scripts/`, and what each takes and
//! returns.

use super::fields::SESSION_FIELDS;
use redis::Script;
use std::sync::LazyLock;

/// Shared by the scripts: reading a session's fields (`SESSION_FIELDS`, set by [`script`]),
/// and the user's sessions still live at `now`, least recently active first, each as
/// {member, its `fields`}, `expires_at` being the position of that field among them; entries
/// of gone or expired sessions are dropped on the way. A login reads two fields of each
/// (the index of a user with a thousand sessions is walked at every login), a list all.
const LIVE_MEMBERS: &str = include_str!("scripts/live_members.lua");

/// Defines `refuse_past(deadline)`: an error reply once Redis's clock is past `deadline`,
/// else nothing. A write the caller may give up on begins with
/// `local late = refuse_past(ARGV[n]) if late then return late end`.
const PAST_DEADLINE: &str = include_str!("scripts/past_deadline.lua");

/// A script whose body follows the shared fragments: the session fields, the position of
/// `expires_at` among them and [`LIVE_MEMBERS`].
fn script(body: &str) -> Script {
    let fields = SESSION_FIELDS.map(|f| format!("'{f}'")).join(", ");
    // Lua counts from 1.
    let expires_at = SESSION_FIELDS.iter().position(|f| *f == "expires_at");
    Script::new(&format!(
        "local SESSION_FIELDS = {{{fields}}}\nlocal EXPIRES_AT = {}\n{LIVE_MEMBERS}{body}",
        expires_at.unwrap_or(0) + 1,
    ))
}

/// KEYS: index, new session, stamp. ARGV: now, max, evict (1/0), session prefix, member,
/// last active, expires at, absolute expiry, fresh stamp, deadline, then the session's
/// field/value pairs. Returns {0} when refused, else {1, {address of each kept session…}, the evicted
/// sessions (JSON)}.
pub(super) static CREATE: LazyLock<Script> =
    LazyLock::new(|| script(&[PAST_DEADLINE, include_str!("scripts/create.lua")].concat()));

/// KEYS: index, session. ARGV: member, last active, expires at. Returns 1 if it exists.
pub(super) static TOUCH: LazyLock<Script> =
    LazyLock::new(|| script(include_str!("scripts/touch.lua")));

/// KEYS: session, stamp. ARGV: address, fresh stamp. Sets the last address of a session
/// that still exists; returns {its absolute expiry, its last address before, the address it
/// was created from}, {0, '', ''} when it does not exist.
pub(super) static SET_IP: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/set_ip.lua")));

/// KEYS: one shard's address set, by-activity and by-expiry listings. ARGV: a `BYLEX` range
/// of addresses, now. Returns the entries in the range whose session is listed and
/// unexpired, each with its activity score (flat: entry, score, …), and removes the others:
/// their session is gone or has ended.
pub(super) static AT_ADDRESS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/at_address.lua")));

/// KEYS: index. ARGV: now, session prefix. Returns the live sessions (JSON).
pub(super) static LIST: LazyLock<Script> =
    LazyLock::new(|| script(include_str!("scripts/list.lua")));

/// KEYS: index, session, stamp. ARGV: member, fresh stamp, deadline. Returns the deleted
/// sessions (JSON): that one, or none.
pub(super) static DELETE: LazyLock<Script> =
    LazyLock::new(|| script(&[PAST_DEADLINE, include_str!("scripts/delete.lua")].concat()));

/// KEYS: index, stamp. ARGV: now, session prefix, fresh stamp, '1' for the sessions' public
/// ids and expiry too, deadline. Returns {live count, {token hash, last activity} of every deleted
/// session, and if asked {public id, expiry} of each ('' each when its hash had already
/// expired)}: all that points at it from outside the slot, and where it sits in the admin
/// listing. A bulk revocation asks only for what it removes at once (`Forget::Visible`):
/// half the fields for Redis to send and this process to read, one fewer to look up.
pub(super) static DELETE_USER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&[PAST_DEADLINE, include_str!("scripts/delete_user.lua")].concat())
});

/// KEYS: index. ARGV: now, session prefix. Returns {how many of the user's sessions are
/// live, the latest activity among them (0 with none)}.
pub(super) static USER_ACTIVITY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/user_activity.lua")));

/// KEYS: a shard's address set. ARGV: cursor, now, count. One `ZSCAN` step that removes the
/// entries past their absolute expiry (see [`address_entry`](super::keys::address_entry)); returns the next cursor.
pub(super) static SWEEP_ADDRESSES: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/sweep_addresses.lua")));

/// KEYS: shard active, shard expiry. ARGV: now, batch. Removes up to a batch of entries that
/// expired by `now`; returns {how many by-expiry entries, how many of them were still listed
/// by activity} (a revoked session's by-expiry entry waits for this purge; see `Forget`).
/// Added to pipelines by [`purge_shard`](super::purge::purge_shard).
pub(super) const PURGE_SHARD: &str = include_str!("scripts/purge_shard.lua");

/// KEYS: leases. ARGV: node id, lease in ms. Renews the node's lease by Redis's clock and
/// drops leases that ran out.
pub(super) static RENEW: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/renew.lua")));

/// KEYS: leases, acknowledgements. Returns how many nodes hold a lease and have not
/// acknowledged.
pub(super) static PENDING: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/pending.lua")));
