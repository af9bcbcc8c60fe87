//! Domain values as the pages name them, in the request's language: devices, device types,
//! audit event kinds and why a session ended. Every value has its own catalogue message, so
//! that a new one fails to compile here until it is given words.

use crate::domain::audit::AuditKind;
use crate::domain::session::EndReason;
use crate::domain::user_agent::{DeviceName, DeviceType};
use crate::i18n::{msg, t};

/// "Firefox on Ubuntu", "Ubuntu の Firefox"...
pub fn device(browser: &str, os: &str) -> String {
    match DeviceName::of(browser, os) {
        DeviceName::BrowserOn { browser, os } => msg("device-on")
            .arg("browser", browser)
            .arg("os", os)
            .to_string(),
        DeviceName::Browser(browser) => browser.to_owned(),
        DeviceName::UnknownBrowserOn(os) => {
            msg("device-unknown-browser-on").arg("os", os).to_string()
        }
        DeviceName::Unknown => t("device-unknown"),
    }
}

/// What a device icon stands for, for screen readers.
pub fn device_kind(device_type: DeviceType) -> String {
    match device_type {
        DeviceType::Desktop => t("device-kind-desktop"),
        DeviceType::Smartphone => t("device-kind-smartphone"),
        DeviceType::Tablet => t("device-kind-tablet"),
        DeviceType::Bot => t("device-kind-bot"),
        DeviceType::Other => t("device-kind-other"),
    }
}

/// An audit event's kind, "login failure".
pub fn audit_kind(kind: AuditKind) -> String {
    match kind {
        AuditKind::LoginSuccess => t("audit-kind-login-success"),
        AuditKind::LoginFailure => t("audit-kind-login-failure"),
        AuditKind::LoginThrottled => t("audit-kind-login-throttled"),
        AuditKind::Lockout => t("audit-kind-lockout"),
        AuditKind::Logout => t("audit-kind-logout"),
        AuditKind::RevocationRequested => t("audit-kind-revocation-requested"),
        AuditKind::SessionRevoked => t("audit-kind-session-revoked"),
        AuditKind::SessionEvicted => t("audit-kind-session-evicted"),
        AuditKind::UserCreated => t("audit-kind-user-created"),
        AuditKind::UserBlocked => t("audit-kind-user-blocked"),
        AuditKind::UserUnblocked => t("audit-kind-user-unblocked"),
        AuditKind::UserUnlocked => t("audit-kind-user-unlocked"),
        AuditKind::AlarmRaised => t("audit-kind-alarm-raised"),
        AuditKind::AlarmAcknowledged => t("audit-kind-alarm-acknowledged"),
        AuditKind::TokenCreated => t("audit-kind-token-created"),
        AuditKind::TokenRevoked => t("audit-kind-token-revoked"),
        AuditKind::GroupCreated => t("audit-kind-group-created"),
        AuditKind::GroupMemberAdded => t("audit-kind-group-member-added"),
        AuditKind::GroupShared => t("audit-kind-group-shared"),
        AuditKind::GroupMemberRemoved => t("audit-kind-group-member-removed"),
        AuditKind::GroupUnshared => t("audit-kind-group-unshared"),
        AuditKind::GroupSessionsRevoked => t("audit-kind-group-sessions-revoked"),
        AuditKind::RememberMeReuse => t("audit-kind-remember-me-reuse"),
        AuditKind::PasswordChanged => t("audit-kind-password-changed"),
        AuditKind::PasswordReset => t("audit-kind-password-reset"),
        AuditKind::UserUpdated => t("audit-kind-user-updated"),
        AuditKind::UserDeleted => t("audit-kind-user-deleted"),
        AuditKind::SessionExpired => t("audit-kind-session-expired"),
    }
}

/// The sentence the sign-in page shows the browser whose session ended so.
pub fn end_reason(reason: EndReason) -> String {
    match reason {
        EndReason::Logout => t("ended-logout"),
        EndReason::SelfRevoked => t("ended-self-revoked"),
        EndReason::Terminated => t("ended-terminated"),
        EndReason::Blocked => t("ended-blocked"),
        EndReason::PasswordChanged => t("ended-password-changed"),
        EndReason::PasswordReset => t("ended-password-reset"),
        EndReason::UserDeleted => t("ended-user-deleted"),
        EndReason::Evicted => t("ended-evicted"),
        EndReason::IdleExpiry => t("ended-idle-expiry"),
        EndReason::AbsoluteExpiry => t("ended-absolute-expiry"),
    }
}
