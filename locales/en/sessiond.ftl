# sessiond's pages in English, the fallback for every other language.
# Keys are grouped by page; a placeable such as { $count } is filled in by the server.

## The language picker: each language names itself.

language-name = English
language-picker-label = Language
language-picker-submit = Change

## Header and page frame

nav-main-label = Main
nav-menu = Menu
nav-active-sessions = Active sessions
nav-password = Password
nav-admin-sessions = Sessions
nav-admin-users = Users
nav-admin-groups = Groups
nav-admin-audit = Auth Audit
nav-admin-alarms = Alarms
nav-open-alarms = { $count } open
nav-log-out = Log out

## Times and devices

# An exact time, in UTC until the page script shows the reader's own time zone.
time-in-utc = { $time } UTC
device-on = { $browser } on { $os }
device-unknown-browser-on = Unknown browser on { $os }
device-unknown = Unknown device
device-kind-desktop = Computer
device-kind-smartphone = Phone
device-kind-tablet = Tablet
device-kind-bot = Bot
device-kind-other = Other device
session-spoken = { $device } from { $address }, signed in { $signed-in }, last active { $last-active }
session-details = Details
session-details-of = of { $session }
session-details-signed-in = Signed in
session-details-last-active = Last active
session-details-expires = Expires
session-details-idle-expires = Ends unless used by
session-details-ip-address = IP address
session-details-last-used-from = ; last used from { $address }
session-details-user-agent = User-Agent

## Sign-in page

login-title = Sign in
login-field-login = Username or e-mail
login-field-password = Password
login-remember-me = Remember me
login-submit = Sign in
ended-logout = You signed out.
ended-self-revoked = You were signed out from another of your devices.
ended-terminated = You were signed out by an administrator.
ended-blocked = You were signed out because your account was blocked.
ended-password-changed = You were signed out because your password was changed.
ended-password-reset = You were signed out because an administrator reset your password.
ended-user-deleted = You were signed out because your account was deleted.
ended-evicted = You were signed out because you signed in on more devices than allowed.
ended-idle-expiry = You were signed out after a while without activity.
ended-absolute-expiry = Your session reached its maximum lifetime; sign in again.

## Error and notice pages

page-home-link = Go to the start page
page-bad-request-heading = Bad request
page-bad-request-message = This form could not be read. Go back, reload the page and try again.
page-form-expired-heading = Form expired
page-form-expired-message = This form was not sent from a page of this site, or it is too old. Go back, reload the page and try again.
page-admin-only-heading = Administrators only
page-admin-only-message = This page is for administrators. Ask one if you need something done here.
page-failure-heading = Something went wrong
page-unavailable-heading = Temporarily unavailable
page-not-found-heading = Page not found
page-not-found-message = There is nothing at this address.

## Messages of the JSON API's errors, also shown on pages

error-unauthorized = no valid session; sign in first
error-store-unavailable = the session store is unavailable; try again shortly
error-invalid-credentials = invalid login or password
error-locked = too many failed logins; the account is locked, try again later
error-blocked = this account is blocked
# $wait: how long to wait, as "in 5 minutes".
error-throttled = too many failed sign-ins; try again { $wait }
error-owner-protected = { $action ->
    [demoted] the owner account cannot be demoted
    [deleted] the owner account cannot be deleted
   *[blocked] the owner account cannot be blocked
}
error-cannot-block-self = you cannot block yourself
error-cannot-delete-self = you cannot delete yourself
error-username-was-deleted = a deleted user had the username “{ $name }”, and the audit trail names them by it; confirm to give it to a new user
error-wrong-password = the current password is wrong
error-same-password = the new password must differ from the current one
error-password-too-short = the password must be at least { $count } characters long
error-password-too-long = the password must be at most { $count } characters long
error-password-too-common = this password is too common; choose one that is not on lists of leaked passwords
error-password-only-whitespace = the password must not be only spaces or other whitespace
error-password-contains-username = the password must not contain the username
error-session-limit = { $count ->
    [one] you already have 1 active session, the most allowed; sign out on another device or revoke your session there, then try again
   *[other] you already have { $count } active sessions, the most allowed; sign out on another device or revoke one of your sessions, then try again
}
error-sign-in-held = { $count ->
    [one] you already have 1 active session, the most allowed; end it to sign in here
   *[other] you already have { $count } active sessions, the most allowed; end one of them to sign in here
}
error-pending-sign-in-gone = this sign-in has expired or was completed already; sign in again
error-current-session = this is the session you are using; to end it, log out instead
error-administrators-only = administrators only
error-cross-origin = cross-origin request refused; send it from the sessiond origin
error-no-such-endpoint = no such endpoint
error-method-not-allowed = this method is not allowed on this path

## Active sessions page

sessions-title = Active sessions
sessions-intro = Devices signed in to your account. Revoke any you do not recognise.
sessions-revoke-others = Revoke all other sessions
sessions-revoke-others-confirm = Revoke all other sessions? Every other device will be signed out, and every “Remember me” sign-in of your account will end.
sessions-note = Revoking a session signs that device out at once. It also ends every “Remember me” sign-in of your account, so remembered devices will ask for the password again.
sessions-load-error = Your sessions could not be loaded.
sessions-try-again = Try again
sessions-none = No active sessions.
sessions-sign-in-again = Sign in again
sessions-list-label = Your sessions
sessions-current = This is your current session
sessions-ip-address = IP address
sessions-last-used-from = , last used from { $address }
sessions-signed-in = Signed in on
sessions-last-accessed = Last accessed
sessions-revoke = Revoke
sessions-revoke-label = Revoke the session on { $session }
sessions-revoke-confirm = Revoke the session of { $device } ({ $address })? That device will be signed out.
sessions-no-others = No other devices are signed in to your account.
sessions-refused-current = You cannot revoke the session you are using now. To end it, log out.
sessions-refused-not-found = That session is not among yours any more; it may have ended already.
sessions-revoked = { $count ->
    [0] There were no other sessions to revoke.
    [one] Session revoked. That device is signed out.
   *[other] { $count } sessions revoked. Those devices are signed out.
}
password-title = Change password
password-required = An administrator set your password. Choose a new one of your own to continue.
password-intro = Your other devices will be signed out; this one stays signed in.
password-given = The password you were given
password-current = Current password
password-new = New password
password-hint = At least { $count } characters; not a common password, and not containing your username.
password-new-again = New password again
password-submit = Change password
password-sign-out = Sign out
password-mismatch = The two new passwords differ. Type the same new password twice.
password-changed = { $count ->
    [0] Your password was changed.
    [one] Your password was changed. 1 other device was signed out.
   *[other] Your password was changed. { $count } other devices were signed out.
}

## The admin console, all pages

admin-pages-label = Pages
admin-nothing-to-show = Nothing to show
admin-showing = Showing { $first }–{ $last } of { $total }
admin-previous = Previous
admin-next = Next
admin-filter = Filter
admin-clear = Clear
admin-filter-user = User
admin-filter-user-placeholder = username, id or e-mail
admin-actions = Actions
admin-this-is-you = This is you
admin-no-such-user = No user matches “{ $name }”.
admin-notice-terminated = { $count ->
    [one] Terminated 1 session of { $user }.
   *[other] Terminated { $count } sessions of { $user }.
}
admin-notice-logout-all = { $count ->
    [one] Signed { $user } out of all devices: terminated 1 session.
   *[other] Signed { $user } out of all devices: terminated { $count } sessions.
}
admin-notice-block = { $count ->
    [one] Blocked { $user }; terminated 1 session.
   *[other] Blocked { $user }; terminated { $count } sessions.
}
admin-notice-unblock = Unblocked { $user }. They can sign in again.
admin-notice-unlock = Unlocked { $user }. They can sign in again.
admin-notice-delete = { $count ->
    [one] Deleted { $user }; terminated 1 session.
   *[other] Deleted { $user }; terminated { $count } sessions.
}
admin-notice-updated = Saved the changes to { $user }.
admin-notice-acknowledged = Acknowledged the alarm about { $user }.
admin-problem-not-found = That no longer exists; it may have ended or been handled already.
admin-problem-owner-protected = The owner account cannot be blocked, demoted or deleted.
admin-problem-cannot-block-self = You cannot block yourself.
admin-problem-cannot-delete-self = You cannot delete yourself.
admin-problem-current-session = That is your own current session: use Log out to end it.
admin-problem-other = That action could not be done.

## Admin: Sessions

admin-sessions-title = Sessions
admin-sessions-intro = Every active session of every user, most recently active first.
admin-sessions-filter-user-placeholder = start of a username, id or e-mail
admin-sessions-filter-ip = IP address
admin-sessions-filter-ip-placeholder = 203.0.113.7, 10.1. or 10.0.0.0/8
admin-sessions-bad-ip-filter = The IP address filter must be an address (203.0.113.7), the start of one (10.1.) or a network (10.0.0.0/8, 2001:db8::/32), not “{ $text }”.
admin-sessions-caption = Active sessions
admin-sessions-user = User
admin-sessions-ip-address = IP Address
admin-sessions-user-agent = User Agent
admin-sessions-created = Created
admin-sessions-last-active = Last Active
admin-sessions-expires = Expires
admin-sessions-last-address = last:
admin-sessions-idle = idle:
admin-sessions-yours = Your current session: use Log out to end it.
admin-sessions-remember-me = remember me
admin-sessions-terminate = Terminate
admin-sessions-terminate-label = Terminate the session of { $user } on { $session }
admin-sessions-terminate-confirm = Terminate this session of { $user } ({ $device }, { $address }, last active { $last-active })? That device is signed out at once, and every 'Remember me' login of { $user } ends too.
admin-sessions-none = No active sessions.
admin-sessions-none-filtered = No active sessions match this filter.

## Admin: Users

admin-users-title = Users
admin-users-intro = Everyone in the directory, with their active sessions.
admin-users-new = New user
admin-users-search = Search
admin-users-search-placeholder = username, e-mail or name
admin-users-caption = Users
admin-users-user = User
admin-users-email = E-mail
admin-users-active-sessions = Active sessions
admin-users-last-activity = Last activity
admin-users-state = State
admin-users-owner = owner
admin-users-admin = admin
admin-users-bot = bot
admin-users-blocked = blocked
admin-users-locked-until = locked until
admin-users-active = active
admin-users-password-change-due = password change due
admin-users-actions-label = Actions for { $user }
admin-users-edit = Edit
admin-users-reset-password = Reset password
admin-users-reset-password-confirm = Reset the password of { $user }? A new password is generated and shown once; every session and every 'Remember me' login of { $user } ends, and they must choose a new password when they next sign in.
admin-users-logout-all = Logout All Devices
admin-users-logout-all-confirm = Sign { $user } out of all devices? Every session and every 'Remember me' login of { $user } ends at once.
admin-users-logout-all-yours = This is your own account: this browser is signed out too.
admin-users-block = Block
admin-users-block-confirm = Block { $user }? They cannot sign in, and all their sessions end at once.
admin-users-unblock = Unblock
admin-users-unlock = Unlock
admin-users-delete = Delete
admin-users-delete-confirm = Delete { $user }? Their account and every session end for good; the audit trail keeps their events under the username { $user }.
admin-users-none = No users.
admin-users-none-found = No users match this search.

## Admin: Auth Audit

admin-audit-title = Auth Audit
admin-audit-intro = Logins, logouts, lockouts and revocations, newest first.
admin-audit-filter-kind = Event
admin-audit-all-events = All events
admin-audit-caption = Audit events
admin-audit-when = When
admin-audit-event = Event
admin-audit-who = Who
admin-audit-whose = Whose
admin-audit-how-many = How many
admin-audit-from-where = From where
admin-audit-details = Details
admin-audit-none = No events.
admin-audit-none-filtered = No events match this filter.
audit-kind-login-success = login success
audit-kind-login-failure = login failure
audit-kind-login-throttled = login throttled
audit-kind-lockout = lockout
audit-kind-logout = logout
audit-kind-revocation-requested = revocation requested
audit-kind-session-revoked = session revoked
audit-kind-session-evicted = session evicted
audit-kind-user-created = user created
audit-kind-user-blocked = user blocked
audit-kind-user-unblocked = user unblocked
audit-kind-user-unlocked = user unlocked
audit-kind-alarm-raised = alarm raised
audit-kind-alarm-acknowledged = alarm acknowledged
audit-kind-token-created = token created
audit-kind-token-revoked = token revoked
audit-kind-group-created = group created
audit-kind-group-member-added = group member added
audit-kind-group-member-removed = group member removed
audit-kind-group-shared = group shared
audit-kind-group-unshared = group share ended
audit-kind-group-sessions-revoked = group sessions revoked
audit-kind-remember-me-reuse = remember-me reuse
audit-kind-password-changed = password changed
audit-kind-password-reset = password reset
audit-kind-user-updated = user updated
audit-kind-user-deleted = user deleted
audit-kind-session-expired = session expired

## Admin: Alarms

admin-alarms-title = Alarms
admin-alarms-intro = Users whose active sessions come from { $threshold } or more IP addresses.
admin-alarms-show-open = Show open alarms
admin-alarms-show-all = Show acknowledged too
admin-alarms-none = No alarms yet.
admin-alarms-none-open = No open alarms. All quiet.
admin-alarms-spread = { $count ->
    [one] sessions from 1 address
   *[other] sessions from { $count } addresses
}
admin-alarms-no-sessions-left = { $user } has no active sessions left.
admin-alarms-first-seen = First seen
admin-alarms-last-seen = last seen
admin-alarms-acknowledged = acknowledged
admin-alarms-acknowledged-by = by { $user }
admin-alarms-acknowledge = Acknowledge
admin-alarms-acknowledge-label = Acknowledge the alarm about { $user }
user-form-new-title = New user
user-form-edit-title = Edit { $user }
user-form-save-confirm = Save the changes to { $user }?
user-form-create-confirm = Create this user? They must choose a new password when they first sign in.
user-form-username = Username
user-form-username-hint = Lowercase letters, digits, “.”, “_” or “-”.
user-form-reuse-username = Give this deleted user’s username to the new user
user-form-email = E-mail
user-form-name = Name
user-form-owner-is-admin = The owner is always an administrator.
user-form-admin = Administrator
user-form-first-password = First password
user-form-first-password-hint = Leave empty to generate one, shown once. The user must change it when they first sign in.
user-form-save = Save
user-form-create = Create user
user-form-cancel = Cancel
user-password-shown-once = The password of { $user }, shown only this once:
user-password-back = Back to Users
user-password-created = Created { $user }
user-password-created-detail = They must choose a new password when they first sign in.
user-password-reset = Reset the password of { $user }
user-password-reset-detail = { $count ->
    [one] 1 session ended. They must choose a new password when they next sign in.
   *[other] { $count } sessions ended. They must choose a new password when they next sign in.
}
login-limit-title = Too many sessions
login-limit-heading = You are signed in on too many devices
login-limit-intro = { $count ->
    [one] You already have 1 active session, the most allowed. Sign it out to continue here. This choice is open for 5 minutes.
   *[other] You already have { $count } active sessions, the most allowed. Sign one of them out to continue here. This choice is open for 5 minutes.
}
login-limit-last-active = last active
login-limit-sign-out = Sign out and continue
login-limit-sign-out-label = Sign out { $device } at { $address }, last active { $last-active }, and continue
login-limit-cancel = Cancel
groups-title = Groups
groups-intro = The group tree: each group's members (its own, and those it has through sub-groups, parents and shares), the groups it is shared with, and their active sessions.
groups-create = Create a group
groups-path = Full path
groups-name = Display name
groups-optional = (optional)
groups-parents = Create missing parent groups
groups-create-submit = Create group
groups-none = No groups yet.
groups-tree-label = Group tree
groups-active-sessions = { $count ->
    [one] 1 active session
   *[other] { $count } active sessions
}
groups-revoke = Revoke sessions…
groups-revoke-label = Revoke the sessions of { $group }
groups-members = Members
groups-none-member = none
groups-remove-member-label = Remove { $user } from { $group }
groups-remove-member-title = Remove { $user }
groups-inherited = Inherited members
groups-shared-with = Shared with
groups-no-group = no group
groups-unshare-label = Stop sharing { $group } with { $other }
groups-unshare-title = Stop sharing
groups-add-member-label = User to add to { $group }
groups-add-member-placeholder = username, id or e-mail
groups-add-member = Add member
groups-share-label = Group to share { $group } with
groups-share-with = Share with…
groups-share = Share
groups-notice-revoked = Revoked { $count ->
    [one] 1 session
   *[other] { $count } sessions
} of { $users ->
    [one] 1 user
   *[other] { $users } users
} in group { $group }.
groups-notice-created = Created group { $who }.
groups-notice-member-added = Added { $who }.
groups-notice-member-removed = Removed { $who }.
groups-notice-shared = Shared { $who }.
groups-notice-unshared = Ended the share of { $who }.
group-revoke-title = Revoke the sessions of { $group }
group-revoke-intro = A dry run: nothing has ended yet. Confirm below to sign these people out everywhere, their “Remember me” logins included.
group-revoke-dry-run = Dry run
group-revoke-found = Found { $count ->
    [one] 1 unique member
   *[other] { $count } unique members
} in group '{ $group }' (including subgroups and group shares).
group-revoke-would = Would revoke { $count ->
    [one] 1 session
   *[other] { $count } sessions
} for { $users ->
    [one] 1 user
   *[other] { $users } users
}.
group-revoke-users-caption = Users affected
group-revoke-user = User affected
group-revoke-sessions = Active sessions
group-revoke-skipped = Users skipped (no active sessions): { $count }
group-revoke-confirm = Revoke { $count ->
    [one] 1 session
   *[other] { $count } sessions
} of { $users ->
    [one] 1 user
   *[other] { $users } users
}
group-revoke-cancel = Cancel
group-revocation-title = Revoking the sessions of { $group }
group-revocation-users-done = users done.
group-revocation-of = of
group-revocation-progress = { $done } of { $total }
group-revocation-note = This page updates by itself and shows the outcome when the revocation is over.
group-revocation-unknown-heading = No such revocation
group-revocation-unknown-message = This revocation is not known here: it was started by another session, or it ended over an hour ago. The Groups page shows the sessions left.
group-revocation-interrupted = This revocation stopped part of the way through, as the server running it stopped. The Groups page shows the sessions left; revoke them again.
groups-path-placeholder = acme/platform
